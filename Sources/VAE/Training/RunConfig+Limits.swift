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
        guard reconstructionWeight.isFinite, reconstructionWeight >= 0 else {
            throw VAEError("reconstruction weight \(reconstructionWeight) is not finite and >= 0")
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
        guard let task = self.task.conditional else { return }
        guard !model.widths.isEmpty else { throw VAEError("a conditional model (\(task.rawValue)) needs at least one width") }
        if task == .colorize, model.channels != 3 { throw VAEError("a colorization model needs 3 channels, not \(model.channels)") }
        guard let c = conditional else { return }
        if let every = c.priorPathEvery, every < 0 { throw VAEError("priorPathEvery \(every) is negative") }
        if let k = c.priorPathSamples, !(1...ConditionalOptions.maxPriorPathSamples).contains(k) {
            throw VAEError("priorPathSamples \(k) is outside 1...\(ConditionalOptions.maxPriorPathSamples)")
        }
        if let patch = c.patch, !(patch == model.height && patch == model.width) {
            throw VAEError("patch \(patch) is not the model's size \(model.height)x\(model.width)")
        }
        if let t = c.temperature, !(t.isFinite && t >= 0 && t <= 10) { throw VAEError("temperature \(t) is outside 0...10") }
        if let zoom = c.zoom, !(zoom >= 1 && zoom <= 8) { throw VAEError("zoom \(zoom) is outside 1...8") }
        if let k = c.headKernel, k != 1, k != 3 { throw VAEError("headKernel \(k) is not 1 or 3") }
        if let chroma = c.chroma {
            guard task == .colorize else { throw VAEError("chroma bins are for colorization, not \(task.rawValue)") }
            try chroma.check(height: model.height, width: model.width)
            guard chroma.stride < 1 << model.widths.count else {
                throw VAEError("chroma stride \(chroma.stride) is not below the model's reduction \(1 << model.widths.count)")
            }
        }
    }
}

extension ChromaBins {
    /// The most bins per chroma axis (4096 classes).
    public static let maxPerAxis = 64

    /// Checks the bins against a model of `height` x `width`: 2...64 bins per axis, a
    /// power-of-two stride that divides the picture, a positive finite temperature, a rebalancing
    /// in 0...1, and either no weights yet or one finite non-negative weight per bin.
    public func check(height: Int, width: Int) throws {
        guard (2...Self.maxPerAxis).contains(perAxis) else { throw VAEError("chroma perAxis \(perAxis) is outside 2...\(Self.maxPerAxis)") }
        guard stride >= 1, stride & (stride - 1) == 0, height % stride == 0, width % stride == 0 else {
            throw VAEError("chroma stride \(stride) is not a power of two dividing \(height)x\(width)")
        }
        guard temperature.isFinite, temperature > 0 else { throw VAEError("chroma temperature \(temperature) is not positive and finite") }
        if let r = rebalancing, !(r >= 0 && r <= 1) { throw VAEError("chroma rebalancing \(r) is outside 0...1") }
        guard weights.isEmpty || (weights.count == classes && weights.allSatisfy { $0.isFinite && $0 >= 0 }) else {
            throw VAEError("chroma weights: \(weights.count) values for \(classes) bins, or some not finite and >= 0")
        }
    }
}

extension RunState {
    /// Checks that a saved state is one training can have reached.
    public func check() throws {
        guard step >= 0 else { throw VAEError("step \(step) is negative") }
        guard seconds.isFinite, seconds >= 0 else { throw VAEError("seconds \(seconds) is not finite and >= 0") }
    }
}
