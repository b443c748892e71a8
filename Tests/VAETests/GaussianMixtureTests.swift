import Foundation
import ImageIO
import NN
import Testing
import TestSupport
@testable import VAE

/// The fitted prior: its density against a naive closed form, EM against known mixtures,
/// its draws' moments, and prior.safetensors written and read back.
@Suite struct GaussianMixtureTests {
    /// Points from a known mixture: component j with weight w_j, mean m_j, covariance C_j = A_j A_j^T.
    static func draw(_ n: Int, weights: [Double], means: [[Double]], factors: [[Double]], seed: UInt64) -> [Double] {
        let d = means[0].count
        var rng = SplitMix64(seed: seed)
        var out: [Double] = []
        for _ in 0..<n {
            var u = rng.nextDouble(), j = 0
            while j < weights.count - 1 && u >= weights[j] { u -= weights[j]; j += 1 }
            let e = (0..<d).map { _ in rng.nextNormal() }
            for a in 0..<d { out.append(means[j][a] + (0..<d).reduce(0) { $0 + factors[j][a * d + $1] * e[$1] }) }
        }
        return out
    }

    /// log N(x; m, C) by Gauss-Jordan inversion and elimination determinant, in double.
    static func naiveLogNormal(_ x: [Double], mean: [Double], covariance c: [Double]) -> Double {
        let d = x.count
        var a = c, inv = (0..<(d * d)).map { $0 / d == $0 % d ? 1.0 : 0.0 }
        var det = 1.0
        for col in 0..<d {
            let p = a[col * d + col]
            det *= p
            for k in 0..<d { a[col * d + k] /= p; inv[col * d + k] /= p }
            for r in 0..<d where r != col {
                let f = a[r * d + col]
                for k in 0..<d { a[r * d + k] -= f * a[col * d + k]; inv[r * d + k] -= f * inv[col * d + k] }
            }
        }
        var q = 0.0
        for i in 0..<d { for j in 0..<d { q += (x[i] - mean[i]) * inv[i * d + j] * (x[j] - mean[j]) } }
        return -0.5 * q - 0.5 * log(det) - 0.5 * Double(d) * log(2 * Double.pi)
    }

    @Test("log density matches the closed form, term by term and mixed")
    func densityMatchesClosedForm() {
        let d = 3
        let l1: [Double] = [1.2, 0, 0, 0.3, 0.8, 0, -0.4, 0.2, 0.5]
        let l2: [Double] = [0.6, 0, 0, -0.1, 1.1, 0, 0.25, 0.05, 0.9]
        let means: [Double] = [0.5, -1, 2, -0.3, 0.7, 0.1]
        let g = GaussianMixture(weights: [0.3, 0.7], means: means, scales: l1 + l2, dimension: d)
        func covariance(_ l: [Double]) -> [Double] {
            (0..<(d * d)).map { i in (0..<d).reduce(0) { $0 + l[(i / d) * d + $1] * l[(i % d) * d + $1] } }
        }
        for x in [[0.1, 0.2, 0.3], [2.0, -1.5, 0.0], [-0.3, 0.7, 0.1]] {
            let p1 = Self.naiveLogNormal(x, mean: Array(means[0..<3]), covariance: covariance(l1))
            let p2 = Self.naiveLogNormal(x, mean: Array(means[3..<6]), covariance: covariance(l2))
            let expected = log(0.3 * exp(p1) + 0.7 * exp(p2))
            #expect(abs(g.logDensity(x) - expected) < 1e-10)
        }
    }

    @Test("EM recovers the weights, means and covariances of a known two-component mixture")
    func fitRecoversKnownMixture() {
        let truthMeans = [[-3.0, 1.0], [2.0, -2.0]]
        let factors = [[0.8, 0, 0.5, 0.6], [0.4, 0, -0.3, 1.0]]
        let points = Self.draw(6000, weights: [0.35, 0.65], means: truthMeans, factors: factors, seed: 11)
        let g = GaussianMixture.fit(points, dimension: 2, components: 2, seed: 3)
        // Match components to the truth by their means (EM's order is arbitrary).
        let order = g.means[0] < 0 ? [0, 1] : [1, 0]
        for (truth, j) in order.enumerated() {
            #expect(abs(g.weights[j] - [0.35, 0.65][truth]) < 0.03)
            for a in 0..<2 { #expect(abs(g.means[j * 2 + a] - truthMeans[truth][a]) < 0.08) }
            // Covariance L L^T against A A^T.
            let l = Array(g.scales[(j * 4)..<(j * 4 + 4)]), f = factors[truth]
            for (r, c) in [(0, 0), (1, 0), (1, 1)] {
                let fitted = l[r * 2] * l[c * 2] + l[r * 2 + 1] * l[c * 2 + 1]
                let expected = f[r * 2] * f[c * 2] + f[r * 2 + 1] * f[c * 2 + 1]
                #expect(abs(fitted - expected) < 0.08, "covariance (\(r), \(c))")
            }
        }
        // More components never lower the training log-likelihood of the fit much below two.
        let ll2 = stride(from: 0, to: points.count, by: 2).reduce(0) { $0 + g.logDensity(points[$1..<($1 + 2)]) }
        let g1 = GaussianMixture.fit(points, dimension: 2, components: 1, seed: 3)
        let ll1 = stride(from: 0, to: points.count, by: 2).reduce(0) { $0 + g1.logDensity(points[$1..<($1 + 2)]) }
        #expect(ll2 > ll1 + 1000)
    }

    @Test("draws have the mixture's mean and covariance")
    func samplesHaveTheMoments() {
        let l: [Double] = [0.5, 0, 0.3, 0.4]
        let g = GaussianMixture(weights: [0.25, 0.75], means: [1, -1, -1, 2], scales: l + l, dimension: 2)
        let n = 40_000
        let x = g.sample(count: n, seed: 9).map(Double.init)
        let mean = [0.25 * 1 + 0.75 * -1, 0.25 * -1 + 0.75 * 2]
        let m0 = stride(from: 0, to: 2 * n, by: 2).reduce(0) { $0 + x[$1] } / Double(n)
        let m1 = stride(from: 1, to: 2 * n, by: 2).reduce(0) { $0 + x[$1] } / Double(n)
        #expect(abs(m0 - mean[0]) < 0.02 && abs(m1 - mean[1]) < 0.03)
        // Var of the first coordinate: within-component 0.25 plus between-component 0.25 * 0.75 * 2^2.
        let v0 = stride(from: 0, to: 2 * n, by: 2).reduce(0) { $0 + (x[$1] - m0) * (x[$1] - m0) } / Double(n)
        #expect(abs(v0 - (0.25 + 0.75)) < 0.03)
        #expect(g.sample(count: 5, seed: 9) == g.sample(count: 5, seed: 9))
    }

    @Test("prior.safetensors is written and read back; a file without coordinates models them all; a misshapen one is refused, naming the file")
    func priorFileRoundTrip() throws {
        let temporary = TemporaryDirectory(), dir = temporary.path
        let g = GaussianMixture(weights: [0.5, 0.5], means: [0, 1, 2, 3], scales: [1, 0, 0.5, 2, 0.75, 0, 0, 0.25],
                                dimension: 2)
        #expect(try Checkpoint.loadPrior(from: dir, groupSizes: [7, 5]) == nil)
        let prior = FittedPrior(mixture: g, coordinates: [1, 3], dimension: 5, group: 1)
        try Checkpoint.savePrior(prior, to: dir)
        #expect(try Checkpoint.loadPrior(from: dir, groupSizes: [7, 5]) == prior)
        for wrong in [[7, 3], [7, 1], [5]] {
            do {
                _ = try Checkpoint.loadPrior(from: dir, groupSizes: wrong)
                Issue.record("a prior over a code of 5 values loaded for \(wrong)")
            } catch { #expect("\(error)".contains("prior.safetensors"), "\(error)") }
        }
        // A file of the earlier format: weights, means and scales only.
        let entries = [SafeTensors.Entry(name: "prior.weights", shape: [2], values: [0.5, 0.5]),
                       SafeTensors.Entry(name: "prior.means", shape: [2, 2], values: g.means.map(Float.init)),
                       SafeTensors.Entry(name: "prior.scales", shape: [2, 2, 2], values: g.scales.map(Float.init))]
        try Data(SafeTensors.encode(entries, metadata: [:])).write(to: URL(fileURLWithPath: dir + "/prior.safetensors"))
        #expect(try Checkpoint.loadPrior(from: dir, groupSizes: [2]) == FittedPrior(mixture: g))
        #expect(throws: VAEError.self) { try Checkpoint.loadPrior(from: dir, groupSizes: [5]) }
    }

    @Test("a prior over some coordinates is the mixture there times N(0, 1) elsewhere: density and draws")
    func partialPrior() {
        // The same density as a mixture over all three coordinates whose covariances are block
        // diagonal with 1 for the middle one and whose means are 0 there.
        let l1: [Double] = [1.2, 0, 0.3, 0.8], l2: [Double] = [0.6, 0, -0.1, 1.1]
        let partial = FittedPrior(mixture: GaussianMixture(weights: [0.3, 0.7], means: [0.5, -1, 2, 0.7], scales: l1 + l2, dimension: 2),
                                  coordinates: [0, 2], dimension: 3)
        func embed(_ l: [Double]) -> [Double] { [l[0], 0, 0, 0, 1, 0, l[2], 0, l[3]] }
        let full = GaussianMixture(weights: [0.3, 0.7], means: [0.5, 0, -1, 2, 0, 0.7], scales: embed(l1) + embed(l2), dimension: 3)
        for x in [[0.1, 0.2, 0.3], [2.0, -1.5, 0.0], [-0.3, 0.7, 0.1]] {
            #expect(abs(partial.logDensity(x) - full.logDensity(x)) < 1e-10)
            #expect(abs(partial.logDensity(([9.0] + x)[1...]) - full.logDensity(x)) < 1e-10)  // a slice of a longer row
        }
        let n = 20_000, x = partial.sample(count: n, seed: 5).map(Double.init)
        func moments(_ j: Int) -> (Double, Double) {
            let m = stride(from: j, to: 3 * n, by: 3).reduce(0) { $0 + x[$1] } / Double(n)
            return (m, stride(from: j, to: 3 * n, by: 3).reduce(0) { $0 + (x[$1] - m) * (x[$1] - m) } / Double(n))
        }
        let (m1, v1) = moments(1), (m0, _) = moments(0)
        #expect(abs(m1) < 0.03 && abs(v1 - 1) < 0.04)
        #expect(abs(m0 - (0.3 * 0.5 + 0.7 * 2)) < 0.03)
        // With every coordinate modelled the draws are the mixture's own.
        #expect(FittedPrior(mixture: full).sample(count: 4, seed: 5) == full.sample(count: 4, seed: 5))
    }

    @Test("the number of components is the one held-out codes favour: one Gaussian's points get one, three clusters several")
    func componentsByHeldOutLikelihood() {
        var rng = SplitMix64(seed: 12)
        // 600 points of one Gaussian in 20 dimensions: 6a points per component would allow 4.
        let single = (0..<(600 * 20)).map { _ in rng.nextNormal() }
        #expect(FittedPrior.mixture(single, dimension: 20, seed: 1).components == 1)
        // Three well separated clusters in 2 dimensions.
        let centers: [[Double]] = [[-6, 0], [6, 0], [0, 8]]
        let clusters = (0..<1500).flatMap { i in centers[i % 3].map { $0 + rng.nextNormal() } }
        let k = FittedPrior.mixture(clusters, dimension: 2, seed: 1).components
        #expect(k >= 2 && k <= 8, "\(k) components")
    }

    @Test("the fit models the coordinates whose posterior means vary, and N(0, 1) the rest")
    func fitPicksActiveCoordinates() {
        var rng = SplitMix64(seed: 8)
        var draws: [Double] = [], means: [Double] = []
        for _ in 0..<600 {
            // Coordinates 0 and 2 carry information (their means vary); 1 and 3 are the prior's.
            let m = [2 * rng.nextNormal(), 0.01 * rng.nextNormal(), 1 + rng.nextNormal(), 0]
            means += m
            draws += m.enumerated().map { j, mu in mu + (j % 2 == 0 ? 0.1 : 1) * rng.nextNormal() }
        }
        let prior = FittedPrior.fit(draws: draws, means: means, dimension: 4, seed: 1)
        #expect(prior.coordinates == [0, 2] && prior.dimension == 4)
        #expect(FittedPrior.fit(draws: draws, means: nil, dimension: 4, seed: 1).coordinates == [0, 1, 2, 3])
    }

    @Test("an autoencoder's prior is fitted to its codes: the mixture's mean is theirs")
    func fitPriorUsesTheCodes() throws {
        var config = Fixtures.tinyConfig(.bernoulli, latent: 3)
        config.autoencoder = true
        let model = try ConvVAE(config, device: try Fixtures.device(), maxBatch: 16, seed: 2)
        let images = Fixtures.shapes(40)
        let prior = try #require(try model.fitPrior(to: images, seed: 4, binarize: false)).mixture
        #expect(prior.components == 2 && prior.dimension == 3)  // 40 points, about 6 L per component
        let codes = try model.encodeMeans((0..<images.count).map { images.image(at: $0) })
        for a in 0..<3 {
            let mean = stride(from: a, to: codes.count, by: 3).reduce(0.0) { $0 + Double(codes[$1]) } / 40
            // After an M step, sum_j w_j m_j = sum_j sum_i r_ij x_i / n: the points' mean.
            let mixtureMean = (0..<2).reduce(0.0) { $0 + prior.weights[$1] * prior.means[$1 * 3 + a] }
            #expect(abs(mixtureMean - mean) < 1e-5)
        }
    }
}
