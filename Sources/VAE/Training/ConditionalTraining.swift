import Foundation
import ImageIO
import NN

/// A conditional VAE's part of training (inpainting or colorization, see `TrainingFamily`): it
/// interleaves the ELBO and prior-path halves of the hybrid objective (see
/// `ConditionalVAE.trainStep` and `ConditionalOptions.priorPathEvery`); an image's training mask
/// comes from (seed, its row number in the run) too, so resuming stays exact on any number of ranks.
final class ConditionalTraining: TrainingFamily {
    let config: RunConfig
    let task: ConditionalTask
    let model: ConditionalVAE
    let train: TrainingImages, validation: TrainingImages
    let options: ConditionalOptions
    let batch: ConditionalBatch

    /// - Parameters:
    ///   - config: model and training options; `config.task` names the task and `config.conditional`
    ///     the inpainting mask mix and the share of prior-path steps
    ///   - train, validation: the images (RGB for colorization)
    ///   - ranks: the processes that share each step's batch
    init(config: RunConfig, device: Device, train: TrainingImages, validation: TrainingImages, ranks: Int = 1) throws {
        guard let task = config.task.conditional else {
            throw VAEError("task '\(config.task.rawValue)' is not a conditional task (inpaint, colorize)")
        }
        guard train.count >= 1 else { throw VAEError("the training set is empty") }
        self.task = task
        self.config = config
        // Colorization learns from, and is validated on, pictures that have color.
        self.train = task == .colorize ? train.colored() : train
        self.validation = task == .colorize ? validation.colored() : validation
        guard self.train.count >= 1 else { throw VAEError("no training image has color to learn from") }
        options = config.conditional ?? ConditionalOptions()
        let masks = task == .inpaint ? options.masks ?? MaskGenerator(kinds: MaskKind.allCases) : nil
        let t = config.training
        model = try ConditionalVAE(config.model, task: task, device: device,
                                   maxBatch: try t.batch(perRankOf: ranks, images: self.train.count), seed: t.seed,
                                   chroma: options.chroma, headKernel: options.headKernelSize)
        model.temperature = options.completionTemperature
        batch = ConditionalBatch(task: task, channels: config.model.channels, height: config.model.height,
                                 width: config.model.width, capacity: model.maxBatch, masks: masks, chroma: options.chroma)
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
    func computeGradients(indices: ArraySlice<Int>, firstRow: UInt64, step: Int64, beta: Float) throws -> LossSums? {
        let seed = config.training.seed, maskSeed = Noise.Stream.trainingMasks.seed(seed)
        batch.fill(from: train, indices: indices, mirror: options.mirror ?? false) { position, _ in
            MaskGenerator.generator(seed: maskSeed, index: Int(truncatingIfNeeded: firstRow &+ UInt64(position)))
        }
        try model.load(batch)
        if options.isPriorPathStep(step) {
            try model.priorPathLossAndGradients(seed: seed, firstRow: firstRow, samples: options.priorPathDraws)
            return nil
        }
        return try model.lossAndGradients(StepSettings(beta: beta, freeBits: config.training.freeBits), seed: seed,
                                          firstRow: firstRow)
    }

    /// The chroma bins' rebalancing weights from the colors of up to `limit` training pictures
    /// (patches drawn from `seed`): the rarer a color, the more its mistakes cost.
    static func chromaWeights(_ bins: ChromaBins, pictures: TrainingImages, height: Int, width: Int, seed: UInt64,
                              limit: Int = 2000) -> [Float] {
        var histogram = [Double](repeating: 0, count: bins.classes)
        let plane = height * width, positions = (width / bins.stride) * (height / bins.stride)
        var rgb = [Float](repeating: 0, count: 3 * plane), ycc = [Float](repeating: 0, count: 3 * plane)
        var labels = [Float](repeating: 0, count: positions), weights = labels
        let order = SplitMix64.permutation(count: pictures.count, seed: seed).prefix(limit)
        for (n, index) in order.enumerated() {
            var rng = SplitMix64(seed: Noise.derive(seed, n))
            rgb.withUnsafeMutableBufferPointer { _ = pictures.write(index, rng: &rng, mirror: false, into: $0.baseAddress!) }
            ycc.withUnsafeMutableBufferPointer { out in
                rgb.withUnsafeBufferPointer { Image.splitYCbCr(rgb: $0.baseAddress!, plane: plane, luma: out.baseAddress!,
                                                               chroma: out.baseAddress! + plane) }
                labels.withUnsafeMutableBufferPointer { l in
                    weights.withUnsafeMutableBufferPointer { w in
                        bins.label(chroma: out.baseAddress! + plane, width: width, height: height, labels: l.baseAddress!,
                                   weights: w.baseAddress!)
                    }
                }
            }
            for l in labels { histogram[Int(l)] += 1 }
        }
        return ChromaBins.rebalancingWeights(histogram: histogram, perAxis: bins.perAxis)
    }

    /// Held-out pictures for the report: model-sized images, or up to four photos shown at
    /// most 384 pixels wide.
    func heldOutPictures() -> [Image] {
        switch validation {
        case .images(let set):
            return (0..<min(8, set.count)).map { set.image(at: $0) }
        case .patches(let photos, _, _, _):
            return photos.photos.prefix(4).map { p in
                p.width <= 384 ? p : p.resized(width: 384, height: max(1, p.height * 384 / p.width))
            }
        }
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
            batch.fill(from: validation, indices: idx, mirror: false) { _, index in MaskGenerator.generator(seed: seed, index: index) }
            try model.load(batch)
            sums += try model.evaluateBatch(seed: seed, firstRow: UInt64(start))
            values += batch.countedValues
        }
        return (sums, values)
    }

    func validate() throws -> ValidationSummary? {
        guard let result = try validationLoss() else { return nil }
        let val = result.sums
        // Bits per scored value (the missing ones when inpainting), on the 8-bit scale.
        let v = Double(max(val.images, 1)), dims = Double(max(result.values, 1)) / v
        // Quantized colors: bits per predicted position (a categorical has no 8-bit shift).
        let bits = options.chroma == nil ? config.model.likelihood.bitsPerDimension(nats: val.negativeELBO, dimensions: dims)
            : val.negativeELBO / (dims * Foundation.log(2.0))
        return ValidationSummary(negativeELBO: val.negativeELBO, reconstruction: val.reconstruction / v, kl: val.kl / v,
                                 bitsPerDim: bits)
    }

    func finish(_ run: EpochLoop) throws -> [String] {
        ["model.safetensors", "metrics.csv"]
            + (try Report.writeConditionalRun(model: model, config: config, history: run.history, state: run.state,
                                              heldOut: heldOutPictures(), directory: run.directory))
    }
}
