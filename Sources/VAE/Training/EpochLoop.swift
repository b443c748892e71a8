import Foundation
import ImageIO
import NN

/// The training loop every model family shares: it owns the run's state (batch order, KL
/// warm-up, cosine learning rate, epoch and time limits, interruption, NaN stop, metrics.csv,
/// checkpoints) and drives a family's `computeGradients` with Adam.
///
/// The batch order of epoch e comes from (seed, e) and each image's noise from (seed, its row
/// number in the run), so a resumed run ends with the same weights as an uninterrupted one
/// (same seed and thread count).
///
/// Data parallelism: on N ranks (`Communicator`) each step's global batch of `--batch` images
/// is split into N disjoint shares, one per rank, in the order's sequence; each rank computes
/// its share's mean gradient into one contiguous buffer (`GradientBuffer`), one all-reduce
/// sums the buffers, and Adam takes 1/N of the sum, so every rank applies the same update
/// (a hash check compares the weights at every epoch's end, and every 10 steps in debug
/// builds). A second, small all-reduce sums the step's loss terms, whether a rank was asked to
/// stop, and rank 0's clock, so that every rank logs, stops and ends at the same step. Rank 0
/// alone reads and writes the run directory; the others receive the state and weights.
public final class EpochLoop {
    public let config: RunConfig
    public let directory: String
    public let optimizer: Adam
    public internal(set) var state: RunState
    public internal(set) var history: [EpochMetrics] = []
    public var events: TrainingEvents
    let family: any TrainingFamily
    /// The ranks that train together (alone: this process).
    let ranks: Communicator
    /// Every gradient in one buffer, which the ranks sum.
    let gradients: GradientBuffer

    /// The model being trained.
    public var model: any CheckpointableModel { family.checkpointable }

    /// Holds the run directory while the loop lives (rank 0 alone; nil on the other ranks).
    let lock: RunLock?

    /// Prepares the run directory (rank 0; the other ranks receive the state, weights and
    /// moments from it): takes its lock (or keeps `lock`, taken by the caller), recovers a
    /// checkpoint a crash interrupted; then a new run saves its configuration, and a resumed
    /// one loads the weights, optimizer moments, state and metrics of the same model and task.
    init(config: RunConfig, directory: String, family: any TrainingFamily, resume: Bool, events: TrainingEvents,
         ranks: Communicator = .alone, lock: RunLock? = nil) throws {
        self.config = config
        self.directory = directory
        self.family = family
        self.events = events
        self.ranks = ranks
        let parameters = family.checkpointable.parameters
        gradients = try GradientBuffer(parameters)
        optimizer = Adam(parameters, learningRate: config.training.learningRate, clipNorm: config.training.clipNorm)
        optimizer.gradientScale = 1 / Float(ranks.size)
        state = RunState()
        var history: [EpochMetrics] = []
        var held: RunLock?
        // Rank 0 reads the directory; its state (or its error) goes to every rank.
        try ranks.barrier()  // after loading data, which takes each rank its own time
        state = try ranks.shared { [directory, family, optimizer, events] in
            do { try FileIO.makeDirectory(directory) } catch { throw VAEError("\(error)") }
            held = try lock ?? RunLock(directory)
            for line in try Checkpoint.recover(directory) { events.log("\(directory): \(line)") }
            let weights = Checkpoint.path(directory, Checkpoint.modelFile)
            guard resume else {
                guard !FileIO.exists(weights) else {
                    throw VAEError("\(directory) already holds a trained run; use --resume or another --out")
                }
                try Checkpoint.saveConfig(config, to: directory)
                return RunState()
            }
            let saved = try Checkpoint.loadConfig(directory)
            guard saved.model == config.model, saved.task == config.task else {
                throw VAEError("\(directory): the checkpoint is of another model or task (\(saved.model.arch), \(saved.task.rawValue)); cannot resume with these options")
            }
            guard FileIO.exists(weights) else {
                throw VAEError("\(directory): has no checkpoint yet (the run stopped before its first one); start it again without --resume")
            }
            try Checkpoint.load(into: family.checkpointable, optimizer: optimizer, from: directory)
            let state = try Checkpoint.loadState(directory)
            history = EpochMetrics.read(directory, upTo: state.step)
            return state
        }
        self.lock = held
        self.history = history
        optimizer.step = state.step
        for p in parameters {
            try ranks.broadcast(p.value)
            try ranks.broadcast(p.m)
            try ranks.broadcast(p.v)
        }
    }

    /// Images per step over all ranks (the run's batch).
    var globalBatch: Int { family.batchSize * ranks.size }

    var batchesPerEpoch: Int { max(1, family.trainingCount / globalBatch) }

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

    /// What the ranks sum after each step, beside the gradients: the loss terms, whether a
    /// rank was asked to stop, and rank 0's training seconds (the others add 0).
    enum Figure: Int, CaseIterable { case reconstruction, kl, images, stop, seconds }

    /// Steps between two weight comparisons across ranks in debug builds (release builds
    /// compare at every epoch's end).
    static let debugCheckEvery: Int64 = 10

    /// Trains until the epochs or minutes run out, or `shouldStop` says so (on any rank); saves
    /// a checkpoint after every epoch and at the end.
    @discardableResult
    public func run() throws -> RunState {
        let t = config.training
        let bpe = batchesPerEpoch, B = family.batchSize, G = globalBatch, rank = ranks.rank
        let totalSteps: Int64? = t.epochs.map { Int64($0 * bpe) } ?? (t.minutes == nil ? Int64(10 * bpe) : nil)
        var epochSums = LossSums()
        var epochImages = 0
        var epochStart = Date()
        var order: [Int] = []
        var orderEpoch = -1
        var sessionStart = Date()
        var stop = false
        let baseSeconds = state.seconds
        state.finished = false  // a resumed run that goes on is not finished until it ends
        let figures = UnsafeMutableBufferPointer<Double>.allocate(capacity: Figure.allCases.count)
        defer { figures.deallocate() }

        func finished() -> Bool {
            if let totalSteps, state.step >= totalSteps { return true }
            if let m = t.minutes, state.seconds >= m * 60 { return true }
            return false
        }

        while !finished() {
            if stop {
                events.log("interrupted at step \(state.step): saving a checkpoint")
                if ranks.isRoot { try saveCheckpoint() }
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
            // This rank's share of the step's rows: rows step * G + rank * B ..< + B.
            let first = inEpoch * G + rank * B
            let sums = try family.computeGradients(indices: order[first..<(first + B)],
                                                   firstRow: UInt64(state.step) &* UInt64(G) &+ UInt64(rank * B),
                                                   step: state.step, beta: beta(at: state.step))
            try ranks.sum(gradients.all)
            figures[Figure.reconstruction.rawValue] = sums?.reconstruction ?? 0
            figures[Figure.kl.rawValue] = sums?.kl ?? 0
            figures[Figure.images.rawValue] = Double(sums?.images ?? 0)
            figures[Figure.stop.rawValue] = events.shouldStop() ? 1 : 0
            figures[Figure.seconds.rawValue] = ranks.isRoot ? baseSeconds + Date().timeIntervalSince(sessionStart) : 0
            try ranks.sum(figures)
            try optimizer.update()
            state.step = optimizer.step
            state.seconds = figures[Figure.seconds.rawValue]
            stop = figures[Figure.stop.rawValue] > 0
            if sums != nil {
                let all = LossSums(reconstruction: figures[Figure.reconstruction.rawValue], kl: figures[Figure.kl.rawValue],
                                   images: Int(figures[Figure.images.rawValue]))
                guard all.reconstruction.isFinite, all.kl.isFinite else {
                    throw VAEError("the loss became \(all.reconstruction + all.kl) at step \(state.step) (epoch \(epoch + 1)); stopped, keeping the last good checkpoint in \(directory). Try a lower --lr or gradient clipping.")
                }
                epochSums += all
            }
            #if DEBUG
            if state.step % Self.debugCheckEvery == 0 { try checkSameWeights() }
            #endif
            epochImages += G
            let rate = Double(epochImages) / max(Date().timeIntervalSince(epochStart), 1e-9)
            var left: Double?
            if let totalSteps { left = Double(totalSteps - state.step) * Double(G) / rate }
            if let m = t.minutes { left = min(left ?? .infinity, m * 60 - state.seconds) }
            events.progress(TrainingProgress(epoch: epoch, step: inEpoch + 1, stepsPerEpoch: bpe,
                                             loss: epochSums.negativeELBO, kl: epochSums.kl / Double(max(epochSums.images, 1)),
                                             imagesPerSecond: rate, secondsLeft: left))

            // A stop saves at the top of the loop, at once: mpirun kills the ranks a second or
            // two after it asked them to end, too soon for a validation pass.
            if inEpoch + 1 == bpe || finished() {
                let paused = Date()
                try checkSameWeights()
                if ranks.isRoot {
                    let (m, groups) = try endEpoch(epoch: epoch, sums: epochSums, rate: rate)
                    let val = m.valLoss.isNaN ? "no validation images"
                        : String(format: "val %.3f  %.4f bits/dim", m.valLoss, m.bitsPerDim)
                    events.log(String(format: "epoch %d  step %lld  loss %.3f (rec %.3f, kl %.3f)  ", epoch + 1, state.step,
                                      m.trainLoss, m.trainReconstruction, m.trainKL)
                               + val + String(format: "  %.0f img/s", m.imagesPerSecond)
                               + m.extras.map { String(format: "  %@ %.4g", $0.name, $0.value) }.joined())
                    if !groups.isEmpty {
                        events.log("  val KL per group (active units): " + groups.map {
                            String(format: "%@ %.2f (%d)", $0.name, $0.kl, $0.activeUnits)
                        }.joined(separator: ", "))
                    }
                }
                try ranks.barrier()  // the others wait, without a time limit, while rank 0 validates and saves
                epochSums = LossSums()
                epochImages = 0
                // Time spent validating and saving is not training time.
                sessionStart += Date().timeIntervalSince(paused)
                epochStart = Date()
            }
        }
        state.finished = true
        if ranks.isRoot { try saveCheckpoint() }
        return state
    }

    /// Trains (see `run`); when the run reaches its end, rank 0 writes what the family adds to it.
    /// - Parameter resume: the command that continues an interrupted run, for the log
    @discardableResult
    func runAndFinish(resume command: String) throws -> RunState {
        events.log("model: \(family.summary)\(state.step > 0 ? ", resuming at step \(state.step)" : "")")
        let state = try run()
        guard state.finished else {
            events.log("stopped; resume with: \(command)")
            return state
        }
        guard ranks.isRoot else { return state }
        let files = try family.finish(self)
        events.log("wrote \(directory)/" + files.joined(separator: ", "))
        return state
    }

    /// Throws unless every rank holds the same weights (a hash of all parameters compared
    /// across ranks); alone, there is nothing to compare.
    func checkSameWeights() throws {
        guard ranks.size > 1 else { return }
        let values = try model.parameters.flatMap { try $0.value.read() }
        guard try ranks.agree(values) else {
            throw VAEError("rank \(ranks.rank) of \(ranks.size): the ranks' weights differ after step \(state.step); the gradient sum is not the same on every rank")
        }
    }

    /// Validation, metrics.csv and a checkpoint at the end of an epoch (or of the run).
    func endEpoch(epoch: Int, sums: LossSums, rate: Double) throws -> (EpochMetrics, [GroupEvaluation]) {
        let val = try family.validate()
        let n = Double(max(sums.images, 1))
        let m = EpochMetrics(epoch: epoch + 1, step: state.step, trainLoss: sums.negativeELBO,
                             trainReconstruction: sums.reconstruction / n, trainKL: sums.kl / n,
                             valLoss: val?.negativeELBO ?? .nan, valReconstruction: val?.reconstruction ?? .nan,
                             valKL: val?.kl ?? .nan, bitsPerDim: val?.bitsPerDim ?? .nan, imagesPerSecond: rate,
                             seconds: state.seconds, extras: val?.extras ?? [])
        history.append(m)
        try saveCheckpoint()
        return (m, val?.groups ?? [])
    }

    /// Writes the checkpoint (configuration, weights, optimizer moments, state, metrics) into
    /// the run directory as one set.
    func saveCheckpoint() throws {
        try Checkpoint.save(config: config, model: family.checkpointable, optimizer: optimizer, state: state,
                            metrics: history, to: directory)
    }
}
