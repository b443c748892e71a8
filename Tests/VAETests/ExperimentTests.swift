import Foundation
import Testing
import ImageIO
import NN
import TestSupport
@testable import VAE

/// An MNIST-layout directory of 8x8 images with three principal directions well above the
/// noise (0.5 + sum_k a_k s_k u_k with a_k uniform in [-1, 1], plus uniform noise of width 0.2)
/// and labels 0-2 (the sign pattern of a_0, a_1).
func lowRankMNIST(_ dir: TemporaryDirectory, train: Int = 600, test: Int = 100) throws -> DataSpec {
    var rng = SplitMix64(seed: 17)
    let scales: [Float] = [0.3, 0.25, 0.2]
    // Orthogonal smooth patterns of equal norm: products of cosines of different frequencies.
    let patterns: [[Float]] = [(1, 0), (0, 1), (2, 0)].map { fy, fx in
        (0..<64).map { i in cos(Float.pi * Float(fy) * (Float(i / 8) + 0.5) / 8) * cos(Float.pi * Float(fx) * (Float(i % 8) + 0.5) / 8) }
    }
    func set(_ n: Int) -> ImageSet {
        var pixels: [Float] = [], labels: [Int] = []
        for _ in 0..<n {
            let a = (0..<3).map { _ in rng.nextFloat() * 2 - 1 }
            pixels += (0..<64).map { i in
                0.5 + 0.2 * (rng.nextFloat() - 0.5) + (0..<3).reduce(Float(0)) { $0 + a[$1] * scales[$1] * patterns[$1][i] }
            }
            labels.append(a[0] < 0 ? 0 : a[1] < 0 ? 1 : 2)
        }
        return ImageSet(count: n, channels: 1, height: 8, width: 8, pixels: pixels, labels: labels)
    }
    let (a, b) = (set(train), set(test))
    try IDX.writeImages(a, to: dir.file("train-images-idx3-ubyte"))
    try IDX.writeLabels(a.labels!, to: dir.file("train-labels-idx1-ubyte"))
    try IDX.writeImages(b, to: dir.file("t10k-images-idx3-ubyte"))
    try IDX.writeLabels(b.labels!, to: dir.file("t10k-labels-idx1-ubyte"))
    return .mnist(directory: dir.path)
}

/// An experiment on `data` into `out`, quietly, with a small budget.
func quietExperiment(_ data: DataSpec, out: String, epochs: Int, batch: Int = 32, latent: Int? = nil,
                     lr: Float = 1e-3) throws -> Experiment {
    var r = TrainingRequest()
    r.data = data
    r.latent = latent
    r.training.epochs = epochs
    r.training.batch = batch
    r.training.learningRate = lr
    r.training.cosineDecay = true
    var e = Experiment(request: r, directory: out, device: try Fixtures.device(), events: TrainingEvents(log: { _ in }))
    e.evaluationImages = 50
    return e
}

@Suite("The experiments")
struct ExperimentTests {
    @Test("a linear autoencoder finds the principal subspace of low-rank data; a rerun reuses its run")
    func pcaMatchesAutoencoder() throws {
        let data = TemporaryDirectory(), out = TemporaryDirectory()
        let spec = try lowRankMNIST(data)
        let experiment = PCAExperiment(try quietExperiment(spec, out: out.path, epochs: 25, batch: 8, latent: 3, lr: 3e-2))
        let r = try experiment.run()
        #expect(r.anglesDegrees.count == 3 && r.largestAngleDegrees < 5, "angles \(r.anglesDegrees), \(r)")
        #expect(abs(r.relativeDifference) < 0.05, "PCA \(r.pcaMSE), autoencoder \(r.autoencoderMSE)")
        #expect(r.explainedVariance > 0.85)
        let json = try JSONDecoder().decode(PCAExperiment.Result.self, from: Data(contentsOf: URL(fileURLWithPath: out.file("experiment.json"))))
        #expect(json.largestAngleDegrees == r.largestAngleDegrees)
        let html = try String(contentsOfFile: out.file("report.html"), encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("data:image/png;base64"))
        // Run again: the finished model is reused, so the analysis gives the same numbers.
        #expect(try experiment.run().anglesDegrees == r.anglesDegrees)
    }

    @Test("the analysis reads the decoder's columns: a decoder set to the components gives angle 0 and PCA's error")
    func pcaAnalysisOfExactDecoder() throws {
        let D = 64, K = 2
        var rng = TestRandom(seed: 3)
        let x = (0..<(200 * D)).map { i in Float(i % D) / 64 + 0.3 * rng.signed() * Float(1 + i % 3) }
        let data = ImageSet(count: 200, channels: 1, height: 8, width: 8, pixels: x)
        let m = try SampleMoments(samples: x, dimension: D)
        let vectors = try LinearAlgebra.symmetricEigen(m.covariance, order: D).vectors
        let top = Array(vectors[((D - K) * D)...])
        let config = ModelConfig(arch: "linear", channels: 1, height: 8, width: 8, widths: [], latent: K, likelihood: .gaussian,
                                 autoencoder: true)
        let model = try ConvVAE(config, device: try Fixtures.device(), maxBatch: 64, seed: 1)
        // Encoder: z = C (x - mean); decoder: x = C^T z + mean (weights [out, in]).
        let enc = model.encoder.parameters, dec = model.decoder.parameters
        var we = [Float](repeating: 0, count: 2 * K * D), be = [Float](repeating: 0, count: 2 * K)
        for k in 0..<K {
            for j in 0..<D { we[k * D + j] = Float(top[k * D + j]) }
            be[k] = -Float((0..<D).reduce(0) { $0 + top[k * D + $1] * m.mean[$1] })
        }
        try enc[0].value.write(we)
        try enc[1].value.write(be)
        try dec[0].value.write((0..<(D * K)).map { Float(top[($0 % K) * D + $0 / K]) })
        try dec[1].value.write(m.mean.map(Float.init))
        let experiment = PCAExperiment(try quietExperiment(.shapes(count: 1), out: "", epochs: 1))
        let columns = try dec[0].value.read()
        let directions = (0..<K).flatMap { j in (0..<D).map { Double(columns[$0 * K + j]) } }
        let angles = try LinearAlgebra.principalAngles(top, directions, dimension: D)
        #expect(angles.allSatisfy { $0 < 1e-3 }, "\(angles)")
        let pca = experiment.projections(data, mean: m.mean, basis: top, dimension: D)
        let ae = try experiment.rawReconstructions(model, data)
        #expect(abs(meanSquaredError(x, pca) - meanSquaredError(x, ae)) < 1e-6 * meanSquaredError(x, pca) + 1e-9)
        // The projector onto the decoder's columns fixes the components.
        let project = try experiment.orthonormalProjector(directions, dimension: D)
        let p = project(top[0..<D])
        #expect(zip(p, top[0..<D]).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test("the ablation: KL-only leaves the decoder untouched, the autoencoder has no KL; the beta sweep tables each beta")
    func ablationAndBeta() throws {
        let data = TemporaryDirectory(), out = TemporaryDirectory()
        let spec = try lowRankMNIST(data, train: 160, test: 40)
        let ablation = AblationExperiment(try quietExperiment(spec, out: out.file("ablation"), epochs: 2))
        let r = try ablation.run()
        #expect(r.rows.map(\.name) == ["reconstruction-only", "kl-only", "elbo"])
        #expect(r.rows[0].kl == nil && r.rows[0].negativeIWBound == nil && r.rows[2].negativeIWBound != nil)
        #expect(r.latent == 2)
        let klOnly = try ablation.configs()[1].2
        let (trained, _) = try ConvVAE.load(from: out.file("ablation/kl-only"), device: try Fixtures.device())
        let initial = try ConvVAE(klOnly.model, device: try Fixtures.device(), maxBatch: 8, seed: klOnly.training.seed)
        for (a, b) in zip(trained.decoder.parameters, initial.decoder.parameters) { #expect(try a.value.read() == b.value.read()) }
        #expect(try trained.encoder.parameters[0].value.read() != initial.encoder.parameters[0].value.read())
        let html = try String(contentsOfFile: out.file("ablation/report.html"), encoding: .utf8)
        #expect(html.contains("label 2"), "the code scatter is coloured by label")

        let beta = BetaExperiment(try quietExperiment(spec, out: out.file("beta"), epochs: 1), betas: [0.5, 4])
        let b = try beta.run()
        #expect(b.rows.map(\.beta) == [0.5, 4] && b.rows.allSatisfy { $0.kl.isFinite && $0.reconstruction.isFinite })
        #expect(FileManager.default.fileExists(atPath: out.file("beta/beta-4.0/model.safetensors")))
    }
}
