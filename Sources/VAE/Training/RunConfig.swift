import Foundation
import ImageIO
import NN

/// What a run directory holds besides the weights: the model, the training options and
/// where training stands. Written as config.json and state.json.
public struct TrainingOptions: Codable, Equatable, Sendable {
    public var data: String = "shapes"
    public var batch: Int = 128
    public var learningRate: Float = 1e-3
    /// Decay the learning rate to zero along a half cosine over the run (epochs or minutes).
    public var cosineDecay: Bool = false
    public var beta: Float = 1
    /// Weight of the reconstruction term (0: the KL alone, an ablation).
    public var reconstructionWeight: Float = 1
    public var warmupEpochs: Double = 0
    public var freeBits: Float = 0
    public var clipNorm: Float? = nil
    public var binarize: Bool = false
    public var seed: UInt64 = 1
    public var threads: Int = 0
    public var epochs: Int? = nil
    public var minutes: Double? = nil

    public init() {}

    /// Images per step on each of `ranks` processes: the batch (at most the training set,
    /// rounded down to a multiple of `ranks`) divided among them.
    func batch(perRankOf ranks: Int, images: Int) throws -> Int {
        let global = min(batch, images) / ranks * ranks
        guard global >= ranks else { throw VAEError("\(images) training images are too few for \(ranks) processes") }
        return global / ranks
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingOptions()
        data = try c.decodeIfPresent(String.self, forKey: .data) ?? d.data
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? d.batch
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        cosineDecay = try c.decodeIfPresent(Bool.self, forKey: .cosineDecay) ?? d.cosineDecay
        beta = try c.decodeIfPresent(Float.self, forKey: .beta) ?? d.beta
        reconstructionWeight = try c.decodeIfPresent(Float.self, forKey: .reconstructionWeight) ?? d.reconstructionWeight
        warmupEpochs = try c.decodeIfPresent(Double.self, forKey: .warmupEpochs) ?? d.warmupEpochs
        freeBits = try c.decodeIfPresent(Float.self, forKey: .freeBits) ?? d.freeBits
        clipNorm = try c.decodeIfPresent(Float.self, forKey: .clipNorm)
        binarize = try c.decodeIfPresent(Bool.self, forKey: .binarize) ?? d.binarize
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        minutes = try c.decodeIfPresent(Double.self, forKey: .minutes)
    }
}

extension TrainingOptions {
    /// The optimization recipe of a family or task: what `vae train` uses unless told otherwise
    /// (a nil batch or free bits keeps the general default).
    public struct Recipe: Sendable {
        public var learningRate: Float, cosineDecay: Bool, warmupEpochs: Double, clipNorm: Float?
        public var batch: Int? = nil, freeBits: Float? = nil
    }

    /// The deep family's recipe (found on MNIST, see docs/architecture.md): a higher learning
    /// rate decayed to zero along a cosine over the run (epochs or minutes), one epoch of KL
    /// warm-up so that the upper groups are used before the KL presses on them, and clipping
    /// against the rare spikes of a hierarchy's KL terms. Batch 32 at rate 1e-3 led after 10
    /// minutes on one core (IW bound 92.9 nats against 94.7) but trailed after the goal's 30
    /// minutes on two (87.8 against 87.4, K = 100), so the batch stays the general 128.
    public static let deepRecipe = Recipe(learningRate: 2e-3, cosineDecay: true, warmupEpochs: 1, clipNorm: 200)

    /// The conditional tasks' recipe (inpainting and colorization; with `ConditionalOptions`'
    /// prior-path period 4 and mirror images for color): smaller batches, cosine decay and half
    /// a nat of free bits per latent dimension, which keeps the posterior in use. Measured against
    /// the general defaults with 10 minutes of training on one core each (README, "Conditional defaults").
    public static let conditionalRecipe = Recipe(learningRate: 1e-3, cosineDecay: true, warmupEpochs: 0, clipNorm: nil,
                                                 batch: 64, freeBits: 0.5)

    mutating func applyRecipe(_ r: Recipe) {
        learningRate = r.learningRate
        cosineDecay = r.cosineDecay
        warmupEpochs = r.warmupEpochs
        clipNorm = r.clipNorm
        if let b = r.batch { batch = b }
        if let f = r.freeBits { freeBits = f }
    }
}

/// What a run trains: a plain VAE, or a conditional model for a task. Saved as config.json's
/// "task" ("vae", "inpaint", "colorize").
public enum RunTask: String, Codable, CaseIterable, Sendable {
    case vae, inpaint, colorize

    /// The conditional task, or nil for a plain VAE.
    public var conditional: ConditionalTask? { ConditionalTask(rawValue: rawValue) }
}

/// The saved configuration of a run: model and training options.
public struct RunConfig: Codable, Equatable, Sendable {
    public var model: ModelConfig
    public var training: TrainingOptions
    /// What the run trains for: a plain VAE, or a conditional task.
    public var task: RunTask = .vae
    /// Conditional runs (inpaint, colorize): their own options; nil for a plain VAE.
    public var conditional: ConditionalOptions? = nil

    public init(model: ModelConfig, training: TrainingOptions, task: RunTask = .vae) {
        self.model = model
        self.training = training
        self.task = task
    }
}

/// Where a run stands, so `--resume` continues exactly.
public struct RunState: Codable, Equatable, Sendable {
    /// Optimizer steps taken.
    public var step: Int64 = 0
    /// Seconds spent training, over all sessions.
    public var seconds: Double = 0
    /// Whether the run reached its end.
    public var finished: Bool = false

    public init() {}
}
