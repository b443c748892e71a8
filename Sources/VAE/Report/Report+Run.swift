import Foundation
import ImageIO

extension Report {
    /// Writes a run's pictures (samples.png, reconstructions.png, interpolation.png) and its
    /// report.html from a trained model of any family and some held-out images. With a fitted
    /// prior, samples.png draws from it and samples-normal.png from N(0, I). A model with
    /// several latent groups also gets samples at lower temperatures and a table of each
    /// group's KL (`groups`, from the last validation). A label-conditional model's sample
    /// grids have a row per class, and its interpolation is replaced by analogies.png
    /// (held-out codes decoded with every label).
    /// - Returns: the names of the files written (no reconstructions without held-out images).
    @discardableResult
    public static func writeRun(model: any GenerativeModel, config: RunConfig, history: [EpochMetrics], state: RunState,
                                heldOut: ImageSet, prior: FittedPrior? = nil, groups: [GroupEvaluation] = [],
                                directory: String) throws -> [String] {
        var written: [String] = []
        func path(_ f: String) -> String {
            written.append(f)
            return (directory as NSString).appendingPathComponent(f)
        }
        let seed = config.training.seed ^ 0x5A
        var sampleGrids: [(String, Image)] = []
        // A label-conditional model: 8 samples of each class, a row per class.
        let labelled = (model as? ConvVAE).flatMap { $0.conditioning == nil ? nil : $0 }
        let labels = model.config.classes.map { k in (0..<k).flatMap { Array(repeating: $0, count: 8) } }
        let count = labels?.count ?? 64, rows = labels == nil ? "" : ", a row per class"
        if let prior {
            let images = try labelled.map { try $0.sample(count: count, seed: seed, prior: prior, labels: labels) }
                ?? model.sample(count: count, seed: seed, prior: prior)
            let grid = ImageGrid.compose(images, columns: 8)
            try grid.writePNG(to: path("samples.png"))
            let fitted = "the prior fitted to the training codes (a \(prior.mixture.components)-component Gaussian mixture over \(prior.coordinates.count) of \(prior.dimension) values)"
            sampleGrids.append((model.latentGroups.count > 1 ? "Samples with group \(model.latentGroups[prior.group].name) from \(fitted), the rest from the model's priors"
                                                             : "Samples from \(fitted)\(rows)", grid))
        }
        let normal = try labelled.map { try $0.sample(count: count, seed: seed, labels: labels) }
            ?? model.sample(count: count, seed: seed)
        let normalGrid = ImageGrid.compose(normal, columns: 8)
        try normalGrid.writePNG(to: path(prior == nil ? "samples.png" : "samples-normal.png"))
        let hierarchical = model.latentGroups.count > 1
        sampleGrids.append((hierarchical ? "Samples from the model's prior (top group N(0, I), every other group from its learned prior)"
                                         : "Samples from the model's prior N(0, I)\(rows)", normalGrid))
        if hierarchical {
            for t: Float in [0.8, 0.6] {
                let grid = ImageGrid.compose(try model.sample(count: 64, seed: seed, temperatures: [t]), columns: 8)
                sampleGrids.append((String(format: "Samples at temperature %.1f (every group's spread scaled)", t), grid))
            }
        }

        var report = Report(title: "ConvVAE run: \(config.model.arch) on \(config.training.data)")
        if heldOut.count > 0 {
            let originals = (0..<min(16, heldOut.count)).map { heldOut.image(at: $0) }
            let reconstructions = try labelled.map {
                try $0.reconstruct(originals, labels: $0.conditioningLabels(heldOut, count: originals.count))
            } ?? model.reconstruct(originals)
            let reconGrid = ImageGrid.pairedRows(originals, reconstructions, columns: 8)
            try reconGrid.writePNG(to: path("reconstructions.png"))
            var panels = sampleGrids + [("Held-out images (upper rows) and their reconstructions (lower rows)", reconGrid)]
            if let labelled {
                let analogies = try labelled.analogies(heldOut, count: min(8, heldOut.count))
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
        let architecture = m.deep.map { d in
            "\(m.arch) (deep): \(m.channels)x\(m.height)x\(m.width), stage widths \(m.widths), \(d.blocks) residual block(s) per stage, latent groups per stage \(d.groups) of \(m.latent) channels, \(m.likelihood.rawValue)"
        } ?? "\(m.arch): \(m.channels)x\(m.height)x\(m.width), widths \(m.widths), latent \(m.latent), \(m.likelihood.rawValue)\(m.autoencoder ? ", plain autoencoder" : "")\(m.classes.map { ", conditioned on \($0) label classes (one-hot planes into the encoder, one-hot joined to z)" } ?? "")"
        report.summary = [
            ("model", architecture),
            ("parameters", String(model.parameterCount)),
            ("training", "batch \(t.batch), lr \(t.learningRate), beta \(t.beta), warm-up \(t.warmupEpochs) epochs, free bits \(t.freeBits), seed \(t.seed)"),
            ("steps", "\(state.step) in \(String(format: "%.1f", state.seconds)) s"),
        ]
        if let last = history.last {
            report.summary.append(("last epoch", String(format: "train -ELBO %.3f, validation -ELBO %.3f nats (%.4f bits/dim)",
                                                        last.trainLoss, last.valLoss, last.bitsPerDim)))
        }
        for g in groups {
            report.summary.append(("KL \(g.name)", String(format: "%.3f nats per image, %d of %d units active (%@)", g.kl,
                                                         g.activeUnits, g.shape.reduce(1, *),
                                                         g.shape.map(String.init).joined(separator: "x"))))
        }
        report.history = history
        try report.write(to: path("report.html"))
        return written
    }
}
