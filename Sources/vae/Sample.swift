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
    @Option(help: "Temperature: each latent group's spread is scaled by it (1: the prior itself); one value, or one per group, top first (deep models), e.g. 1,0.8,0.7.")
    var temperature: String = "1"
    @Option(help: "Output PNG.") var out: String

    func validate() throws {
        guard count > 0, columns > 0 else { throw ValidationError("--count and --columns must be positive") }
        _ = try temperatures()
    }

    /// The --temperature list.
    func temperatures() throws -> [Float] {
        let values = temperature.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) >= 0 && $0!.isFinite }) else {
            throw ValidationError("--temperature must be one or more numbers >= 0 separated by commas, e.g. 0.8 or 1,0.8,0.7")
        }
        return values.map { $0! }
    }

    func run() throws {
        let (vae, config) = try model.load()
        let t = try temperatures()
        if t.count > 1, t.count != vae.latentGroups.count {
            throw VAEError("\(model.checkpoint): --temperature gives \(t.count) values; the model has \(vae.latentGroups.count) latent group(s)")
        }
        // The fitted prior draws at temperature 1; another temperature asks for the model's own prior.
        let prior = normalPrior || t != [1] ? nil : try Checkpoint.loadPrior(from: model.checkpoint, latent: config.model.latent)
        let images = try prior.map { try vae.sample(count: count, seed: seed, prior: $0) }
            ?? vae.sample(count: count, seed: seed, temperatures: t)
        try writeGrid(images, columns: columns, to: out)
    }
}
