import Foundation
import ImageIO
import NN

/// A PixelCNN prior's part of training (see `TrainingFamily`): the code maps of the VQ-VAE's
/// training images (encoded once, before the first step) in batches, -log p(codes) and its
/// gradients out. It reports -log p(codes) per map in the reconstruction slot and nothing in
/// the KL slot; the bits-per-dimension column holds bits per code.
final class PriorTraining: TrainingFamily {
    let config: RunConfig
    let vq: VQVAE
    let model: PixelCNN
    let trainCodes: [Float], validationCodes: [Float]
    let staging: UnsafeMutablePointer<Float>

    /// - Parameters:
    ///   - config: the prior's configuration (the VQ-VAE's model with family `.pixelcnn`)
    ///   - vq: the trained VQ-VAE (its batch at least the prior's)
    ///   - train, validation: the VQ-VAE's images, encoded here to code maps
    init(config: RunConfig, vq: VQVAE, train: ImageSet, validation: ImageSet) throws {
        guard train.count >= 1 else { throw VAEError("the training set is empty") }
        self.config = config
        self.vq = vq
        let t = config.training
        model = try PixelCNN(config.model, device: vq.device, maxBatch: min(t.batch, train.count, vq.maxBatch), seed: t.seed)
        trainCodes = try vq.codes(of: train, binarize: t.binarize, seed: t.seed)
        validationCodes = validation.count > 0
            ? try vq.codes(of: validation, count: 2000, binarize: t.binarize, seed: t.seed ^ 0x7A1) : []
        staging = .allocate(capacity: model.maxBatch * model.positions)
    }

    deinit { staging.deallocate() }

    var checkpointable: any CheckpointableModel { model }
    var trainingCount: Int { trainCodes.count / model.positions }
    var batchSize: Int { model.maxBatch }
    var summary: String {
        let o = model.options
        return "PixelCNN prior over \(model.codes) codes on a \(model.height)x\(model.width) map: \(o.layers + 1) gated layers of \(o.channels) channels (7x7 mask A, then \(o.kernel)x\(o.kernel) mask B), \(model.parameterCount) parameters"
    }

    func computeGradients(indices: ArraySlice<Int>, firstRow: UInt64, step: Int64, beta: Float) throws -> LossSums? {
        let P = model.positions
        trainCodes.withUnsafeBufferPointer { codes in
            for (row, i) in indices.enumerated() { (staging + row * P).update(from: codes.baseAddress! + i * P, count: P) }
        }
        try model.loadCodes(staging, batch: indices.count)
        let nll = try model.lossAndGradients(logits: try model.forward(try vq.quantizer.embed(model.labels)))
        return LossSums(reconstruction: nll, kl: 0, images: indices.count)
    }

    func validate() throws -> ValidationSummary? {
        guard !validationCodes.isEmpty else { return nil }
        let nll = try model.negativeLogLikelihood(of: validationCodes, quantizer: vq.quantizer)
        let mean = nll.reduce(0, +) / Double(nll.count)
        return ValidationSummary(negativeELBO: mean, reconstruction: mean, kl: 0,
                                 bitsPerDim: mean / Double(model.positions) / log(2.0))
    }

    func finish(_ run: EpochLoop) throws -> [String] {
        let maps = try model.sample(count: 64, temperature: 1, seed: config.training.seed ^ 0x5A, quantizer: vq.quantizer)
        try ImageGrid.compose(try vq.decode(codes: maps), columns: 8)
            .writePNG(to: (run.directory as NSString).appendingPathComponent("samples.png"))
        return ["model.safetensors", "metrics.csv", "samples.png"]
    }
}

/// A whole `vae train-prior` job: a PixelCNN over the code maps of a trained VQ-VAE's training
/// images, in RUN_DIR/prior (config.json, model.safetensors, optimizer.safetensors, state.json,
/// metrics.csv, samples.png), new or resumed, with the epoch loop's checkpoints and NaN stop.
public struct PriorTrainingJob {
    /// The VQ-VAE's run directory, and the prior's inside it.
    public let run: String, directory: String
    public let config: RunConfig
    let resume: Bool

    /// The prior's folder in a VQ-VAE's run directory.
    public static func directory(of run: String) -> String { (run as NSString).appendingPathComponent("prior") }

    /// A new prior for the VQ-VAE in `run`.
    /// - Parameters:
    ///   - options: the PixelCNN's size
    ///   - training: batch, learning rate, length and threads (the data, its split and binarization are the VQ-VAE's)
    public init(run: String, options: PixelCNNOptions, training: TrainingOptions) throws {
        let vq = try Checkpoint.loadConfig(run)
        try vq.expect(.vqvae, in: run, purpose: "vae train-prior needs a VQ-VAE's run directory")
        directory = PriorTrainingJob.directory(of: run)
        if FileIO.exists((directory as NSString).appendingPathComponent(Checkpoint.modelFile)) {
            throw VAEError("\(directory) already holds a trained prior; use --resume")
        }
        var model = vq.model
        model.family = .pixelcnn
        model.pixelcnn = options
        model.arch = "pixelcnn"
        var t = training
        t.data = vq.training.data
        t.seed = vq.training.seed
        t.binarize = vq.training.binarize
        self.run = run
        config = RunConfig(model: model, training: t)
        resume = false
    }

    /// Continues the prior of the VQ-VAE in `run`, optionally with a new length.
    public init(resuming run: String, epochs: Int? = nil, minutes: Double? = nil) throws {
        directory = PriorTrainingJob.directory(of: run)
        guard FileIO.isDirectory(directory) else { throw VAEError("\(run): has no prior to resume; train one with vae train-prior") }
        var c = try Checkpoint.loadConfig(directory)
        try c.expect(.pixelcnn, in: directory)
        if let epochs { c.training.epochs = epochs; c.training.minutes = nil }
        if let minutes { c.training.minutes = minutes; c.training.epochs = nil }
        self.run = run
        config = c
        resume = true
    }

    /// Trains on `device` until the prior's end or an interruption.
    @discardableResult
    public func run(on device: Device, events: TrainingEvents = TrainingEvents()) throws -> RunState {
        let spec = try DataSpec(parsing: config.training.data)
        let m = config.model
        let (train, validation) = try spec.loadSplits(channels: m.channels, height: m.height, width: m.width,
                                                      seed: config.training.seed)
        let (vq, _) = try VQVAE.load(from: run, device: device, maxBatch: min(config.training.batch, max(train.count, 1)))
        events.log("data: codes of \(spec): \(train.count) training and \(min(validation.count, 2000)) validation images through \(run)")
        let family = try PriorTraining(config: config, vq: vq, train: train, validation: validation)
        let loop = try EpochLoop(config: config, directory: directory, family: family, resume: resume, events: events)
        return try loop.runAndFinish(resume: "vae train-prior --checkpoint \(run) --resume")
    }
}
