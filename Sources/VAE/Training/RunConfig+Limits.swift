import ImageIO

extension TrainingOptions {
    /// The largest batch and number of epochs, and the most minutes, a run may ask for.
    public static let maxBatch = 65536, maxEpochs = 1_000_000, maxMinutes = 1e7, maxThreads = 4096

    /// Checks every option's range: a positive batch and length within the limits, a positive
    /// finite learning rate and clipping norm, finite non-negative beta, warm-up and free bits,
    /// and data that parses.
    /// - Throws: `VAEError` naming the option; callers add the file or flag it came from.
    public func check() throws {
        guard (1...Self.maxBatch).contains(batch) else { throw VAEError("batch \(batch) is outside 1...\(Self.maxBatch)") }
        guard learningRate.isFinite, learningRate > 0 else { throw VAEError("learning rate \(learningRate) is not positive and finite") }
        guard beta.isFinite, beta >= 0, freeBits.isFinite, freeBits >= 0, warmupEpochs.isFinite, warmupEpochs >= 0 else {
            throw VAEError("beta \(beta), free bits \(freeBits) and warm-up epochs \(warmupEpochs) must be finite and >= 0")
        }
        if let clipNorm, !(clipNorm.isFinite && clipNorm > 0) {
            throw VAEError("gradient clipping norm \(clipNorm) is not positive and finite")
        }
        guard (0...Self.maxThreads).contains(threads) else { throw VAEError("threads \(threads) is outside 0...\(Self.maxThreads)") }
        if let epochs, !(1...Self.maxEpochs).contains(epochs) {
            throw VAEError("epochs \(epochs) is outside 1...\(Self.maxEpochs)")
        }
        if let minutes, !(minutes.isFinite && minutes > 0 && minutes <= Self.maxMinutes) {
            throw VAEError("minutes \(minutes) is outside (0, \(Int(Self.maxMinutes))]")
        }
        do { _ = try DataSpec(parsing: data) } catch { throw VAEError("data: \(error)") }
    }
}

extension RunConfig {
    /// Checks the model's geometry (at the run's batch) and the training options.
    /// - Throws: `VAEError` naming the field; callers add the file or flags it came from.
    public func check() throws {
        try training.check()
        try model.check(batch: training.batch)
        if let every = conditional?.priorPathEvery, every < 0 { throw VAEError("priorPathEvery \(every) is negative") }
    }
}

extension RunState {
    /// Checks that a saved state is one training can have reached.
    public func check() throws {
        guard step >= 0 else { throw VAEError("step \(step) is negative") }
        guard seconds.isFinite, seconds >= 0 else { throw VAEError("seconds \(seconds) is not finite and >= 0") }
    }
}
