import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// `vae train`: trains a VAE (or a plain autoencoder, or a conditional model for a task) and
/// writes a run directory.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a convolutional VAE.",
        discussion: "Data: mnist:DIR | cifar10:FILE_OR_DIR | folder:DIR | shapes[:N] (the default).")

    @Option(help: "Training data: mnist:DIR, cifar10:FILE_OR_DIR, folder:DIR or shapes[:N] (default: the built-in shapes).")
    var data: DataSpec?
    @Option(help: "The run directory to write.") var out: String
    @Option(help: "Architecture: auto, mnist, cifar, tiny64, or deep (residual blocks and a hierarchy of latent groups, sized from the data).")
    var arch: Architecture = .auto
    @Option(help: "Latent dimensions (default: the preset's); --arch deep: channels per latent group.") var latent: Int?
    @Option(help: "--arch deep: residual blocks per resolution stage (default 1).") var blocks: Int?
    @Option(help: "--arch deep: latent groups per resolution stage, highest resolution first, e.g. 1,2 (the last stage's first group is the top).")
    var groups: String?
    @Option(help: "Epochs to train (default 10 unless --minutes).") var epochs: Int?
    @Option(help: "Minutes of training instead of epochs.") var minutes: Double?
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Adam learning rate (default: 1e-3; --arch deep: 2e-3).") var lr: Float?
    @Flag(inversion: .prefixedNo, help: "Decay the learning rate to zero along a half cosine over the run (default: off; --arch deep: on).")
    var cosine: Bool?
    @Option(help: "bernoulli, gaussian or logistic (default: bernoulli for gray, gaussian with learned variance for color).")
    var likelihood: Likelihood?
    @Option(help: "Weight of the KL term.") var beta: Float = 1
    @Option(help: "Epochs of linear KL warm-up from 0 to beta (default: 0; --arch deep: 1).") var warmupEpochs: Double?
    @Option(help: "Free bits: nats per latent dimension below which the posterior gets no KL gradient.") var freeBits: Float = 0
    @Option(help: "Clip the global gradient norm to this value, 0 for none (default: none; --arch deep: 200).")
    var clipNorm: Float?
    @Flag(inversion: .prefixedNo, help: "Dynamic binarization (default: on for Bernoulli on MNIST).") var binarize: Bool?
    @Flag(help: "Train a plain deterministic autoencoder instead of a VAE.") var autoencoder = false
    @Option(help: "Seed of initialization, data order and noise.") var seed: UInt64 = 1
    @Flag(help: "Continue the run in --out.") var resume = false
    @OptionGroup var conditional: ConditionalTrainOptions
    @OptionGroup var device: DeviceOptions

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        if let clipNorm, !(clipNorm >= 0) { throw ValidationError("--clip-norm must be >= 0") }
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be positive") }
        if let minutes, minutes <= 0 { throw ValidationError("--minutes must be positive") }
        if epochs != nil, minutes != nil { throw ValidationError("give --epochs or --minutes, not both") }
        if let latent, latent <= 0 { throw ValidationError("--latent must be positive") }
        _ = try parsedGroups()
        if let blocks, blocks < 1 { throw ValidationError("--blocks must be at least 1") }
        guard beta >= 0, freeBits >= 0, warmupEpochs ?? 0 >= 0 else {
            throw ValidationError("--beta, --free-bits and --warmup-epochs must be >= 0")
        }
    }

    func run() throws {
        Interrupt.install()
        let job = resume
            ? try TrainingJob.resuming(out, epochs: epochs, minutes: minutes, masks: conditional.maskKind)
            : try TrainingJob(config: try request().resolve(), directory: out)
        let events = TrainingEvents(log: { line in Progress.clear(); log(line) }, progress: Progress.show,
                                    shouldStop: { Interrupt.requested })
        try job.run(on: try device.open(), events: events)
        Progress.clear()
    }

    /// The --groups list, validated.
    func parsedGroups() throws -> [Int]? {
        guard let groups else { return nil }
        let values = groups.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw ValidationError("--groups must be counts >= 0 separated by commas, e.g. 1,2")
        }
        return values.map { $0! }
    }

    /// The run the flags ask for.
    func request() -> TrainingRequest {
        var r = TrainingRequest()
        if let data { r.data = data }
        r.architecture = arch
        r.latent = latent
        r.blocks = blocks
        r.groups = try? parsedGroups()
        r.likelihood = likelihood
        r.autoencoder = autoencoder
        r.binarize = binarize
        conditional.apply(to: &r)
        var t = TrainingOptions()
        t.batch = batch
        r.learningRate = lr
        r.cosineDecay = cosine
        r.warmupEpochs = warmupEpochs
        r.clipNorm = clipNorm
        t.beta = beta
        t.freeBits = freeBits
        t.seed = seed
        t.threads = device.threads
        t.epochs = epochs
        t.minutes = minutes
        r.training = t
        return r
    }
}

/// Writes a line to standard error.
func log(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
