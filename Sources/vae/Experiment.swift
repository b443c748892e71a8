import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// `vae experiment`: the textbook experiments, each a run directory with report.html.
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run a textbook experiment into a directory with report.html and experiment.json.",
        discussion: "Every model an experiment trains is an ordinary run directory inside --out (vae sample and vae evaluate take it); running an experiment again reuses its finished runs.",
        subcommands: [PCACommand.self, AblationCommand.self, BetaCommand.self])
}

/// The options every experiment shares: the data, the output and each model's training budget.
struct ExperimentOptions: ParsableArguments {
    @Option(help: "Data: mnist:DIR, cifar10:FILE_OR_DIR, folder:DIR or shapes[:N] (default: the built-in shapes).")
    var data: DataSpec?
    @Option(help: "The experiment's directory.") var out: String
    @Option(help: "Latent dimensions (default: 16 for pca, 2 for ablation, the preset's for beta).") var latent: Int?
    @Option(help: "Architecture of the VAEs: auto, mnist, cifar or tiny64.") var arch: Architecture = .auto
    @Option(help: "Epochs per model, the same budget for each (default: 20 for pca, whose linear model is cheap; else 10).")
    var epochs: Int?
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Adam learning rate (default: 5e-3 for pca, else 1e-3).") var lr: Float?
    @Flag(inversion: .prefixedNo, help: "Decay the learning rate to zero along a half cosine (default: on).") var cosine = true
    @Option(help: "Test images the evaluations use at most.") var evalImages: Int = 1000
    @Option(help: "Seed of initialization, data order, split and noise.") var seed: UInt64 = 1
    @Flag(help: "Print the experiment's table as one JSON object.") var json = false
    @OptionGroup var device: DeviceOptions

    func validate() throws {
        guard epochs ?? 1 > 0, batch > 0, evalImages > 0 else { throw ValidationError("--epochs, --batch and --eval-images must be positive") }
        if let latent, latent <= 0 { throw ValidationError("--latent must be positive") }
        if let lr, lr <= 0 { throw ValidationError("--lr must be positive") }
    }

    /// The experiment these options describe, with defaults for the learning rate and epochs.
    func experiment(defaultLearningRate: Float = 1e-3, defaultEpochs: Int = 10) throws -> Experiment {
        var r = TrainingRequest()
        if let data { r.data = data }
        r.architecture = arch
        r.latent = latent
        r.training.epochs = epochs ?? defaultEpochs
        r.training.batch = batch
        r.training.learningRate = lr ?? defaultLearningRate
        r.training.cosineDecay = cosine
        r.training.seed = seed
        r.training.threads = device.threads
        let events = TrainingEvents(log: { line in Progress.clear(); log(line) }, progress: Progress.show)
        var e = Experiment(request: r, directory: out, device: try device.open(), events: events)
        e.evaluationImages = evalImages
        return e
    }

    /// Prints the result as one JSON object when asked.
    func report(_ result: some Encodable) throws {
        Progress.clear()
        guard json else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}

struct PCACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pca",
        abstract: "A linear autoencoder against PCA: principal angles between its decoder's subspace and the top-K principal components, and both reconstruction errors.")
    @OptionGroup var options: ExperimentOptions

    func run() throws {
        let r = try PCAExperiment(try options.experiment(defaultLearningRate: 5e-3, defaultEpochs: 20)).run()
        try options.report(r)
        if !options.json {
            print(String(format: "largest principal angle %.3f degrees; test MSE per pixel: PCA %.6f, linear autoencoder %.6f (%+.3f%%)",
                         r.largestAngleDegrees, r.pcaMSE, r.autoencoderMSE, 100 * r.relativeDifference))
        }
    }
}

struct AblationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablation",
        abstract: "Reconstruction only (an autoencoder), KL only and the full ELBO, with the same budget: a table and pictures.")
    @OptionGroup var options: ExperimentOptions
    @Option(help: "Importance samples of the IW bound.") var iwSamples: Int = 100

    func validate() throws {
        guard iwSamples >= 1 else { throw ValidationError("--iw-samples must be >= 1") }
    }

    func run() throws {
        var experiment = AblationExperiment(try options.experiment())
        experiment.iwSamples = iwSamples
        let r = try experiment.run()
        try options.report(r)
        if !options.json {
            for row in r.rows {
                print(row.name.padding(toLength: 20, withPad: " ", startingAt: 0) + String(format: "rec %9.3f  KL %@  -ELBO %@  IW %@  MSE %.5f", row.reconstruction,
                             row.kl.map { String(format: "%8.3f", $0) } ?? "       -", row.negativeELBO.map { String(format: "%9.3f", $0) } ?? "        -",
                             row.negativeIWBound.map { String(format: "%9.3f", $0) } ?? "        -", row.reconstructionMSE))
            }
        }
    }
}

struct BetaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beta",
        abstract: "A beta-VAE per beta with the same budget: the rate-distortion curve and samples of each.")
    @OptionGroup var options: ExperimentOptions
    @Option(help: "The betas, comma-separated.") var betas: String = "0.5,1,2,4,8"

    func parsedBetas() throws -> [Float] {
        let values = betas.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) >= 0 }), Set(values).count == values.count else {
            throw ValidationError("--betas must be distinct numbers >= 0 separated by commas, e.g. 0.5,1,2,4,8")
        }
        return values.map { $0! }
    }

    func validate() throws { _ = try parsedBetas() }

    func run() throws {
        let r = try BetaExperiment(try options.experiment(), betas: try parsedBetas()).run()
        try options.report(r)
        if !options.json {
            for p in r.rows {
                print(String(format: "beta %-6g reconstruction %9.3f  KL %8.3f  -ELBO %9.3f  active %d", p.beta, p.reconstruction, p.kl,
                             p.negativeELBO, p.activeUnits))
            }
        }
    }
}
