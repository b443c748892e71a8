import NN

/// Knobs of one training step that change during a run.
public struct StepSettings: Sendable {
    /// Weight of the KL term (after warm-up).
    public var beta: Float = 1
    /// Free bits: nats per latent dimension (see `GaussianLatent`).
    public var freeBits: Float = 0
    /// Resample binary targets from the pixel intensities each step (MNIST-like data).
    public var binarize: Bool = false
    /// Weight of the reconstruction term's gradient (0 trains on the KL alone, an ablation).
    public var reconstructionWeight: Float = 1

    public init(beta: Float = 1, freeBits: Float = 0, binarize: Bool = false, reconstructionWeight: Float = 1) {
        self.beta = beta
        self.freeBits = freeBits
        self.binarize = binarize
        self.reconstructionWeight = reconstructionWeight
    }
}

extension ConvVAE {
    /// Copies `batch` images from host memory into the model's input.
    public func loadBatch(_ images: UnsafePointer<Float>, batch: Int) throws {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the model's \(maxBatch)")
        target.setBatch(batch)
        try target.write(from: images, count: batch * config.dimensions)
    }

    /// One optimization step on the loaded batch: forward, loss, backward, Adam.
    /// - Parameters:
    ///   - settings: beta, free bits, binarization for this step
    ///   - seed: the run's seed; the step's noise comes from (seed, optimizer step)
    ///   - optimizer: updates the parameters (its `step` numbers the batch's rows)
    /// - Returns: the batch's summed reconstruction and KL terms.
    @discardableResult
    public func trainStep(_ settings: StepSettings, seed: UInt64, optimizer: Adam) throws -> LossSums {
        let sums = try lossAndGradients(settings, seed: seed, firstRow: UInt64(optimizer.step) &* UInt64(maxBatch))
        try optimizer.update()
        return sums
    }

    /// The loaded batch's loss terms and, into every parameter's `grad`, the gradient of
    /// mean(w * reconstruction + beta * KL) over the batch, w the settings' reconstruction weight
    /// (binarizing the batch first when the settings ask). Row i's noise is that of row number
    /// `firstRow + i` of the run's stream of rows (see `Noise.counter(row:valuesPerRow:)`),
    /// whichever batch or rank it falls in. A label-conditional model needs the batch's labels
    /// set (`setLabels`).
    @discardableResult
    public func lossAndGradients(_ settings: StepSettings, seed: UInt64, firstRow: UInt64) throws -> LossSums {
        if settings.binarize { try binarizeTarget(seed: seed, firstRow: firstRow) }
        let b = target.batch
        let stats = try encode(batch: b)
        let z = try latent.draw(from: stats, seed: Noise.Stream.latent.seed(seed),
                                counter: Noise.counter(row: firstRow, valuesPerRow: config.latent))
        let scale = 1 / Float(b)
        try likelihood.loss(try decode(z), target: target, gradientScale: scale * settings.reconstructionWeight)
        let dz = try decoderBackward(likelihood.outputGradient)
        let dstats = try latent.backward(stats, sampleGradient: dz)
        try latent.klToStandardNormal(stats, gradientScale: settings.beta * scale, freeBits: settings.freeBits)
        _ = try encoder.backward(dstats, inputGradient: false)
        return LossSums(reconstruction: try likelihood.nll.sum(), kl: try latent.kl.sum(), images: b)
    }

    /// The loss terms of the loaded batch without gradients, with the latent noise of rows
    /// `firstRow...` (the mean for an autoencoder).
    public func evaluateBatch(seed: UInt64, firstRow: UInt64) throws -> LossSums {
        let b = target.batch
        let stats = try encode(batch: b)
        let z = try latent.draw(from: stats, seed: Noise.Stream.latent.seed(seed),
                                counter: Noise.counter(row: firstRow, valuesPerRow: config.latent))
        try likelihood.loss(try decode(z), target: target)
        try latent.klToStandardNormal(stats)
        return LossSums(reconstruction: try likelihood.nll.sum(), kl: try latent.kl.sum(), images: b)
    }
}
