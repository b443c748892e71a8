import Foundation
import ImageIO
import NN

/// Trains a ConvVAE on an in-memory data set, saving the run directory after every epoch.
///
/// The batch order of epoch e comes from (seed, e) and each step's noise from (seed, step), so a
/// resumed run ends with the same weights as an uninterrupted one (same seed and thread count).
public final class Trainer: EpochTrainer {
    public let config: RunConfig
    public let directory: String
    public let model: ConvVAE
    public let optimizer: Adam
    public internal(set) var state: RunState
    public internal(set) var history: [EpochMetrics] = []
    let train: ImageSet, validation: ImageSet
    /// Host memory a batch passes through on its way to a device without host-visible tensors.
    let staging: UnsafeMutablePointer<Float>
    /// Called with each log line (epoch summaries, messages).
    public var log: (String) -> Void = { print($0) }
    /// Called after each step with (epoch, step in epoch, steps per epoch, running loss, KL, images/s, seconds left).
    public var onStep: ((Int, Int, Int, Double, Double, Double, Double?) -> Void)?
    /// Polled between steps; true saves a checkpoint and stops.
    public var shouldStop: () -> Bool = { false }

    /// - Parameters:
    ///   - config: model and training options
    ///   - directory: the run directory (created)
    ///   - device: where to compute
    ///   - train, validation: the data
    ///   - resume: continue from the directory's checkpoint
    public init(config: RunConfig, directory: String, device: Device, train: ImageSet, validation: ImageSet,
                resume: Bool) throws {
        let t = config.training
        guard train.count >= 1 else { throw TrainingError("the training set is empty") }
        self.config = config
        self.directory = directory
        self.train = train
        self.validation = validation
        model = try ConvVAE(config.model, device: device, maxBatch: min(t.batch, max(train.count, 1)), seed: t.seed)
        staging = .allocate(capacity: model.maxBatch * config.model.dimensions)
        optimizer = Adam(model.parameters, learningRate: t.learningRate, clipNorm: t.clipNorm)
        state = RunState()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if resume {
            let saved = try Checkpoint.loadConfig(directory)
            guard saved.model == config.model else {
                throw TrainingError("\(directory): the checkpoint is of another model (\(saved.model.arch)); cannot resume with these options")
            }
            try Checkpoint.load(into: model, optimizer: optimizer, from: directory)
            state = try Checkpoint.loadState(directory)
            history = EpochMetrics.read(directory)
        } else {
            try Checkpoint.saveConfig(config, to: directory)
        }
    }

    deinit { staging.deallocate() }

    var trainingCount: Int { train.count }
    var batchSize: Int { model.maxBatch }

    /// Trains until the epochs or minutes run out, or `shouldStop` says so.
    @discardableResult
    public func run() throws -> RunState { try runEpochs() }

    func trainStep(indices: ArraySlice<Int>, step: Int64, beta: Float) throws -> LossSums? {
        if let host = model.target.host {
            train.copyBatch(indices: indices, into: host)
            model.target.setBatch(indices.count)
        } else {
            train.copyBatch(indices: indices, into: staging)
            try model.loadBatch(staging, batch: indices.count)
        }
        let t = config.training
        return try model.trainStep(StepSettings(beta: beta, freeBits: t.freeBits, binarize: t.binarize),
                                   seed: t.seed, optimizer: optimizer)
    }

    func validate() throws -> ValidationSummary? {
        guard validation.count > 0 else { return nil }
        var evaluator = Evaluator(model: model, binarize: config.training.binarize)
        evaluator.seed = config.training.seed
        let v = try evaluator.evaluate(validation, limit: 2000)
        return ValidationSummary(negativeELBO: v.negativeELBO, reconstruction: v.reconstruction, kl: v.kl,
                                 bitsPerDim: v.bitsPerDim)
    }

    func saveCheckpoint() throws {
        try Checkpoint.save(model: model, optimizer: optimizer, state: state, to: directory)
    }
}
