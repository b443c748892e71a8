import ImageIO
import NN

/// The architectures `vae train --arch` names: a reference preset, `auto` (the preset that
/// matches the data's geometry, else a stack of stride-2 layers sized from it), or `deep` (the
/// hierarchical family sized from the data's geometry, `ModelConfig.deep`).
public enum Architecture: String, CaseIterable, Sendable {
    case auto, mnist, cifar, tiny64, deep
}

/// What a user asks `vae train` for. `resolve()` fills in every default and checks what depends
/// on the data, giving the configuration a run directory records.
public struct TrainingRequest: Sendable {
    public var data: DataSpec = .shapes(count: ImageSet.defaultShapesCount)
    public var task: RunTask = .vae
    public var architecture: Architecture = .auto
    /// Latent dimensions (nil: the preset's).
    public var latent: Int?
    /// nil: Bernoulli for gray data and a Gaussian for color; a Gaussian for conditional models.
    public var likelihood: Likelihood?
    public var autoencoder = false
    /// Dynamic binarization (nil: on for MNIST with a Bernoulli likelihood).
    public var binarize: Bool?
    /// Conditional models: convolution widths; the deep family: stage widths (nil: the preset's).
    public var widths: [Int]?
    /// The deep family: residual blocks per stage (nil: the preset's).
    public var blocks: Int?
    /// The deep family: latent groups per stage, highest resolution first (nil: the preset's).
    public var groups: [Int]?
    /// Inpainting: the training mask mix (nil: every kind).
    public var masks: MaskGenerator?
    /// Conditional models: one step in this many trains the prior path.
    public var priorPathEvery = 2
    /// Conditional models: also train on mirror images.
    public var mirror = false
    /// The optimization recipe: learning rate, cosine decay, KL warm-up epochs and gradient
    /// clipping (0: none); each nil takes the family's default (`TrainingOptions.recipe`).
    public var learningRate: Float?
    public var cosineDecay: Bool?
    public var warmupEpochs: Double?
    public var clipNorm: Float?
    /// Batch, beta, free bits, seed, threads and length, and the recipe's values where the
    /// fields above are nil and the family keeps them (`data` and `binarize` are filled in by
    /// `resolve`).
    public var training = TrainingOptions()

    public init() {}

    /// The run's configuration.
    /// - Throws: `VAEError` when the data cannot be read or the options do not fit it.
    public func resolve() throws -> RunConfig {
        var model: ModelConfig
        if let preset = ModelConfig.presets[architecture.rawValue] {
            model = preset
        } else if architecture == .deep, task == .vae {
            model = try resolveDeep()
        } else {
            let g = try data.defaultGeometry()
            model = ModelConfig.automatic(channels: g.channels, height: g.height, width: g.width)
        }
        if architecture != .deep, blocks != nil || groups != nil {
            throw VAEError("--blocks and --groups apply to --arch deep")
        }
        if architecture == .deep, task != .vae {
            // Conditional models: the shallow stages of the geometry, each with residual blocks.
            guard groups == nil else { throw VAEError("--groups applies to --arch deep without --task (one latent vector here)") }
            model.family = .deep
            model.arch = "deep"
            model.deep = DeepOptions(blocks: blocks ?? 1, groups: [])
            guard blocks ?? 1 >= 1 else { throw VAEError("--blocks must be at least 1") }
        }
        if let latent { model.latent = latent }
        if let likelihood { model.likelihood = likelihood }
        model.autoencoder = autoencoder
        var t = training
        t.data = data.description
        if model.family == .deep, task == .vae { t.applyRecipe(TrainingOptions.deepRecipe) }
        if let learningRate { t.learningRate = learningRate }
        if let cosineDecay { t.cosineDecay = cosineDecay }
        if let warmupEpochs { t.warmupEpochs = warmupEpochs }
        if let clipNorm { t.clipNorm = clipNorm > 0 ? clipNorm : nil }
        if case .mnist = data { t.binarize = binarize ?? (model.likelihood == .bernoulli) } else { t.binarize = binarize ?? false }
        var config = RunConfig(model: model, training: t, task: task)
        guard let conditional = task.conditional else {
            if widths != nil, model.family != .deep { throw VAEError("--widths applies to --arch deep and to conditional tasks") }
            return config
        }

        config.conditional = ConditionalOptions(
            masks: conditional == .inpaint ? masks ?? MaskGenerator(kinds: MaskKind.allCases) : nil,
            priorPathEvery: priorPathEvery, mirror: mirror ? true : nil)
        if conditional == .colorize, model.channels != 3 {
            throw VAEError("colorization needs color images; \(data) has \(model.channels) channel(s)")
        }
        if let w = widths {
            guard model.height >> w.count >= 1, model.width >> w.count >= 1, model.height % (1 << w.count) == 0,
                  model.width % (1 << w.count) == 0 else {
                throw VAEError("--widths: \(w.count) stride-2 stages do not divide \(model.height)x\(model.width) images")
            }
            config.model.widths = w
            config.model.arch = "custom"
        }
        if autoencoder { throw VAEError("--autoencoder cannot be combined with --task \(task.rawValue)") }
        if config.model.widths.isEmpty {
            throw VAEError("images of \(model.height)x\(model.width) are too small for a conditional model")
        }
        // A Gaussian's mean is the least-squares completion that PSNR measures.
        if likelihood == nil { config.model.likelihood = .gaussian }
        return config
    }

    /// The deep family for the data's geometry, with the widths, blocks and groups asked for.
    func resolveDeep() throws -> ModelConfig {
        let g = try data.defaultGeometry()
        var model = ModelConfig.deep(channels: g.channels, height: g.height, width: g.width)
        guard var deep = model.deep, !model.widths.isEmpty else {
            throw VAEError("images of \(g.height)x\(g.width) are too small for --arch deep (it halves them at least once, to 4 pixels or more)")
        }
        if autoencoder { throw VAEError("--autoencoder cannot be combined with --arch deep") }
        if let w = widths {
            guard g.height % (1 << w.count) == 0, g.width % (1 << w.count) == 0, g.height >> w.count >= 2,
                  g.width >> w.count >= 2 else {
                throw VAEError("--widths: \(w.count) stride-2 stages do not divide \(g.height)x\(g.width) images")
            }
            model.widths = w
            if groups == nil { deep.groups = (0..<w.count).map { $0 == 0 ? 1 : 2 } }
        }
        if let blocks {
            guard blocks >= 1 else { throw VAEError("--blocks must be at least 1") }
            deep.blocks = blocks
        }
        if let groups {
            guard groups.count == model.widths.count, groups.allSatisfy({ $0 >= 0 }), groups.last! >= 1 else {
                throw VAEError("--groups: give one count per stage (\(model.widths.count) here, highest resolution first), the last at least 1")
            }
            deep.groups = groups
        }
        model.deep = deep
        if widths != nil || blocks != nil || groups != nil || latent != nil { model.arch = "deep-custom" }
        return model
    }
}
