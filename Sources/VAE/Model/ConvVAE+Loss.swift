import NN

/// Knobs of one training step that change during a run.
public struct StepSettings: Sendable {
    /// Weight of the KL term (after warm-up).
    public var beta: Float = 1
    /// Free bits: nats per latent dimension (see `GaussianLatent`).
    public var freeBits: Float = 0
    /// Resample binary targets from the pixel intensities each step (MNIST-like data).
    public var binarize: Bool = false

    public init(beta: Float = 1, freeBits: Float = 0, binarize: Bool = false) {
        self.beta = beta
        self.freeBits = freeBits
        self.binarize = binarize
    }
}

extension ConvVAE {
    /// Copies `batch` images from host memory into the model's input.
    public func loadBatch(_ images: UnsafePointer<Float>, batch: Int) throws {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the model's \(maxBatch)")
        target.setBatch(batch)
        try target.write(from: images, count: batch * config.dimensions)
    }

    /// The noise counter of optimizer step `step`: each step's draws start where the previous
    /// step's could end.
    public func noiseCounter(step: Int64) -> UInt64 {
        UInt64(step) &* UInt64(maxBatch * max(config.dimensions, config.latent))
    }

    /// One optimization step on the loaded batch: forward, loss, backward, Adam.
    /// - Parameters:
    ///   - settings: beta, free bits, binarization for this step
    ///   - seed: the run's seed; the step's noise comes from (seed, optimizer step)
    ///   - optimizer: updates the parameters (its `step` numbers the noise)
    /// - Returns: the batch's summed reconstruction and KL terms.
    @discardableResult
    public func trainStep(_ settings: StepSettings, seed: UInt64, optimizer: Adam) throws -> LossSums {
        let sums = try lossAndGradients(settings, seed: seed, counter: noiseCounter(step: optimizer.step))
        try optimizer.update()
        return sums
    }

    /// The loaded batch's loss terms and, into every parameter's `grad`, the gradient of
    /// mean(reconstruction + beta * KL) over the batch, with noise from (seed, counter)
    /// (binarizing the batch first when the settings ask).
    @discardableResult
    public func lossAndGradients(_ settings: StepSettings, seed: UInt64, counter: UInt64) throws -> LossSums {
        if settings.binarize { try target.sampleBernoulli(seed: Noise.Stream.binarize.seed(seed), counter: counter) }
        let b = target.batch
        let stats = try encode(batch: b)
        let z = try latent.draw(from: stats, seed: Noise.Stream.latent.seed(seed), counter: counter)
        let scale = 1 / Float(b)
        try likelihood.loss(try decoder.forward(z), target: target, gradientScale: scale)
        guard let dz = try decoder.backward(likelihood.outputGradient, inputGradient: true) else {
            fatalError("decoder gave no gradient")
        }
        let dstats = try latent.backward(stats, sampleGradient: dz)
        try latent.klToStandardNormal(stats, gradientScale: settings.beta * scale, freeBits: settings.freeBits)
        _ = try encoder.backward(dstats, inputGradient: false)
        return LossSums(reconstruction: try likelihood.nll.sum(), kl: try latent.kl.sum(), images: b)
    }

    /// The loss terms of the loaded batch without gradients, with latent noise from
    /// (seed, counter) (the mean for an autoencoder).
    public func evaluateBatch(seed: UInt64, counter: UInt64) throws -> LossSums {
        let b = target.batch
        let stats = try encode(batch: b)
        let z = try latent.draw(from: stats, seed: Noise.Stream.latent.seed(seed), counter: counter)
        try likelihood.loss(try decoder.forward(z), target: target)
        try latent.klToStandardNormal(stats)
        return LossSums(reconstruction: try likelihood.nll.sum(), kl: try latent.kl.sum(), images: b)
    }
}
