import ArgumentParser
import ImageIO
import VAE

/// `vae sample`: a grid of images decoded from the prior: the mixture fitted after training
/// when the run has one, else N(0, I); for a VQ-VAE, code maps from its PixelCNN prior.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Draw images from the prior into a PNG grid (the fitted prior when the run has one, else N(0, I); a VQ-VAE's PixelCNN prior).")

    @OptionGroup var model: CheckpointOptions
    @Option(help: "Number of samples.") var count: Int = 64
    @Option(help: "Images per row.") var columns: Int = 8
    @Option(help: "Seed of the latent draws.") var seed: UInt64 = 1
    @Flag(help: "Draw from N(0, I) even when the run has a fitted prior (prior.safetensors).") var normalPrior = false
    @Option(help: "Temperature: each latent group's spread is scaled by it (1: the prior itself); one value, or one per group, top first (deep models), e.g. 1,0.8,0.7. VQ-VAE: the PixelCNN's logits are divided by it (below 1: sharper, fewer odd samples).")
    var temperature: String = "1"
    @Option(help: "Label-conditional models: draw this class only (default: --columns samples of every class, a row per class).")
    var label: Int?
    @Option(help: "Output image (.png, or .jpg / .jpeg).") var out: String

    func validate() throws {
        guard (1...10_000).contains(count), (1...10_000).contains(columns) else {
            throw ValidationError("--count and --columns must be in 1...10000")
        }
        _ = try temperatures()
        try checkImageOutput(out)
    }

    /// The --temperature list.
    func temperatures() throws -> [Float] {
        let values = temperature.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count <= 64, values.allSatisfy({ ($0 ?? -1) >= 0 && $0!.isFinite }) else {
            throw ValidationError("--temperature must be one or more numbers >= 0 separated by commas, e.g. 0.8 or 1,0.8,0.7")
        }
        return values.map { $0! }
    }

    func run() throws {
        let config = try Checkpoint.loadConfig(model.checkpoint)
        let t = try temperatures()
        if config.model.modelFamily == .vqvae, label == nil { return try sampleCodes(temperatures: t) }
        var labels: [Int]?
        var count = count
        if let classes = config.model.classes {
            if let label {
                guard label >= 0 && label < classes else {
                    throw VAEError("--label \(label): the model's classes are 0 to \(classes - 1)")
                }
                labels = Array(repeating: label, count: count)
            } else {
                labels = (0..<classes).flatMap { Array(repeating: $0, count: columns) }
                count = labels!.count
            }
        } else if label != nil {
            throw VAEError("\(model.checkpoint): --label needs a label-conditional model (vae train --condition label)")
        }
        let (vae, _) = try model.load()
        if t.count > 1, t.count != vae.latentGroups.count {
            throw VAEError("\(model.checkpoint): --temperature gives \(t.count) values; the model has \(vae.latentGroups.count) latent group(s)")
        }
        // The fitted prior draws at temperature 1; another temperature asks for the model's own prior.
        let prior = normalPrior || t != [1] ? nil : try Checkpoint.loadPrior(from: model.checkpoint, groupSizes: vae.latentGroups.map(\.size))
        let images: [Image]
        if let labelled = vae as? ConvVAE, labels != nil {
            images = try prior.map { try labelled.sample(count: count, seed: seed, prior: $0, labels: labels) }
                ?? labelled.sample(count: count, seed: seed, temperatures: t, labels: labels)
        } else {
            images = try prior.map { try vae.sample(count: count, seed: seed, prior: $0) }
                ?? vae.sample(count: count, seed: seed, temperatures: t)
        }
        try writeGrid(images, columns: columns, to: out)
    }

    /// A VQ-VAE: code maps drawn from its PixelCNN prior, position by position, then decoded.
    func sampleCodes(temperatures: [Float]) throws {
        guard temperatures.count == 1, temperatures[0] > 0 else {
            throw VAEError("\(model.checkpoint): holds a VQ-VAE; --temperature takes one positive value for its PixelCNN prior")
        }
        if normalPrior { throw VAEError("\(model.checkpoint): holds a VQ-VAE, whose codes have no N(0, I) prior; drop --normal-prior") }
        let priorDirectory = PriorTrainingJob.directory(of: model.checkpoint)
        guard FileIO.exists(priorDirectory) else {
            throw VAEError("\(model.checkpoint): holds a VQ-VAE without a prior over its codes; train one with vae train-prior --checkpoint \(model.checkpoint)")
        }
        let device = try model.device.open()
        let (vq, _) = try VQVAE.load(from: model.checkpoint, device: device)
        let (prior, _) = try PixelCNN.load(from: priorDirectory, device: device)
        let maps = try prior.sample(count: count, temperature: temperatures[0], seed: seed, quantizer: vq.quantizer)
        try writeGrid(try vq.decode(codes: maps), columns: columns, to: out)
    }
}
