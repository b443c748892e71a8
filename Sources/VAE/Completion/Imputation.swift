import Foundation
import ImageIO
import NN

/// How a plain VAE fills missing pixels by Markov chain Monte Carlo over (z, x_missing).
public enum ImputationMethod: String, CaseIterable, Codable, Sendable {
    /// Pseudo-Gibbs (Rezende et al. 2014): z ~ q(z | x), then x_missing ~ p(x_missing | z), repeated.
    case pseudoGibbs = "pseudo-gibbs"
    /// Metropolis-within-Gibbs (Mattei and Frellsen 2018): the encoder's z' ~ q(z | x) is an
    /// independence proposal accepted with probability
    /// min(1, p(x | z') p(z') q(z | x) / (p(x | z) p(z) q(z' | x))), so the chain targets the
    /// model's true conditional p(x_missing | x_observed), which pseudo-Gibbs only approximates.
    case metropolisWithinGibbs = "mwg"
}

/// Inpainting with any plain VAE checkpoint: a TileCompleter that runs an imputation chain on
/// each batch of tiles. The missing pixels start at the condition's harmonic pre-fill; every
/// iteration draws z, then redraws the missing pixels from p(x | z) (a sample, so the chain mixes);
/// the answer is the mean of p(x_missing | z) at the last z. Observed pixels never change.
///
/// Host-side mixing of observed and imputed pixels is fine here: this is inference, not training.
public final class Imputer: TileCompleter {
    public let model: ConvVAE
    public let method: ImputationMethod
    public let iterations: Int
    public var task: ConditionalTask { .inpaint }
    public var imageChannels: Int { model.config.channels }
    public var tileWidth: Int { model.config.width }
    public var tileHeight: Int { model.config.height }
    /// Acceptance rate of the last Metropolis-within-Gibbs chain (nil for pseudo-Gibbs).
    public private(set) var acceptanceRate: Double?

    public init(model: ConvVAE, method: ImputationMethod, iterations: Int) {
        precondition(iterations >= 1, "at least one iteration")
        self.model = model
        self.method = method
        self.iterations = iterations
    }

    public func complete(conditions: [Float], count: Int, sample: Int, seed: UInt64) throws -> [Float] {
        let C = model.config.channels, plane = model.config.height * model.config.width, D = C * plane
        let item = (C + 1) * plane
        precondition(conditions.count >= count * item, "too few condition rows")
        var result = [Float]()
        result.reserveCapacity(count * D)
        var accepted = 0, proposals = 0
        for start in stride(from: 0, to: count, by: model.maxBatch) {
            let m = min(model.maxBatch, count - start)
            var observed = [Float](repeating: 0, count: m * D), missing = [Float](repeating: 0, count: m * D)
            for i in 0..<m {
                // The chain starts from the condition's harmonic pre-fill of the holes.
                let row = (start + i) * item
                for c in 0..<C {
                    for p in 0..<plane {
                        missing[i * D + c * plane + p] = conditions[row + C * plane + p] > 0.5 ? 1 : 0
                        observed[i * D + c * plane + p] = conditions[row + c * plane + p]
                    }
                }
            }
            let chainSeed = Noise.derive(seed, sample: sample, start: start)
            let (out, acc) = try chain(current: observed, missing: missing, batch: m, seed: chainSeed)
            accepted += acc
            proposals += m * iterations
            result += out
        }
        acceptanceRate = method == .metropolisWithinGibbs ? Double(accepted) / Double(max(proposals, 1)) : nil
        return result
    }

    /// Runs the chain on one batch; returns the completed rows and the number of accepted proposals.
    func chain(current start: [Float], missing: [Float], batch m: Int, seed: UInt64) throws -> ([Float], Int) {
        let L = model.config.latent, D = model.config.dimensions, plane = model.config.height * model.config.width
        let likelihood = model.likelihood
        var x = start
        var zPrevious: [Float]? = nil
        var logPrevious = [Double](repeating: 0, count: m)   // log p(x | z) + log p(z) at the current z, refreshed below
        var accepted = 0
        var means = [Float]()
        for t in 0..<iterations {
            try model.load(x)
            let stats = try model.encode(batch: m)
            let statsHost = try stats.read()
            var zProposal = try model.latent.draw(from: stats, seed: seed, counter: UInt64(t) &* UInt64(m * L)).read()
            var outProposal = try model.decoder.forward(model.latent.sample)
            let nllProposal = try likelihood.loss(outProposal, target: model.target).read()
            var z = zProposal
            if method == .metropolisWithinGibbs, let zOld = zPrevious {
                // The current z under the current x: p(x | z) changed with x, so decode again.
                let outOld = try model.decoder.forward(try model.latent.set(zOld[...]))
                let nllOld = try likelihood.loss(outOld, target: model.target).read()
                let uniforms = Noise.uniform(count: m, seed: Noise.Stream.imputationAcceptance.seed(seed),
                                             counter: UInt64(t * m))
                for i in 0..<m {
                    let logNew = -Double(nllProposal[i]) + logNormal(zProposal, i, L) - logQ(zProposal, i, statsHost, L)
                    logPrevious[i] = -Double(nllOld[i]) + logNormal(zOld, i, L) - logQ(zOld, i, statsHost, L)
                    if Foundation.log(Double(uniforms[i])) < logNew - logPrevious[i] {
                        accepted += 1
                    } else {
                        for j in 0..<L { z[i * L + j] = zOld[i * L + j] }
                    }
                }
                outProposal = try model.decoder.forward(try model.latent.set(z[...]))
            } else if method == .metropolisWithinGibbs {
                accepted += m  // the first proposal is always taken
            }
            zProposal = z
            zPrevious = z
            means = try likelihood.means(outProposal).read()
            if t + 1 < iterations {
                // x_missing ~ p(x_missing | z): a draw, so the chain keeps moving.
                let spreads = try likelihood.channelSpreads()
                let key = Noise.Stream.imputationDraws.seed(seed), counter = UInt64(t) &* UInt64(m * D)
                let normals = Noise.normal(count: m * D, seed: key, counter: counter)
                let uniforms = Noise.uniform(count: m * D, seed: key, counter: counter)
                for k in 0..<(m * D) where missing[k] > 0.5 {
                    x[k] = likelihood.draw(mean: means[k], spread: spreads[(k % D) / plane], normal: normals[k],
                                           uniform: uniforms[k])
                }
            }
        }
        // The answer: observed pixels, and the mean of p(x_missing | z) at the last z.
        for k in 0..<(m * D) where missing[k] > 0.5 { x[k] = min(max(means[k], 0), 1) }
        return (x, accepted)
    }

    /// log N(z_i; 0, I) up to the constant shared by all z.
    func logNormal(_ z: [Float], _ i: Int, _ L: Int) -> Double {
        var s = 0.0
        for j in 0..<L { s -= 0.5 * Double(z[i * L + j]) * Double(z[i * L + j]) }
        return s
    }

    /// log q(z_i | x) from packed statistics, up to the same constant.
    func logQ(_ z: [Float], _ i: Int, _ stats: [Float], _ L: Int) -> Double {
        var s = 0.0
        for j in 0..<L {
            let mu = Double(stats[i * 2 * L + j]), lv = Double(stats[i * 2 * L + L + j])
            let d = Double(z[i * L + j]) - mu
            s -= 0.5 * (lv + d * d * Foundation.exp(-lv))
        }
        return s
    }
}
