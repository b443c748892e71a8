import Foundation
import ImageIO

extension Report {
    /// Writes a VQ-VAE run's reconstructions.png and report.html (sampling needs the prior that
    /// `vae train-prior` trains afterwards; it writes its own pictures).
    static func writeVQRun(model: VQVAE, config: RunConfig, history: [EpochMetrics], state: RunState,
                           heldOut: ImageSet, directory: String) throws {
        func path(_ f: String) -> String { (directory as NSString).appendingPathComponent(f) }
        var report = Report(title: "ConvVAE run: VQ-VAE on \(config.training.data)")
        if heldOut.count > 0 {
            let originals = (0..<min(16, heldOut.count)).map { heldOut.image(at: $0) }
            let grid = ImageGrid.pairedRows(originals, try model.reconstruct(originals), columns: 8)
            try grid.writePNG(to: path("reconstructions.png"))
            report.panels = [("Held-out images (upper rows) and their reconstructions from their codes (lower rows)", grid)]
        }
        let m = config.model, o = model.options, t = config.training, map = m.codeMap
        report.summary = [
            ("model", "VQ-VAE: \(m.channels)x\(m.height)x\(m.width), widths \(m.widths), \(o.codes) codes of dimension \(o.codeDimension) on a \(map[0])x\(map[1]) map, \(m.likelihood.rawValue)"),
            ("codebook", o.codebook == .ema ? "moving averages, decay \(o.decay); dead codes restarted every epoch" : "codebook loss; dead codes restarted every epoch"),
            ("parameters", String(model.parameterCount)),
            ("training", "batch \(t.batch), lr \(t.learningRate), commitment \(o.commitment), seed \(t.seed)"),
            ("steps", "\(state.step) in \(String(format: "%.1f", state.seconds)) s"),
        ]
        if let last = history.last {
            let extra = last.extras.map { String(format: "%@ %.4g", $0.name, $0.value) }.joined(separator: ", ")
            report.summary.append(("last epoch", String(format: "validation reconstruction %.3f nats, uniform-prior bound %.4f bits/dim; ", last.valReconstruction, last.bitsPerDim) + extra))
        }
        report.history = history
        try report.write(to: path("report.html"))
    }
}
