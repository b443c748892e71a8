import CKernels

/// The latent variable of a VAE: a diagonal Gaussian given as packed statistics [batch, 2L]
/// (each row mu then log sigma^2, as an encoder's dense head writes them), the reparameterized
/// sample z = mu + sigma * eps, and the closed-form KL terms with their gradients.
///
/// Free bits (Kingma et al. 2016), everywhere the same: per latent dimension, while the batch
/// mean of that dimension's KL is below `freeBits` nats, the posterior gets no KL gradient for it
/// (it may carry that much information for free, which keeps the decoder from ignoring z); a
/// learned prior always gets its gradient, since samples come from it.
///
/// Buffers are preallocated for `maxBatch`, so no pass allocates.
public final class GaussianLatent {
    /// Latent dimensions L.
    public let size: Int
    /// A deterministic latent (a plain autoencoder): z = mu, and no KL.
    public let deterministic: Bool
    /// The noise eps of the last draw [batch, L].
    public let noise: Tensor
    /// The sample z of the last draw [batch, L].
    public let sample: Tensor
    /// The per-image KL of the last KL term [batch], in nats.
    public let kl: Tensor
    /// Gradient of the statistics z was drawn from [batch, 2L] (`backward` overwrites it, the KL
    /// terms add to it).
    public let statsGradient: Tensor
    /// Gradient of a learned prior's statistics [batch, 2L]; nil without one.
    public let priorGradient: Tensor?

    /// - Parameters:
    ///   - size: latent dimensions
    ///   - maxBatch: the largest batch
    ///   - deterministic: z = mu, no KL (an autoencoder)
    ///   - learnedPrior: keep a gradient buffer for a prior network's statistics
    public init(size: Int, maxBatch: Int, deterministic: Bool = false, learnedPrior: Bool = false,
                on device: Device) throws {
        self.size = size
        self.deterministic = deterministic
        noise = try Tensor([maxBatch, size], on: device)
        sample = try Tensor([maxBatch, size], on: device)
        kl = try Tensor([maxBatch], on: device)
        statsGradient = try Tensor([maxBatch, 2 * size], on: device)
        priorGradient = learnedPrior ? try Tensor([maxBatch, 2 * size], on: device) : nil
    }

    /// z = mu + sigma * eps with eps ~ N(0, T^2 I) from (seed, counter ...) at temperature T
    /// (1: the distribution itself, 0: its mean); z = mu when deterministic.
    @discardableResult
    public func draw(from stats: Tensor, seed: UInt64, counter: UInt64, temperature: Float = 1) throws -> Tensor {
        setBatch(stats.batch)
        if deterministic || temperature == 0 {
            try noise.fill(0)
        } else {
            try noise.fillNormal(seed: seed, counter: counter)
            if temperature != 1 { try noise.scale(by: temperature) }
        }
        return try reparameterize(stats)
    }

    /// z = mu + sigma * eps with the given noise rows (`batch * L` host values).
    @discardableResult
    public func draw(from stats: Tensor, noise rows: UnsafePointer<Float>) throws -> Tensor {
        setBatch(stats.batch)
        try noise.write(from: rows, count: stats.batch * size)
        return try reparameterize(stats)
    }

    /// z = mu + sigma * eps with the noise rows of a tensor on the same device.
    @discardableResult
    public func draw(from stats: Tensor, noise rows: Tensor) throws -> Tensor {
        setBatch(stats.batch)
        try noise.copy(from: rows, count: stats.batch * size)
        return try reparameterize(stats)
    }

    /// Sets z itself (`batch * L` host values), e.g. to decode chosen codes.
    @discardableResult
    public func set(_ values: ArraySlice<Float>) throws -> Tensor {
        precondition(values.count % size == 0, "latent values are not whole rows of \(size)")
        sample.setBatch(values.count / size)
        try values.withUnsafeBufferPointer { try sample.write(from: $0.baseAddress!, count: $0.count) }
        return sample
    }

    /// Fills z with N(0, T^2 I) draws from (seed, counter ...) for `batch` rows: samples of the
    /// standard prior at temperature T.
    @discardableResult
    public func drawStandardNormal(batch: Int, seed: UInt64, counter: UInt64, temperature: Float = 1) throws -> Tensor {
        sample.setBatch(batch)
        try sample.fillNormal(seed: seed, counter: counter)
        if temperature != 1 { try sample.scale(by: temperature) }
        return sample
    }

    /// The gradient of the statistics z was drawn from, given dL/dz, into `gradient`
    /// (overwritten; by default `statsGradient`).
    @discardableResult
    public func backward(_ stats: Tensor, sampleGradient dz: Tensor, into gradient: Tensor? = nil) throws -> Tensor {
        let out = gradient ?? statsGradient
        out.setBatch(stats.batch)
        try check(ck_reparameterize_backward(Int32(stats.batch), Int32(size), stats.buffer, noise.buffer, dz.buffer,
                                             out.buffer))
        return out
    }

    /// KL(q || N(0, I)) per image into `kl` (zero when deterministic); with `gradientScale`,
    /// that factor times its gradient is added to `statsGradient`, under free bits.
    @discardableResult
    public func klToStandardNormal(_ stats: Tensor, gradientScale: Float? = nil, freeBits: Float = 0) throws -> Tensor {
        kl.setBatch(stats.batch)
        if deterministic {
            try kl.fill(0)
            return kl
        }
        try check(ck_kl_normal(Int32(stats.batch), Int32(size), stats.buffer, kl.buffer,
                               gradientScale == nil ? nil : statsGradient.buffer, gradientScale ?? 1, freeBits))
        return kl
    }

    /// KL(q || p) between the posterior and a learned prior per image into `kl`; with
    /// `gradientScale`, that factor times the gradients is added to `statsGradient` (q, under
    /// free bits) and `priorGradient` (p, whole).
    @discardableResult
    public func klToPrior(posterior: Tensor, prior: Tensor, gradientScale: Float? = nil, freeBits: Float = 0) throws -> Tensor {
        precondition(posterior.batch == prior.batch, "posterior and prior batches differ")
        kl.setBatch(posterior.batch)
        let withGradients = gradientScale != nil
        try check(ck_kl_normal_pair(Int32(posterior.batch), Int32(size), posterior.buffer, prior.buffer, kl.buffer,
                                    withGradients ? statsGradient.buffer : nil,
                                    withGradients ? priorGradient!.buffer : nil, gradientScale ?? 1, freeBits))
        return kl
    }

    private func setBatch(_ b: Int) {
        noise.setBatch(b)
        sample.setBatch(b)
    }

    /// z = mu + sigma * eps from `stats` and the noise now in `noise`.
    private func reparameterize(_ stats: Tensor) throws -> Tensor {
        try check(ck_reparameterize(Int32(stats.batch), Int32(size), stats.buffer, noise.buffer, sample.buffer))
        return sample
    }
}
