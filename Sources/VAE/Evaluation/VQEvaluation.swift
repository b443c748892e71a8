import Foundation
import ImageIO
import NN

/// A VQ-VAE's figures on a data set, per image in nats unless named otherwise.
public struct VQEvaluationResult: Codable, Sendable {
    public var images: Int
    /// -log p(x | codes of x), the decoder's likelihood of the image given its nearest codes.
    public var reconstruction: Double
    /// Mean PSNR of the reconstructions (pixel means) against the images, in dB.
    public var psnr: Double
    /// The commitment term before its weight: sum over positions of |z - c|^2.
    public var commitment: Double
    /// Codes chosen at least once over the whole set, of `codes`.
    public var codesUsed: Int, codes: Int
    /// exp(entropy) of the codes' frequencies over the whole set.
    public var perplexity: Double
    /// Positions per code map.
    public var positions: Int
    /// -ELBO with the uniform prior over codes: reconstruction + positions * log K.
    public var negativeELBOUniform: Double
    /// The prior's -log p(codes of x) in bits per code; nil without a trained prior.
    public var priorBitsPerCode: Double?
    /// -ELBO of the two-stage model: reconstruction + the prior's -log p(codes of x) (the
    /// posterior is a point mass, so this bounds -log p(x)); nil without a prior.
    public var negativeELBOPrior: Double?
    /// Bits per dimension of the two-stage bound with the prior, else of the uniform-prior bound.
    public var bitsPerDim: Double
}

extension VQVAE {
    /// Evaluates the model on the first `limit` images of a set (all when nil).
    /// - Parameters:
    ///   - binarize: binarize each image once (models trained with dynamic binarization)
    ///   - seed: the binarization's stream
    ///   - prior: a trained PixelCNN over the codes, for the two-stage bound
    public func evaluate(_ set: ImageSet, limit: Int? = nil, binarize: Bool, seed: UInt64,
                         prior: PixelCNN? = nil) throws -> VQEvaluationResult {
        let n = min(limit ?? set.count, set.count)
        precondition(n > 0, "nothing to evaluate")
        let usage = try Tensor([options.codes], on: device)
        var rec = 0.0, commit = 0.0, psnr = 0.0, priorNats = 0.0
        for start in stride(from: 0, to: n, by: maxBatch) {
            let idx = Array(start..<min(start + maxBatch, n))[...]
            try load(set, idx, binarize: binarize, seed: seed)
            let truth = try target.read()
            let out = try evaluateBatch()
            rec += try likelihood.nll.sum()
            commit += try quantizer.squaredDistance.sum()
            try quantizer.accumulateCounts(of: encoding!, into: usage)
            let codes = try quantizer.indices.read()
            let means = try likelihood.means(out).read()
            let d = config.dimensions
            for r in 0..<idx.count {
                var se = 0.0
                for k in (r * d)..<((r + 1) * d) {
                    let e = Double(min(max(means[k], 0), 1)) - Double(truth[k])
                    se += e * e
                }
                psnr += se <= 1e-10 * Double(d) ? 100 : 10 * log10(Double(d) / se)
            }
            if let prior { priorNats += try prior.negativeLogLikelihood(of: codes, quantizer: quantizer).reduce(0, +) }
        }
        let counts = try usage.read().map(Double.init)
        let total = counts.reduce(0, +)
        let entropy = counts.reduce(0.0) { $1 > 0 ? $0 - $1 / total * log($1 / total) : $0 }
        let N = Double(n), P = Double(positions)
        let uniform = rec / N + P * log(Double(options.codes))
        var result = VQEvaluationResult(
            images: n, reconstruction: rec / N, psnr: psnr / N, commitment: commit / N,
            codesUsed: counts.filter { $0 > 0 }.count, codes: options.codes, perplexity: exp(entropy), positions: positions,
            negativeELBOUniform: uniform, priorBitsPerCode: nil, negativeELBOPrior: nil, bitsPerDim: 0)
        var bound = uniform
        if prior != nil {
            result.priorBitsPerCode = priorNats / N / P / log(2)
            result.negativeELBOPrior = rec / N + priorNats / N
            bound = rec / N + priorNats / N
        }
        result.bitsPerDim = config.likelihood.bitsPerDimension(nats: bound, dimensions: Double(config.dimensions))
        return result
    }
}
