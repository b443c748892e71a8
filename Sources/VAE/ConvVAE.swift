import CKernels
import ImageIO
import NN

/// A convolutional VAE: a stride-2 conv encoder to a diagonal Gaussian posterior, the
/// reparameterized latent, and a mirrored transposed-conv decoder to a pixel likelihood.
///
/// Buffers are preallocated for `maxBatch`, so `trainStep` and `evaluate` allocate nothing.
public final class ConvVAE {
    public let config: ModelConfig
    public let device: Device
    public let maxBatch: Int
    public let encoder: Sequential
    public let decoder: Sequential
    /// Per-channel log-variance (Gaussian) or log-scale (logistic); nil for Bernoulli.
    public let pixelScale: Parameter?
    let workspace: Workspace

    // Per-step buffers.
    let eps: Tensor, z: Tensor, dstats: Tensor, dz: Tensor
    let nll: Tensor, kl: Tensor, dout: Tensor
    /// The target of the likelihood: the input, or its binarization.
    public let target: Tensor
    /// The latent sample of the last pass [batch, L].
    public var latentSample: Tensor { z }
    /// The posterior statistics [batch, 2L] of the last evaluated batch.
    public internal(set) var lastStats: Tensor

    /// Builds the model with weights initialized from `seed`.
    public init(_ config: ModelConfig, device: Device, maxBatch: Int, seed: UInt64) throws {
        self.config = config
        self.device = device
        self.maxBatch = maxBatch
        var rng = SplitMix64(seed: seed)
        workspace = Workspace(device: device)
        let image = [config.channels, config.height, config.width]
        let relu = { (shape: [Int]) in try Activation(.relu, shape: shape, maxBatch: maxBatch, on: device) }

        var layers: [Layer] = []
        var shape = image
        for (i, w) in config.widths.enumerated() {
            let conv = try Conv2D(input: shape, outChannels: w, kernel: 4, stride: 2, padding: 1, maxBatch: maxBatch,
                                  workspace: workspace, rng: &rng)
            conv.nameParameters("encoder.conv\(i)")
            shape = conv.outputShape
            layers += [conv, try relu(shape)]
        }
        let flat = shape.reduce(1, *)
        let head = try Dense(flat, 2 * config.latent, maxBatch: maxBatch, on: device, rng: &rng)
        head.nameParameters("encoder.head")
        encoder = Sequential(layers + [head])

        let bottleneck = config.widths.isEmpty ? image : config.bottleneck
        let proj = try Dense(config.latent, bottleneck.reduce(1, *), outputShape: bottleneck, maxBatch: maxBatch,
                             on: device, rng: &rng)
        proj.nameParameters("decoder.proj")
        var dlayers: [Layer] = [proj]
        if !config.widths.isEmpty { dlayers.append(try relu(bottleneck)) }
        shape = bottleneck
        let outs = Array(config.widths.reversed().dropFirst()) + [config.channels]
        for (i, w) in outs.enumerated() where !config.widths.isEmpty {
            let deconv = try Conv2D(input: shape, outChannels: w, kernel: 4, stride: 2, padding: 1, transposed: true,
                                    maxBatch: maxBatch, workspace: workspace, rng: &rng)
            deconv.nameParameters("decoder.deconv\(i)")
            shape = deconv.outputShape
            dlayers.append(deconv)
            if i < outs.count - 1 { dlayers.append(try relu(shape)) }
        }
        precondition(shape == image, "decoder output \(shape) does not match the image \(image)")
        decoder = Sequential(dlayers)

        if config.likelihood == .bernoulli {
            pixelScale = nil
        } else {
            let p = try Parameter("likelihood.log_scale", [config.channels], on: device, decays: false)
            // Start near the data's scale: logvar = log(0.1^2); logistic log s = log(0.05).
            try p.value.fill(config.likelihood == .gaussian ? -4.6 : -3.0)
            pixelScale = p
        }

        let L = config.latent
        eps = try Tensor([maxBatch, L], on: device)
        z = try Tensor([maxBatch, L], on: device)
        dz = try Tensor([maxBatch, L], on: device)
        dstats = try Tensor([maxBatch, 2 * L], on: device)
        nll = try Tensor([maxBatch], on: device)
        kl = try Tensor([maxBatch], on: device)
        dout = try Tensor([maxBatch] + image, on: device)
        target = try Tensor([maxBatch] + image, on: device)
        lastStats = dstats
    }

    /// Every trainable parameter, in checkpoint order.
    public var parameters: [Parameter] {
        encoder.parameters + decoder.parameters + (pixelScale.map { [$0] } ?? [])
    }

    /// Floats of trainable parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    // MARK: - Passes

    /// Encodes `target` (first `batch` images) to packed statistics [batch, 2L] (mu, log sigma^2).
    @discardableResult
    public func encode(batch: Int) throws -> Tensor {
        target.setBatch(batch)
        return try encoder.forward(target)
    }

    /// Samples z = mu + sigma * eps into `z` with noise from (seed, counter); an autoencoder uses mu.
    public func sampleLatent(stats: Tensor, seed: UInt64, counter: UInt64) throws {
        let b = stats.batch, L = config.latent
        eps.setBatch(b)
        z.setBatch(b)
        if config.autoencoder {
            try eps.fill(0)
        } else {
            try check(ck_random_normal(b * L, seed, counter, eps.buffer))
        }
        try check(ck_reparameterize(Int32(b), Int32(L), stats.buffer, eps.buffer, z.buffer))
    }

    /// Decodes `z` to the likelihood's parameters (logits or means) [batch, C, H, W].
    @discardableResult
    public func decode(_ latent: Tensor) throws -> Tensor {
        try decoder.forward(latent)
    }

    /// Per-image negative log-likelihood of `target` under decoder output `out`, optionally
    /// with gradients (scaled by `scale`) into `dout` and the pixel scale's gradient.
    func reconstructionLoss(_ out: Tensor, gradientScale scale: Float?) throws {
        let b = out.batch, c = config.channels, plane = config.height * config.width
        nll.setBatch(b)
        dout.setBatch(b)
        let d = scale == nil ? nil : dout.buffer
        switch config.likelihood {
        case .bernoulli:
            try check(ck_bernoulli_nll(Int32(b), Int32(c * plane), out.buffer, target.buffer, nil, nll.buffer, d, scale ?? 1))
        case .gaussian:
            try check(ck_gaussian_nll(Int32(b), Int32(c), Int32(plane), out.buffer, pixelScale!.value.buffer,
                                      target.buffer, nil, nll.buffer, d, scale == nil ? nil : pixelScale!.grad.buffer, scale ?? 1))
        case .logistic:
            try check(ck_logistic_nll(Int32(b), Int32(c), Int32(plane), out.buffer, pixelScale!.value.buffer,
                                      target.buffer, nil, nll.buffer, d, scale == nil ? nil : pixelScale!.grad.buffer, scale ?? 1))
        }
    }

    /// Converts decoder output to displayable pixel means in [0, 1], in place.
    public func pixelMeans(_ out: Tensor) throws -> Tensor {
        if config.likelihood == .bernoulli {
            try check(ck_activation_forward(CK_ACT_SIGMOID, 0, out.count, out.buffer, out.buffer))
        }
        return out
    }

    /// Sums of a per-image buffer's first `batch` entries.
    func total(_ t: Tensor) throws -> Double { try t.sum() }
}

/// Per-batch sums of the loss terms, in nats.
public struct LossSums: Sendable {
    public var reconstruction: Double
    public var kl: Double
    public var images: Int

    public init(reconstruction: Double = 0, kl: Double = 0, images: Int = 0) {
        self.reconstruction = reconstruction
        self.kl = kl
        self.images = images
    }

    public static func += (a: inout LossSums, b: LossSums) {
        a.reconstruction += b.reconstruction
        a.kl += b.kl
        a.images += b.images
    }

    /// Mean negative ELBO per image.
    public var negativeELBO: Double { images == 0 ? 0 : (reconstruction + kl) / Double(images) }
}
