/// What a conditional run (RunConfig.task inpaint or colorize) trains with besides the common
/// TrainingOptions; saved in config.json so that `--resume` continues exactly.
public struct ConditionalOptions: Codable, Equatable, Sendable {
    /// Inpainting: the training mask mix.
    public var masks: MaskGenerator?
    /// One optimizer step in this many trains the prior path (z from the prior, the GSNN half of
    /// Sohn et al.'s hybrid objective); the others the ELBO. 0 never does. Nil reads as 2.
    public var priorPathEvery: Int?
    /// A prior-path step draws this many z per image and trains on the one whose completion fits
    /// the truth best (see `ConditionalVAE.priorPathLossAndGradients`); nil reads as 1.
    public var priorPathSamples: Int?
    /// The latent temperature the model's completions use unless `--temperature` says otherwise
    /// (see `ConditionalVAE.temperature`); nil reads as 1.
    public var temperature: Float?
    /// Train on left-right mirror images too: each training image is flipped with probability
    /// 1/2 (more data for photos; wrong for digits or text). Nil reads as false.
    public var mirror: Bool?

    /// Photos: train on random patches of this side (the model's size) instead of whole
    /// pictures shrunk to it; nil for data of the model's size.
    public var patch: Int?
    /// Photos: each patch is a square of up to this many times the patch side, averaged down to
    /// it, so the model also sees wider context; nil reads as 1.
    public var zoom: Float?

    /// Colorization: predict quantized colors (see `ChromaBins`); nil for a Gaussian over the
    /// chroma's values.
    public var chroma: ChromaBins?

    /// The side of the decoder head's convolution (1 or 3; see `ConditionalVAE`); nil reads as 3,
    /// what runs before it was recorded used.
    public var headKernel: Int?

    public init(masks: MaskGenerator? = nil, priorPathEvery: Int? = nil, priorPathSamples: Int? = nil,
                temperature: Float? = nil, mirror: Bool? = nil, patch: Int? = nil, zoom: Float? = nil,
                chroma: ChromaBins? = nil, headKernel: Int? = nil) {
        self.priorPathSamples = priorPathSamples
        self.temperature = temperature
        self.chroma = chroma
        self.headKernel = headKernel
        self.masks = masks
        self.priorPathEvery = priorPathEvery
        self.mirror = mirror
        self.patch = patch
        self.zoom = zoom
    }

    /// `headKernel` with its default.
    public var headKernelSize: Int { headKernel ?? 3 }

    /// The head of a task's new runs. Colorization: 1x1, a classifier per position over maps
    /// that already see a neighbourhood; a 3x3 head onto 256 color bins was half the step, and
    /// with the time saved the 1x1 model scored better (Tiny ImageNet, 10 minutes, side by side).
    /// Inpainting: 3x3, whose window over the harmonic fill and the mask sees a hole's edge; the
    /// 1x1 head trained 20% more steps in the same 10 minutes and still scored 0.1 dB lower
    /// (CIFAR-10 center holes, side by side).
    public static func recipeHeadKernel(_ task: ConditionalTask) -> Int { task == .colorize ? 1 : 3 }

    /// The zoom-out factors patches are drawn at.
    public var zoomRange: ClosedRange<Float> { 1...max(1, zoom ?? 1) }

    /// `temperature` with its default.
    public var completionTemperature: Float { temperature ?? 1 }

    /// The most draws a prior-path step may take (each is a decoder pass).
    public static let maxPriorPathSamples = 64

    /// `priorPathSamples` with its default.
    public var priorPathDraws: Int { priorPathSamples ?? 1 }

    /// `priorPathEvery` with its default (2: what runs before it was recorded used).
    public var priorPathPeriod: Int { priorPathEvery ?? 2 }

    /// The prior-path period of new runs unless told otherwise (see `TrainingOptions.conditionalRecipe`):
    /// every 4th step, except for deep colorization, whose posterior collapsed with it (best of 5
    /// +0.40 / +0.48 dB over gray against +0.88 / +0.90 without; Tiny ImageNet, 10 minutes, seeds
    /// 1-2). Shallow colorization and inpainting keep it (deep inpainting without it: first sample
    /// 0.3-0.6 dB lower on CIFAR-10 center holes).
    public static func recipePriorPathEvery(_ task: ConditionalTask, deep: Bool) -> Int {
        task == .colorize && deep ? 0 : 4
    }

    /// The prior-path draws of new runs unless told otherwise: 4 for inpainting pictures of the
    /// model's size with the shallow family, whose samples then cover the completions that fit
    /// instead of clustering at their mean (CIFAR-10 center holes, 10 minutes on one core, side
    /// by side, two runs, seeds 1-3, completions at `bestOfManyTemperature`: best of 10 +1.19 to
    /// +1.34 dB over harmonic fill against +0.97 to +1.02 with one draw, each sample still above
    /// it, +0.22 to +0.46 against +0.30 to +0.44, 1.5 times the diversity). One draw elsewhere:
    /// photo patches (4 or 8 draws, 20 minutes on BSDS500: more diverse, every score lower, the
    /// samples below harmonic fill), colorization (4 draws, Tiny ImageNet: best of 5 +1.8 dB over
    /// gray against +1.1, but the first sample -1.8 against +0.2) and the deep family (CIFAR-10,
    /// 4 draws: best of 10 +1.07 / +1.35 dB against +1.04 / +0.98, the mean sample 0.2 dB lower:
    /// not clearly better).
    public static func recipePriorPathSamples(_ task: ConditionalTask, photos: Bool, deep: Bool) -> Int {
        task == .inpaint && !photos && !deep ? 4 : 1
    }

    /// The completion temperature of a model trained on the best of several draws: at
    /// temperature 1 its prior's samples spread over the completions that fit, each further
    /// from the truth than harmonic fill (CIFAR-10 center holes: -0.3 dB, best of 10 +1.45);
    /// at 0.5 most of the best of 10 stays (+1.19 to +1.34) and every sample is above harmonic
    /// fill (+0.22 or more; 0.6: +0.09 or more, best of 10 0.06 dB higher).
    public static let bestOfManyTemperature: Float = 0.5

    /// Whether optimizer step `step` (0-based: the steps taken before it) trains the prior path.
    public func isPriorPathStep(_ step: Int64) -> Bool {
        let every = Int64(priorPathPeriod)
        return every > 0 && step % every == every - 1
    }
}
