import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// `vae inpaint`: fills the missing pixels of pictures of any size.
struct Inpaint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill the missing pixels of images with a model trained with --task inpaint, or with any plain VAE by imputation.",
        discussion: """
        Masks are images (white = missing) resized to their input, or generated (--mask-kind: center, boxes, strokes, \
        pixels, or a mix like boxes,strokes). Pictures larger than the model are processed in overlapping tiles blended \
        smoothly; smaller ones are padded. Observed pixels are returned exactly as given.
        """)

    @OptionGroup var model: CheckpointOptions
    @Option(help: "An image file, or a directory of images.") var input: String
    @Option(help: "A mask image, or a directory of masks matched to the inputs by file name (white = missing).")
    var mask: String?
    @Option(help: "Generate masks instead: center, boxes, strokes, pixels or a mix such as boxes,strokes.")
    var maskKind: MaskGenerator?
    @Option(help: "Completions per image.") var samples: Int = 1
    @OptionGroup var temperature: TemperatureOption
    @Option(help: "auto, conditional, pseudo-gibbs or mwg (auto: conditional for an inpainting model, else mwg).")
    var method: CompletionMethod = .auto
    @Option(help: "Imputation iterations (pseudo-gibbs, mwg).") var iterations: Int = 100
    @Option(help: "Seed of the masks and the samples.") var seed: UInt64 = 1
    @Option(help: "Output image file, or a directory for a directory input (NAME.png, NAME_s2.png, ...).")
    var out: String
    @Flag(help: "Also write each generated mask as NAME_mask.png next to the outputs.") var saveMask = false

    func validate() throws {
        guard (mask == nil) != (maskKind == nil) else { throw ValidationError("give either --mask or --mask-kind") }
        guard (1...1000).contains(samples) else { throw ValidationError("--samples must be in 1...1000") }
        guard (1...1_000_000).contains(iterations) else { throw ValidationError("--iterations must be in 1...1000000") }
    }

    func run() throws {
        let directoryRun = FileIO.isDirectory(input)
        let inputs = try imageFiles(input)
        try checkOutput(out, directoryRun: directoryRun)
        if let mask, directoryRun != FileIO.isDirectory(mask) {
            throw VAEError("\(mask): give a mask directory for an input directory, and a mask file for an input file")
        }
        let (completer, _, methodName) = try method.completer(checkpoint: model.checkpoint, task: .inpaint,
                                                              iterations: iterations, temperature: temperature.temperature,
                                                              device: try model.device.open())
        // Read every input and mask before computing anything.
        var jobs: [(Image, Mask)] = []
        for (i, path) in inputs.enumerated() {
            let image = try Image.load(path)
            jobs.append((image, try maskFor(input: path, index: i, image: image, tile: min(completer.tileWidth, completer.tileHeight))))
        }
        try checkResultMemory(jobs.map(\.0), samples: samples)
        let started = Date()
        var results: [[Image]] = []
        for (i, (image, mask)) in jobs.enumerated() {
            let began = Date()
            results.append(try Inpainting.complete(image, mask: mask, completer: completer, samples: samples,
                                                   seed: Noise.derive(seed, i)))
            progress(i, of: jobs.count, inputs[i], image, seconds: Date().timeIntervalSince(began))
        }
        var paths = outputPaths(inputs: inputs, out: out, directoryRun: directoryRun, samples: samples)
        if saveMask {
            for k in paths.indices {
                results[k].append(jobs[k].1.image)
                paths[k].append(((paths[k][0] as NSString).deletingPathExtension) + "_mask.png")
            }
        }
        try writeAll(results, to: paths, directory: directoryRun ? out : nil)
        let coverage = jobs.map { $0.1.coverage }.reduce(0, +) / Double(jobs.count)
        log(String(format: "inpainted %d image(s) x %d sample(s) by %@ in %.2f s (%.1f%% of pixels missing); wrote %@",
                   jobs.count, samples, methodName, Date().timeIntervalSince(started), 100 * coverage,
                   directoryRun ? out + "/" : out))
    }

    /// The mask of one input: a file (resized to the image), one matched by file name in a
    /// directory, or a generated one (seeded by --seed and the input's position).
    func maskFor(input path: String, index: Int, image: Image, tile: Int) throws -> Mask {
        if let maskKind {
            var rng = MaskGenerator.generator(seed: seed, index: index)
            // Boxes and strokes are sized for the model's tile, so the holes are ones it can fill.
            return maskKind.mask(width: image.width, height: image.height,
                                                            scale: min(tile, image.width, image.height), rng: &rng)
        }
        guard let mask else { preconditionFailure("validate() requires --mask or --mask-kind") }
        guard FileIO.isDirectory(mask) else { return try Mask.load(mask, width: image.width, height: image.height) }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let candidates = try imageFiles(mask).filter {
            (($0 as NSString).lastPathComponent as NSString).deletingPathExtension == stem
        }
        guard let file = candidates.first else {
            throw VAEError("\(mask): no mask named \(stem).png (or .jpg) for \(path)")
        }
        return try Mask.load(file, width: image.width, height: image.height)
    }
}
