import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// `vae train`: trains a VAE (or a plain autoencoder) and writes a run directory.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a convolutional VAE.",
        discussion: "Data: mnist:DIR | cifar10:FILE_OR_DIR | folder:DIR | shapes[:N] (the default).")

    @Option(help: "Training data (default: the built-in shapes).") var data: String?
    @Option(help: "The run directory to write.") var out: String
    @Option(help: "Architecture: auto, mnist, cifar or tiny64.") var arch: String = "auto"
    @Option(help: "Latent dimensions (default: the preset's).") var latent: Int?
    @Option(help: "Epochs to train (default 10 unless --minutes).") var epochs: Int?
    @Option(help: "Minutes of training instead of epochs.") var minutes: Double?
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Flag(help: "Decay the learning rate to zero along a half cosine over the run.") var cosine = false
    @Option(help: "bernoulli, gaussian or logistic (default: bernoulli for gray, gaussian with learned variance for color).")
    var likelihood: Likelihood?
    @Option(help: "Weight of the KL term.") var beta: Float = 1
    @Option(help: "Epochs of linear KL warm-up from 0 to beta.") var warmupEpochs: Double = 0
    @Option(help: "Free bits: nats per latent dimension below which the KL gives no gradient.") var freeBits: Float = 0
    @Option(help: "Clip the global gradient norm to this value.") var clipNorm: Float?
    @Option(help: "Dynamic binarization (default: on for Bernoulli on MNIST).") var binarize: Bool?
    @Flag(help: "Train a plain deterministic autoencoder instead of a VAE.") var autoencoder = false
    @Option(help: "Seed of initialization, data order and noise.") var seed: UInt64 = 1
    @Flag(help: "Continue the run in --out.") var resume = false
    @OptionGroup var conditional: ConditionalTrainOptions
    @OptionGroup var device: DeviceOptions

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard lr > 0 else { throw ValidationError("--lr must be positive") }
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be positive") }
        if let minutes, minutes <= 0 { throw ValidationError("--minutes must be positive") }
        if epochs != nil, minutes != nil { throw ValidationError("give --epochs or --minutes, not both") }
        if let latent, latent <= 0 { throw ValidationError("--latent must be positive") }
        guard beta >= 0, freeBits >= 0, warmupEpochs >= 0 else {
            throw ValidationError("--beta, --free-bits and --warmup-epochs must be >= 0")
        }
        guard ["auto"].contains(arch) || ModelConfig.presets[arch] != nil else {
            throw ValidationError("unknown --arch '\(arch)' (auto, mnist, cifar, tiny64)")
        }
    }

    func run() throws {
        Interrupt.install()
        let dev = try device.open()
        var config: RunConfig
        if resume {
            config = try Checkpoint.loadConfig(out)
            if let epochs { config.training.epochs = epochs; config.training.minutes = nil }
            if let minutes { config.training.minutes = minutes; config.training.epochs = nil }
        } else {
            if FileIO.exists((out as NSString).appendingPathComponent("model.safetensors")) {
                throw CLIError("\(out) already holds a trained run; use --resume or another --out")
            }
            config = try makeConfig()
        }
        let spec = try DataSpec(parsing: config.training.data)
        let m = config.model
        let (train, validation) = try spec.loadSplits(channels: m.channels, height: m.height, width: m.width,
                                                      seed: config.training.seed)
        log("data: \(spec), \(train.count) training and \(validation.count) validation images of \(m.channels)x\(m.height)x\(m.width)")
        log("device: \(dev.description)")
        if ConditionalTask(runTask: config.task) != nil {
            try runConditional(config: config, device: dev, train: train, validation: validation)
            return
        }

        let trainer = try Trainer(config: config, directory: out, device: dev, train: train, validation: validation,
                                  resume: resume)
        log("model: \(m.arch), latent \(m.latent), \(m.likelihood.rawValue), \(trainer.model.parameterCount) parameters\(resume ? ", resuming at step \(trainer.state.step)" : "")")
        trainer.shouldStop = { Interrupt.requested }
        trainer.log = { line in Progress.clear(); log(line) }
        trainer.onStep = Progress.show
        let state = try trainer.run()
        Progress.clear()
        guard state.finished else { log("stopped; resume with: vae train --out \(out) --resume"); return }
        let fitStart = Date()
        let prior = try trainer.model.fitPrior(to: train, seed: config.training.seed)
        try Checkpoint.savePrior(prior, to: out)
        log(String(format: "prior: a %d-component Gaussian mixture fitted to the codes of %d training images in %.1f s",
                   prior.components, min(train.count, ConvVAE.priorFitImages), Date().timeIntervalSince(fitStart)))
        try Report.writeRun(model: trainer.model, config: config, history: trainer.history, state: state,
                            heldOut: validation, prior: prior, directory: out)
        log("wrote \(out)/model.safetensors, prior.safetensors, metrics.csv, samples.png, reconstructions.png and report.html")
    }

    func makeConfig() throws -> RunConfig {
        let dataSpec = data ?? "shapes"
        let spec = try DataSpec(parsing: dataSpec)
        var model: ModelConfig
        if let preset = ModelConfig.presets[arch] {
            model = preset
        } else {
            // Look at one image to learn the data's geometry.
            let probe: ImageSet
            switch spec {
            case .shapes: probe = try DataSpec.shapes(count: 1).load()
            case .folder: probe = try spec.load(height: 64, width: 64)
            default: probe = try spec.load(split: .all)
            }
            model = ModelConfig.automatic(channels: probe.channels, height: probe.height, width: probe.width)
        }
        if let latent { model.latent = latent }
        if let likelihood { model.likelihood = likelihood }
        model.autoencoder = autoencoder
        var t = TrainingOptions()
        t.data = dataSpec
        t.batch = batch
        t.learningRate = lr
        t.cosineDecay = cosine
        t.beta = beta
        t.warmupEpochs = warmupEpochs
        t.freeBits = freeBits
        t.clipNorm = clipNorm
        if case .mnist = spec { t.binarize = binarize ?? (model.likelihood == .bernoulli) } else { t.binarize = binarize ?? false }
        t.seed = seed
        t.threads = device.threads
        t.epochs = epochs
        t.minutes = minutes
        var config = RunConfig(model: model, training: t)
        try conditional.apply(to: &config, likelihoodGiven: likelihood != nil)
        return config
    }
}

extension Likelihood: ExpressibleByArgument {}

/// Writes a line to standard error.
func log(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
