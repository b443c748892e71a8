import ArgumentParser
import Foundation
import ImageIO
import VAE

/// `vae evaluate --task inpaint|colorize`: completion quality against baselines.
struct ConditionalEvaluateOptions: ParsableArguments {
    @Option(help: "inpaint or colorize: score completions (PSNR, SSIM, L1, diversity) against baselines instead of likelihoods.")
    var task: ConditionalTask?
    @Option(help: "Inpainting masks: center, boxes, strokes, pixels or a mix such as boxes,strokes.")
    var maskKind: MaskGenerator = MaskGenerator(kinds: [.center])
    @Option(help: "Samples per image (best of K, diversity).") var samples: Int = 10
    @OptionGroup var temperature: TemperatureOption
    @OptionGroup var rebalancing: RebalancingOption
    @Option(help: "Seed of the masks and the samples.") var seed: UInt64 = 1
    @Option(help: "auto, conditional, pseudo-gibbs or mwg (inpainting).") var method: CompletionMethod = .auto
    @Option(help: "Imputation iterations (pseudo-gibbs, mwg).") var iterations: Int = 100
    @Flag(inversion: .prefixedNo, help: "Score pictures at their own size (a folder of photos), completed whole: tiles, coarse to fine, masks drawn at the picture's size (default: on for models trained on patches of photos).")
    var fullSize: Bool?

    func validate() throws {
        guard (1...1000).contains(samples), (1...1_000_000).contains(iterations) else {
            throw ValidationError("--samples must be in 1...1000 and --iterations in 1...1000000")
        }
    }

    /// Runs the evaluation and prints a table or one JSON object.
    func run(task: ConditionalTask, checkpoint: CheckpointOptions, data: DataSpec?, split: DataSplit, limit: Int?,
             json: Bool) throws {
        let (completer, config, methodName) = try method.completer(checkpoint: checkpoint.checkpoint, task: task,
                                                                   iterations: iterations, temperature: temperature.temperature,
                                                                   rebalancing: rebalancing.rebalancing,
                                                                   device: try checkpoint.device.open())
        var evaluator = ConditionalEvaluator(completer: completer, samples: samples, seed: seed,
                                             masks: maskKind)
        evaluator.method = methodName
        let latentTemperature = (completer as? ConditionalVAE).map { $0.temperature == 1 ? "" : " at latent temperature \($0.temperature)" } ?? ""
        let showProgress = !json && isatty(STDERR_FILENO) == 1
        let started = Date()
        let split = split == .all ? .test : split
        let r: ConditionalEvaluationResult
        if fullSize ?? (config.conditional?.patch != nil) {
            let photos = try (data ?? DataSpec(parsing: config.training.data)).loadPhotos(split: split, seed: config.training.seed)
            r = try evaluator.evaluate(photos, limit: limit) { done, total in
                if showProgress { FileHandle.standardError.write(Data("\rpicture \(done)/\(total)".utf8)) }
            }
        } else {
            var geometry = config.model
            if task == .colorize { geometry.channels = 3 }
            let images = try loadImages(data, split: split, model: geometry, run: config)
            r = try evaluator.evaluate(images, limit: limit) { done, total in
                if showProgress { FileHandle.standardError.write(Data("\rsample \(done)/\(total)".utf8)) }
            }
        }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(r), as: UTF8.self))
            return
        }
        print("images       \(r.images) (\(data?.description ?? config.training.data), \(split.rawValue)), \(r.samples) samples each, method \(r.method)\(latentTemperature), \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        if let w = r.meanWidth, let h = r.meanHeight, let t = r.secondsPerPicture {
            print(String(format: "pictures     at their own size, %.0fx%.0f on average; %.2f s per picture for %d samples", w, h, t, r.samples))
        }
        if let kind = r.maskKind, let coverage = r.maskCoverage {
            print(String(format: "masks        %@ (seed %llu), %.1f%% of pixels missing; scores on the missing pixels", kind, r.seed, 100 * coverage))
        } else {
            print("scores       on the whole image (RGB); the luminance is the input's; \(r.grayImagesSkipped ?? 0) images without color left out")
        }
        print("                         PSNR dB    SSIM      L1")
        func row(_ name: String, _ s: CompletionScores) {
            let padded = name.padding(toLength: 24, withPad: " ", startingAt: 0)
            print(padded + String(format: " %7.3f  %6.4f  %6.4f", s.psnr, s.ssim, s.l1))
        }
        row("model, first sample", r.model.first)
        row("model, mean of \(r.samples)", r.model.mean)
        row("model, best of \(r.samples)", r.model.best)
        for name in r.baselines.keys.sorted() { row(name, r.baselines[name]!) }
        print(String(format: "diversity    %.4f (mean pairwise L1 between samples)", r.model.diversity))
        if let c = r.model.colorfulness, let t = r.groundTruthColorfulness {
            print(String(format: "colorfulness %.2f (samples), %.2f (ground truth), 0 (gray)", c, t))
        }
    }
}
