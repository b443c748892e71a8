import ArgumentParser
import Foundation
import ImageIO
import VAE

/// `vae evaluate`: likelihood bounds of a trained model on a data split.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "ELBO, importance-weighted bound, bits/dim and active units of a trained model.")

    @OptionGroup var model: CheckpointOptions
    @Option(help: "Data to evaluate on (default: the training run's).") var data: DataSpec?
    @Option(help: "test, val or train (test is MNIST's official test set, else the held-out split).")
    var split: DataSplit = .test
    @Option(help: "Importance samples K for the IW bound (0 skips it).") var iwSamples: Int = 0
    @Option(help: "Grid points per axis for log p(x) by numerical integration (2-D latents).") var grid: Int = 200
    @Option(help: "Evaluate only the first N images.") var limit: Int?
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var conditional: ConditionalEvaluateOptions

    func validate() throws {
        guard iwSamples >= 0, grid >= 0 else { throw ValidationError("--iw-samples and --grid must be >= 0") }
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        if let task = conditional.task {
            return try conditional.run(task: task, checkpoint: model, data: data, split: split, limit: limit, json: json)
        }
        let (vae, config) = try model.load()
        let images = try loadImages(data, split: split == .all ? .test : split, model: config.model, run: config)
        var evaluator = Evaluator(model: vae, binarize: config.training.binarize)
        evaluator.fittedPrior = try Checkpoint.loadPrior(from: model.checkpoint, latent: config.model.latent)
        evaluator.seed = 0xE7A1
        let showProgress = !json && isatty(STDERR_FILENO) == 1
        let result = try evaluator.evaluate(images, limit: limit, iwSamples: iwSamples,
                                            grid: config.model.latent == 2 ? grid : 0) { done, total in
            if showProgress, done % 10 == 0 || done == total {
                FileHandle.standardError.write(Data("\rimportance sampling \(done)/\(total)".utf8))
            }
        }
        if showProgress, iwSamples > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("images           \(result.images) (\(data?.description ?? config.training.data), \(split.rawValue)\(config.training.binarize ? ", binarized" : ""))")
        print(String(format: "-ELBO            %.3f nats  (reconstruction %.3f + KL %.3f)", result.negativeELBO,
                     result.reconstruction, result.kl))
        if let iw = result.negativeIWBound {
            print(String(format: "-log p(x) <=     %.3f nats  (importance weighted, K = %d)", iw, result.iwSamples ?? 0))
            if let fitted = result.negativeIWBoundFittedPrior {
                print(String(format: "  fitted prior   %.3f nats  (the same bound with prior.safetensors as the prior)", fitted))
            }
        }
        if let g = result.negativeLogLikelihoodGrid {
            print(String(format: "-log p(x) ~=     %.3f nats  (midpoint rule, %dx%d grid on [-6, 6]^2)", g, grid, grid))
        }
        print(String(format: "bits/dim         %.4f", result.bitsPerDim))
        print("active units     \(result.activeUnits) of \(result.latent)")
        if result.groups.count > 1 {
            for g in result.groups {
                let name = g.name.padding(toLength: max(14, g.name.count), withPad: " ", startingAt: 0)
                print("  " + name + String(format: " KL %8.3f nats, %d of %d units active (%@)", g.kl, g.activeUnits,
                                           g.shape.reduce(1, *), g.shape.map(String.init).joined(separator: "x")))
            }
        }
    }
}
