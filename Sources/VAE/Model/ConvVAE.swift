import ImageIO
import NN

/// A convolutional VAE: a stride-2 conv encoder to a diagonal Gaussian posterior, the
/// reparameterized latent, and a mirrored transposed-conv decoder to a pixel likelihood.
///
/// Buffers are preallocated for `maxBatch`, so training and evaluation steps allocate nothing.
public final class ConvVAE: CheckpointableModel {
    public let config: ModelConfig
    public let device: Device
    public let maxBatch: Int
    public let encoder: Sequential
    public let decoder: Sequential
    /// z from the encoder's statistics, and the KL to N(0, I).
    public let latent: GaussianLatent
    /// p(x | decoder output).
    public let likelihood: PixelLikelihood
    /// The label input of a label-conditional model; nil for others.
    public let conditioning: LabelConditioning?
    let workspace: Workspace

    /// The input images, which are also the likelihood's target (or their binarization).
    public let target: Tensor
    /// The posterior statistics [batch, 2L] of the last encoded batch.
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
        // A label-conditional encoder sees the class planes as extra input channels.
        var shape = [config.channels + (config.classes ?? 0), config.height, config.width]
        for (i, w) in config.widths.enumerated() {
            let conv = try Conv2D(input: shape, outChannels: w, kernel: 4, stride: 2, padding: 1, maxBatch: maxBatch,
                                  workspace: workspace, rng: &rng)
            conv.nameParameters("encoder.conv\(i)")
            shape = conv.outputShape
            layers += [conv, try relu(shape)]
        }
        let head = try Dense(shape.reduce(1, *), 2 * config.latent, maxBatch: maxBatch, on: device, rng: &rng)
        head.nameParameters("encoder.head")
        encoder = Sequential(layers + [head])

        let bottleneck = config.widths.isEmpty ? image : config.bottleneck
        let proj = try Dense(config.latent + (config.classes ?? 0), bottleneck.reduce(1, *), outputShape: bottleneck, maxBatch: maxBatch,
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

        likelihood = try PixelLikelihood(config.likelihood, channels: config.channels, height: config.height,
                                         width: config.width, maxBatch: maxBatch, on: device)
        latent = try GaussianLatent(size: config.latent, maxBatch: maxBatch, deterministic: config.autoencoder,
                                    on: device)
        target = try Tensor([maxBatch] + image, on: device)
        lastStats = latent.statsGradient
        conditioning = try config.classes.map {
            try LabelConditioning(classes: $0, image: image, latent: config.latent, maxBatch: maxBatch, on: device)
        }
    }

    /// Every trainable parameter, in checkpoint order.
    public var parameters: [Parameter] { encoder.parameters + decoder.parameters + likelihood.parameters }

    /// Floating-point operations of one image's training step: forward, and a backward that
    /// costs about twice the forward.
    public var trainingFLOPs: Int { 3 * (encoder.forwardFLOPs + decoder.forwardFLOPs) }

    // MARK: - Passes

    /// Encodes the first `batch` loaded images (given their labels, when label-conditional) to
    /// packed statistics [batch, 2L] (mu, log sigma^2).
    @discardableResult
    public func encode(batch: Int) throws -> Tensor {
        target.setBatch(batch)
        lastStats = try encoder.forward(try conditioning?.encoderInput(target) ?? target)
        return lastStats
    }

    /// Decodes latent rows (given the labels set, when label-conditional) to the likelihood's
    /// parameters (logits or means) [batch, C, H, W].
    @discardableResult
    public func decode(_ z: Tensor) throws -> Tensor {
        try decoder.forward(try conditioning?.decoderInput(z) ?? z)
    }

    /// dL/dz from the gradient of the decoder's output, through the decoder.
    func decoderBackward(_ dOutput: Tensor) throws -> Tensor {
        guard let dInput = try decoder.backward(dOutput, inputGradient: true) else { fatalError("decoder gave no gradient") }
        return try conditioning?.latentGradient(dInput) ?? dInput
    }
}
