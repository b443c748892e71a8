import Foundation
import ImageIO
import NN

/// Likelihood bounds of a model on a data set, per image in nats (higher is better for
/// log-likelihoods; `negative*` fields are losses).
public struct EvaluationResult: Codable, Sendable {
    public var images: Int
    /// -ELBO = reconstruction + KL, averaged over images.
    public var negativeELBO: Double
    public var reconstruction: Double
    public var kl: Double
    /// -log p(x) bounded by K importance samples (Burda et al. 2016); nil when not asked.
    public var negativeIWBound: Double?
    public var iwSamples: Int?
    /// The same bound, from the same samples, for the model with its fitted prior in place of
    /// N(0, I); nil without a fitted prior or IW samples.
    public var negativeIWBoundFittedPrior: Double?
    /// -log p(x) by the midpoint rule over a grid, for 2-D latents; nil otherwise.
    public var negativeLogLikelihoodGrid: Double?
    /// Bits per dimension of the best bound available.
    public var bitsPerDim: Double
    /// Latent dimensions whose posterior mean varies across the data (variance > 0.01).
    public var activeUnits: Int
    /// Latent dimensions in all.
    public var latent: Int
    /// Per latent group, top first: its KL and active units (one entry for a single latent).
    public var groups: [GroupEvaluation]
    /// Mean PSNR in dB of the images decoded from their posterior means against the images
    /// (`vae evaluate` fills it in, to set beside a VQ-VAE's); nil when not measured.
    public var reconstructionPSNR: Double? = nil
}

/// One latent group's share of an evaluation.
public struct GroupEvaluation: Codable, Sendable {
    public var name: String
    public var shape: [Int]
    /// Mean KL per image, in nats.
    public var kl: Double
    /// Dimensions whose posterior mean varies across the data (variance > 0.01).
    public var activeUnits: Int
}

/// Computes ELBO, importance-weighted bounds and, for 2-D latents, a grid estimate of log p(x),
/// for a model of any family.
public struct Evaluator {
    public let model: any GenerativeModel
    /// Seed of the latent noise and of the one binarization of the evaluation data.
    public var seed: UInt64 = 0x5EED
    /// Binarize the data once (for models trained with dynamic binarization).
    public var binarize = false
    /// A prior fitted after training; the IW bound is then also given under it.
    public var fittedPrior: FittedPrior?

    public init(model: any GenerativeModel, binarize: Bool = false) {
        self.model = model
        self.binarize = binarize
    }

    /// Evaluates the model on the first `limit` images (all when nil).
    /// - Parameters:
    ///   - iwSamples: K for the importance-weighted bound; 0 skips it
    ///   - grid: points per axis of the midpoint grid for a single 2-D latent; 0 skips it
    public func evaluate(_ data: ImageSet, limit: Int? = nil, iwSamples: Int = 0, grid: Int = 0,
                         progress: ((Int, Int) -> Void)? = nil) throws -> EvaluationResult {
        let n = min(limit ?? data.count, data.count)
        guard n > 0 else { throw VAEError("no images to evaluate: the data set is empty") }
        try (model as? ConvVAE)?.checkLabels(of: data, name: "the evaluation data")
        let B = model.maxBatch, D = model.config.dimensions
        let groups = model.latentGroups
        let staging = UnsafeMutablePointer<Float>.allocate(capacity: B * D)
        defer { staging.deallocate() }

        // ELBO, and posterior means for active units.
        var sums = LossSums()
        var meanSum = groups.map { [Double](repeating: 0, count: $0.size) }, meanSq = meanSum
        for start in stride(from: 0, to: n, by: B) {
            let idx = Array(start..<min(start + B, n))[...]
            try loadBinarized(data, idx, staging: staging)
            sums += try model.evaluateBatch(seed: seed, firstRow: UInt64(start))
            for (g, means) in try model.lastPosteriorMeans().enumerated() {
                let L = groups[g].size
                for r in 0..<idx.count {
                    for j in 0..<L {
                        let m = Double(means[r * L + j])
                        meanSum[g][j] += m
                        meanSq[g][j] += m * m
                    }
                }
            }
        }
        let deterministic = model.config.autoencoder
        let active = groups.indices.map { g in
            deterministic ? 0 : (0..<groups[g].size).filter { j in
                let mean = meanSum[g][j] / Double(n)
                return meanSq[g][j] / Double(n) - mean * mean > 0.01
            }.count
        }
        let groupKL = sums.groupKL.isEmpty ? [sums.kl] : sums.groupKL
        var result = EvaluationResult(
            images: n, negativeELBO: sums.negativeELBO, reconstruction: sums.reconstruction / Double(n),
            kl: sums.kl / Double(n), negativeIWBound: nil, iwSamples: nil, negativeIWBoundFittedPrior: nil,
            negativeLogLikelihoodGrid: nil, bitsPerDim: 0, activeUnits: active.reduce(0, +), latent: model.codeSize,
            groups: groups.indices.map { g in
                GroupEvaluation(name: groups[g].name, shape: groups[g].shape, kl: groupKL[g] / Double(n), activeUnits: active[g])
            })
        var best = result.negativeELBO
        if iwSamples > 0, !deterministic {
            let (iw, fitted) = try importanceWeighted(data, n: n, samples: iwSamples, staging: staging, progress: progress)
            result.negativeIWBound = iw
            result.negativeIWBoundFittedPrior = fitted
            result.iwSamples = iwSamples
            best = iw
        }
        if grid > 0, let vae = model as? ConvVAE, vae.config.latent == 2, !deterministic {
            let g = try gridLogLikelihood(vae, data, n: n, points: grid, staging: staging)
            result.negativeLogLikelihoodGrid = g
            best = g
        }
        result.bitsPerDim = bitsPerDim(nats: best)
        guard result.negativeELBO.isFinite, best.isFinite else {
            throw VAEError("the model's bound on these images is not finite (\(best) nats); its weights are unusable on them")
        }
        return result
    }

    /// Bits per dimension of a per-image NLL in nats (see `Likelihood.bitsPerDimension`).
    public func bitsPerDim(nats: Double) -> Double {
        model.config.likelihood.bitsPerDimension(nats: nats, dimensions: Double(model.config.dimensions))
    }

    /// Loads the images `idx` (binarized once, when asked) and, for a label-conditional model,
    /// their labels repeated `repeats` times: a batch of `idx.count * repeats` labels.
    func loadBinarized(_ data: ImageSet, _ idx: ArraySlice<Int>, staging: UnsafeMutablePointer<Float>,
                       repeats: Int = 1) throws {
        data.copyBatch(indices: idx, into: staging)
        try model.loadBatch(staging, batch: idx.count)
        if let vae = model as? ConvVAE, vae.conditioning != nil, let labels = data.labels {
            try vae.setLabels(count: idx.count * repeats) { labels[idx[idx.startIndex + $0 / repeats]] }
        }
        guard binarize else { return }
        // Binarize once per image: the stream position depends on the image's index only.
        let d = model.config.dimensions
        for (row, i) in idx.enumerated() {
            let u = Noise.uniform(count: d, seed: Noise.Stream.binarize.seed(seed), counter: UInt64(i) &* UInt64(d))
            for k in 0..<d { staging[row * d + k] = u[k] < staging[row * d + k] ? 1 : 0 }
        }
        try model.loadBatch(staging, batch: idx.count)
    }

    /// Mean over images of -log (1/K) sum_k p(x, z_k) / q(z_k | x), z_k ~ q(z | x) over every
    /// latent group, with the model's prior, and with the fitted prior (nil without one) on the
    /// same z_k.
    func importanceWeighted(_ data: ImageSet, n: Int, samples K: Int, staging: UnsafeMutablePointer<Float>,
                            progress: ((Int, Int) -> Void)?) throws -> (Double, Double?) {
        let B = model.maxBatch, D = model.config.dimensions
        var total = 0.0, totalFitted = 0.0
        var logw = [Double](repeating: 0, count: K), logwFitted = logw
        for i in 0..<n {
            try loadBinarized(data, [i][...], staging: staging, repeats: B)
            // Replicate the image across the batch once; each chunk draws fresh latents.
            for r in 1..<B { (staging + r * D).update(from: staging, count: D) }
            try model.loadBatch(staging, batch: B)
            try model.prepareImportanceSampling()
            var k0 = 0
            while k0 < K {
                let m = min(B, K - k0)
                let (w, fitted) = try model.importanceLogWeights(count: m, seed: Noise.Stream.latent.seed(seed ^ 0x1A),
                                                                 firstRow: UInt64(i) &* UInt64(K) &+ UInt64(k0),
                                                                 fittedPrior: fittedPrior)
                for r in 0..<m {
                    logw[k0 + r] = w[r]
                    if let fitted { logwFitted[k0 + r] = fitted[r] }
                }
                k0 += m
            }
            total += log(Double(K)) - logSumExp(logw)
            totalFitted += log(Double(K)) - logSumExp(logwFitted)
            progress?(i + 1, n)
        }
        return (total / Double(n), fittedPrior == nil ? nil : totalFitted / Double(n))
    }

    /// -log p(x) by the midpoint rule on a points x points grid over [-6, 6]^2 of the prior.
    func gridLogLikelihood(_ model: ConvVAE, _ data: ImageSet, n: Int, points: Int,
                           staging: UnsafeMutablePointer<Float>) throws -> Double {
        let B = model.maxBatch, D = model.config.dimensions
        let h = 12.0 / Double(points)
        let G = points * points
        var grid = [Float](repeating: 0, count: 2 * G)
        var logPrior = [Double](repeating: 0, count: G)
        for a in 0..<points {
            for b in 0..<points {
                let g = a * points + b
                let z0 = -6 + (Double(a) + 0.5) * h, z1 = -6 + (Double(b) + 0.5) * h
                grid[2 * g] = Float(z0)
                grid[2 * g + 1] = Float(z1)
                logPrior[g] = -log(2 * Double.pi) - 0.5 * (z0 * z0 + z1 * z1) + 2 * log(h)
            }
        }
        var total = 0.0
        var logJoint = [Double](repeating: 0, count: G)
        for i0 in 0..<n {
            try loadBinarized(data, [i0][...], staging: staging, repeats: B)
            for r in 1..<B { (staging + r * D).update(from: staging, count: D) }
            var g0 = 0
            while g0 < G {
                let m = min(B, G - g0)
                try model.loadBatch(staging, batch: m)
                let z = try model.latent.set(grid[(2 * g0)..<(2 * (g0 + m))])
                let nll = try model.likelihood.loss(try model.decode(z), target: model.target).read()
                for r in 0..<m { logJoint[g0 + r] = -Double(nll[r]) + logPrior[g0 + r] }
                g0 += m
            }
            total -= logSumExp(logJoint)
        }
        return total / Double(n)
    }
}

/// log sum exp, stable.
func logSumExp(_ v: [Double]) -> Double {
    guard let m = v.max(), m.isFinite else { return v.max() ?? -.infinity }
    return m + log(v.reduce(0) { $0 + exp($1 - m) })
}
