import Foundation
import ImageIO
import NN
@testable import VAE

/// Small models and data that make the VAE tests fast.
enum Fixtures {
    static func device() throws -> Device { try Device("cpu", threads: 2) }

    static func tinyConfig(_ likelihood: Likelihood = .bernoulli, latent: Int = 3) -> ModelConfig {
        ModelConfig(arch: "custom", channels: 1, height: 8, width: 8, widths: [4, 6], latent: latent,
                    likelihood: likelihood)
    }

    /// Gray 8x8 shapes, quantized to 8-bit levels (as real images are).
    static func shapes(_ count: Int, seed: UInt64 = 3) -> ImageSet {
        let set = ImageSet.shapes(count: count, channels: 1, height: 8, width: 8, seed: seed)
        return ImageSet(count: set.count, channels: 1, height: 8, width: 8,
                        pixels: set.pixels.map { ($0 * 255).rounded() / 255 })
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() -> String {
        let dir = NSTemporaryDirectory() + "convvae-test-\(UInt64.random(in: 0...UInt64.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func options(epochs: Int, batch: Int = 16, seed: UInt64 = 5) -> TrainingOptions {
        var t = TrainingOptions()
        t.data = "shapes"
        t.batch = batch
        t.epochs = epochs
        t.seed = seed
        return t
    }
}
