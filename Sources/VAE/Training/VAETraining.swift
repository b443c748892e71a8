import Foundation
import ImageIO
import NN

/// The plain VAE's part of training (see `TrainingFamily`), for every unconditional family
/// (`GenerativeModel`): batches of images in, the ELBO's gradients out; when the run ends, a
/// fitted prior where the family has one, the pictures and the report.
final class VAETraining: TrainingFamily {
    let config: RunConfig
    let model: any GenerativeModel
    let train: ImageSet, validation: ImageSet
    /// Host memory a batch passes through on its way to a device without host-visible tensors.
    let staging: UnsafeMutablePointer<Float>
    /// The model again when it is label-conditional (it takes each batch's labels).
    let labelled: ConvVAE?
    /// The latent groups' KL and active units at the last validation (models with several).
    var lastGroups: [GroupEvaluation] = []

    /// - Parameter ranks: the processes that share each step's batch
    init(config: RunConfig, device: Device, train: ImageSet, validation: ImageSet, ranks: Int = 1) throws {
        guard train.count >= 1 else { throw VAEError("the training set is empty") }
        self.config = config
        self.train = train
        self.validation = validation
        model = try makeGenerativeModel(config.model, device: device,
                                        maxBatch: try config.training.batch(perRankOf: ranks, images: train.count),
                                        seed: config.training.seed)
        labelled = (model as? ConvVAE).flatMap { $0.conditioning == nil ? nil : $0 }
        try labelled?.checkLabels(of: train, name: config.training.data)
        staging = .allocate(capacity: model.maxBatch * config.model.dimensions)
    }

    deinit { staging.deallocate() }

    var checkpointable: any CheckpointableModel { model }
    var trainingCount: Int { train.count }
    var batchSize: Int { model.maxBatch }
    var summary: String {
        let m = config.model
        guard let deep = m.deep, m.modelFamily == .deep else {
            return "\(m.arch), latent \(m.latent), \(m.likelihood.rawValue)\(m.classes.map { ", conditioned on \($0) label classes" } ?? ""), \(model.parameterCount) parameters"
        }
        return "\(m.arch): widths \(m.widths), \(deep.blocks) residual block(s) per stage, latent groups \(deep.groups) of \(m.latent) channels (\(model.codeSize) dimensions), \(m.likelihood.rawValue), \(model.parameterCount) parameters"
    }

    func computeGradients(indices: ArraySlice<Int>, firstRow: UInt64, step: Int64, beta: Float) throws -> LossSums? {
        try train.load(indices, into: model.target, staging: staging)
        if let labelled, let labels = train.labels {
            try labelled.setLabels(count: indices.count) { labels[indices[indices.startIndex + $0]] }
        }
        let t = config.training
        let settings = StepSettings(beta: beta, freeBits: t.freeBits, binarize: t.binarize,
                                    reconstructionWeight: t.reconstructionWeight)
        return try model.lossAndGradients(settings, seed: t.seed, firstRow: firstRow)
    }

    func validate() throws -> ValidationSummary? {
        guard validation.count > 0 else { return nil }
        var evaluator = Evaluator(model: model, binarize: config.training.binarize)
        evaluator.seed = config.training.seed
        let v = try evaluator.evaluate(validation, limit: 2000)
        lastGroups = v.groups.count > 1 ? v.groups : []
        return ValidationSummary(negativeELBO: v.negativeELBO, reconstruction: v.reconstruction, kl: v.kl,
                                 bitsPerDim: v.bitsPerDim, groups: lastGroups)
    }

    func finish(_ run: EpochLoop) throws -> [String] {
        let fitStart = Date()
        let prior = try model.fitPrior(to: train, seed: config.training.seed, binarize: config.training.binarize)
        if let prior {
            try Checkpoint.savePrior(prior, to: run.directory)
            let group = model.latentGroups.count > 1 ? " of group \(model.latentGroups[prior.group].name)" : ""
            run.events.log(String(format: "prior: a %d-component Gaussian mixture over %d of %d code values%@, fitted to the codes of %d training images in %.1f s",
                                  prior.mixture.components, prior.coordinates.count, prior.dimension, group,
                                  min(train.count, FittedPrior.maxImages), Date().timeIntervalSince(fitStart)))
        }
        return ["model.safetensors"] + (prior == nil ? [] : ["prior.safetensors"]) + ["metrics.csv"]
            + (try Report.writeRun(model: model, config: config, history: run.history, state: run.state,
                                   heldOut: validation, prior: prior, groups: lastGroups, directory: run.directory))
    }
}
