import NN

/// Everything needed to rebuild a model: saved as config.json in a run directory.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// The preset's name ("mnist", "cifar", "tiny64") or "custom".
    public var arch: String
    public var channels: Int
    public var height: Int
    public var width: Int
    /// Output channels of each encoder convolution (the decoder mirrors them).
    public var widths: [Int]
    public var latent: Int
    public var likelihood: Likelihood
    /// A plain deterministic autoencoder (no sampling, no KL) instead of a VAE.
    public var autoencoder: Bool
    /// The model family; nil (absent from config.json) is the shallow VAE: see `modelFamily`.
    public var family: ModelFamily?
    /// A VQ-VAE's options (and those of the VQ-VAE a PixelCNN prior models); nil otherwise.
    public var vq: VQOptions?
    /// A PixelCNN prior's options; nil otherwise.
    public var pixelcnn: PixelCNNOptions?
    /// Label-conditional (see `LabelConditioning`): the number of classes whose one-hot code
    /// joins the encoder's input and the decoder's latent; nil for an unconditional model.
    public var classes: Int?
    /// The deep family's blocks and latent groups; nil for the other families.
    public var deep: DeepOptions?

    public init(arch: String, channels: Int, height: Int, width: Int, widths: [Int], latent: Int,
                likelihood: Likelihood, autoencoder: Bool = false, classes: Int? = nil) {
        self.arch = arch
        self.channels = channels
        self.height = height
        self.width = width
        self.widths = widths
        self.latent = latent
        self.likelihood = likelihood
        self.autoencoder = autoencoder
        self.classes = classes
    }

    /// The reference presets (their layers are tabled in docs/architecture.md).
    public static let presets: [String: ModelConfig] = [
        "mnist": ModelConfig(arch: "mnist", channels: 1, height: 28, width: 28, widths: [32, 64], latent: 16,
                             likelihood: .bernoulli),
        "cifar": ModelConfig(arch: "cifar", channels: 3, height: 32, width: 32, widths: [32, 64, 128], latent: 128,
                             likelihood: .gaussian),
        "tiny64": ModelConfig(arch: "tiny64", channels: 3, height: 64, width: 64, widths: [32, 64, 128, 256],
                              latent: 128, likelihood: .gaussian),
    ]

    /// The preset matching the data's geometry, or a custom architecture that halves the
    /// image with stride-2 convolutions while it stays even and at least 4 pixels.
    public static func automatic(channels: Int, height: Int, width: Int) -> ModelConfig {
        if let p = presets.values.first(where: { $0.channels == channels && $0.height == height && $0.width == width }) {
            return p
        }
        var widths: [Int] = []
        var h = height, w = width
        while h % 2 == 0, w % 2 == 0, h / 2 >= 4, w / 2 >= 4, widths.count < 5 {
            widths.append(32 << widths.count)
            h /= 2
            w /= 2
        }
        return ModelConfig(arch: "custom", channels: channels, height: height, width: width, widths: widths,
                           latent: channels == 1 ? 16 : 128, likelihood: channels == 1 ? .bernoulli : .gaussian)
    }

    /// Size of the encoder's last feature map [C, H, W].
    public var bottleneck: [Int] {
        [widths.last ?? channels, height >> widths.count, width >> widths.count]
    }

    /// Values per image.
    public var dimensions: Int { channels * height * width }
}
