import Foundation
import NN

extension HierarchicalVAE: GenerativeModel {
    /// Copies `batch` images from host memory into the model's input.
    public func loadBatch(_ images: UnsafePointer<Float>, batch: Int) throws {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the model's \(maxBatch)")
        target.setBatch(batch)
        try target.write(from: images, count: batch * config.dimensions)
    }

    /// Group g's draw from the posterior for the rows `firstRow...`: each group draws from its own
    /// stream (the latent stream's seed derived by the group's index), so that a row's noise does
    /// not depend on the batch it falls in.
    func posteriorDraw(_ g: Int, seed: UInt64, firstRow: UInt64, temperature: Float = 1) -> LatentGroup.Draw {
        .posterior(seed: Noise.derive(seed, g), counter: Noise.counter(row: firstRow, valuesPerRow: groups[g].size),
                   temperature: temperature)
    }

    /// The loaded batch's loss terms and, into every parameter's `grad`, the gradient of
    /// mean(reconstruction + beta * sum of the groups' KL) over the batch, with noise from
    /// the rows `firstRow...` (binarizing the batch first when the settings ask).
    @discardableResult
    public func lossAndGradients(_ settings: StepSettings, seed: UInt64, firstRow: UInt64) throws -> LossSums {
        if settings.binarize { try binarizeTarget(seed: seed, firstRow: firstRow) }
        let b = target.batch
        try bottomUp(batch: b)
        let latentSeed = Noise.Stream.latent.seed(seed)
        let out = try topDown(batch: b) { g in self.posteriorDraw(g, seed: latentSeed, firstRow: firstRow) }
        let scale = 1 / Float(b)
        try likelihood.loss(out, target: target, gradientScale: scale)
        try backward(klScale: settings.beta * scale, freeBits: settings.freeBits)
        // The total KL only: a training step allocates nothing (evaluation gives each group's).
        var kl = 0.0
        for group in groups { kl += try group.latent.kl.sum() }
        return LossSums(reconstruction: try likelihood.nll.sum(), kl: kl, images: b)
    }

    /// The loss terms of the loaded batch without gradients, one posterior draw of the rows
    /// `firstRow...`.
    public func evaluateBatch(seed: UInt64, firstRow: UInt64) throws -> LossSums {
        let b = target.batch
        try bottomUp(batch: b)
        let latentSeed = Noise.Stream.latent.seed(seed)
        let out = try topDown(batch: b) { g in self.posteriorDraw(g, seed: latentSeed, firstRow: firstRow) }
        try likelihood.loss(out, target: target)
        for group in groups { try group.klTerm() }
        return try sums(batch: b)
    }

    /// The reconstruction and each group's KL of the last pass, summed over the batch (an
    /// array: evaluation only).
    func sums(batch b: Int) throws -> LossSums {
        let kl = try groups.map { try $0.latent.kl.sum() }
        return LossSums(reconstruction: try likelihood.nll.sum(), kl: kl.reduce(0, +), images: b, groupKL: kl)
    }

    /// Each group's posterior means of the last posterior pass, given the draws above it.
    public func lastPosteriorMeans() throws -> [[Float]] {
        try groups.map { group in
            let stats = group.posteriorStats!, L = group.size, s = try stats.read()
            return (0..<stats.batch).flatMap { r in s[(r * 2 * L)..<(r * 2 * L + L)] }
        }
    }

    /// The bottom-up pass of the loaded batch, a posterior draw of every group and the decoded
    /// pixel means.
    public func inferBatch(seed: UInt64, firstRow: UInt64) throws {
        let b = target.batch
        try bottomUp(batch: b)
        try likelihood.means(try topDown(batch: b) { g in self.posteriorDraw(g, seed: seed, firstRow: firstRow) })
    }

    /// The bottom-up pass of the loaded batch, shared by every draw.
    public func prepareImportanceSampling() throws {
        try bottomUp(batch: target.batch)
    }

    /// log p(x | z) + sum over groups of log p(z_i | z_<i) - log q(z_i | x, z_<i), one draw of
    /// every group per row; and, with `fittedPrior`, the same with it in place of its group's
    /// prior on its coordinates.
    public func importanceLogWeights(count m: Int, seed: UInt64, firstRow: UInt64, fittedPrior: FittedPrior?) throws
        -> (standard: [Double], fitted: [Double]?) {
        let full = target.batch
        for e in features { e.setBatch(m) }
        target.setBatch(m)
        defer {
            for e in features { e.setBatch(full) }
            target.setBatch(full)
        }
        let out = try topDown(batch: m) { g in self.posteriorDraw(g, seed: seed, firstRow: firstRow) }
        var logw = try likelihood.loss(out, target: target).read().map { -Double($0) }
        for group in groups {
            for (r, v) in try group.logDensityRatio(rows: m).enumerated() { logw[r] += v }
        }
        guard let fittedPrior else { return (logw, nil) }
        // The fitted group's term holds its prior's log p(z_j) without the log(2 pi) constants
        // (those of log q cancelled them): swap in the mixture's log density of the fitted
        // coordinates, with their constants.
        let g = groups[fittedPrior.group], d = g.size, a = fittedPrior.coordinates.count
        let z = try g.latent.sample.read(), own = try g.priorLogDensities(rows: m)
        let constant = 0.5 * Double(a) * log(2 * Double.pi)
        let fitted = (0..<m).map { r in
            let replaced = fittedPrior.coordinates.reduce(0.0) { $0 + own[r * d + $1] }
            let code = fittedPrior.coordinates.lazy.map { Double(z[r * d + $0]) }
            return logw[r] - replaced + constant + fittedPrior.mixture.logDensity(code)
        }
        return (logw, fitted)
    }
}
