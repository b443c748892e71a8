import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// `vae train`: trains a VAE (or a plain autoencoder, or a conditional model for a task) and
/// writes a run directory.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a convolutional VAE (or a VQ-VAE, or a conditional VAE for a task).",
        discussion: "Data: mnist:DIR | cifar10:FILE_OR_DIR | folder:DIR | shapes[:N] (the default).")

    @Option(help: "Training data: mnist:DIR, cifar10:FILE_OR_DIR, folder:DIR or shapes[:N] (default: the built-in shapes).")
    var data: DataSpec?
    @Option(help: "The run directory to write.") var out: String
    @Option(help: "Architecture: auto, mnist, cifar, tiny64, or deep (residual blocks and a hierarchy of latent groups, sized from the data) (default: auto).")
    var arch: Architecture?
    @Option(help: "Latent dimensions (default: the preset's); --arch deep: channels per latent group.") var latent: Int?
    @Option(help: "--arch deep: residual blocks per resolution stage (default 1).") var blocks: Int?
    @Option(help: "--arch deep: latent groups per resolution stage, highest resolution first, e.g. 1,2 (the last stage's first group is the top).")
    var groups: String?
    @Option(help: "Epochs to train (default 10 unless --minutes).") var epochs: Int?
    @Option(help: "Minutes of training instead of epochs.") var minutes: Double?
    @Option(help: "Batch size (default 128; conditional tasks 64).") var batch: Int?
    @Option(help: "Adam learning rate (default: 1e-3; --arch deep: 2e-3, with --task 5e-4).") var lr: Float?
    @Flag(inversion: .prefixedNo, help: "Decay the learning rate to zero along a half cosine over the run (default: off; --arch deep and conditional tasks: on).")
    var cosine: Bool?
    @Option(help: "bernoulli, gaussian or logistic (default: bernoulli for gray, gaussian with learned variance for color).")
    var likelihood: Likelihood?
    @Option(help: "Weight of the KL term (default 1).") var beta: Float?
    @Option(help: "Epochs of linear KL warm-up from 0 to beta (default: 0; --arch deep: 1).") var warmupEpochs: Double?
    @Option(help: "Free bits: nats per latent dimension below which the posterior gets no KL gradient (default 0; conditional tasks 0.5).") var freeBits: Float?
    @Option(help: "Clip the global gradient norm to this value, 0 for none (default: none; --arch deep: 200).")
    var clipNorm: Float?
    @Flag(inversion: .prefixedNo, help: "Dynamic binarization (default: on for Bernoulli on MNIST).") var binarize: Bool?
    @Flag(help: "Train a plain deterministic autoencoder instead of a VAE.") var autoencoder = false
    @Option(help: "none, or label: condition encoder and decoder on the data's class labels (one-hot), so that vae sample --label N draws class N (default: none).")
    var condition: ModelCondition?
    @Option(help: "Seed of initialization, data order and noise (default 1).") var seed: UInt64?
    @Flag(help: "Continue the run in --out (only --epochs, --minutes, --mask-kind, --threads and --device may change).")
    var resume = false
    @OptionGroup var conditional: ConditionalTrainOptions
    @OptionGroup var vq: VQTrainOptions
    @OptionGroup var device: DeviceOptions

    func validate() throws {
        // Ranges here, before anything is read; TrainingOptions.check and ModelConfig.check
        // apply the same limits to config.json.
        if let batch, !(1...TrainingOptions.maxBatch).contains(batch) {
            throw ValidationError("--batch must be in 1...\(TrainingOptions.maxBatch)")
        }
        if let lr, !(lr.isFinite && lr > 0) { throw ValidationError("--lr must be positive and finite") }
        if let epochs, !(1...TrainingOptions.maxEpochs).contains(epochs) {
            throw ValidationError("--epochs must be in 1...\(TrainingOptions.maxEpochs)")
        }
        if let minutes, !(minutes.isFinite && minutes > 0 && minutes <= TrainingOptions.maxMinutes) {
            throw ValidationError("--minutes must be positive and at most \(Int(TrainingOptions.maxMinutes))")
        }
        if epochs != nil, minutes != nil { throw ValidationError("give --epochs or --minutes, not both") }
        if let latent, !(1...ModelConfig.maxLatent).contains(latent) {
            throw ValidationError("--latent must be in 1...\(ModelConfig.maxLatent)")
        }
        _ = try parsedGroups()
        if let blocks, !(1...ModelConfig.maxBlocks).contains(blocks) {
            throw ValidationError("--blocks must be in 1...\(ModelConfig.maxBlocks)")
        }
        for (name, value) in [("--beta", beta.map(Double.init)), ("--free-bits", freeBits.map(Double.init)),
                              ("--warmup-epochs", warmupEpochs)] {
            if let value, !(value.isFinite && value >= 0) { throw ValidationError("\(name) must be finite and >= 0") }
        }
        if let clipNorm, !(clipNorm.isFinite && clipNorm >= 0) {
            throw ValidationError("--clip-norm must be finite and >= 0 (0: no clipping)")
        }
        if conditional.widths != nil, conditional.task.conditional == nil, vq.model != .vqvae, arch != .deep {
            throw ValidationError("--widths applies to --task inpaint or colorize, --model vqvae or --arch deep")
        }
    }

    func run() throws {
        Interrupt.install()
        // Under mpirun: this process's rank (rank 0 reads and writes the run directory).
        let ranks = try Communicator()
        let job: TrainingJob
        if resume {
            job = try TrainingJob.resuming(out, epochs: epochs, minutes: minutes, masks: conditional.maskKind, ranks: ranks)
            let conflicts = try resumeConflicts(with: job.config)
            guard conflicts.isEmpty else {
                throw VAEError("\(out): a resumed run keeps its settings, and these differ: \(conflicts.joined(separator: ", ")); only --epochs, --minutes, --mask-kind, --threads and --device may change")
            }
        } else {
            job = try TrainingJob(config: try request().resolve(), directory: out, ranks: ranks)
        }
        let events = TrainingEvents(log: { line in Progress.clear(); log(line) }, progress: Progress.show,
                                    shouldStop: { Interrupt.requested })
        try job.run(on: try device.open(), events: events)
        Progress.clear()
        ranks.close()  // only after success: a rank that fails exits without it, and mpirun ends the others
    }

    /// The options given on the command line that differ from a resumed run's configuration.
    func resumeConflicts(with saved: RunConfig) throws -> [String] {
        var out: [String] = []
        func differs<T: Equatable>(_ flag: String, _ given: T?, _ kept: T) {
            if let given, given != kept { out.append("\(flag) \(given) (the run's: \(kept))") }
        }
        let m = saved.model, t = saved.training
        differs("--data", data?.description, try DataSpec(parsing: t.data).description)
        differs("--arch", arch.flatMap { $0 == .auto ? nil : $0.rawValue }, m.modelFamily == .deep ? "deep" : m.arch)
        differs("--latent", latent, m.latent)
        differs("--blocks", blocks, m.deep?.blocks ?? 0)
        differs("--groups", try parsedGroups(), m.deep?.groups ?? [])
        differs("--likelihood", likelihood, m.likelihood)
        differs("--autoencoder", autoencoder ? true : nil, m.autoencoder)
        differs("--condition", condition, m.classes == nil ? ModelCondition.none : .label)
        differs("--batch", batch, t.batch)
        differs("--lr", lr, t.learningRate)
        differs("--cosine", cosine, t.cosineDecay)
        differs("--beta", beta, t.beta)
        differs("--warmup-epochs", warmupEpochs, t.warmupEpochs)
        differs("--free-bits", freeBits, t.freeBits)
        if let clipNorm, (clipNorm > 0 ? clipNorm : nil) != t.clipNorm { out.append("--clip-norm \(clipNorm) (the run's: \(t.clipNorm.map { "\($0)" } ?? "none"))") }
        differs("--binarize", binarize, t.binarize)
        differs("--seed", seed, t.seed)
        differs("--task", conditional.task == .vae ? nil : conditional.task, saved.task)
        differs("--widths", try conditional.parsedWidths(), m.widths)
        differs("--prior-path-every", conditional.priorPathEvery, saved.conditional?.priorPathPeriod ?? 2)
        differs("--prior-path-samples", conditional.priorPathSamples, saved.conditional?.priorPathDraws ?? 1)
        differs("--mirror", conditional.mirror, saved.conditional?.mirror ?? false)
        differs("--patch", conditional.patch, saved.conditional?.patch ?? 0)
        differs("--zoom", conditional.zoom, saved.conditional?.zoom ?? 1)
        differs("--color", conditional.color?.rawValue, saved.task == .colorize ? (saved.conditional?.chroma == nil ? "gaussian" : "bins") : "none")
        return out
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
        r.architecture = arch ?? .auto
        r.latent = latent
        r.blocks = blocks
        r.groups = try? parsedGroups()
        r.likelihood = likelihood
        r.autoencoder = autoencoder
        r.condition = condition ?? .none
        r.binarize = binarize
        conditional.apply(to: &r)
        vq.apply(to: &r)
        r.learningRate = lr
        var t = TrainingOptions()
        r.batch = batch
        r.cosineDecay = cosine
        r.warmupEpochs = warmupEpochs
        r.clipNorm = clipNorm
        r.freeBits = freeBits
        t.beta = beta ?? t.beta
        t.seed = seed ?? t.seed
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
