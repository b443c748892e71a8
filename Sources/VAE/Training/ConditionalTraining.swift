import Foundation
import ImageIO
import NN

/// A conditional VAE's part of training (inpainting or colorization, see `TrainingFamily`): it
/// interleaves the ELBO and prior-path halves of the hybrid objective (see
/// `ConditionalVAE.trainStep` and `ConditionalOptions.priorPathEvery`); the masks of a step come
/// from (seed, step) too, so resuming stays exact.
final class ConditionalTraining: TrainingFamily {
    let config: RunConfig
    let task: ConditionalTask
    let model: ConditionalVAE
    let train: ImageSet, validation: ImageSet
    let options: ConditionalOptions
    let batch: ConditionalBatch

    /// - Parameters:
    ///   - config: model and training options; `config.task` names the task and `config.conditional`
    ///     the inpainting mask mix and the share of prior-path steps
    ///   - train, validation: the images (RGB for colorization)
    init(config: RunConfig, device: Device, train: ImageSet, validation: ImageSet) throws {
        guard let task = config.task.conditional else {
            throw VAEError("task '\(config.task.rawValue)' is not a conditional task (inpaint, colorize)")
        }
        guard train.count >= 1 else { throw VAEError("the training set is empty") }
        self.task = task
        self.config = config
        // Colorization learns from, and is validated on, pictures that have color.
        self.train = task == .colorize ? train.subset(Colorization.colorImages(in: train)) : train
        self.validation = task == .colorize ? validation.subset(Colorization.colorImages(in: validation)) : validation
        guard self.train.count >= 1 else { throw VAEError("no training image has color to learn from") }
        options = config.conditional ?? ConditionalOptions()
        let masks = task == .inpaint ? options.masks ?? MaskGenerator(kinds: MaskKind.allCases) : nil
        let t = config.training
        model = try ConditionalVAE(config.model, task: task, device: device, maxBatch: min(t.batch, self.train.count),
                                   seed: t.seed)
        batch = ConditionalBatch(task: task, channels: config.model.channels, height: config.model.height,
                                 width: config.model.width, capacity: model.maxBatch, masks: masks)
    }

    var checkpointable: any CheckpointableModel { model }
    var trainingCount: Int { train.count }
    var batchSize: Int { model.maxBatch }
    var summary: String {
        let m = config.model
        let blocks = m.family == .deep ? ", \(m.deep?.blocks ?? 0) residual block(s) per stage" : ""
        return "conditional VAE for \(task.rawValue), \(m.arch) widths \(m.widths)\(blocks), latent \(m.latent), \(m.likelihood.rawValue), \(model.parameterCount) parameters\(options.masks.map { ", masks \($0)" } ?? "")"
    }

    /// One step of the hybrid objective; the prior-path steps train the same networks on the
    /// generation path, so only the ELBO steps report a loss.
    func computeGradients(indices: ArraySlice<Int>, step: Int64, beta: Float) throws -> LossSums? {
        let maskSeed = Noise.trainingMaskSeed(run: config.training.seed, step: step)
        batch.fill(from: train, indices: indices, mirror: options.mirror ?? false) { position, _ in
            MaskGenerator.generator(seed: maskSeed, index: position)
        }
        try model.load(batch)
        let seed = config.training.seed, counter = model.noiseCounter(step: step)
        if options.isPriorPathStep(step) {
            try model.priorPathLossAndGradients(seed: seed, counter: counter)
            return nil
        }
        return try model.lossAndGradients(StepSettings(beta: beta, freeBits: config.training.freeBits), seed: seed,
                                          counter: counter)
    }

    /// -log p(x | c) bounded by one posterior sample, on up to `limit` validation images with
    /// masks fixed by the run's seed: the summed terms, and how many values they score.
    func validationLoss(limit: Int = 1000) throws -> (sums: LossSums, values: Int)? {
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
        let val = result.sums
        // Bits per scored value (the missing ones when inpainting), on the 8-bit scale.
        let v = Double(max(val.images, 1)), dims = Double(max(result.values, 1)) / v
        return ValidationSummary(negativeELBO: val.negativeELBO, reconstruction: val.reconstruction / v, kl: val.kl / v,
                                 bitsPerDim: config.model.likelihood.bitsPerDimension(nats: val.negativeELBO, dimensions: dims))
    }

    func finish(_ run: EpochLoop) throws -> [String] {
        try Report.writeConditionalRun(model: model, config: config, history: run.history, state: run.state,
                                       heldOut: validation, directory: run.directory)
        return ["model.safetensors", "metrics.csv", "completions.png", "report.html"]
    }
}
