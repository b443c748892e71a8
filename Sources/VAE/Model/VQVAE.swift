import ImageIO
import NN

/// A VQ-VAE (van den Oord et al. 2017): stride-2 convolutions and a 3x3 and a 1x1 convolution
/// to a D-channel map at 1/4 or 1/8 of the image's side, a `VectorQuantizer` that replaces each
/// vector by its nearest of K codes, and a mirrored decoder (3x3 convolution, transposed
/// convolutions) to the same pixel likelihoods as the VAE.
///
/// Buffers are preallocated for `maxBatch`, so training and evaluation steps allocate nothing.
public final class VQVAE: CheckpointableModel {
    public let config: ModelConfig
    public let options: VQOptions
    public let device: Device
    public let maxBatch: Int
    public let encoder: Sequential
    public let quantizer: VectorQuantizer
    public let decoder: Sequential
    /// p(x | decoder output).
    public let likelihood: PixelLikelihood
    let workspace: Workspace
    /// The input images, which are also the likelihood's target (or their binarization).
    public let target: Tensor
    /// The encoder's output of the last training step (dead codes restart from its vectors).
    var encoding: Tensor?

    /// Builds the model with weights initialized from `seed`.
    public init(_ config: ModelConfig, device: Device, maxBatch: Int, seed: UInt64) throws {
        guard let options = config.vq else { throw VAEError("a VQ-VAE's configuration needs its vq options") }
        precondition(config.widths.count == options.stages, "a VQ-VAE needs one width per stride-2 stage")
        self.config = config
        self.options = options
        self.device = device
        self.maxBatch = maxBatch
        var rng = SplitMix64(seed: seed)
        let ws = Workspace(device: device)
        workspace = ws
        let image = [config.channels, config.height, config.width]
        let relu = { (shape: [Int]) in try Activation(.relu, shape: shape, maxBatch: maxBatch, on: device) }
        func conv(_ input: [Int], _ out: Int, kernel: Int, stride: Int = 1, transposed: Bool = false,
                  _ name: String) throws -> Conv2D {
            let c = try Conv2D(input: input, outChannels: out, kernel: kernel, stride: stride,
                               padding: kernel == 4 ? 1 : kernel / 2, transposed: transposed, maxBatch: maxBatch,
                               workspace: ws, rng: &rng)
            c.nameParameters(name)
            return c
        }

        var layers: [Layer] = []
        var shape = image
        for (i, w) in config.widths.enumerated() {
            let c = try conv(shape, w, kernel: 4, stride: 2, "encoder.conv\(i)")
            shape = c.outputShape
            layers += [c, try relu(shape)]
        }
        let mix = try conv(shape, shape[0], kernel: 3, "encoder.mix")
        layers += [mix, try relu(shape)]
        let project = try conv(shape, options.codeDimension, kernel: 1, "encoder.project")
        layers.append(project)
        encoder = Sequential(layers)
        let map = project.outputShape
        quantizer = try VectorQuantizer(codes: options.codes, dimension: options.codeDimension, height: map[1],
                                        width: map[2], maxBatch: maxBatch, update: options.codebook, on: device,
                                        rng: &rng)

        let top = config.widths.last!
        let unproject = try conv(map, top, kernel: 3, "decoder.unproject")
        shape = unproject.outputShape
        var dlayers: [Layer] = [unproject, try relu(shape)]
        let outs = Array(config.widths.reversed().dropFirst()) + [config.channels]
        for (i, w) in outs.enumerated() {
            let d = try conv(shape, w, kernel: 4, stride: 2, transposed: true, "decoder.deconv\(i)")
            shape = d.outputShape
            dlayers.append(d)
            if i < outs.count - 1 { dlayers.append(try relu(shape)) }
        }
        precondition(shape == image, "decoder output \(shape) does not match the image \(image)")
        decoder = Sequential(dlayers)
        likelihood = try PixelLikelihood(config.likelihood, channels: config.channels, height: config.height,
                                         width: config.width, maxBatch: maxBatch, on: device)
        target = try Tensor([maxBatch] + image, on: device)
    }

    /// Every trainable parameter, in checkpoint order (the codebook learns by Adam only with
    /// the plain codebook loss; with moving averages its gradient stays zero).
    public var parameters: [Parameter] {
        encoder.parameters + [quantizer.codebook] + decoder.parameters + likelihood.parameters
    }

    public var buffers: [(name: String, tensor: Tensor)] { quantizer.buffers }

    /// Positions of the code map per image.
    public var positions: Int { quantizer.plane }

    /// Copies `batch` images from host memory into the model's input.
    public func loadBatch(_ images: UnsafePointer<Float>, batch: Int) throws {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the model's \(maxBatch)")
        target.setBatch(batch)
        try target.write(from: images, count: batch * config.dimensions)
    }

    /// Loads whole images (host values, NCHW rows) as the batch.
    func load(_ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try loadBatch($0.baseAddress!, batch: $0.count / config.dimensions) }
    }
}
