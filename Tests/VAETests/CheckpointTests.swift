import Foundation
import Testing
import ImageIO
import NN
import TestSupport
import TestSupport
@testable import VAE

@Suite("Run directories: save, load, resume, failure")
struct CheckpointTests {
    func train(_ dir: String, epochs: Int, resume: Bool, data: ImageSet? = nil) throws -> EpochLoop {
        let config = RunConfig(model: Fixtures.tinyConfig(), training: Fixtures.options(epochs: epochs))
        return try Fixtures.train(config, directory: dir, train: data ?? Fixtures.shapes(64),
                                  validation: Fixtures.shapes(16, seed: 99), resume: resume)
    }

    func weights(_ dir: String) throws -> [SafeTensors.Entry] {
        try SafeTensors.decode(try FileIO.readBytes(dir + "/model.safetensors")).entries
    }

    @Test("A resumed run ends with the same weights as an uninterrupted one")
    func resumeIsExact() throws {
        let a = TemporaryDirectory(), b = TemporaryDirectory()
        let straight = a.path, split = b.path
        _ = try train(straight, epochs: 3, resume: false)
        _ = try train(split, epochs: 1, resume: false)
        let resumed = try train(split, epochs: 3, resume: true)
        #expect(resumed.state.step == 12)
        #expect(try weights(straight) == weights(split))
        let metrics = try String(contentsOfFile: split + "/metrics.csv", encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 4)
    }

    @Test("Weights survive a save and load bit for bit")
    func loadRestoresWeights() throws {
        let temporary = TemporaryDirectory(), dir = temporary.path
        let trainer = try train(dir, epochs: 1, resume: false)
        let (model, config) = try ConvVAE.load(from: dir, device: try Fixtures.device(), maxBatch: 8)
        #expect(config.model == Fixtures.tinyConfig())
        for (a, b) in zip(trainer.vae.parameters, model.parameters) {
            #expect(a.name == b.name)
            #expect(try a.value.read() == b.value.read())
        }
    }

    @Test("A NaN loss stops training with a message and keeps the last good checkpoint")
    func nanKeepsCheckpoint() throws {
        let temporary = TemporaryDirectory(), dir = temporary.path
        _ = try train(dir, epochs: 1, resume: false)
        let before = try FileIO.readBytes(dir + "/model.safetensors")
        let good = Fixtures.shapes(64)
        var pixels = good.pixels
        for i in stride(from: 0, to: pixels.count, by: 7) { pixels[i] = .nan }
        let poisoned = ImageSet(count: 64, channels: 1, height: 8, width: 8, pixels: pixels)
        #expect(throws: VAEError.self) { _ = try train(dir, epochs: 2, resume: true, data: poisoned) }
        do { _ = try train(dir, epochs: 2, resume: true, data: poisoned) } catch {
            #expect("\(error)".contains("last good checkpoint"))
        }
        #expect(try FileIO.readBytes(dir + "/model.safetensors") == before)
    }

    @Test("A checkpoint of another architecture is refused with a clear message")
    func otherArchitecture() throws {
        let temporary = TemporaryDirectory(), dir = temporary.path
        _ = try train(dir, epochs: 1, resume: false)
        var other = Fixtures.tinyConfig()
        other.widths = [8, 6]
        let model = try ConvVAE(other, device: try Fixtures.device(), maxBatch: 4, seed: 1)
        #expect(throws: VAEError.self) { try Checkpoint.load(into: model, optimizer: nil, from: dir) }
        do { try Checkpoint.load(into: model, optimizer: nil, from: dir) } catch {
            #expect("\(error)".contains("shape"))
        }
    }

    @Test("Training writes samples, reconstructions and a self-contained report")
    func report() throws {
        let temporary = TemporaryDirectory(), dir = temporary.path
        let trainer = try train(dir, epochs: 2, resume: false)
        try Report.writeRun(model: trainer.vae, config: trainer.config, history: trainer.history,
                            state: trainer.state, heldOut: Fixtures.shapes(16, seed: 99), directory: dir)
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        #expect(html.contains("<svg"))
        #expect(html.contains("data:image/png;base64,"))
        let samples = try Image.load(dir + "/samples.png")
        #expect(samples.width > 8 * 8)
    }
}

@Suite("Plain autoencoder mode")
struct AutoencoderTests {
    @Test("trains without sampling or KL and reconstructs better than it started")
    func autoencoder() throws {
        var model = Fixtures.tinyConfig()
        model.autoencoder = true
        let config = RunConfig(model: model, training: Fixtures.options(epochs: 6))
        let dir = TemporaryDirectory()
        let trainer = try Fixtures.train(config, directory: dir.path, train: Fixtures.shapes(128),
                                         validation: Fixtures.shapes(16, seed: 99))
        let first = trainer.history.first!, last = trainer.history.last!
        #expect(last.trainKL == 0)
        #expect(last.trainReconstruction < first.trainReconstruction)
        // Deterministic: encoding the same batch twice gives the same loss.
        let a = try Evaluator(model: trainer.vae).evaluate(Fixtures.shapes(8, seed: 5))
        let b = try Evaluator(model: trainer.vae).evaluate(Fixtures.shapes(8, seed: 5))
        #expect(a.negativeELBO == b.negativeELBO)
    }
}
