import Foundation
import ImageIO
import NN

/// The training loop every model family shares: it owns the run's state (batch order, KL
/// warm-up, cosine learning rate, epoch and time limits, interruption, NaN stop, metrics.csv,
/// checkpoints) and drives a family's `computeGradients` with Adam.
///
/// The batch order of epoch e comes from (seed, e) and each step's noise from (seed, step), so a
/// resumed run ends with the same weights as an uninterrupted one (same seed and thread count).
public final class EpochLoop {
    public let config: RunConfig
    public let directory: String
    public let optimizer: Adam
    public internal(set) var state: RunState
    public internal(set) var history: [EpochMetrics] = []
    public var events: TrainingEvents
    let family: any TrainingFamily

    /// The model being trained.
    public var model: any CheckpointableModel { family.checkpointable }

    /// Prepares the run directory: a new run saves its configuration; a resumed one loads the
    /// weights, optimizer moments, state and metrics of the same model and task.
    init(config: RunConfig, directory: String, family: any TrainingFamily, resume: Bool, events: TrainingEvents) throws {
        self.config = config
        self.directory = directory
        self.family = family
        self.events = events
        optimizer = Adam(family.checkpointable.parameters, learningRate: config.training.learningRate,
                         clipNorm: config.training.clipNorm)
        state = RunState()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if resume {
            let saved = try Checkpoint.loadConfig(directory)
            guard saved.model == config.model, saved.task == config.task else {
                throw VAEError("\(directory): the checkpoint is of another model or task (\(saved.model.arch), \(saved.task.rawValue)); cannot resume with these options")
            }
            try Checkpoint.load(into: family.checkpointable, optimizer: optimizer, from: directory)
            state = try Checkpoint.loadState(directory)
            history = EpochMetrics.read(directory)
        } else {
            try Checkpoint.saveConfig(config, to: directory)
        }
    }

    var batchesPerEpoch: Int { max(1, family.trainingCount / family.batchSize) }

    /// The epoch's batch order: a permutation seeded by (seed, epoch).
    func order(epoch: Int) -> [Int] {
        SplitMix64.permutation(count: family.trainingCount, seed: Noise.derive(config.training.seed, epoch))
    }

    /// The KL weight at a step: linear warm-up from 0 to beta over `warmupEpochs`.
    func beta(at step: Int64) -> Float {
        let t = config.training
        guard !config.model.autoencoder else { return 0 }
        let warm = t.warmupEpochs * Double(batchesPerEpoch)
        guard warm > 0 else { return t.beta }
        return t.beta * Float(min(1, Double(step + 1) / warm))
    }

    /// Trains until the epochs or minutes run out, or `shouldStop` says so; saves a checkpoint
    /// after every epoch and at the end.
    @discardableResult
    public func run() throws -> RunState {
        let t = config.training
        let bpe = batchesPerEpoch, B = family.batchSize
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
            if events.shouldStop() {
                events.log("interrupted at step \(state.step): saving a checkpoint")
                try saveCheckpoint()
                return state
            }
            let epoch = Int(state.step / Int64(bpe)), inEpoch = Int(state.step % Int64(bpe))
            if orderEpoch != epoch {
                order = self.order(epoch: epoch)
                orderEpoch = epoch
            }
            if t.cosineDecay {
                let progress = totalSteps.map { Double(state.step) / Double($0) } ?? state.seconds / (t.minutes! * 60)
                optimizer.learningRate = t.learningRate * Float(0.5 * (1 + cos(Double.pi * min(progress, 1))))
            }
            let sums = try family.computeGradients(indices: order[(inEpoch * B)..<((inEpoch + 1) * B)], step: state.step,
                                                   beta: beta(at: state.step))
            try optimizer.update()
            state.step = optimizer.step
            if let sums {
                guard sums.reconstruction.isFinite, sums.kl.isFinite else {
                    throw VAEError("the loss became \(sums.reconstruction + sums.kl) at step \(state.step) (epoch \(epoch + 1)); stopped, keeping the last good checkpoint in \(directory). Try a lower --lr or gradient clipping.")
                }
                epochSums += sums
            }
            epochImages += B
            state.seconds = baseSeconds + Date().timeIntervalSince(sessionStart)
            let rate = Double(epochImages) / max(Date().timeIntervalSince(epochStart), 1e-9)
            var left: Double?
            if let totalSteps { left = Double(totalSteps - state.step) * Double(B) / rate }
            if let m = t.minutes { left = min(left ?? .infinity, m * 60 - state.seconds) }
            events.progress(TrainingProgress(epoch: epoch, step: inEpoch + 1, stepsPerEpoch: bpe,
                                             loss: epochSums.negativeELBO, kl: epochSums.kl / Double(max(epochSums.images, 1)),
                                             imagesPerSecond: rate, secondsLeft: left))

            if inEpoch + 1 == bpe || finished() || events.shouldStop() {
                let paused = Date()
                let (m, groups) = try endEpoch(epoch: epoch, sums: epochSums, rate: rate)
                events.log(String(format: "epoch %d  step %lld  loss %.3f (rec %.3f, kl %.3f)  val %.3f  %.4f bits/dim  %.0f img/s",
                                  epoch + 1, state.step, m.trainLoss, m.trainReconstruction, m.trainKL, m.valLoss,
                                  m.bitsPerDim, m.imagesPerSecond))
                if !groups.isEmpty {
                    events.log("  val KL per group (active units): " + groups.map {
                        String(format: "%@ %.2f (%d)", $0.name, $0.kl, $0.activeUnits)
                    }.joined(separator: ", "))
                }
                epochSums = LossSums()
                epochImages = 0
                // Time spent validating and saving is not training time.
                sessionStart += Date().timeIntervalSince(paused)
                epochStart = Date()
            }
        }
        state.finished = true
        try saveCheckpoint()
        return state
    }

    /// Validation, metrics.csv and a checkpoint at the end of an epoch (or of the run).
    func endEpoch(epoch: Int, sums: LossSums, rate: Double) throws -> (EpochMetrics, [GroupEvaluation]) {
        let val = try family.validate()
        let n = Double(max(sums.images, 1))
        let m = EpochMetrics(epoch: epoch + 1, step: state.step, trainLoss: sums.negativeELBO,
                             trainReconstruction: sums.reconstruction / n, trainKL: sums.kl / n,
                             valLoss: val?.negativeELBO ?? .nan, valReconstruction: val?.reconstruction ?? .nan,
                             valKL: val?.kl ?? .nan, bitsPerDim: val?.bitsPerDim ?? .nan, imagesPerSecond: rate,
                             seconds: state.seconds)
        history.append(m)
        try FileIO.writeAtomically(Array(([EpochMetrics.header] + history.map(\.csv)).joined(separator: "\n").utf8) + [0x0A],
                                   to: (directory as NSString).appendingPathComponent("metrics.csv"))
        try saveCheckpoint()
        return (m, val?.groups ?? [])
    }

    /// Writes weights, optimizer moments and state into the run directory.
    func saveCheckpoint() throws {
        try Checkpoint.save(model: family.checkpointable, optimizer: optimizer, state: state, to: directory)
    }
}
