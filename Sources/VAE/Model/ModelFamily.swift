import NN

/// Which kind of model a run directory holds: config.json's "family" ("vae" when absent, as in
/// runs written before there were families).
public enum ModelFamily: String, Codable, CaseIterable, Sendable {
    /// The shallow convolutional VAE (`ConvVAE`): stride-2 convolutions to one latent vector.
    case vae
    /// `HierarchicalVAE`: residual blocks per resolution and a top-down hierarchy of latent
    /// groups (`DeepOptions`); for conditional tasks, `ConditionalVAE` with residual blocks.
    case deep
    /// A VQ-VAE (`VQVAE`): discrete codes on a map, decoded by a convolutional decoder.
    case vqvae
    /// A PixelCNN prior over a VQ-VAE's code maps (`PixelCNN`, trained by `vae train-prior`).
    case pixelcnn

    /// What `vae` commands call the family in messages.
    public var title: String {
        switch self {
        case .vae: "a VAE"
        case .deep: "a deep VAE"
        case .vqvae: "a VQ-VAE"
        case .pixelcnn: "a PixelCNN prior"
        }
    }
}

/// A VQ-VAE's options (config.json's "vq").
public struct VQOptions: Codable, Equatable, Sendable {
    /// K, the codebook's size.
    public var codes: Int = 512
    /// D, the values per code (the encoder map's channels).
    public var codeDimension: Int = 64
    /// How much smaller the code map's side is than the image's: 4 or 8.
    public var downsample: Int = 4
    /// beta, the commitment term's weight.
    public var commitment: Float = 0.25
    /// Moving averages (default) or the plain codebook loss.
    public var codebook: VectorQuantizer.CodebookUpdate = .ema
    /// The moving averages' decay.
    public var decay: Float = 0.99

    public init() {}

    /// Stride-2 stages of the encoder.
    public var stages: Int { downsample == 8 ? 3 : 2 }
}

/// A PixelCNN prior's options (config.json's "pixelcnn"). The defaults suit code maps of 8x8
/// on a CPU: on MNIST's 7x7 maps, 64 channels, 6 layers and 5x5 kernels train 4-5 times slower
/// per image for little gain in the first epochs.
public struct PixelCNNOptions: Codable, Equatable, Sendable {
    /// Channels of the gated layers.
    public var channels: Int = 32
    /// Gated residual layers after the first (mask A) layer.
    public var layers: Int = 4
    /// Kernel of the mask-B layers (the first layer's is 7).
    public var kernel: Int = 3

    public init() {}
}

extension ModelConfig {
    /// The family, `.vae` for config files written before there were families.
    public var modelFamily: ModelFamily { family ?? .vae }

    /// The code map's size [h, w] of a VQ-VAE (or of the VQ-VAE a prior models).
    public var codeMap: [Int] {
        let s = vq?.downsample ?? 1
        return [height / s, width / s]
    }
}
