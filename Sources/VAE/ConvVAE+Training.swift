import CKernels
import NN

/// Knobs of one training step that change during a run.
public struct StepSettings: Sendable {
    /// Weight of the KL term (after warm-up).
    public var beta: Float = 1
    /// Nats per latent dimension below which the KL gives no gradient.
    public var freeBits: Float = 0
    /// Resample binary targets from the pixel intensities each step (MNIST-like data).
    public var binarize: Bool = false

    public init(beta: Float = 1, freeBits: Float = 0, binarize: Bool = false) {
        self.beta = beta
        self.freeBits = freeBits
        self.binarize = binarize
    }
}

/// Streams of the counter-based generator, so each use of noise is independent and replayable.
enum NoiseStream: UInt64 {
    case latent = 0x4C41_5445_4E54, binarize = 0x4249_4E41_5259
    func seed(_ runSeed: UInt64) -> UInt64 { runSeed ^ rawValue }
}

extension ConvVAE {
    /// Copies `batch` images from host memory into the model's input.
    public func loadBatch(_ images: UnsafePointer<Float>, batch: Int) throws {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the model's \(maxBatch)")
        target.setBatch(batch)
        try target.write(from: images, count: batch * config.dimensions)
    }

    /// Binarizes the loaded input with noise from (seed, counter), in place.
    func binarizeTarget(seed: UInt64, counter: UInt64) throws {
        try check(ck_random_bernoulli(target.count, NoiseStream.binarize.seed(seed), counter, target.buffer, target.buffer))
    }

    /// One optimization step on the loaded batch: forward, loss, backward, Adam.
    /// - Parameters:
    ///   - settings: beta, free bits, binarization for this step
    ///   - seed: the run's seed; the step's noise comes from (seed, optimizer step)
    ///   - optimizer: updates the parameters (its `step` numbers the noise)
    /// - Returns: the batch's summed reconstruction and KL terms.
    @discardableResult
    public func trainStep(_ settings: StepSettings, seed: UInt64, optimizer: Adam) throws -> LossSums {
        let counter = UInt64(optimizer.step) &* UInt64(maxBatch * max(config.dimensions, config.latent))
        if settings.binarize { try binarizeTarget(seed: seed, counter: counter) }
        let sums = try lossAndGradients(settings, seed: seed, counter: counter)
        try optimizer.update()
        return sums
    }

    /// The loaded batch's loss terms and, into every parameter's `grad`, the gradient of
    /// mean(reconstruction + beta * KL) over the batch.
    @discardableResult
    public func lossAndGradients(_ settings: StepSettings, seed: UInt64, counter: UInt64) throws -> LossSums {
        let b = target.batch, L = config.latent
        let stats = try encoder.forward(target)
        lastStats = stats
        try sampleLatent(stats: stats, seed: NoiseStream.latent.seed(seed), counter: counter)
        let out = try decoder.forward(z)
        let scale = 1 / Float(b)
        try reconstructionLoss(out, gradientScale: scale)
        guard let dzOut = try decoder.backward(dout, inputGradient: true) else { fatalError("decoder gave no gradient") }
        dstats.setBatch(b)
        try check(ck_reparameterize_backward(Int32(b), Int32(L), stats.buffer, eps.buffer, dzOut.buffer, dstats.buffer))
        kl.setBatch(b)
        if config.autoencoder {
            try kl.fill(0)
        } else {
            try check(ck_kl_normal(Int32(b), Int32(L), stats.buffer, kl.buffer, dstats.buffer, settings.beta * scale,
                                   settings.freeBits))
        }
        _ = try encoder.backward(dstats, inputGradient: false)
        return LossSums(reconstruction: try nll.sum(), kl: try kl.sum(), images: b)
    }

    /// The loss terms of the loaded batch without gradients, with latent noise from
    /// (seed, counter) as in `lossAndGradients` (the mean for an autoencoder).
    public func evaluateBatch(seed: UInt64, counter: UInt64) throws -> LossSums {
        let b = target.batch, L = config.latent
        let stats = try encoder.forward(target)
        lastStats = stats
        try sampleLatent(stats: stats, seed: NoiseStream.latent.seed(seed), counter: counter)
        let out = try decoder.forward(z)
        try reconstructionLoss(out, gradientScale: nil)
        kl.setBatch(b)
        if config.autoencoder { try kl.fill(0) } else {
            try check(ck_kl_normal(Int32(b), Int32(L), stats.buffer, kl.buffer, nil, 1, 0))
        }
        return LossSums(reconstruction: try nll.sum(), kl: try kl.sum(), images: b)
    }
}
