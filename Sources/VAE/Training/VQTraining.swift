import Foundation
import ImageIO
import NN

/// A VQ-VAE's part of training (see `TrainingFamily`): batches of images in, the gradients of
/// the reconstruction and commitment terms out, the codebook updated, and at the end of every
/// epoch the codes no position chose in it restarted from the batch's encoder vectors (also
/// after the first step: the codes then start among the encoder's vectors, not near zero). It
/// reports the reconstruction and, in the KL slot, the commitment term |z - c|^2 (unweighted).
final class VQTraining: TrainingFamily {
    let config: RunConfig
    let model: VQVAE
    let train: ImageSet, validation: ImageSet
    let staging: UnsafeMutablePointer<Float>
    /// The processes that share each step's batch; the codebook learns from all of theirs.
    let ranks: Communicator
    /// Codes restarted at the end of the last epoch.
    var restarted = 0

    init(config: RunConfig, device: Device, train: ImageSet, validation: ImageSet, ranks: Communicator = .alone) throws {
        guard train.count >= 1 else { throw VAEError("the training set is empty") }
        self.config = config
        self.train = train
        self.validation = validation
        self.ranks = ranks
        model = try VQVAE(config.model, device: device,
                          maxBatch: try config.training.batch(perRankOf: ranks.size, images: train.count),
                          seed: config.training.seed)
        staging = .allocate(capacity: model.maxBatch * config.model.dimensions)
    }

    deinit { staging.deallocate() }

    var checkpointable: any CheckpointableModel { model }
    var trainingCount: Int { train.count }
    var batchSize: Int { model.maxBatch }
    /// Steps in an epoch of the run (each step takes `batchSize` images on every rank).
    var stepsPerEpoch: Int64 { Int64(max(1, train.count / (model.maxBatch * ranks.size))) }
    var summary: String {
        let m = config.model, o = model.options, map = m.codeMap
        return "VQ-VAE, widths \(m.widths), \(o.codes) codes of \(o.codeDimension) on a \(map[0])x\(map[1]) map, commitment \(o.commitment), \(o.codebook == .ema ? "EMA codebook (decay \(o.decay))" : "codebook loss"), \(m.likelihood.rawValue), \(model.parameterCount) parameters"
    }

    func computeGradients(indices: ArraySlice<Int>, firstRow: UInt64, step: Int64, beta: Float) throws -> LossSums? {
        try train.load(indices, into: model.target, staging: staging)
        let t = config.training
        let sums = try model.lossAndGradients(binarize: t.binarize, seed: t.seed, firstRow: firstRow, ranks: ranks)
        if step == 0 || (step + 1) % stepsPerEpoch == 0 {
            restarted = try model.restartDeadCodes(seed: t.seed, step: step, ranks: ranks)
        }
        return sums
    }

    func validate() throws -> ValidationSummary? {
        guard validation.count > 0 else { return nil }
        let v = try model.evaluate(validation, limit: 2000, binarize: config.training.binarize, seed: config.training.seed)
        return ValidationSummary(negativeELBO: v.negativeELBOUniform, reconstruction: v.reconstruction,
                                 kl: v.negativeELBOUniform - v.reconstruction, bitsPerDim: v.bitsPerDim,
                                 extras: [("val_psnr", v.psnr), ("val_commitment", v.commitment),
                                          ("val_perplexity", v.perplexity), ("val_codes_used", Double(v.codesUsed)),
                                          ("restarted", Double(restarted))])
    }

    func finish(_ run: EpochLoop) throws -> [String] {
        try Report.writeVQRun(model: model, config: config, history: run.history, state: run.state,
                              heldOut: validation, directory: run.directory)
        return ["model.safetensors", "metrics.csv", "reconstructions.png", "report.html"]
    }
}
