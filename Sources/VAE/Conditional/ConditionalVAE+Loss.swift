import NN

extension ConditionalVAE {
    /// One optimization step on the loaded batch: forward, loss, backward, Adam.
    ///
    /// A step trains one half of the hybrid objective of Sohn et al. (2015): the conditional ELBO
    /// (z from the posterior, `lossAndGradients`), or, when `priorPath` is set, the generation path
    /// used at test time (z from the prior, `priorPathLossAndGradients`), so that the decoder
    /// learns to turn the prior's samples, not only the posterior's, into plausible completions.
    /// - Parameters:
    ///   - settings: beta and free bits (see `GaussianLatent`)
    ///   - priorPath: train the generation path instead of the ELBO
    ///   - samples: the generation path's draws per image, of which the best trains (see
    ///     `priorPathLossAndGradients`)
    ///   - seed: the run's seed; the step's noise comes from (seed, optimizer step)
    ///   - optimizer: updates the parameters (its `step` numbers the batch's rows)
    /// - Returns: the batch's summed reconstruction and KL terms.
    @discardableResult
    public func trainStep(_ settings: StepSettings, priorPath: Bool = false, samples: Int = 1, seed: UInt64,
                          optimizer: Adam) throws -> LossSums {
        let firstRow = UInt64(optimizer.step) &* UInt64(maxBatch)
        let sums = priorPath
            ? try priorPathLossAndGradients(seed: seed, firstRow: firstRow, samples: samples)
            : try lossAndGradients(settings, seed: seed, firstRow: firstRow)
        try optimizer.update()
        return sums
    }

    /// The loaded batch's loss terms and, into every parameter's `grad`, the gradient of
    /// mean(reconstruction + beta KL(q || p)) over the batch, with the latent noise of rows
    /// `firstRow...` (see `ConvVAE.lossAndGradients`). Free bits hold back the posterior's KL
    /// gradient only (see `GaussianLatent`).
    @discardableResult
    public func lossAndGradients(_ settings: StepSettings, seed: UInt64, firstRow: UInt64) throws -> LossSums {
        let b = target.batch
        precondition(condition.batch == b, "target and condition batches differ")
        let posterior = try posteriorEncoder.forward(try posteriorInput.forward(target, condition))
        let prior = try priorForward()
        try latent.draw(from: posterior, seed: Noise.Stream.conditionalLatent.seed(seed), counter: latentCounter(firstRow))
        let scale = 1 / Float(b)
        try reconstructionLoss(try decode(), gradientScale: scale)
        let dz = try decoderBackward()
        let dPosterior = try latent.backward(posterior, sampleGradient: dz)
        let dPrior = latent.priorGradient!
        dPrior.setBatch(b)
        try dPrior.fill(0)
        try latent.klToPrior(posterior: posterior, prior: prior, gradientScale: settings.beta * scale,
                             freeBits: settings.freeBits)
        _ = try posteriorEncoder.backward(dPosterior, inputGradient: false)
        try priorBackward(dPrior)
        return LossSums(reconstruction: try lastLoss.sum(), kl: try latent.kl.sum(), images: b)
    }

    /// The generation path's loss (the GSNN of Sohn et al. 2015): the mean reconstruction of the
    /// target with z = mu_p(c) + sigma_p(c) eps drawn from the prior, as at test time, and its
    /// gradient into the decoder and the prior network. The posterior takes no part: its
    /// gradients are set to zero.
    ///
    /// With `samples` K > 1 each image trains on the best of K draws (the one whose completion
    /// the likelihood scores best, found by decoding each without gradients): the best-of-many
    /// or variety loss (Bhattacharyya et al. 2018, Gupta et al. 2018). One draw trains the
    /// prior's samples toward the completions' mean, where they all look alike; the best of K
    /// trains them to cover the completions that fit, so that of K samples at test time one is
    /// close to the truth.
    @discardableResult
    public func priorPathLossAndGradients(seed: UInt64, firstRow: UInt64, samples: Int = 1) throws -> LossSums {
        let b = target.batch
        precondition(condition.batch == b, "target and condition batches differ")
        precondition(samples >= 1, "a prior-path step needs at least one draw")
        let prior = try priorForward()
        let streamSeed = Noise.Stream.priorPath.seed(seed), counter = latentCounter(firstRow)
        if samples == 1 {
            try latent.draw(from: prior, seed: streamSeed, counter: counter)
        } else {
            bestLoss.setBatch(b)
            bestNoise.setBatch(b)
            try bestLoss.fill(.infinity)
            for k in 0..<samples {
                try latent.draw(from: prior, seed: k == 0 ? streamSeed : Noise.derive(streamSeed, k), counter: counter)
                try reconstructionLoss(try decode())
                try bestNoise.keepRows(of: latent.noise, scoring: lastLoss, below: bestLoss)
            }
            try latent.draw(from: prior, noise: bestNoise)
        }
        try reconstructionLoss(try decode(), gradientScale: 1 / Float(b))
        let dz = try decoderBackward()
        try priorBackward(try latent.backward(prior, sampleGradient: dz, into: latent.priorGradient!))
        for p in posteriorParameters { try p.grad.fill(0) }
        return LossSums(reconstruction: try lastLoss.sum(), kl: 0, images: b)
    }

    /// The latent noise's stream position for rows `firstRow...`.
    func latentCounter(_ firstRow: UInt64) -> UInt64 { Noise.counter(row: firstRow, valuesPerRow: config.latent) }

    /// Backward through the decoder from the likelihood's output gradient: returns the gradient
    /// of z; the gradient each prior stage's feature map receives through its skip stays in that
    /// skip's concatenation.
    func decoderBackward() throws -> Tensor {
        guard let dHeadInput = try head.backward(outputGradient, inputGradient: true) else {
            fatalError("head gave no gradient")
        }
        var g = try headInput.backwardFirst(dHeadInput)
        if headSkip >= 0 { try headInput.backwardSecond(dHeadInput) }
        for i in stride(from: decoderStages.count - 1, through: 0, by: -1) {
            guard let dJoin = try decoderStages[i].backward(g, inputGradient: true) else { fatalError("decoder gave no gradient") }
            try skips[i].backwardSecond(dJoin)
            g = try skips[i].backwardFirst(dJoin)
        }
        guard let dz = try projection.backward(g, inputGradient: true) else { fatalError("decoder gave no gradient") }
        return dz
    }

    /// Backward through the prior network (after `decoderBackward`): the statistics' gradient
    /// through its head, plus each stage's skip gradient on the way down.
    func priorBackward(_ dStats: Tensor) throws {
        guard var g = try priorHead.backward(dStats, inputGradient: true) else { fatalError("prior gave no gradient") }
        let n = priorStages.count
        for j in stride(from: n - 1, through: 0, by: -1) {
            // Prior stage j feeds decoder stage n - 1 - j, or the head.
            if n - 1 - j < skips.count { try g.axpby(1, skips[n - 1 - j].secondGradient, 1) }
            if j == headSkip { try g.axpby(1, headInput.secondGradient, 1) }
            guard j > 0 else {
                _ = try priorStages[j].backward(g, inputGradient: false)
                break
            }
            g = try priorStages[j].backward(g, inputGradient: true)!
        }
    }

    /// The loss terms of the loaded batch without gradients (one posterior sample, with the
    /// noise of rows `firstRow...`): reconstruction and KL(q || p), whose sum bounds -log p(x | c).
    public func evaluateBatch(seed: UInt64, firstRow: UInt64) throws -> LossSums {
        let b = target.batch
        let posterior = try posteriorEncoder.forward(try posteriorInput.forward(target, condition))
        let prior = try priorForward()
        try latent.draw(from: posterior, seed: Noise.Stream.conditionalLatent.seed(seed), counter: latentCounter(firstRow))
        try reconstructionLoss(try decode())
        try latent.klToPrior(posterior: posterior, prior: prior)
        return LossSums(reconstruction: try lastLoss.sum(), kl: try latent.kl.sum(), images: b)
    }

    /// The reconstruction term of the loaded batch with z drawn from the prior (the noise of
    /// rows `firstRow...`), without gradients: what the generation path is trained on.
    public func evaluatePriorPath(seed: UInt64, firstRow: UInt64) throws -> Double {
        let prior = try priorForward()
        try latent.draw(from: prior, seed: Noise.Stream.priorPath.seed(seed), counter: latentCounter(firstRow))
        try reconstructionLoss(try decode())
        return try lastLoss.sum()
    }
}
