import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// `vae colorize`: colors gray pictures of any size, keeping their luminance.
struct Colorize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Color gray images (1-channel, or RGB with equal channels) with a model trained with --task colorize.",
        discussion: "The output keeps the input's luminance; pictures larger than the model are processed in overlapping tiles blended smoothly.")

    @OptionGroup var model: CheckpointOptions
    @Option(help: "An image file, or a directory of images.") var input: String
    @Option(help: "Colorizations per image.") var samples: Int = 1
    @OptionGroup var temperature: TemperatureOption
    @OptionGroup var rebalancing: RebalancingOption
    @Option(help: "Seed of the samples.") var seed: UInt64 = 1
    @Option(help: "Output image file, or a directory for a directory input (NAME.png, NAME_s2.png, ...).")
    var out: String

    func validate() throws {
        guard (1...1000).contains(samples) else { throw ValidationError("--samples must be in 1...1000") }
    }

    func run() throws {
        let directoryRun = FileIO.isDirectory(input)
        let inputs = try imageFiles(input)
        try checkOutput(out, directoryRun: directoryRun)
        let (completer, _, _) = try CompletionMethod.auto.completer(checkpoint: model.checkpoint, task: .colorize,
                                                                    iterations: 1, temperature: temperature.temperature,
                                                                    rebalancing: rebalancing.rebalancing,
                                                                    device: try model.device.open())
        let images = try inputs.map { try Image.load($0) }
        try checkResultMemory(images, samples: samples)
        let started = Date()
        let results = try images.enumerated().map { i, image in
            let began = Date()
            defer { progress(i, of: images.count, inputs[i], image, seconds: Date().timeIntervalSince(began)) }
            return try Colorization.colorize(image, completer: completer, samples: samples, seed: Noise.derive(seed, i))
        }
        try writeAll(results, to: outputPaths(inputs: inputs, out: out, directoryRun: directoryRun, samples: samples),
                     directory: directoryRun ? out : nil)
        log(String(format: "colorized %d image(s) x %d sample(s) in %.2f s; wrote %@", images.count, samples,
                   Date().timeIntervalSince(started), directoryRun ? out + "/" : out))
    }
}
