import Foundation
import ImageIO
import NN

/// `vae experiment beta`: beta-VAEs (Higgins et al. 2017) with the same architecture, seed and
/// budget for each beta: the rate-distortion curve (Alemi et al. 2018) of their test images
/// (KL, the rate, against reconstruction, the distortion, in nats) and samples of each.
public struct BetaExperiment {
    public var experiment: Experiment
    public var betas: [Float]

    public init(_ experiment: Experiment, betas: [Float]) {
        self.experiment = experiment
        self.betas = betas
    }

    /// One beta's point (per test image, nats).
    public struct Point: Codable, Sendable {
        public var beta: Float
        public var reconstruction: Double, kl: Double, negativeELBO: Double
        public var activeUnits: Int
        public var steps: Int64
        public var run: String
    }

    /// experiment.json and `--json`.
    public typealias Result = ExperimentTable<Point>

    /// The subdirectory of one beta's run.
    static func name(_ beta: Float) -> String { "beta-\(beta)" }

    public func run() throws -> Result {
        precondition(!betas.isEmpty, "no betas")
        var configs: [(Float, RunConfig)] = []
        for beta in betas {
            var request = experiment.request
            request.training.beta = beta
            configs.append((beta, try request.resolve()))
        }
        let test = try experiment.data(configs[0].1).test
        var points: [Point] = [], panels: [(String, Image)] = []
        var report = Report(title: "Beta sweep: \(configs[0].1.training.data)")
        for (beta, config) in configs {
            let (model, state, dir) = try experiment.train(config, name: Self.name(beta))
            if report.summary.isEmpty { report.summary = experiment.summary(config, state: state) }
            var evaluator = Evaluator(model: model, binarize: config.training.binarize)
            evaluator.seed = 0xBE7A
            let e = try evaluator.evaluate(test)
            points.append(Point(beta: beta, reconstruction: e.reconstruction, kl: e.kl, negativeELBO: e.negativeELBO,
                                activeUnits: e.activeUnits, steps: state.step, run: dir))
            panels.append(("beta \(beta): samples from N(0, I)", ImageGrid.compose(try model.sample(count: 32, seed: 0x5A), columns: 8)))
        }
        let result = Result(data: configs[0].1.training.data, latent: configs[0].1.model.latent,
                            epochs: configs[0].1.training.epochs, testImages: test.count, iwSamples: nil, rows: points)
        report.sections.append(report.table(
            "Test images: per image, in nats (\(test.count) images)",
            headers: ["beta", "reconstruction (distortion)", "KL (rate)", "-ELBO (beta = 1)", "active units"],
            rows: points.map { [String($0.beta), cell($0.reconstruction), cell($0.kl), cell($0.negativeELBO), String($0.activeUnits)] }))
        report.sections.append(report.plot(
            "Rate-distortion: each beta's test KL against its reconstruction term", series: [
                PlotSeries("beta-VAEs", color: PlotSeries.palette[0], points: points.map { ($0.kl, $0.reconstruction) },
                           pointLabels: points.map { "beta \($0.beta)" })],
            xLabel: "rate: KL (nats)", yLabel: "distortion: reconstruction (nats)"))
        report.panels = panels
        try experiment.write(result, report: report)
        return result
    }
}
