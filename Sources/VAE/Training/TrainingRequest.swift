import ImageIO
import NN

/// The architectures `vae train --arch` names: a reference preset, or `auto` (the preset that
/// matches the data's geometry, else a stack of stride-2 layers sized from it).
public enum Architecture: String, CaseIterable, Sendable {
    case auto, mnist, cifar, tiny64
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
    /// Conditional models and VQ-VAEs: convolution widths (nil: the preset's, or a VQ-VAE's default).
    public var widths: [Int]?
    /// Inpainting: the training mask mix (nil: every kind).
    public var masks: MaskGenerator?
    /// Conditional models: one step in this many trains the prior path.
    public var priorPathEvery = 2
    /// Conditional models: also train on mirror images.
    public var mirror = false
    /// Conditional models on photos: train on random patches of this side (nil: whole pictures).
    public var patch: Int?
    /// With `patch`: patches are squares of up to this many times the side, averaged down.
    public var zoom: Float?
    /// Colorization: predict quantized colors (the default; see `ChromaBins`) or a Gaussian over
    /// the chroma's values.
    public var quantizedColor = true
    /// Batch, learning rate, schedule, beta, free bits, clipping, seed, threads and length
    /// (`data` and `binarize` are filled in by `resolve`).
    public var training = TrainingOptions()

    public init() {}

    /// The run's configuration.
    /// - Throws: `VAEError` when the data cannot be read or the options do not fit it.
    public func resolve() throws -> RunConfig {
        var model: ModelConfig
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
        } else {
            let g = try data.defaultGeometry()
            model = ModelConfig.automatic(channels: g.channels, height: g.height, width: g.width)
        }
        if let latent { model.latent = latent }
        if let likelihood { model.likelihood = likelihood }
        model.autoencoder = autoencoder
        if condition == .label {
            guard task == .vae, family == .vae else {
                throw VAEError("--condition label applies to a plain VAE, not to \(family == .vae ? "--task \(task.rawValue)" : "--model \(family.rawValue)")")
            }
            model.classes = try data.labelClasses(channels: model.channels, height: model.height, width: model.width,
                                                 seed: training.seed)
        }
        var t = training
        t.data = data.description
        if let learningRate { t.learningRate = learningRate }
        if case .mnist = data { t.binarize = binarize ?? (model.likelihood == .bernoulli) } else { t.binarize = binarize ?? false }
        var config = RunConfig(model: model, training: t, task: task)
        if family == .vqvae { try resolveVQ(&config) }
        guard let conditional = task.conditional else { return config }

        config.conditional = ConditionalOptions(
            masks: conditional == .inpaint ? masks ?? MaskGenerator(kinds: MaskKind.allCases) : nil,
            priorPathEvery: priorPathEvery, mirror: mirror ? true : nil, patch: patch, zoom: patch == nil ? nil : zoom,
            chroma: conditional == .colorize && quantizedColor ? ChromaBins() : nil)
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
}
