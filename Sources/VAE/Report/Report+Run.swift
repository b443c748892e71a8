import Foundation
import ImageIO

extension Report {
    /// Writes a run's pictures (samples.png, reconstructions.png, interpolation.png) and its
    /// report.html from a trained model of any family and some held-out images. With a fitted
    /// prior, samples.png draws from it and samples-normal.png from N(0, I); a model with
    /// several latent groups also gets samples at lower temperatures and a table of each
    /// group's KL (`groups`, from the last validation).
    public static func writeRun(model: any GenerativeModel, config: RunConfig, history: [EpochMetrics], state: RunState,
                                heldOut: ImageSet, prior: GaussianMixture? = nil, groups: [GroupEvaluation] = [],
                                directory: String) throws {
        func path(_ f: String) -> String { (directory as NSString).appendingPathComponent(f) }
        let seed = config.training.seed ^ 0x5A
        var sampleGrids: [(String, Image)] = []
        if let prior {
            let grid = ImageGrid.compose(try model.sample(count: 64, seed: seed, prior: prior), columns: 8)
            try grid.writePNG(to: path("samples.png"))
            sampleGrids.append(("Samples from the prior fitted to the training codes (\(prior.components)-component Gaussian mixture)", grid))
        }
        let normalGrid = ImageGrid.compose(try model.sample(count: 64, seed: seed), columns: 8)
        try normalGrid.writePNG(to: path(prior == nil ? "samples.png" : "samples-normal.png"))
        let hierarchical = model.latentGroups.count > 1
        sampleGrids.append((hierarchical ? "Samples from the model's prior (top group N(0, I), every other group from its learned prior)"
                                         : "Samples from the model's prior N(0, I)", normalGrid))
        if hierarchical {
            for t: Float in [0.8, 0.6] {
                let grid = ImageGrid.compose(try model.sample(count: 64, seed: seed, temperatures: [t]), columns: 8)
                sampleGrids.append((String(format: "Samples at temperature %.1f (every group's spread scaled)", t), grid))
            }
        }

        var report = Report(title: "ConvVAE run: \(config.model.arch) on \(config.training.data)")
        if heldOut.count > 0 {
            let originals = (0..<min(16, heldOut.count)).map { heldOut.image(at: $0) }
            let recon = try model.reconstruct(originals)
            // Originals on odd rows, reconstructions below them.
            var cells: [Image] = []
            for row in stride(from: 0, to: originals.count, by: 8) {
                let r = row..<min(row + 8, originals.count)
                cells += originals[r] + recon[r]
            }
            let reconGrid = ImageGrid.compose(cells, columns: 8)
            try reconGrid.writePNG(to: path("reconstructions.png"))
            var panels = sampleGrids + [("Held-out images (upper rows) and their reconstructions (lower rows)", reconGrid)]
            if originals.count >= 2 {
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
        } ?? "\(m.arch): \(m.channels)x\(m.height)x\(m.width), widths \(m.widths), latent \(m.latent), \(m.likelihood.rawValue)\(m.autoencoder ? ", plain autoencoder" : "")"
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
    }
}
