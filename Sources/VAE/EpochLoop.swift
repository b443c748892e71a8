import Foundation
import ImageIO
import NN

/// A training run failed in a way the user must hear about (NaN loss, a bad resume).
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Validation figures at the end of an epoch, per image.
struct ValidationSummary {
    var negativeELBO: Double, reconstruction: Double, kl: Double, bitsPerDim: Double
}

/// A trainer that `runEpochs` drives: it supplies one optimizer step, validation and the
/// checkpoint; the loop supplies everything the trainers share (batch order, KL warm-up, cosine
/// learning rate, time and epoch limits, interruption, NaN stop, progress, metrics.csv).
///
/// The batch order of epoch e comes from (seed, e) and each step's noise from (seed, step), so a
/// resumed run ends with the same weights as an uninterrupted one (same seed and thread count).
protocol EpochTrainer: AnyObject {
    var config: RunConfig { get }
    var directory: String { get }
    var optimizer: Adam { get }
    var state: RunState { get set }
    var history: [EpochMetrics] { get set }
    var log: (String) -> Void { get }
    var onStep: ((Int, Int, Int, Double, Double, Double, Double?) -> Void)? { get }
    var shouldStop: () -> Bool { get }
    /// Images in the training set.
    var trainingCount: Int { get }
    /// Images per step.
    var batchSize: Int { get }
    /// Loads the images `indices` for step `step` and takes one optimizer step.
    /// - Returns: the batch's ELBO terms, or nil for a step whose loss is not the ELBO.
    func trainStep(indices: ArraySlice<Int>, step: Int64, beta: Float) throws -> LossSums?
    /// The validation loss, or nil without validation images.
    func validate() throws -> ValidationSummary?
    /// Writes weights, optimizer moments and state into the run directory.
    func saveCheckpoint() throws
}

extension EpochTrainer {
    var batchesPerEpoch: Int { max(1, trainingCount / batchSize) }

    /// The epoch's batch order: a permutation seeded by (seed, epoch).
    func order(epoch: Int) -> [Int] {
        SplitMix64.permutation(count: trainingCount, seed: config.training.seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
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
    func runEpochs() throws -> RunState {
        let t = config.training
        let bpe = batchesPerEpoch, B = batchSize
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
            let sums = try trainStep(indices: order[(inEpoch * B)..<((inEpoch + 1) * B)], step: state.step,
                                     beta: beta(at: state.step))
            state.step = optimizer.step
            if let sums {
                guard sums.reconstruction.isFinite, sums.kl.isFinite else {
                    throw TrainingError("the loss became \(sums.reconstruction + sums.kl) at step \(state.step) (epoch \(epoch + 1)); stopped, keeping the last good checkpoint in \(directory). Try a lower --lr or gradient clipping.")
                }
                epochSums += sums
            }
            epochImages += B
            state.seconds = baseSeconds + Date().timeIntervalSince(sessionStart)
            let rate = Double(epochImages) / max(Date().timeIntervalSince(epochStart), 1e-9)
            var left: Double?
            if let totalSteps { left = Double(totalSteps - state.step) * Double(B) / rate }
            if let m = t.minutes { left = min(left ?? .infinity, m * 60 - state.seconds) }
            onStep?(epoch, inEpoch + 1, bpe, epochSums.negativeELBO, epochSums.kl / Double(max(epochSums.images, 1)),
                    rate, left)

            if inEpoch + 1 == bpe || finished() || shouldStop() {
                let paused = Date()
                let m = try endEpoch(epoch: epoch, sums: epochSums, rate: rate)
                log(String(format: "epoch %d  step %lld  loss %.3f (rec %.3f, kl %.3f)  val %.3f  %.4f bits/dim  %.0f img/s",
                           epoch + 1, state.step, m.trainLoss, m.trainReconstruction, m.trainKL, m.valLoss,
                           m.bitsPerDim, m.imagesPerSecond))
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
    func endEpoch(epoch: Int, sums: LossSums, rate: Double) throws -> EpochMetrics {
        let val = try validate()
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
        return m
    }
}
