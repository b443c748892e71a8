import Foundation
import ImageIO

extension Report {
    /// Writes a run's pictures (samples.png, reconstructions.png, interpolation.png) and its
    /// report.html from a trained model and some held-out images. With a fitted prior,
    /// samples.png draws from it and samples-normal.png from N(0, I). A label-conditional
    /// model's sample grids have a row per class, and its interpolation is replaced by
    /// analogies.png (held-out codes decoded with every label).
    /// - Returns: the names of the files written (no reconstructions without held-out images).
    @discardableResult
    public static func writeRun(model: ConvVAE, config: RunConfig, history: [EpochMetrics], state: RunState,
                                heldOut: ImageSet, prior: GaussianMixture? = nil, directory: String) throws -> [String] {
        var written: [String] = []
        func path(_ f: String) -> String {
            written.append(f)
            return (directory as NSString).appendingPathComponent(f)
        }
        let seed = config.training.seed ^ 0x5A
        var sampleGrids: [(String, Image)] = []
        // A label-conditional model: 8 samples of each class, a row per class.
        let labels = model.config.classes.map { k in (0..<k).flatMap { Array(repeating: $0, count: 8) } }
        let count = labels?.count ?? 64, rows = labels == nil ? "" : ", a row per class"
        if let prior {
            let grid = ImageGrid.compose(try model.sample(count: count, seed: seed, prior: prior, labels: labels), columns: 8)
            try grid.writePNG(to: path("samples.png"))
            sampleGrids.append(("Samples from the prior fitted to the training codes (\(prior.components)-component Gaussian mixture)\(rows)", grid))
        }
        let normalGrid = ImageGrid.compose(try model.sample(count: count, seed: seed, labels: labels), columns: 8)
        try normalGrid.writePNG(to: path(prior == nil ? "samples.png" : "samples-normal.png"))
        sampleGrids.append(("Samples from the model's prior N(0, I)\(rows)", normalGrid))

        var report = Report(title: "ConvVAE run: \(config.model.arch) on \(config.training.data)")
        if heldOut.count > 0 {
            let originals = (0..<min(16, heldOut.count)).map { heldOut.image(at: $0) }
            let labels = model.conditioningLabels(heldOut, count: originals.count)
            let reconGrid = ImageGrid.pairedRows(originals, try model.reconstruct(originals, labels: labels), columns: 8)
            try reconGrid.writePNG(to: path("reconstructions.png"))
            var panels = sampleGrids + [("Held-out images (upper rows) and their reconstructions (lower rows)", reconGrid)]
            if model.conditioning != nil {
                let analogies = try model.analogies(heldOut, count: min(8, heldOut.count))
                try analogies.writePNG(to: path("analogies.png"))
                panels.append(("Analogies: held-out images (left) and their codes z decoded with every label, one column per class", analogies))
            } else if originals.count >= 2 {
                let lin = try model.interpolate(from: originals[0], to: originals[1], steps: 10, spherical: false)
                let sph = try model.interpolate(from: originals[0], to: originals[1], steps: 10, spherical: true)
                let interp = ImageGrid.compose(lin + sph, columns: 10)
                try interp.writePNG(to: path("interpolation.png"))
                panels.append(("Interpolation between two held-out images: linear (top), spherical (bottom)", interp))
            }
            report.panels = panels
        } else {
            report.panels = sampleGrids
        }
        let m = config.model, t = config.training
        report.summary = [
            ("model", "\(m.arch): \(m.channels)x\(m.height)x\(m.width), widths \(m.widths), latent \(m.latent), \(m.likelihood.rawValue)\(m.autoencoder ? ", plain autoencoder" : "")\(m.classes.map { ", conditioned on \($0) label classes (one-hot planes into the encoder, one-hot joined to z)" } ?? "")"),
            ("parameters", String(model.parameterCount)),
            ("training", "batch \(t.batch), lr \(t.learningRate), beta \(t.beta), warm-up \(t.warmupEpochs) epochs, free bits \(t.freeBits), seed \(t.seed)"),
            ("steps", "\(state.step) in \(String(format: "%.1f", state.seconds)) s"),
        ]
        if let last = history.last {
            report.summary.append(("last epoch", String(format: "train -ELBO %.3f, validation -ELBO %.3f nats (%.4f bits/dim)",
                                                        last.trainLoss, last.valLoss, last.bitsPerDim)))
        }
        report.history = history
        try report.write(to: path("report.html"))
        return written
    }
}
