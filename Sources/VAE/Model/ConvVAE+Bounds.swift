import Foundation
import NN

extension ConvVAE {
    /// Posterior means of the batch last encoded.
    public func lastPosteriorMeans() throws -> [[Float]] {
        let L = config.latent, s = try lastStats.read()
        return [(0..<lastStats.batch).flatMap { r in s[(r * 2 * L)..<(r * 2 * L + L)] }]
    }

    /// Encodes the loaded batch, draws z and decodes it to pixel means.
    public func inferBatch(seed: UInt64, firstRow: UInt64) throws {
        let z = try latent.draw(from: try encode(batch: target.batch), seed: seed,
                                counter: Noise.counter(row: firstRow, valuesPerRow: config.latent))
        try likelihood.means(try decode(z))
    }

    /// Encodes the loaded batch once; the draws reuse its statistics.
    public func prepareImportanceSampling() throws {
        try encode(batch: target.batch)
    }

    /// log p(x | z) + log p(z) - log q(z | x) per row, with p(z) = N(0, I) and, when given, the
    /// fitted prior on the same z.
    public func importanceLogWeights(count m: Int, seed: UInt64, firstRow: UInt64, fittedPrior: FittedPrior?) throws
        -> (standard: [Double], fitted: [Double]?) {
        let L = config.latent
        let stats = lastStats, full = stats.batch
        stats.setBatch(m)
        target.setBatch(m)
        defer { stats.setBatch(full); target.setBatch(full) }
        let s = try stats.read()
        let zTensor = try latent.draw(from: stats, seed: seed, counter: Noise.counter(row: firstRow, valuesPerRow: L))
        let nll = try likelihood.loss(try decode(zTensor), target: target).read()
        let eps = try latent.noise.read(), z = try zTensor.read()
        // log q(z | x) = -sum (lv + eps^2) / 2 - L/2 log(2 pi) and log N(z; 0, I) = -|z|^2 / 2 - L/2 log(2 pi):
        // the constants cancel in the standard weights.
        let normalConstant = 0.5 * Double(L) * log(2 * Double.pi)
        var standard = [Double](repeating: 0, count: m), fitted: [Double]? = fittedPrior == nil ? nil : standard
        for r in 0..<m {
            var lw = -Double(nll[r]), logPrior = 0.0
            for j in 0..<L {
                let lv = Double(s[r * 2 * L + L + j]), e = Double(eps[r * L + j]), zz = Double(z[r * L + j])
                lw += 0.5 * (lv + e * e)
                logPrior -= 0.5 * zz * zz
            }
            standard[r] = lw + logPrior
            if let fittedPrior {
                fitted![r] = lw + normalConstant + fittedPrior.logDensity(z[(r * L)..<(r * L + L)].lazy.map(Double.init))
            }
        }
        return (standard, fitted)
    }
}
