import CKernels
import NN

extension ConditionalVAE {
    /// One optimization step on the loaded batch: forward, loss, backward, Adam.
    ///
    /// A step trains one half of the hybrid objective of Sohn et al. (2015): the conditional ELBO
    /// (z from the posterior, `lossAndGradients`), or, when `priorPath` is set, the generation path
    /// used at test time (z from the prior, `priorPathLossAndGradients`), so that the decoder
    /// learns to turn the prior's samples, not only the posterior's, into plausible completions.
    /// - Parameters:
    ///   - beta: weight of KL(q || p)
    ///   - freeBits: nats per latent dimension; see `lossAndGradients`
    ///   - priorPath: train the generation path instead of the ELBO
    ///   - seed: the run's seed; the step's noise comes from (seed, optimizer step)
    ///   - optimizer: updates the parameters (its `step` numbers the noise)
    /// - Returns: the batch's summed reconstruction and KL terms.
    @discardableResult
    public func trainStep(beta: Float, freeBits: Float = 0, priorPath: Bool = false, seed: UInt64,
                          optimizer: Adam) throws -> LossSums {
        let counter = UInt64(optimizer.step) &* UInt64(maxBatch * config.latent)
        let sums = priorPath
            ? try priorPathLossAndGradients(seed: seed, counter: counter)
            : try lossAndGradients(beta: beta, freeBits: freeBits, seed: seed, counter: counter)
        try optimizer.update()
        return sums
    }

    /// The loaded batch's loss terms and, into every parameter's `grad`, the gradient of
    /// mean(reconstruction + beta KL(q || p)) over the batch, with latent noise from (seed, counter).
    ///
    /// Free bits: while the batch's mean KL is below `freeBits * latent` nats, the posterior gets
    /// no KL gradient (it may carry that much information about the target for free, which keeps
    /// a decoder that also sees the condition from ignoring z), but the prior always does: it
    /// must keep matching the posterior, since samples come from it.
    @discardableResult
    public func lossAndGradients(beta: Float, freeBits: Float = 0, seed: UInt64, counter: UInt64) throws -> LossSums {
        let b = target.batch, L = config.latent
        precondition(condition.batch == b, "target and condition batches differ")
        let posterior = try posteriorEncoder.forward(try posteriorInput.forward(target, condition))
        let prior = try priorForward()
        eps.setBatch(b)
        try check(ck_random_normal(b * L, ConditionalNoise.latent.seed(seed), counter, eps.buffer))
        try reparameterize(posterior)
        let out = try decode()
        let scale = 1 / Float(b)
        try reconstructionLoss(out, gradientScale: scale)
        let dz = try decoderBackward()

        dPosterior.setBatch(b)
        dPrior.setBatch(b)
        kl.setBatch(b)
        try check(ck_reparameterize_backward(Int32(b), Int32(L), posterior.buffer, eps.buffer, dz.buffer, dPosterior.buffer))
        try dPrior.fill(0)
        try check(ck_kl_normal_pair(Int32(b), Int32(L), posterior.buffer, prior.buffer, kl.buffer, nil, dPrior.buffer,
                                    beta * scale))
        let klSum = try kl.sum()
        if freeBits <= 0 || klSum / Double(b) >= Double(freeBits) * Double(L) {
            try check(ck_kl_normal_pair(Int32(b), Int32(L), posterior.buffer, prior.buffer, kl.buffer, dPosterior.buffer,
                                        nil, beta * scale))
        }
        _ = try posteriorEncoder.backward(dPosterior, inputGradient: false)
        try priorBackward(dPrior)
        return LossSums(reconstruction: try nll.sum(), kl: klSum, images: b)
    }

    /// The generation path's loss (the GSNN of Sohn et al. 2015): the mean reconstruction of the
    /// target with z = mu_p(c) + sigma_p(c) eps drawn from the prior, as at test time, and its
    /// gradient into the decoder and the prior network. The posterior takes no part: its
    /// gradients are set to zero.
    @discardableResult
    public func priorPathLossAndGradients(seed: UInt64, counter: UInt64) throws -> LossSums {
        let b = target.batch, L = config.latent
        precondition(condition.batch == b, "target and condition batches differ")
        let prior = try priorForward()
        eps.setBatch(b)
        try check(ck_random_normal(b * L, ConditionalNoise.priorPath.seed(seed), counter, eps.buffer))
        try reparameterize(prior)
        try reconstructionLoss(try decode(), gradientScale: 1 / Float(b))
        let dz = try decoderBackward()
        dPrior.setBatch(b)
        try check(ck_reparameterize_backward(Int32(b), Int32(L), prior.buffer, eps.buffer, dz.buffer, dPrior.buffer))
        try priorBackward(dPrior)
        for p in posteriorParameters { try p.grad.fill(0) }
        return LossSums(reconstruction: try nll.sum(), kl: 0, images: b)
    }

    /// Backward through the decoder from `dout`: returns the gradient of z; the gradient each prior
    /// stage's feature map receives through its skip stays in that skip's concatenation.
    func decoderBackward() throws -> Tensor {
        guard let dHeadInput = try head.backward(dout, inputGradient: true) else { fatalError("head gave no gradient") }
        var g = try headInput.backwardFirst(dHeadInput)
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
            // Prior stage j feeds decoder stage n - 1 - j.
            try g.axpby(1, skips[n - 1 - j].secondGradient, 1)
            guard j > 0 else {
                _ = try priorStages[j].backward(g, inputGradient: false)
                break
            }
            g = try priorStages[j].backward(g, inputGradient: true)!
        }
    }

    /// The loss terms of the loaded batch without gradients (one posterior sample from
    /// (seed, counter)): reconstruction and KL(q || p), whose sum bounds -log p(x | c).
    public func evaluateBatch(seed: UInt64, counter: UInt64) throws -> LossSums {
        let b = target.batch, L = config.latent
        let posterior = try posteriorEncoder.forward(try posteriorInput.forward(target, condition))
        let prior = try priorForward()
        eps.setBatch(b)
        try check(ck_random_normal(b * L, ConditionalNoise.latent.seed(seed), counter, eps.buffer))
        try reparameterize(posterior)
        try reconstructionLoss(try decode(), gradientScale: nil)
        kl.setBatch(b)
        try check(ck_kl_normal_pair(Int32(b), Int32(L), posterior.buffer, prior.buffer, kl.buffer, nil, nil, 1))
        return LossSums(reconstruction: try nll.sum(), kl: try kl.sum(), images: b)
    }

    /// The reconstruction term of the loaded batch with z drawn from the prior (seed, counter),
    /// without gradients: what the generation path is trained on.
    public func evaluatePriorPath(seed: UInt64, counter: UInt64) throws -> Double {
        let b = target.batch, L = config.latent
        let prior = try priorForward()
        eps.setBatch(b)
        try check(ck_random_normal(b * L, ConditionalNoise.priorPath.seed(seed), counter, eps.buffer))
        try reparameterize(prior)
        try reconstructionLoss(try decode(), gradientScale: nil)
        return try nll.sum()
    }
}
