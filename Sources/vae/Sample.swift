import ArgumentParser
import VAE

/// `vae sample`: a grid of images decoded from the prior.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Draw images from the prior into a PNG grid.")

    @OptionGroup var model: CheckpointOptions
    @Option(help: "Number of samples.") var count: Int = 64
    @Option(help: "Images per row.") var columns: Int = 8
    @Option(help: "Seed of the latent draws.") var seed: UInt64 = 1
    @Option(help: "Output PNG.") var out: String

    func validate() throws {
        guard count > 0, columns > 0 else { throw ValidationError("--count and --columns must be positive") }
    }

    func run() throws {
        let (vae, _) = try model.load()
        try writeGrid(try vae.sample(count: count, seed: seed), columns: columns, to: out)
    }
}
