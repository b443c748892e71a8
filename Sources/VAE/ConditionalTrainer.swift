import Foundation
import ImageIO
import NN

/// Trains a ConditionalVAE (inpainting or colorization) on an in-memory data set, interleaving the
/// ELBO and prior-path halves of the hybrid objective (see `ConditionalVAE.trainStep` and
/// `ConditionalOptions.priorPathEvery`), with the same loop and run directory as `Trainer`; the
/// masks of a step come from (seed, step) too, so resuming stays exact.
public final class ConditionalTrainer: EpochTrainer {
    public let config: RunConfig
    public let directory: String
    public let task: ConditionalTask
    public let model: ConditionalVAE
    public let optimizer: Adam
    public internal(set) var state: RunState
    public internal(set) var history: [EpochMetrics] = []
    let train: ImageSet, validation: ImageSet
    let masks: MaskGenerator?
    let options: ConditionalOptions
    let batch: ConditionalBatch
    /// Called with each log line.
    public var log: (String) -> Void = { print($0) }
    /// Called after each step with (epoch, step in epoch, steps per epoch, running loss, KL, images/s, seconds left).
    public var onStep: ((Int, Int, Int, Double, Double, Double, Double?) -> Void)?
    /// Polled between steps; true saves a checkpoint and stops.
    public var shouldStop: () -> Bool = { false }

    /// - Parameters:
    ///   - config: model and training options; `config.task` names the task and `config.conditional`
    ///     the inpainting mask mix and the share of prior-path steps
    ///   - directory: the run directory (created)
    ///   - train, validation: the images (RGB for colorization)
    ///   - resume: continue from the directory's checkpoint
    public init(config: RunConfig, directory: String, device: Device, train: ImageSet, validation: ImageSet,
                resume: Bool) throws {
        guard let task = ConditionalTask(runTask: config.task) else {
            throw TrainingError("task '\(config.task)' is not a conditional task (inpaint, colorize)")
        }
        guard train.count >= 1 else { throw TrainingError("the training set is empty") }
        self.task = task
        self.config = config
        self.directory = directory
        // Colorization learns from, and is validated on, pictures that have color.
        self.train = task == .colorize ? train.subset(Colorization.colorImages(in: train)) : train
        self.validation = task == .colorize ? validation.subset(Colorization.colorImages(in: validation)) : validation
        guard self.train.count >= 1 else { throw TrainingError("no training image has color to learn from") }
        options = config.conditional ?? ConditionalOptions()
        masks = task == .inpaint ? try MaskGenerator(parsing: options.masks ?? "mix") : nil
        let t = config.training
        model = try ConditionalVAE(config.model, task: task, device: device, maxBatch: min(t.batch, self.train.count), seed: t.seed)
        optimizer = Adam(model.parameters, learningRate: t.learningRate, clipNorm: t.clipNorm)
        batch = ConditionalBatch(task: task, channels: config.model.channels, height: config.model.height,
                                 width: config.model.width, capacity: model.maxBatch, masks: masks)
        state = RunState()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if resume {
            let saved = try Checkpoint.loadConfig(directory)
            guard saved.model == config.model, saved.task == config.task else {
                throw TrainingError("\(directory): the checkpoint is of another model or task; cannot resume with these options")
            }
            try Checkpoint.load(into: model, optimizer: optimizer, from: directory)
            state = try Checkpoint.loadState(directory)
            history = EpochMetrics.read(directory)
        } else {
            try Checkpoint.saveConfig(config, to: directory)
        }
    }

    var trainingCount: Int { train.count }
    var batchSize: Int { model.maxBatch }

    /// The training masks of a step: image `position` of the batch of step `step`.
    func maskRNG(step: Int64, position: Int) -> SplitMix64 {
        MaskGenerator.generator(seed: ConditionalNoise.masks.seed(config.training.seed) ^ (UInt64(step) &* 0xD1B5_4A32_D192_ED03),
                                index: position)
    }

    /// Trains until the epochs or minutes run out, or `shouldStop` says so.
    @discardableResult
    public func run() throws -> RunState { try runEpochs() }

    /// One step of the hybrid objective; the prior-path steps train the same networks on the
    /// generation path, so only the ELBO steps report a loss.
    func trainStep(indices: ArraySlice<Int>, step: Int64, beta: Float) throws -> LossSums? {
        batch.fill(from: train, indices: indices, mirror: options.mirror ?? false) { position, _ in
            self.maskRNG(step: step, position: position)
        }
        try model.load(batch)
        let priorPath = options.isPriorPathStep(step)
        let sums = try model.trainStep(beta: beta, freeBits: config.training.freeBits, priorPath: priorPath,
                                       seed: config.training.seed, optimizer: optimizer)
        return priorPath ? nil : sums
    }

    /// -log p(x | c) bounded by one posterior sample, on up to `limit` validation images with
    /// masks fixed by the run's seed: the summed terms, and how many values they score.
    public func validationLoss(limit: Int = 1000) throws -> (sums: LossSums, values: Int)? {
        let n = min(limit, validation.count)
        guard n > 0 else { return nil }
        var sums = LossSums(), values = 0
        let seed = config.training.seed ^ 0x7A1
        for start in stride(from: 0, to: n, by: model.maxBatch) {
            let idx = start..<min(start + model.maxBatch, n)
            batch.fill(from: validation, indices: idx) { _, index in MaskGenerator.generator(seed: seed, index: index) }
            try model.load(batch)
            sums += try model.evaluateBatch(seed: seed, counter: UInt64(start * model.config.latent))
            values += batch.countedValues
        }
        return (sums, values)
    }

    func validate() throws -> ValidationSummary? {
        guard let result = try validationLoss() else { return nil }
        let val = result.sums, values = result.values
        // Bits per scored value (the missing ones when inpainting), on the 8-bit scale.
        let v = Double(max(val.images, 1)), dims = Double(max(values, 1)) / v
        let shift = config.model.likelihood == .gaussian ? dims * Foundation.log(256.0) : 0
        return ValidationSummary(negativeELBO: val.negativeELBO, reconstruction: val.reconstruction / v, kl: val.kl / v,
                                 bitsPerDim: (val.negativeELBO + shift) / (dims * Foundation.log(2.0)))
    }

    func saveCheckpoint() throws {
        try Checkpoint.save(model: model, optimizer: optimizer, state: state, to: directory)
    }
}
