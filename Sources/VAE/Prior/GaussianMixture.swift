import Foundation
import ImageIO

/// A mixture of full-covariance Gaussians over d-dimensional vectors, fitted by EM.
///
/// A trained VAE's codes do not fill N(0, I): decoding prior draws that land between them gives
/// blends and fragments. A mixture fitted to the codes afterwards (ex-post density estimation,
/// Ghosh et al. 2020) is a prior that matches them, so its samples look like the data.
public struct GaussianMixture: Equatable, Sendable {
    /// Dimension d of the vectors.
    public let dimension: Int
    /// Mixing weights [K], summing to 1.
    public let weights: [Double]
    /// Component means [K, d].
    public let means: [Double]
    /// Lower-triangular Cholesky factors of the component covariances [K, d, d].
    public let scales: [Double]

    /// Number of components K.
    public var components: Int { weights.count }

    /// A mixture from its parameters.
    /// - Parameters:
    ///   - weights: mixing weights, positive, summing to 1
    ///   - means: K rows of d means
    ///   - scales: K lower-triangular d x d Cholesky factors (row-major), positive diagonals
    ///   - dimension: d
    public init(weights: [Double], means: [Double], scales: [Double], dimension: Int) {
        precondition(dimension > 0 && !weights.isEmpty && means.count == weights.count * dimension
                     && scales.count == weights.count * dimension * dimension, "inconsistent mixture shapes")
        self.dimension = dimension
        self.weights = weights
        self.means = means
        self.scales = scales
    }

    /// Fits K components to n points by expectation maximization, from K distinct points as
    /// starting means. Covariances get a small ridge (1e-4 of the data's mean variance) so a
    /// component on a few points stays proper.
    /// - Parameters:
    ///   - points: n rows of d values
    ///   - dimension: d
    ///   - components: K, at most n
    ///   - iterations: EM iterations
    ///   - seed: chooses the starting means
    public static func fit(_ points: [Double], dimension d: Int, components k: Int, iterations: Int = 50,
                           seed: UInt64) -> GaussianMixture {
        let n = points.count / d
        precondition(d > 0 && points.count == n * d && k >= 1 && k <= n, "need at least K points of dimension d")
        // The data's mean and per-dimension variance: the starting covariance and the ridge's scale.
        var center = [Double](repeating: 0, count: d), spread = [Double](repeating: 0, count: d)
        for i in 0..<n { for a in 0..<d { center[a] += points[i * d + a] / Double(n) } }
        for i in 0..<n { for a in 0..<d { let e = points[i * d + a] - center[a]; spread[a] += e * e / Double(n) } }
        let ridge = 1e-4 * max(spread.reduce(0, +) / Double(d), 1e-12)

        var rng = SplitMix64(seed: seed)
        var chosen = Set<Int>()
        while chosen.count < k { chosen.insert(rng.nextInt(below: n)) }
        var means = chosen.sorted().flatMap { points[($0 * d)..<($0 * d + d)] }
        var covariances = [Double](repeating: 0, count: k * d * d)
        for j in 0..<k { for a in 0..<d { covariances[j * d * d + a * d + a] = spread[a] + ridge } }
        var weights = [Double](repeating: 1 / Double(k), count: k)
        var resp = [Double](repeating: 0, count: n * k)

        for _ in 0..<iterations {
            // E step: responsibilities from the current parameters.
            let current = GaussianMixture(weights: weights, means: means,
                                          scales: choleskyFactors(covariances, d: d, k: k), dimension: d)
            for i in 0..<n {
                let logs = current.componentLogDensities(points[(i * d)..<(i * d + d)])
                let top = logs.max()!
                let total = logs.reduce(0) { $0 + exp($1 - top) }
                for j in 0..<k { resp[i * k + j] = exp(logs[j] - top) / total }
            }
            // M step: weighted means and covariances.
            for j in 0..<k {
                var mass = 0.0
                var m = [Double](repeating: 0, count: d)
                for i in 0..<n where resp[i * k + j] > 0 {
                    let r = resp[i * k + j]
                    mass += r
                    for a in 0..<d { m[a] += r * points[i * d + a] }
                }
                guard mass > 1e-9 else { continue }  // an empty component keeps its parameters
                for a in 0..<d { m[a] /= mass }
                var c = [Double](repeating: 0, count: d * d)
                var e = [Double](repeating: 0, count: d)
                for i in 0..<n where resp[i * k + j] > 1e-10 {
                    let r = resp[i * k + j]
                    for a in 0..<d { e[a] = points[i * d + a] - m[a] }
                    for a in 0..<d { let ra = r * e[a]; for b in 0...a { c[a * d + b] += ra * e[b] } }
                }
                for a in 0..<d {
                    for b in 0...a { c[a * d + b] /= mass; c[b * d + a] = c[a * d + b] }
                    c[a * d + a] += ridge
                }
                means.replaceSubrange((j * d)..<(j * d + d), with: m)
                covariances.replaceSubrange((j * d * d)..<((j + 1) * d * d), with: c)
                weights[j] = mass / Double(n)
            }
            let total = weights.reduce(0, +)
            weights = weights.map { $0 / total }
        }
        return GaussianMixture(weights: weights, means: means, scales: choleskyFactors(covariances, d: d, k: k),
                               dimension: d)
    }

    /// log p(x) under the mixture.
    public func logDensity<C: Collection<Double>>(_ x: C) -> Double {
        let logs = componentLogDensities(x)
        let top = logs.max()!
        return top + log(logs.reduce(0) { $0 + exp($1 - top) })
    }

    /// log(w_j) + log N(x; mean_j, cov_j) for every component j.
    func componentLogDensities<C: Collection<Double>>(_ x: C) -> [Double] {
        let d = dimension
        let values = Array(x)
        precondition(values.count == d, "a point of dimension \(values.count) for a mixture of dimension \(d)")
        var y = [Double](repeating: 0, count: d)
        return (0..<components).map { j in
            // Solve L y = x - mean; then log N = -|y|^2/2 - sum log L_aa - d/2 log(2 pi).
            let base = j * d * d
            var quadratic = 0.0, logDet = 0.0
            for a in 0..<d {
                var s = values[a] - means[j * d + a]
                for b in 0..<a { s -= scales[base + a * d + b] * y[b] }
                y[a] = s / scales[base + a * d + a]
                quadratic += y[a] * y[a]
                logDet += log(scales[base + a * d + a])
            }
            return log(weights[j]) - 0.5 * quadratic - logDet - 0.5 * Double(d) * log(2 * Double.pi)
        }
    }

    /// `count` draws, row after row: a component by weight, then mean + L eps with eps ~ N(0, I).
    public func sample(count: Int, seed: UInt64) -> [Float] {
        let d = dimension
        var rng = SplitMix64(seed: seed)
        var out: [Float] = []
        out.reserveCapacity(count * d)
        var eps = [Double](repeating: 0, count: d)
        for _ in 0..<count {
            var u = rng.nextDouble(), j = 0
            while j < components - 1 && u >= weights[j] { u -= weights[j]; j += 1 }
            for a in 0..<d { eps[a] = rng.nextNormal() }
            for a in 0..<d {
                var s = means[j * d + a]
                for b in 0...a { s += scales[j * d * d + a * d + b] * eps[b] }
                out.append(Float(s))
            }
        }
        return out
    }
}

/// Lower Cholesky factors of K symmetric positive-definite d x d matrices.
func choleskyFactors(_ matrices: [Double], d: Int, k: Int) -> [Double] {
    var l = [Double](repeating: 0, count: k * d * d)
    for j in 0..<k {
        let o = j * d * d
        for a in 0..<d {
            for b in 0...a {
                var s = matrices[o + a * d + b]
                for c in 0..<b { s -= l[o + a * d + c] * l[o + b * d + c] }
                l[o + a * d + b] = a == b ? sqrt(max(s, 1e-300)) : s / l[o + b * d + b]
            }
        }
    }
    return l
}

extension SplitMix64 {
    /// A uniform double in [0, 1).
    mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53)) }

    /// A standard normal draw (Box-Muller).
    mutating func nextNormal() -> Double {
        let u = 1 - nextDouble(), v = nextDouble()
        return sqrt(-2 * log(u)) * cos(2 * Double.pi * v)
    }
}
