import Foundation
import ImageIO
import NN
import TestSupport
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

    static func options(epochs: Int, batch: Int = 16, seed: UInt64 = 5) -> TrainingOptions {
        var t = TrainingOptions()
        t.data = "shapes"
        t.batch = batch
        t.epochs = epochs
        t.seed = seed
        return t
    }

    /// Trains a run of `config` into `directory` with the library's epoch loop, quietly.
    @discardableResult
    static func train(_ config: RunConfig, directory: String, device: Device? = nil, train: ImageSet,
                      validation: ImageSet, resume: Bool = false) throws -> EpochLoop {
        let device = try device ?? Fixtures.device()
        let family: any TrainingFamily = config.task.conditional == nil
            ? try VAETraining(config: config, device: device, train: train, validation: validation)
            : try ConditionalTraining(config: config, device: device, train: .images(train), validation: .images(validation))
        let loop = try EpochLoop(config: config, directory: directory, family: family, resume: resume,
                                 events: TrainingEvents(log: { _ in }))
        try loop.run()
        return loop
    }
}

extension EpochLoop {
    /// The plain VAE being trained.
    var vae: ConvVAE { model as! ConvVAE }
    /// The conditional VAE being trained.
    var conditional: ConditionalVAE { model as! ConditionalVAE }
}
