import NN

/// What one model family gives the epoch loop: its model, one batch's gradients, validation,
/// and what a finished run adds to its directory. The loop does everything else (batch order,
/// KL warm-up, learning-rate schedule, optimizer, limits, interruption, NaN stop, metrics,
/// checkpoints), so a new family writes only these.
protocol TrainingFamily: AnyObject {
    /// The model whose parameters the optimizer updates and the checkpoint saves.
    var checkpointable: any CheckpointableModel { get }
    /// Images in the training set, and per step on this process (the run's batch divided
    /// among the ranks: the model's capacity).
    var trainingCount: Int { get }
    var batchSize: Int { get }
    /// One line naming the model for the log.
    var summary: String { get }
    /// Loads the images `indices` and writes into every parameter's `grad` the gradient of
    /// their mean loss at optimizer step `step`, with KL weight `beta`. The images are rows
    /// `firstRow...` of the run's stream of rows, which numbers their noise (and masks), so
    /// an image draws the same noise on any number of ranks.
    /// - Returns: the batch's ELBO terms, or nil for a step whose loss is not the ELBO.
    func computeGradients(indices: ArraySlice<Int>, firstRow: UInt64, step: Int64, beta: Float) throws -> LossSums?
    /// The validation loss, or nil without validation images.
    func validate() throws -> ValidationSummary?
    /// Writes what a finished run adds (a fitted prior, pictures, the report).
    /// - Returns: the names of the files written.
    func finish(_ run: EpochLoop) throws -> [String]
}

/// Validation figures at the end of an epoch, per image.
struct ValidationSummary {
    var negativeELBO: Double, reconstruction: Double, kl: Double, bitsPerDim: Double
    /// A family's own figures (a VQ-VAE's PSNR, perplexity, codes in use), by column name.
    var extras: [(name: String, value: Double)] = []
    /// KL and active units per latent group, for models with several (else empty).
    var groups: [GroupEvaluation] = []
}

/// Where training stands after a step, for a progress display.
public struct TrainingProgress: Sendable {
    /// The epoch (0-based), the step within it (1-based) and the steps per epoch.
    public var epoch: Int, step: Int, stepsPerEpoch: Int
    /// The epoch's running loss and KL per image, in nats.
    public var loss: Double, kl: Double
    /// Training speed of the epoch so far.
    public var imagesPerSecond: Double
    /// Estimated seconds until the run's end, when known.
    public var secondsLeft: Double?
}

/// How a training run talks to its caller.
public struct TrainingEvents {
    /// Log lines (data, model, epoch summaries, messages).
    public var log: (String) -> Void
    /// Called after every step.
    public var progress: (TrainingProgress) -> Void
    /// Polled between steps; true saves a checkpoint and stops.
    public var shouldStop: () -> Bool

    public init(log: @escaping (String) -> Void = { print($0) }, progress: @escaping (TrainingProgress) -> Void = { _ in },
                shouldStop: @escaping () -> Bool = { false }) {
        self.log = log
        self.progress = progress
        self.shouldStop = shouldStop
    }
}
