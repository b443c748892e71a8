/// The deep family's architecture beyond `ModelConfig`'s shared fields. There `widths` are the
/// channels of each resolution stage (stage s works at 1/2^(s+1) of the image, highest
/// resolution first) and `latent` the channels of each latent group.
public struct DeepOptions: Codable, Equatable, Sendable {
    /// Residual blocks per stage in the bottom-up path, and after the latent groups of each
    /// stage in the top-down path (each group also has one block of its own).
    public var blocks: Int
    /// Latent groups per stage, highest resolution first. The first group of the last stage is
    /// the top of the hierarchy, with prior N(0, I); every other group's prior is a network of
    /// the groups above it. One group in all is a ResNet VAE. Empty for conditional models,
    /// whose stages get `blocks` residual blocks each around their one latent vector.
    public var groups: [Int]

    public init(blocks: Int, groups: [Int]) {
        self.blocks = blocks
        self.groups = groups
    }

    /// Latent groups in all.
    public var groupCount: Int { groups.reduce(0, +) }
}

extension ModelConfig {
    /// Checks a deep family configuration (from a flag or a config.json) before a model is
    /// built from it.
    /// - Throws: `VAEError` naming what does not fit.
    func checkDeep() throws {
        guard let deep else { throw VAEError("model family 'deep' without its deep options (model.deep)") }
        let S = widths.count
        guard S >= 1, widths.allSatisfy({ $0 > 0 }), latent > 0, deep.blocks >= 1 else {
            throw VAEError("deep model: widths, latent channels and blocks must be positive")
        }
        guard deep.groups.count == S, deep.groups.allSatisfy({ $0 >= 0 }), deep.groups[S - 1] >= 1 else {
            throw VAEError("deep model: groups \(deep.groups) must give one count per stage (\(S)), the last at least 1")
        }
        guard height % (1 << S) == 0, width % (1 << S) == 0, height >> S >= 1, width >> S >= 1 else {
            throw VAEError("deep model: \(S) stride-2 stages do not divide \(height)x\(width) images")
        }
    }

    /// The deep family sized from the data's geometry (`vae train --arch deep`): one stage per
    /// halving of the picture while it stays even and the next one at least 4 pixels (MNIST:
    /// 14x14 and 7x7; 32x32 pictures: 16, 8, 4), at most 4 stages.
    public static func deep(channels: Int, height: Int, width: Int) -> ModelConfig {
        var stages = 0, h = height, w = width
        while h % 2 == 0, w % 2 == 0, h / 2 >= 4, w / 2 >= 4, stages < 4 {
            stages += 1
            h /= 2
            w /= 2
        }
        let gray = channels == 1
        // Widths double from 32 channels at the first stage up to 64.
        let widths = (0..<stages).map { min(32 << $0, 64) }
        // One group at the first stage and two at each other one, the top included.
        let groups = (0..<stages).map { $0 == 0 ? 1 : 2 }
        var config = ModelConfig(arch: "deep", channels: channels, height: height, width: width, widths: widths,
                                 latent: gray ? 8 : 16, likelihood: gray ? .bernoulli : .logistic)
        config.family = .deep
        config.deep = DeepOptions(blocks: 1, groups: groups)
        return config
    }
}
