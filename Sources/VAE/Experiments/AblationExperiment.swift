import Foundation
import ImageIO
import NN

/// `vae experiment ablation`: what each term of the ELBO does. Three models with the same
/// architecture, seed and budget: reconstruction only (a plain autoencoder), the KL term only
/// (the reconstruction's gradient weighted 0: the posterior falls onto the prior and the
/// decoder learns nothing), and the full ELBO. The report tables their reconstruction, KL,
/// ELBO and importance-weighted bound on test images and shows their reconstructions, their
/// samples from N(0, I) and their test codes (in 2-D, coloured by label when there are labels).
public struct AblationExperiment {
    public var experiment: Experiment
    /// Importance samples of the IW bound.
    public var iwSamples = 100

    public init(_ experiment: Experiment) { self.experiment = experiment }

    /// One model's line of the table (per test image, nats; nil where a term does not exist).
    public struct Row: Codable, Sendable {
        public var name: String, objective: String
        public var reconstruction: Double
        public var kl: Double?, negativeELBO: Double?, negativeIWBound: Double?
        /// Mean squared error per pixel of the reconstructions (posterior means decoded).
        public var reconstructionMSE: Double
        public var activeUnits: Int?
        public var steps: Int64
        public var run: String
    }

    /// experiment.json and `--json`.
    public typealias Result = ExperimentTable<Row>

    /// The three models: name, objective, configuration (latent 2 unless asked otherwise, so
    /// that the codes are seen as they are).
    public func configs() throws -> [(String, String, RunConfig)] {
        var request = experiment.request
        request.latent = request.latent ?? 2
        let elbo = try request.resolve()
        var autoencoder = elbo, klOnly = elbo
        autoencoder.model.autoencoder = true
        klOnly.training.reconstructionWeight = 0
        return [("reconstruction-only", "reconstruction alone (a plain autoencoder)", autoencoder),
                ("kl-only", "the KL term alone (reconstruction weighted 0)", klOnly),
                ("elbo", "the full ELBO (reconstruction + KL)", elbo)]
    }

    public func run() throws -> Result {
        let configs = try configs()
        let test = try experiment.data(configs[0].2).test
        var rows: [Row] = [], samples: [(String, Image)] = [], scatter: [String] = []
        var reconstructions = [(0..<min(10, test.count)).map { test.image(at: $0) }]
        var report = Report(title: "Loss ablation: \(configs[0].2.training.data)")
        for (name, objective, config) in configs {
            let (model, state, dir) = try experiment.train(config, name: name)
            if report.summary.isEmpty { report.summary = experiment.summary(config, state: state) }
            var evaluator = Evaluator(model: model, binarize: config.training.binarize)
            evaluator.seed = 0xAB1A
            let autoencoder = config.model.autoencoder
            let e = try evaluator.evaluate(test, iwSamples: autoencoder ? 0 : iwSamples)
            let originals = (0..<test.count).map { test.image(at: $0) }
            let recon = try model.reconstruct(originals)
            rows.append(Row(name: name, objective: objective, reconstruction: e.reconstruction,
                            kl: autoencoder ? nil : e.kl, negativeELBO: autoencoder ? nil : e.negativeELBO,
                            negativeIWBound: e.negativeIWBound,
                            reconstructionMSE: meanSquaredError(test.pixels, recon.flatMap(\.pixels)),
                            activeUnits: autoencoder ? nil : e.activeUnits, steps: state.step, run: dir))
            reconstructions.append(Array(recon.prefix(reconstructions[0].count)))
            samples.append(("\(name): samples from N(0, I)",
                            ImageGrid.compose(try model.sample(count: 32, seed: 0x5A), columns: 8)))
            let codes = try model.encodeMeans(originals)
            scatter.append(report.plot("\(name): test codes\(test.labels == nil ? "" : ", coloured by label")",
                                       series: try codeSeries(codes, latent: config.model.latent, labels: test.labels),
                                       xLabel: config.model.latent == 2 ? "z1" : "first principal axis of the codes",
                                       yLabel: config.model.latent == 2 ? "z2" : "second principal axis"))
        }
        let result = Result(data: configs[0].2.training.data, latent: configs[0].2.model.latent,
                            epochs: configs[0].2.training.epochs, testImages: test.count, iwSamples: iwSamples, rows: rows)
        report.sections.append(report.table(
            "Test images: per image, in nats (\(test.count) images; IW bound with K = \(iwSamples))",
            headers: ["model", "objective", "reconstruction", "KL", "-ELBO", "-log p(x) <= (IW)", "MSE per pixel", "active units"],
            rows: rows.map { [$0.name, $0.objective, cell($0.reconstruction), cell($0.kl), cell($0.negativeELBO),
                              cell($0.negativeIWBound), cell($0.reconstructionMSE, "%.5f"), $0.activeUnits.map(String.init) ?? "-"] }))
        report.sections += scatter
        report.panels = [("Test images (top row), then the reconstructions of: " + configs.map(\.0).joined(separator: ", "),
                          rowsGrid(reconstructions))] + samples
        try experiment.write(result, report: report)
        return result
    }

    /// The codes as 2-D points (the first two principal axes when the latent has more), one
    /// series per label (one series without labels).
    func codeSeries(_ codes: [Float], latent L: Int, labels: [Int]?) throws -> [PlotSeries] {
        let n = codes.count / L
        var points: [(x: Double, y: Double)]
        if L <= 2 {
            points = (0..<n).map { (Double(codes[$0 * L]), L == 2 ? Double(codes[$0 * L + 1]) : 0) }
        } else {
            let m = try SampleMoments(samples: codes, dimension: L)
            let v = try LinearAlgebra.symmetricEigen(m.covariance, order: L).vectors
            let a = v[((L - 1) * L)...], b = v[((L - 2) * L)..<((L - 1) * L)]
            points = (0..<n).map { i in
                let row = (0..<L).map { Double(codes[i * L + $0]) - m.mean[$0] }
                return (zip(row, a).reduce(0) { $0 + $1.0 * $1.1 }, zip(row, b).reduce(0) { $0 + $1.0 * $1.1 })
            }
        }
        guard let labels else { return [PlotSeries("codes", color: PlotSeries.palette[0], points: points, line: false)] }
        return Set(labels).sorted().map { k in
            PlotSeries("label \(k)", color: PlotSeries.palette[k % PlotSeries.palette.count],
                       points: points.indices.filter { labels[$0] == k }.map { points[$0] }, line: false)
        }
    }
}
