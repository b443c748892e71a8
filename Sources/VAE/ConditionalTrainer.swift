import Foundation
import ImageIO
import NN

/// Trains a ConditionalVAE (inpainting or colorization) on an in-memory data set, interleaving the
/// ELBO and prior-path halves of the hybrid objective (see `ConditionalVAE.trainStep` and
/// `ConditionalOptions.priorPathEvery`), with the same
/// run directory as `Trainer`: config.json, model and optimizer safetensors, state.json and
/// metrics.csv after every epoch, and the same exact resume (batch order from (seed, epoch), noise
/// and masks from (seed, step)).
public final class ConditionalTrainer {
    public let config: RunConfig
    public let directory: String
    public let task: ConditionalTask
    public let model: ConditionalVAE
    public let optimizer: Adam
    public private(set) var state: RunState
    public private(set) var history: [EpochMetrics] = []
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
            history = Trainer.readMetrics(directory)
        } else {
            try Checkpoint.saveConfig(config, to: directory)
        }
    }

    var batchesPerEpoch: Int { max(1, train.count / model.maxBatch) }

    /// The KL weight at a step: linear warm-up from 0 to beta over `warmupEpochs`.
    func beta(at step: Int64) -> Float {
        let t = config.training
        let warm = t.warmupEpochs * Double(batchesPerEpoch)
        guard warm > 0 else { return t.beta }
        return t.beta * Float(min(1, Double(step + 1) / warm))
    }

    /// The training masks of a step: image `position` of the batch of step `step`.
    func maskRNG(step: Int64, position: Int) -> SplitMix64 {
        MaskGenerator.generator(seed: ConditionalNoise.masks.seed(config.training.seed) ^ (UInt64(step) &* 0xD1B5_4A32_D192_ED03),
                                index: position)
    }

    /// Trains until the epochs or minutes run out, or `shouldStop` says so.
    @discardableResult
    public func run() throws -> RunState {
        let t = config.training
        let bpe = batchesPerEpoch, B = model.maxBatch
        let totalSteps: Int64? = t.epochs.map { Int64($0 * bpe) } ?? (t.minutes == nil ? Int64(10 * bpe) : nil)
        var epochSums = LossSums()
        var epochImages = 0
        var epochStart = Date()
        var order: [Int] = []
        var orderEpoch = -1
        var sessionStart = Date()
        let baseSeconds = state.seconds
        state.finished = false  // a resumed run that goes on is not finished until it ends

        func finished() -> Bool {
            if let totalSteps, state.step >= totalSteps { return true }
            if let m = t.minutes, state.seconds >= m * 60 { return true }
            return false
        }

        while !finished() {
            if shouldStop() {
                log("interrupted at step \(state.step): saving a checkpoint")
                try Checkpoint.save(model: model, optimizer: optimizer, state: state, to: directory)
                return state
            }
            let epoch = Int(state.step / Int64(bpe)), inEpoch = Int(state.step % Int64(bpe))
            if orderEpoch != epoch {
                order = SplitMix64.permutation(count: train.count, seed: t.seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
                orderEpoch = epoch
            }
            let step = state.step
            batch.fill(from: train, indices: order[(inEpoch * B)..<((inEpoch + 1) * B)]) { position, _ in
                self.maskRNG(step: step, position: position)
            }
            try model.loadBatch(targets: batch.targets, conditions: batch.conditions, batch: B)
            let priorPath = options.isPriorPathStep(state.step)
            let sums = try model.trainStep(beta: beta(at: state.step), freeBits: t.freeBits, priorPath: priorPath,
                                           seed: t.seed, optimizer: optimizer)
            state.step = optimizer.step
            guard sums.reconstruction.isFinite, sums.kl.isFinite else {
                throw TrainingError("the loss became \(sums.reconstruction + sums.kl) at step \(state.step) (epoch \(epoch + 1)); stopped, keeping the last good checkpoint in \(directory). Try a lower --lr or gradient clipping.")
            }
            // The epoch's train loss is the ELBO of the posterior steps; the prior-path steps
            // train the same networks on the generation path.
            if !priorPath { epochSums += sums }
            epochImages += B  // both halves count for the speed
            state.seconds = baseSeconds + Date().timeIntervalSince(sessionStart)
            let rate = Double(epochImages) / max(Date().timeIntervalSince(epochStart), 1e-9)
            var left: Double?
            if let totalSteps { left = Double(totalSteps - state.step) * Double(B) / rate }
            if let m = t.minutes { left = min(left ?? .infinity, m * 60 - state.seconds) }
            onStep?(epoch, inEpoch + 1, bpe, epochSums.negativeELBO, epochSums.kl / Double(max(epochSums.images, 1)),
                    rate, left)

            if inEpoch + 1 == bpe || finished() || shouldStop() {
                let paused = Date()
                let metrics = try endEpoch(epoch: epoch, sums: epochSums, rate: rate)
                log(String(format: "epoch %d  step %lld  loss %.3f (rec %.3f, kl %.3f)  val %.3f  %.0f img/s",
                           epoch + 1, state.step, metrics.trainLoss, metrics.trainReconstruction, metrics.trainKL,
                           metrics.valLoss, metrics.imagesPerSecond))
                epochSums = LossSums()
                epochImages = 0
                sessionStart += Date().timeIntervalSince(paused)
                epochStart = Date()
            }
        }
        state.finished = true
        try Checkpoint.save(model: model, optimizer: optimizer, state: state, to: directory)
        return state
    }

    /// -log p(x | c) bounded by one posterior sample, on up to `limit` validation images with
    /// masks fixed by the run's seed, per image in nats.
    public func validationLoss(limit: Int = 1000) throws -> LossSums? {
        let n = min(limit, validation.count)
        guard n > 0 else { return nil }
        var sums = LossSums()
        let seed = config.training.seed ^ 0x7A1
        for start in stride(from: 0, to: n, by: model.maxBatch) {
            let idx = start..<min(start + model.maxBatch, n)
            batch.fill(from: validation, indices: idx) { _, index in MaskGenerator.generator(seed: seed, index: index) }
            try model.loadBatch(targets: batch.targets, conditions: batch.conditions, batch: idx.count)
            sums += try model.evaluateBatch(seed: seed, counter: UInt64(start * model.config.latent))
        }
        return sums
    }

    /// Validation, metrics.csv and a checkpoint at the end of an epoch (or of the run).
    func endEpoch(epoch: Int, sums: LossSums, rate: Double) throws -> EpochMetrics {
        let val = try validationLoss()
        let n = Double(max(sums.images, 1)), v = Double(max(val?.images ?? 1, 1))
        let dims = Double(model.targetItem)
        let shift = config.model.likelihood == .gaussian ? dims * Foundation.log(256.0) : 0
        let m = EpochMetrics(epoch: epoch + 1, step: state.step, trainLoss: sums.negativeELBO,
                             trainReconstruction: sums.reconstruction / n, trainKL: sums.kl / n,
                             valLoss: val?.negativeELBO ?? .nan, valReconstruction: val.map { $0.reconstruction / v } ?? .nan,
                             valKL: val.map { $0.kl / v } ?? .nan,
                             bitsPerDim: val.map { ($0.negativeELBO + shift) / (dims * Foundation.log(2.0)) } ?? .nan,
                             imagesPerSecond: rate, seconds: state.seconds)
        history.append(m)
        try FileIO.writeAtomically(Array(([EpochMetrics.header] + history.map(\.csv)).joined(separator: "\n").utf8) + [0x0A],
                                   to: (directory as NSString).appendingPathComponent("metrics.csv"))
        try Checkpoint.save(model: model, optimizer: optimizer, state: state, to: directory)
        return m
    }
}
