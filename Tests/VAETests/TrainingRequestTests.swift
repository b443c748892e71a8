import ImageIO
import Testing
import TestSupport
@testable import VAE

@Suite("vae train's defaults: each task and family gets its recipe unless a flag says otherwise")
struct TrainingRequestTests {
    func request(_ task: RunTask, _ architecture: Architecture = .auto) -> TrainingRequest {
        var r = TrainingRequest()
        r.data = .shapes(count: 16)
        r.task = task
        r.architecture = architecture
        return r
    }

    @Test("plain VAE: the general defaults; deep: its recipe")
    func plainAndDeep() throws {
        let plain = try request(.vae).resolve().training
        #expect(plain.batch == 128 && !plain.cosineDecay && plain.freeBits == 0 && plain.learningRate == 1e-3)
        let deep = try request(.vae, .deep).resolve().training
        #expect(deep.learningRate == 2e-3 && deep.cosineDecay && deep.warmupEpochs == 1 && deep.clipNorm == 200)
        #expect(deep.batch == 128 && deep.freeBits == 0)
    }

    @Test("conditional tasks: batch 64, cosine decay, free bits 0.5, the prior path every 4th step, mirror images for color only")
    func conditional() throws {
        for task in [RunTask.inpaint, .colorize] {
            let config = try request(task).resolve()
            #expect(config.model.channels == 3)
            #expect(config.training.batch == 64 && config.training.cosineDecay && config.training.freeBits == 0.5)
            #expect(config.conditional?.priorPathPeriod == 4 && config.conditional?.mirror == true)
        }
        let gray = try request(.inpaint, .mnist).resolve()
        #expect(gray.model.channels == 1 && gray.conditional?.mirror == nil)
        // Shallow conditional models clip nothing; deep ones keep the deep family's clipping, at
        // half the conditional rate.
        let shallow = try request(.colorize).resolve().training
        #expect(shallow.clipNorm == nil && shallow.learningRate == 1e-3)
        let deep = try request(.colorize, .deep).resolve()
        #expect(deep.training.clipNorm == 200 && deep.training.batch == 64 && deep.training.learningRate == 5e-4)
        // Deep colorization trains the ELBO alone (its posterior collapsed with the prior path);
        // deep inpainting keeps the prior path.
        #expect(deep.conditional?.priorPathPeriod == 0)
        #expect(try request(.inpaint, .deep).resolve().conditional?.priorPathPeriod == 4)
    }

    @Test("conditional tasks on a folder of photos train on 64x64 patches; on smaller pictures, whole pictures")
    func photoPatches() throws {
        let dir = TemporaryDirectory()
        let photo = Image(width: 200, height: 130, channels: 3, pixels: [Float](repeating: 0.5, count: 200 * 130 * 3))
        try photo.writePNG(to: dir.file("a.png"))
        try photo.writeJPEG(to: dir.file("b.jpg"))
        var r = request(.inpaint)
        r.data = .folder(directory: dir.path)
        var config = try r.resolve()
        #expect(config.conditional?.patch == TrainingRequest.photoPatch && config.model.height == 64 && config.model.width == 64)
        // Photos train on large holes only; other data on every kind of mask.
        #expect(config.conditional?.masks?.kinds == [.freeform, .center, .boxes])
        #expect(try request(.inpaint).resolve().conditional?.masks?.kinds == MaskKind.allCases)
        r.task = .vae
        #expect(try r.resolve().conditional == nil)
        // One picture below 128 pixels on a side: whole pictures, as for thumbnails.
        try Image(width: 100, height: 300, channels: 3, pixels: [Float](repeating: 0.5, count: 100 * 300 * 3)).writePNG(to: dir.file("c.png"))
        r.task = .colorize
        config = try r.resolve()
        #expect(config.conditional?.patch == nil)
        r.patch = 32
        #expect(try r.resolve().conditional?.patch == 32)
    }

    @Test("inpainting pictures of the model's size trains on the best of 4 prior draws and completes at temperature 0.5; photos, color and deep models on one")
    func bestOfManyRecipe() throws {
        let small = try request(.inpaint).resolve().conditional
        #expect(small?.priorPathDraws == 4 && small?.completionTemperature == 0.5)
        for (task, arch) in [(RunTask.colorize, Architecture.auto), (.inpaint, .deep), (.colorize, .deep)] {
            let c = try request(task, arch).resolve().conditional
            #expect(c?.priorPathSamples == nil && c?.temperature == nil, "\(task) \(arch)")
        }
        let dir = TemporaryDirectory()
        try Image(width: 200, height: 130, channels: 3, pixels: [Float](repeating: 0.5, count: 200 * 130 * 3))
            .writePNG(to: dir.file("a.png"))
        var photos = request(.inpaint)
        photos.data = .folder(directory: dir.path)
        #expect(try photos.resolve().conditional?.priorPathSamples == nil)
        // Asked for: one draw takes temperature 1; draws on photos take the cooler completions.
        var one = request(.inpaint)
        one.priorPathSamples = 1
        #expect(try one.resolve().conditional.map { ($0.priorPathSamples, $0.temperature) } ?? (0, 0) == (nil, nil))
        photos.priorPathSamples = 8
        #expect(try photos.resolve().conditional.map { ($0.priorPathDraws, $0.completionTemperature) } ?? (0, 0) == (8, 0.5))
        // Without prior-path steps there is nothing to draw for.
        var none = request(.inpaint)
        none.priorPathEvery = 0
        #expect(try none.resolve().conditional?.priorPathSamples == nil)
        none.priorPathSamples = 4
        #expect(throws: VAEError.self) { try none.resolve() }
    }

    @Test("given options win over the recipe")
    func overrides() throws {
        var r = request(.inpaint)
        r.batch = 32
        r.freeBits = 0
        r.cosineDecay = false
        r.priorPathEvery = 2
        r.mirror = false
        let config = try r.resolve()
        #expect(config.training.batch == 32 && config.training.freeBits == 0 && !config.training.cosineDecay)
        #expect(config.conditional?.priorPathPeriod == 2 && config.conditional?.mirror == nil)
    }
}
