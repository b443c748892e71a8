import Foundation
import ImageIO

extension Report {
    /// The rows of a conditional model's panel: per held-out image, the input the model sees, the
    /// mask (inpainting), `samples` completions or colorizations, and the ground truth.
    public static func conditionalPanel(model: ConditionalVAE, images: [Image], masks: MaskGenerator?, samples: Int,
                                        seed: UInt64) throws -> (grid: Image, columns: Int) {
        var cells: [Image] = []
        for (i, truth) in images.enumerated() {
            switch model.task {
            case .inpaint:
                var rng = MaskGenerator.generator(seed: seed, index: i)
                let mask = (masks ?? MaskGenerator(kinds: [.center])).mask(width: truth.width, height: truth.height, rng: &rng)
                let completions = try Inpainting.complete(truth, mask: mask, completer: model, samples: samples, seed: seed &+ UInt64(i))
                cells += [observed(truth, mask: mask), mask.image] + completions + [truth]
            case .colorize:
                let colorings = try Colorization.colorize(truth, completer: model, samples: samples, seed: seed &+ UInt64(i))
                cells += [Colorization.luminance(of: truth)] + colorings + [truth]
            }
        }
        let columns = samples + (model.task == .inpaint ? 3 : 2)
        return (ImageGrid.compose(cells, columns: columns), columns)
    }

    /// The picture as the model sees it: missing pixels shown in mid gray.
    public static func observed(_ image: Image, mask: Mask) -> Image {
        var out = image
        let n = image.planeSize
        for c in 0..<image.channels {
            for p in 0..<n where mask.values[p] > 0.5 { out.pixels[c * n + p] = 0.5 }
        }
        return out
    }

    /// Writes completions.png and report.html of a conditional run: loss curves and a panel of
    /// held-out images with K samples each.
    /// - Returns: the names of the files written (no completions without held-out images).
    @discardableResult
    public static func writeConditionalRun(model: ConditionalVAE, config: RunConfig, history: [EpochMetrics],
                                           state: RunState, heldOut: [Image], directory: String,
                                           samples: Int = 5) throws -> [String] {
        var written: [String] = []
        func path(_ f: String) -> String {
            written.append(f)
            return (directory as NSString).appendingPathComponent(f)
        }
        var report = Report(title: "ConvVAE run: \(config.task.rawValue) with a conditional VAE on \(config.training.data)")
        if !heldOut.isEmpty {
            let images = heldOut
            let masks = config.conditional?.masks
            let (grid, _) = try conditionalPanel(model: model, images: images, masks: masks, samples: samples,
                                                 seed: config.training.seed ^ 0x9A9E1)
            try grid.writePNG(to: path("completions.png"))
            let columns = model.task == .inpaint
                ? "input (missing pixels gray), mask (white = missing), \(samples) samples, ground truth"
                : "input (luminance), \(samples) colorizations, ground truth"
            report.panels = [("Held-out images, one per row: \(columns)", grid.enlarged(by: max(1, 768 / grid.width)))]
        }
        let m = config.model, t = config.training, options = config.conditional ?? ConditionalOptions()
        let draws = options.priorPathDraws
        report.summary = [
            ("task", config.task.rawValue + (config.conditional?.masks.map { " (training masks: \($0))" } ?? "")),
            ("model", "conditional VAE (posterior, prior and decoder networks): \(m.channels)x\(m.height)x\(m.width) images, widths \(m.widths), latent \(m.latent), \(m.likelihood.rawValue) over \(model.targetChannels) target channels given \(model.conditionChannels) condition channels"),
            ("parameters", String(model.parameterCount)),
            ("training", "batch \(t.batch), lr \(t.learningRate), beta \(t.beta), free bits \(t.freeBits), warm-up \(t.warmupEpochs) epochs, one prior-path step in \(options.priorPathPeriod)\(draws > 1 ? " (best of \(draws) draws)" : ""), seed \(t.seed)"),
            ("steps", "\(state.step) in \(String(format: "%.1f", state.seconds)) s"),
        ]
        if let last = history.last {
            report.summary.append(("last epoch", String(format: "train %.3f, validation %.3f nats per image (reconstruction + KL(q || p))",
                                                        last.trainLoss, last.valLoss)))
        }
        report.history = history
        try report.write(to: path("report.html"))
        return written
    }
}
