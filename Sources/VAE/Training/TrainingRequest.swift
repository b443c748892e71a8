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
    /// The model family: the VAE, or a VQ-VAE with `vq`'s options.
    public var family: ModelFamily = .vae
    /// A VQ-VAE's options (nil: the defaults).
    public var vq: VQOptions?
    /// Adam's learning rate (nil: `training`'s).
    public var learningRate: Float?
    public var architecture: Architecture = .auto
    /// Latent dimensions (nil: the preset's).
    public var latent: Int?
    /// nil: Bernoulli for gray data and a Gaussian for color; a Gaussian for conditional models.
    public var likelihood: Likelihood?
    public var autoencoder = false
    /// Condition the model on the data's labels.
    public var condition: ModelCondition = .none
    /// Dynamic binarization (nil: on for MNIST with a Bernoulli likelihood).
    public var binarize: Bool?
    /// Conditional models and VQ-VAEs: convolution widths; the deep family: stage widths (nil:
    /// the preset's, or a VQ-VAE's default).
    public var widths: [Int]?
    /// The deep family: residual blocks per stage (nil: the preset's).
    public var blocks: Int?
    /// The deep family: latent groups per stage, highest resolution first (nil: the preset's).
    public var groups: [Int]?
    /// Inpainting: the training mask mix (nil: every kind).
    public var masks: MaskGenerator?
    /// Conditional models: one step in this many trains the prior path (nil: the recipe's 4).
    public var priorPathEvery: Int?
    /// Conditional models: draws per image of a prior-path step, the best of which trains (nil:
    /// the recipe's, `ConditionalOptions.recipePriorPathSamples`).
    public var priorPathSamples: Int?
    /// Conditional models: also train on mirror images (nil: for color data, not for gray).
    public var mirror: Bool?
    /// Images per step and free bits (nil: the task's or family's recipe, else `training`'s).
    public var batch: Int?
    public var freeBits: Float?
    /// Conditional models on photos: train on random patches of this side (nil: `defaultPatch()`).
    public var patch: Int?
    /// With `patch`: patches are squares of up to this many times the side, averaged down.
    public var zoom: Float?
    /// Colorization: predict quantized colors (the default; see `ChromaBins`) or a Gaussian over
    /// the chroma's values.
    public var quantizedColor = true
    /// The rest of the optimization recipe besides `learningRate`: cosine decay, KL warm-up
    /// epochs and gradient clipping (0: none); each nil takes the family's default
    /// (`TrainingOptions.deepRecipe` for the deep family, else `training`'s).
    public var cosineDecay: Bool?
    public var warmupEpochs: Double?
    public var clipNorm: Float?
    /// Batch, beta, free bits, seed, threads and length, and the recipe's values where the
    /// fields above are nil (`data` and `binarize` are filled in by `resolve`).
    public var training = TrainingOptions()

    public init() {}

    /// The patch side a conditional model trains on when none is given.
    public static let photoPatch = 64

    /// Patches of `photoPatch` for a conditional task on a folder whose pictures all have at
    /// least twice that on their shorter side (photos: shrinking them whole to the window
    /// would throw their detail away); nil otherwise (whole pictures, e.g. 64x64 thumbnails).
    /// Reads the pictures' headers only.
    func defaultPatch() throws -> Int? {
        guard task.conditional != nil, case .folder(let dir) = data else { return nil }
        for file in try ImageSet.imageFiles(in: dir) {
            let size = try Image.headerSize(of: file)
            if min(size.width, size.height) < 2 * Self.photoPatch { return nil }
        }
        return Self.photoPatch
    }

    /// The run's configuration.
    /// - Throws: `VAEError` when the data cannot be read or the options do not fit it.
    public func resolve() throws -> RunConfig {
        var model: ModelConfig
        let patch = try self.patch ?? defaultPatch()
        if let patch {
            guard task.conditional != nil else { throw VAEError("--patch applies to --task inpaint or colorize") }
            guard case .folder = data else { throw VAEError("--patch trains on photos: give --data folder:DIR") }
            guard patch >= 8, patch % 8 == 0 else { throw VAEError("--patch must be a multiple of 8, at least 8") }
            model = ModelConfig.presets[architecture.rawValue].map {
                var m = $0
                m.arch = "custom"
                m.height = patch
                m.width = patch
                return m
            } ?? ModelConfig.automatic(channels: 3, height: patch, width: patch)
        } else if let preset = ModelConfig.presets[architecture.rawValue] {
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
        if condition == .label {
            guard architecture != .deep else { throw VAEError("--condition label applies to the shallow VAE, not to --arch deep") }
            guard task == .vae, family == .vae else {
                throw VAEError("--condition label applies to a plain VAE, not to \(family == .vae ? "--task \(task.rawValue)" : "--model \(family.rawValue)")")
            }
            model.classes = try data.labelClasses(channels: model.channels, height: model.height, width: model.width,
                                                 seed: training.seed)
        }
        var t = training
        t.data = data.description
        if model.modelFamily == .deep, task == .vae { t.applyRecipe(TrainingOptions.deepRecipe) }
        if task.conditional != nil {
            t.applyRecipe(TrainingOptions.conditionalRecipe)
            // Residual stacks need the deep family's clipping and half the learning rate: a deep
            // colorization model's loss overflowed within 50 steps without the clipping (Tiny
            // ImageNet, seed 1), and with it at rate 1e-3 (steps 50-110; clipping at 50 did not
            // help); at 5e-4 it trains.
            if model.modelFamily == .deep {
                t.clipNorm = TrainingOptions.deepRecipe.clipNorm
                t.learningRate = TrainingOptions.conditionalRecipe.learningRate / 2
            }
        }
        if let batch { t.batch = batch }
        if let freeBits { t.freeBits = freeBits }
        if let learningRate { t.learningRate = learningRate }
        if let cosineDecay { t.cosineDecay = cosineDecay }
        if let warmupEpochs { t.warmupEpochs = warmupEpochs }
        if let clipNorm { t.clipNorm = clipNorm > 0 ? clipNorm : nil }
        if case .mnist = data { t.binarize = binarize ?? (model.likelihood == .bernoulli) } else { t.binarize = binarize ?? false }
        var config = RunConfig(model: model, training: t, task: task)
        if family == .vqvae { try resolveVQ(&config) }
        guard let conditional = task.conditional else {
            if widths != nil, model.modelFamily != .deep, family != .vqvae {
                throw VAEError("--widths applies to --arch deep, --model vqvae and conditional tasks")
            }
            return config
        }

        let every = priorPathEvery ?? ConditionalOptions.recipePriorPathEvery(conditional, deep: model.modelFamily == .deep)
        if every == 0, (priorPathSamples ?? 1) > 1 {
            throw VAEError("--prior-path-samples needs prior-path steps; --prior-path-every is 0")
        }
        // Several draws per prior-path step spread the prior's samples: completions take them cooler.
        let draws = every == 0 ? 1 : priorPathSamples
            ?? ConditionalOptions.recipePriorPathSamples(conditional, photos: patch != nil, deep: model.modelFamily == .deep)
        config.conditional = ConditionalOptions(
            masks: conditional == .inpaint ? masks ?? MaskGenerator(kinds: MaskKind.recipe(photos: patch != nil)) : nil,
            priorPathEvery: every, priorPathSamples: draws > 1 ? draws : nil, temperature: draws > 1 ? ConditionalOptions.bestOfManyTemperature : nil,
            mirror: (mirror ?? (model.channels == 3)) ? true : nil, patch: patch, zoom: patch == nil ? nil : zoom,
            chroma: conditional == .colorize && quantizedColor ? ChromaBins(rebalancing: ChromaBins.recipeRebalancing) : nil,
            headKernel: ConditionalOptions.recipeHeadKernel(conditional))
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
        if config.conditional?.chroma != nil {
            // Colors at 1/4 of the resolution, or finer when the network halves fewer times.
            config.conditional?.chroma?.stride = min(4, 1 << (config.model.widths.count - 1))
        }
        // A Gaussian's mean is the least-squares completion that PSNR measures.
        if likelihood == nil { config.model.likelihood = .gaussian }
        return config
    }

    /// Turns a VAE configuration into a VQ-VAE's: the options, one stride-2 stage per halving of
    /// the side (`widths`, by default 32, 64, 64: on the CIFAR subset as good per step as 64,
    /// 128 and twice as fast).
    func resolveVQ(_ config: inout RunConfig) throws {
        guard task == .vae else { throw VAEError("--model vqvae cannot be combined with --task \(task.rawValue)") }
        guard architecture != .deep else { throw VAEError("--model vqvae cannot be combined with --arch deep") }
        if autoencoder { throw VAEError("--model vqvae cannot be combined with --autoencoder") }
        if latent != nil { throw VAEError("--latent is a VAE's option; a VQ-VAE takes --codes and --code-dim") }
        let o = vq ?? VQOptions()
        guard o.downsample == 4 || o.downsample == 8 else { throw VAEError("--downsample must be 4 or 8, not \(o.downsample)") }
        guard o.codes >= 2, o.codeDimension >= 1 else { throw VAEError("--codes must be >= 2 and --code-dim >= 1") }
        guard o.commitment >= 0, o.decay >= 0, o.decay < 1 else {
            throw VAEError("--commitment must be >= 0 and --ema-decay in [0, 1)")
        }
        var m = config.model
        guard m.height % o.downsample == 0, m.width % o.downsample == 0 else {
            throw VAEError("--downsample \(o.downsample) does not divide \(m.height)x\(m.width) images")
        }
        m.family = .vqvae
        m.vq = o
        m.arch = "vqvae"
        m.widths = widths ?? Array([32, 64, 64].prefix(o.stages))
        guard m.widths.count == o.stages else {
            throw VAEError("--widths: --downsample \(o.downsample) needs \(o.stages) widths, one per stride-2 stage")
        }
        m.latent = o.codeDimension
        config.model = m
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
