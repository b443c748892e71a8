import Foundation
import ImageIO
import NN

/// `vae experiment pca`: a linear autoencoder (one dense layer each way, no nonlinearity, a
/// Gaussian likelihood, i.e. squared error) learns the subspace of the top K principal
/// components (Baldi and Hornik 1989). It is trained like any model; the principal components
/// come from the eigendecomposition of the training images' covariance (LAPACK); the report
/// gives the principal angles between the decoder's column space and theirs, and both
/// reconstruction errors on test images.
public struct PCAExperiment {
    public var experiment: Experiment

    public init(_ experiment: Experiment) { self.experiment = experiment }

    /// experiment.json and `--json`.
    public struct Result: Codable, Sendable {
        public var data: String
        public var latent: Int
        public var epochs: Int?
        public var steps: Int64
        public var trainImages: Int, testImages: Int
        /// Principal angles between the two K-dimensional subspaces, ascending, in degrees.
        public var anglesDegrees: [Double]
        public var largestAngleDegrees: Double
        /// Mean squared error per pixel on the test images: projection onto the top K
        /// components, and the autoencoder's reconstruction.
        public var pcaMSE: Double, autoencoderMSE: Double
        /// (autoencoder - PCA) / PCA.
        public var relativeDifference: Double
        /// The share of the training images' variance in the top K components.
        public var explainedVariance: Double
        public var run: String
    }

    /// The linear autoencoder's configuration: the request's latent size (default 16) and
    /// training options, on the data's geometry.
    public func config() throws -> RunConfig {
        var request = experiment.request
        request.autoencoder = true
        request.likelihood = .gaussian
        request.latent = request.latent ?? 16
        var config = try request.resolve()
        config.model.arch = "linear"
        config.model.widths = []
        return config
    }

    public func run() throws -> Result {
        let config = try config()
        let (model, state, dir) = try experiment.train(config, name: "linear-autoencoder")
        let (train, test) = try experiment.data(config)
        let D = config.model.dimensions, K = config.model.latent
        experiment.events.log("PCA of \(train.count) training images (\(D) x \(D) covariance)")
        let moments = try train.pixels.withUnsafeBufferPointer { try SampleMoments(samples: $0, dimension: D) }
        let (values, vectors) = try LinearAlgebra.symmetricEigen(moments.covariance, order: D)
        // The eigenvalues ascend: the top K components are the last K rows, largest first.
        let components = (0..<K).flatMap { k in vectors[((D - 1 - k) * D)..<((D - k) * D)] }
        let decoder = try model.decoder.parameters[0].value.read()  // [D, K]: column j is direction j
        let directions = (0..<K).flatMap { j in (0..<D).map { Double(decoder[$0 * K + j]) } }
        let angles = try LinearAlgebra.principalAngles(components, directions, dimension: D).map { $0 * 180 / Double.pi }

        let pca = projections(test, mean: moments.mean, basis: components, dimension: D)
        let ae = try rawReconstructions(model, test)
        let pcaMSE = meanSquaredError(test.pixels, pca), aeMSE = meanSquaredError(test.pixels, ae)
        let total = values.reduce(0, +), top = values.suffix(K).reduce(0, +)
        let result = Result(data: config.training.data, latent: K, epochs: config.training.epochs, steps: state.step,
                            trainImages: train.count, testImages: test.count, anglesDegrees: angles,
                            largestAngleDegrees: angles.max() ?? 0, pcaMSE: pcaMSE, autoencoderMSE: aeMSE,
                            relativeDifference: (aeMSE - pcaMSE) / pcaMSE, explainedVariance: top / total,
                            run: dir)

        var report = Report(title: "Linear autoencoder against PCA: \(config.training.data), K = \(K)")
        report.summary = experiment.summary(config, state: state) + [
            ("largest principal angle", String(format: "%.3f degrees", result.largestAngleDegrees)),
            ("test MSE per pixel", String(format: "PCA %.6f, linear autoencoder %.6f (%+.3f%%)", pcaMSE, aeMSE,
                                          100 * result.relativeDifference)),
            ("top-K explained variance", String(format: "%.2f%%", 100 * result.explainedVariance)),
        ]
        report.sections.append(report.table("Principal angles between the subspaces", headers: ["k", "angle (degrees)"],
                                            rows: angles.enumerated().map { ["\($0.offset + 1)", cell($0.element, "%.4f")] }))
        report.sections.append(report.plot(
            "Principal angles, ascending", series: [
                PlotSeries("angle, degrees", color: PlotSeries.palette[0],
                           points: angles.enumerated().map { (Double($0.offset + 1), $0.element) })],
            xLabel: "k", yLabel: "degrees", yFromZero: true))
        let spectrum = Array(values.reversed().prefix(3 * K))
        report.sections.append(report.plot(
            "Covariance eigenvalues (the first K are the principal subspace)", series: [
                PlotSeries("kept", color: PlotSeries.palette[2], points: spectrum.prefix(K).enumerated().map { (Double($0.offset + 1), $0.element) }),
                PlotSeries("discarded", color: PlotSeries.palette[3],
                           points: spectrum.dropFirst(K).enumerated().map { (Double($0.offset + K + 1), $0.element) })],
            xLabel: "component", yLabel: "variance", yFromZero: true))
        report.sections.append(report.table("Reconstruction error on \(test.count) test images", headers: ["method", "MSE per pixel"],
                                            rows: [["PCA, top \(K) components", cell(pcaMSE, "%.6f")],
                                                   ["linear autoencoder, latent \(K)", cell(aeMSE, "%.6f")]]))
        let shown = min(K, 16), geometry = test.image(at: 0)
        func picture(_ v: ArraySlice<Double>) -> Image {
            let scale = max(v.map { abs($0) }.max() ?? 1, 1e-12)
            return Image(width: geometry.width, height: geometry.height, channels: geometry.channels,
                         pixels: v.map { Float(0.5 + 0.5 * $0 / scale) })
        }
        let q = try orthonormalProjector(directions, dimension: D)
        let pcs = (0..<shown).map { picture(components[($0 * D)..<(($0 + 1) * D)]) }
        let projected = (0..<shown).map { picture(q(components[($0 * D)..<(($0 + 1) * D)])[...]) }
        let columns = (0..<shown).map { picture(directions[($0 * D)..<(($0 + 1) * D)]) }
        report.panels.append(("Top: the first \(shown) principal components. Middle: each projected onto the decoder's column space (the same when the subspaces agree). Bottom: the decoder's columns, another basis of that space (gray is 0)",
                              rowsGrid([pcs, projected, columns])))
        let n = min(10, test.count)
        func images(_ v: [Float]) -> [Image] {
            (0..<n).map { i in Image(width: geometry.width, height: geometry.height, channels: geometry.channels,
                                     pixels: v[(i * D)..<((i + 1) * D)].map { min(max($0, 0), 1) }) }
        }
        report.panels.append(("Test images (top), their projection onto the top \(K) components (middle) and the linear autoencoder's reconstruction (bottom)",
                              rowsGrid([(0..<n).map { test.image(at: $0) }, images(pca), images(ae)])))
        try experiment.write(result, report: report)
        return result
    }

    /// mean + B^T B (x - mean) for every image, B's rows orthonormal.
    func projections(_ data: ImageSet, mean: [Double], basis: [Double], dimension D: Int) -> [Float] {
        let K = basis.count / D
        var out = [Float](repeating: 0, count: data.count * D)
        var centred = [Double](repeating: 0, count: D), coefficients = [Double](repeating: 0, count: K)
        for i in 0..<data.count {
            for j in 0..<D { centred[j] = Double(data.pixels[i * D + j]) - mean[j] }
            for k in 0..<K {
                var s = 0.0
                for j in 0..<D { s += basis[k * D + j] * centred[j] }
                coefficients[k] = s
            }
            for j in 0..<D {
                var s = mean[j]
                for k in 0..<K { s += coefficients[k] * basis[k * D + j] }
                out[i * D + j] = Float(s)
            }
        }
        return out
    }

    /// The projection onto the span of `rows` (each `dimension` values).
    func orthonormalProjector(_ rows: [Double], dimension D: Int) throws -> (ArraySlice<Double>) -> [Double] {
        // Gram matrix G = R R^T = V diag(w) V^T; Q = diag(w)^-1/2 V^T R has orthonormal rows.
        let K = rows.count / D
        var gram = [Double](repeating: 0, count: K * K)
        for a in 0..<K { for b in 0..<K { gram[a * K + b] = (0..<D).reduce(0) { $0 + rows[a * D + $1] * rows[b * D + $1] } } }
        let (w, v) = try LinearAlgebra.symmetricEigen(gram, order: K)
        var q = [Double](repeating: 0, count: K * D)
        for i in 0..<K {
            let s = 1 / max(w[i], 1e-300).squareRoot()
            for a in 0..<K { for j in 0..<D { q[i * D + j] += s * v[i * K + a] * rows[a * D + j] } }
        }
        return { x in
            var out = [Double](repeating: 0, count: D)
            for i in 0..<K {
                let c = (0..<D).reduce(0) { $0 + q[i * D + $1] * x[x.startIndex + $1] }
                for j in 0..<D { out[j] += c * q[i * D + j] }
            }
            return out
        }
    }

    /// The decoder's output from each image's code, unclamped (the linear map itself).
    func rawReconstructions(_ model: ConvVAE, _ data: ImageSet) throws -> [Float] {
        let L = model.config.latent, B = model.maxBatch
        var out: [Float] = []
        for start in stride(from: 0, to: data.count, by: B) {
            let n = min(B, data.count - start)
            try data.subset(start..<(start + n)).pixels.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: n) }
            let stats = try model.encode(batch: n).read()
            let mu = (0..<n).flatMap { stats[($0 * 2 * L)..<($0 * 2 * L + L)] }
            out += try model.decode(try model.latent.set(mu[...])).read()
        }
        return out
    }
}

/// The mean of (a_i - b_i)^2.
func meanSquaredError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count && !a.isEmpty, "sizes differ")
    return zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(a.count)
}
