import ArgumentParser
import ImageIO
import VAE

/// `vae reconstruct`: images next to their reconstructions.
struct Reconstruct: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reconstruct images (from --data or --input files) into a PNG grid: originals above, reconstructions below.")

    @OptionGroup var model: CheckpointOptions
    @Option(help: "Data to take images from (default: the training run's).") var data: DataSpec?
    @Option(help: "test, val or train.") var split: DataSplit = .test
    @Option(parsing: .upToNextOption, help: "Image files instead of --data.") var input: [String] = []
    @Option(help: "Number of images from --data.") var count: Int = 16
    @Option(help: "Output image (.png, or .jpg / .jpeg).") var out: String

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be in 1...10000") }
        try checkImageOutput(out)
    }

    func run() throws {
        let (trained, config) = try model.loadAny()
        let originals: [Image]
        var labels: [Int]?
        if input.isEmpty {
            let set = try loadImages(data, split: split, model: config.model, run: config)
            originals = (0..<min(count, set.count)).map { set.image(at: $0) }
            if case .vae(let vae) = trained { labels = (vae as? ConvVAE)?.conditioningLabels(set, count: originals.count) }
        } else {
            originals = try input.map { try loadImage($0, model: config.model) }
        }
        let recon = try trained.reconstruct(originals, labels: labels)
        try ImageGrid.pairedRows(originals, recon, columns: min(8, originals.count)).writePNG(to: out)
    }
}
