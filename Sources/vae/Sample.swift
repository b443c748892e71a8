import ArgumentParser
import VAE

/// `vae sample`: a grid of images decoded from the prior: the mixture fitted after training
/// when the run has one, else N(0, I).
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Draw images from the prior into a PNG grid (the fitted prior when the run has one, else N(0, I)).")

    @OptionGroup var model: CheckpointOptions
    @Option(help: "Number of samples.") var count: Int = 64
    @Option(help: "Images per row.") var columns: Int = 8
    @Option(help: "Seed of the latent draws.") var seed: UInt64 = 1
    @Flag(help: "Draw from N(0, I) even when the run has a fitted prior (prior.safetensors).") var normalPrior = false
    @Option(help: "Output image (.png, or .jpg / .jpeg).") var out: String

    func validate() throws {
        guard (1...10_000).contains(count), (1...10_000).contains(columns) else {
            throw ValidationError("--count and --columns must be in 1...10000")
        }
        try checkImageOutput(out)
    }

    func run() throws {
        let (vae, config) = try model.load()
        let prior = normalPrior ? nil : try Checkpoint.loadPrior(from: model.checkpoint, latent: config.model.latent)
        let images = try prior.map { try vae.sample(count: count, seed: seed, prior: $0) } ?? vae.sample(count: count, seed: seed)
        try writeGrid(images, columns: columns, to: out)
    }
}
