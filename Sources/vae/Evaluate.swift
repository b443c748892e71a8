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
    @Flag(help: "Convert --data of another geometry (size, gray or color) to the model's; its likelihood is then that of the converted images, not of the data.")
    var convert = false
    @OptionGroup var conditional: ConditionalEvaluateOptions
    @OptionGroup var frechet: FrechetOptions

    func validate() throws {
        guard (0...1_000_000).contains(iwSamples), (0...2000).contains(grid) else {
            throw ValidationError("--iw-samples must be in 0...1000000 and --grid in 0...2000")
        }
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        if let task = conditional.task {
            return try conditional.run(task: task, checkpoint: model, data: data, split: split, limit: limit, json: json)
        }
        if frechet.fid { return try frechet.run(checkpoint: model, data: data, json: json) }
        if try Checkpoint.loadConfig(model.checkpoint).model.modelFamily == .vqvae { return try evaluateVQ() }
        let (vae, config) = try model.load()
        try checkGeometry(config)
        let images = try loadImages(data, split: split == .all ? .test : split, model: config.model, run: config)
        var evaluator = Evaluator(model: vae, binarize: config.training.binarize)
        evaluator.fittedPrior = try Checkpoint.loadPrior(from: model.checkpoint, groupSizes: vae.latentGroups.map(\.size))
        evaluator.seed = 0xE7A1
        let showProgress = !json && isatty(STDERR_FILENO) == 1
        var result = try evaluator.evaluate(images, limit: limit, iwSamples: iwSamples,
                                            grid: config.model.latent == 2 ? grid : 0) { done, total in
            if showProgress, done % 10 == 0 || done == total {
                FileHandle.standardError.write(Data("\rimportance sampling \(done)/\(total)".utf8))
            }
        }
        if showProgress, iwSamples > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        let originals = (0..<result.images).map { images.image(at: $0) }
        // A label-conditional model reconstructs each image given its label.
        let reconstructions = try (vae as? ConvVAE).flatMap { labelled in
            try labelled.conditioningLabels(images, count: originals.count).map { try labelled.reconstruct(originals, labels: $0) }
        } ?? vae.reconstruct(originals)
        let psnr = zip(originals, reconstructions).map { ImageMetrics.psnr($0, $1) }
        result.reconstructionPSNR = psnr.reduce(0, +) / Double(psnr.count)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("images           \(result.images) (\(data?.description ?? config.training.data), \(split.rawValue)\(config.training.binarize ? ", binarized" : ""))")
        let given = config.model.classes == nil ? "" : ", given the labels"
        print(String(format: "-ELBO            %.3f nats  (reconstruction %.3f + KL %.3f%@)", result.negativeELBO,
                     result.reconstruction, result.kl, given))
        if let iw = result.negativeIWBound {
            print(String(format: "%@ %.3f nats  (importance weighted, K = %d)", given.isEmpty ? "-log p(x) <=    " : "-log p(x | y) <=",
                         iw, result.iwSamples ?? 0))
            if let fitted = result.negativeIWBoundFittedPrior {
                print(String(format: "  fitted prior   %.3f nats  (the same bound with prior.safetensors as the prior)", fitted))
            }
        }
        if let g = result.negativeLogLikelihoodGrid {
            print(String(format: "-log p(x) ~=     %.3f nats  (midpoint rule, %dx%d grid on [-6, 6]^2)", g, grid, grid))
        }
        print(String(format: "bits/dim         %.4f", result.bitsPerDim))
        print(String(format: "reconstruction   PSNR %.2f dB  (posterior means decoded)", result.reconstructionPSNR ?? Double.nan))
        print("active units     \(result.activeUnits) of \(result.latent)")
        if result.groups.count > 1 {
            for g in result.groups {
                let name = g.name.padding(toLength: max(14, g.name.count), withPad: " ", startingAt: 0)
                print("  " + name + String(format: " KL %8.3f nats, %d of %d units active (%@)", g.kl, g.activeUnits,
                                           g.shape.reduce(1, *), g.shape.map(String.init).joined(separator: "x")))
            }
        }
    }

    /// Likelihoods are of the images the model sees: data whose own geometry is not the model's
    /// is refused unless --convert asks for the conversion (or it is the run's own data, which
    /// training converted the same way).
    func checkGeometry(_ config: RunConfig) throws {
        guard let data, !convert, data != (try? DataSpec(parsing: config.training.data)),
              let g = try data.nativeGeometry() else { return }
        let m = config.model
        guard g.channels == m.channels, g.height == m.height, g.width == m.width else {
            throw VAEError("\(data): images of \(g.channels)x\(g.height)x\(g.width), but the model is of \(m.channels)x\(m.height)x\(m.width); their likelihood would be that of converted images (add --convert to evaluate those)")
        }
    }

    /// A VQ-VAE: reconstruction, PSNR, codebook use and the bounds with the uniform prior and,
    /// when RUN_DIR/prior holds one, the PixelCNN prior.
    func evaluateVQ() throws {
        let device = try model.device.open()
        let (vq, config) = try VQVAE.load(from: model.checkpoint, device: device)
        let priorDirectory = PriorTrainingJob.directory(of: model.checkpoint)
        let prior = FileIO.exists(priorDirectory) ? try PixelCNN.load(from: priorDirectory, device: device).0 : nil
        let images = try loadImages(data, split: split == .all ? .test : split, model: config.model, run: config)
        let r = try vq.evaluate(images, limit: limit, binarize: config.training.binarize, seed: 0xE7A1, prior: prior)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(r), as: UTF8.self))
            return
        }
        let lk = config.model.likelihood
        let dims = Double(config.model.dimensions)
        print("images           \(r.images) (\(data?.description ?? config.training.data), \(split.rawValue)\(config.training.binarize ? ", binarized" : ""))")
        print(String(format: "reconstruction   %.3f nats  (%.4f bits/dim), PSNR %.2f dB", r.reconstruction,
                     lk.bitsPerDimension(nats: r.reconstruction, dimensions: dims), r.psnr))
        print(String(format: "commitment       %.4f  (sum over positions of |z - c|^2)", r.commitment))
        print(String(format: "codes            %d of %d used, perplexity %.1f, %d per image", r.codesUsed, r.codes, r.perplexity, r.positions))
        print(String(format: "-ELBO uniform    %.3f nats  (%.4f bits/dim; codes cost log K = %.2f bits each)", r.negativeELBOUniform,
                     lk.bitsPerDimension(nats: r.negativeELBOUniform, dimensions: dims), log2(Double(r.codes))))
        if let bits = r.priorBitsPerCode, let total = r.negativeELBOPrior {
            print(String(format: "prior            %.4f bits per code (PixelCNN)", bits))
            print(String(format: "-ELBO two-stage  %.3f nats  (%.4f bits/dim: the codes' cost under the prior + the reconstruction)",
                         total, r.bitsPerDim))
        } else {
            print("prior            none (train one with vae train-prior --checkpoint \(model.checkpoint))")
        }
        print(String(format: "bits/dim         %.4f", r.bitsPerDim))
    }
}
