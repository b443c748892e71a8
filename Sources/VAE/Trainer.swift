import Foundation
import ImageIO
import NN

/// A training run failed in a way the user must hear about (NaN loss, a bad resume).
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One line of metrics.csv.
public struct EpochMetrics: Sendable {
    public var epoch: Int
    public var step: Int64
    public var trainLoss: Double, trainReconstruction: Double, trainKL: Double
    public var valLoss: Double, valReconstruction: Double, valKL: Double
    public var bitsPerDim: Double
    public var imagesPerSecond: Double
    public var seconds: Double

    static let header = "epoch,step,train_loss,train_rec,train_kl,val_loss,val_rec,val_kl,val_bits_per_dim,images_per_s,seconds"
    var csv: String {
        let values = [trainLoss, trainReconstruction, trainKL, valLoss, valReconstruction, valKL, bitsPerDim,
                      imagesPerSecond, seconds]
        return ([String(epoch), String(step)] + values.map { String(format: "%.4f", $0) }).joined(separator: ",")
    }
}

/// Trains a ConvVAE on an in-memory data set, saving the run directory after every epoch.
///
/// The batch order of epoch e comes from (seed, e) and each step's noise from (seed, step), so a
/// resumed run ends with the same weights as an uninterrupted one (same seed and thread count).
public final class Trainer {
    public let config: RunConfig
    public let directory: String
    public let model: ConvVAE
    public let optimizer: Adam
    public private(set) var state: RunState
    public private(set) var history: [EpochMetrics] = []
    let train: ImageSet, validation: ImageSet
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
            history = Self.readMetrics(directory)
        } else {
            try Checkpoint.saveConfig(config, to: directory)
        }
    }

    var batchesPerEpoch: Int { max(1, train.count / model.maxBatch) }

    /// The epoch's batch order: a permutation seeded by (seed, epoch).
    func order(epoch: Int) -> [Int] {
        SplitMix64.permutation(count: train.count, seed: config.training.seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// The KL weight at a step: linear warm-up from 0 to beta over `warmupEpochs`.
    func beta(at step: Int64) -> Float {
        let t = config.training
        let warm = t.warmupEpochs * Double(batchesPerEpoch)
        guard warm > 0 else { return t.beta }
        return t.beta * Float(min(1, Double(step + 1) / warm))
    }

    /// Trains until the epochs or minutes run out, or `shouldStop` says so.
    @discardableResult
    public func run() throws -> RunState {
        let t = config.training
        let bpe = batchesPerEpoch, B = model.maxBatch, D = model.config.dimensions
        let totalSteps: Int64? = t.epochs.map { Int64($0 * bpe) } ?? (t.minutes == nil ? Int64(10 * bpe) : nil)
        let staging = UnsafeMutablePointer<Float>.allocate(capacity: B * D)
        defer { staging.deallocate() }
        var settings = StepSettings(beta: t.beta, freeBits: t.freeBits, binarize: t.binarize)
        var epochSums = LossSums()
        var epochImages = 0
        var epochStart = Date()
        var order: [Int] = []
        var orderEpoch = -1
        var sessionStart = Date()
        let baseSeconds = state.seconds

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
                order = self.order(epoch: epoch)
                orderEpoch = epoch
            }
            let idx = order[(inEpoch * B)..<((inEpoch + 1) * B)]
            if let host = model.target.host {
                train.copyBatch(indices: idx, into: host)
                model.target.setBatch(B)
            } else {
                train.copyBatch(indices: idx, into: staging)
                try model.loadBatch(staging, batch: B)
            }
            settings.beta = config.model.autoencoder ? 0 : beta(at: state.step)
            if t.cosineDecay {
                let progress = totalSteps.map { Double(state.step) / Double($0) } ?? state.seconds / (t.minutes! * 60)
                optimizer.learningRate = t.learningRate * Float(0.5 * (1 + cos(Double.pi * min(progress, 1))))
            }
            let sums = try model.trainStep(settings, seed: t.seed, optimizer: optimizer)
            state.step = optimizer.step
            guard sums.reconstruction.isFinite, sums.kl.isFinite else {
                throw TrainingError("the loss became \(sums.reconstruction + sums.kl) at step \(state.step) (epoch \(epoch + 1)); stopped, keeping the last good checkpoint in \(directory). Try a lower --lr or gradient clipping.")
            }
            epochSums += sums
            epochImages += B
            state.seconds = baseSeconds + Date().timeIntervalSince(sessionStart)
            let elapsed = Date().timeIntervalSince(epochStart)
            let rate = Double(epochImages) / max(elapsed, 1e-9)
            var left: Double?
            if let totalSteps { left = Double(totalSteps - state.step) * Double(B) / rate }
            if let m = t.minutes { left = min(left ?? .infinity, m * 60 - state.seconds) }
            onStep?(epoch, inEpoch + 1, bpe, epochSums.negativeELBO, epochSums.kl / Double(max(epochSums.images, 1)),
                    rate, left)

            if inEpoch + 1 == bpe || finished() || shouldStop() {
                let paused = Date()
                let metrics = try endEpoch(epoch: epoch, sums: epochSums, rate: rate)
                log(String(format: "epoch %d  step %lld  loss %.3f (rec %.3f, kl %.3f)  val %.3f  %.4f bits/dim  %.0f img/s",
                           epoch + 1, state.step, metrics.trainLoss, metrics.trainReconstruction, metrics.trainKL,
                           metrics.valLoss, metrics.bitsPerDim, metrics.imagesPerSecond))
                epochSums = LossSums()
                epochImages = 0
                // Time spent validating and saving is not training time.
                let pause = Date().timeIntervalSince(paused)
                sessionStart += pause
                epochStart = Date()
            }
        }
        state.finished = true
        try Checkpoint.save(model: model, optimizer: optimizer, state: state, to: directory)
        return state
    }

    /// Validation, metrics.csv and a checkpoint at the end of an epoch (or of the run).
    func endEpoch(epoch: Int, sums: LossSums, rate: Double) throws -> EpochMetrics {
        var evaluator = Evaluator(model: model, binarize: config.training.binarize)
        evaluator.seed = config.training.seed
        let val = validation.count > 0 ? try evaluator.evaluate(validation, limit: 2000) : nil
        let n = Double(max(sums.images, 1))
        let m = EpochMetrics(epoch: epoch + 1, step: state.step, trainLoss: sums.negativeELBO,
                             trainReconstruction: sums.reconstruction / n, trainKL: sums.kl / n,
                             valLoss: val?.negativeELBO ?? .nan, valReconstruction: val?.reconstruction ?? .nan,
                             valKL: val?.kl ?? .nan, bitsPerDim: val?.bitsPerDim ?? .nan, imagesPerSecond: rate,
                             seconds: state.seconds)
        history.append(m)
        try FileIO.writeAtomically(Array(([EpochMetrics.header] + history.map(\.csv)).joined(separator: "\n").utf8) + [0x0A],
                                   to: (directory as NSString).appendingPathComponent("metrics.csv"))
        try Checkpoint.save(model: model, optimizer: optimizer, state: state, to: directory)
        return m
    }

    static func readMetrics(_ directory: String) -> [EpochMetrics] {
        guard let text = try? String(contentsOfFile: (directory as NSString).appendingPathComponent("metrics.csv"), encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: ",").map(String.init)
            guard f.count == 11, let e = Int(f[0]), let s = Int64(f[1]) else { return nil }
            let v = f[2...].map { Double($0) ?? .nan }
            return EpochMetrics(epoch: e, step: s, trainLoss: v[0], trainReconstruction: v[1], trainKL: v[2], valLoss: v[3],
                                valReconstruction: v[4], valKL: v[5], bitsPerDim: v[6], imagesPerSecond: v[7], seconds: v[8])
        }
    }
}
