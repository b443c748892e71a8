import Foundation
import ImageIO
import NN

/// A whole `vae train` job: load the data, train (a new run, or a resumed one), then write what a
/// finished run adds: the fitted prior, pictures and report.html.
public struct TrainingJob {
    public let config: RunConfig
    public let directory: String
    public let resume: Bool
    /// A resumed inpainting run that continues with another training mask mix.
    let changedMasks: Bool

    /// A new run of a resolved configuration into `directory`, which must not hold one already.
    public init(config: RunConfig, directory: String) throws {
        if FileIO.exists((directory as NSString).appendingPathComponent(Checkpoint.modelFile)) {
            throw VAEError("\(directory) already holds a trained run; use --resume or another --out")
        }
        self.init(config: config, directory: directory, resume: false, changedMasks: false)
    }

    init(config: RunConfig, directory: String, resume: Bool, changedMasks: Bool) {
        self.config = config
        self.directory = directory
        self.resume = resume
        self.changedMasks = changedMasks
    }

    /// Continues the run in `directory`.
    /// - Parameters:
    ///   - epochs, minutes: a new length for the run (one of them), or nil to keep its own
    ///   - masks: inpainting: continue with this training mask mix (fine-tuning), recorded in
    ///     config.json so that a later resume keeps it
    public static func resuming(_ directory: String, epochs: Int? = nil, minutes: Double? = nil,
                                masks: MaskGenerator? = nil) throws -> TrainingJob {
        var config = try Checkpoint.loadConfig(directory)
        if let epochs { config.training.epochs = epochs; config.training.minutes = nil }
        if let minutes { config.training.minutes = minutes; config.training.epochs = nil }
        var changed = false
        if config.task == .inpaint, let masks, masks != config.conditional?.masks {
            var options = config.conditional ?? ConditionalOptions()
            options.masks = masks
            config.conditional = options
            changed = true
        }
        return TrainingJob(config: config, directory: directory, resume: true, changedMasks: changed)
    }

    /// Trains on `device` until the run's end or an interruption (then the checkpoint is saved
    /// and the run can be resumed).
    /// - Returns: where the run stands (`finished` when it reached its end).
    @discardableResult
    public func run(on device: Device, events: TrainingEvents = TrainingEvents()) throws -> RunState {
        let spec = try DataSpec(parsing: config.training.data)
        let m = config.model
        let (train, validation) = try spec.loadSplits(channels: m.channels, height: m.height, width: m.width,
                                                      seed: config.training.seed)
        events.log("data: \(spec), \(train.count) training and \(validation.count) validation images of \(m.channels)x\(m.height)x\(m.width)")
        events.log("device: \(device.description)")
        let family: any TrainingFamily
        if config.task.conditional != nil {
            family = try ConditionalTraining(config: config, device: device, train: train, validation: validation)
        } else if config.model.modelFamily == .pixelcnn {
            throw VAEError("\(directory): holds a PixelCNN prior; continue it with vae train-prior --checkpoint RUN_DIR --resume")
        } else if config.model.modelFamily == .vqvae {
            family = try VQTraining(config: config, device: device, train: train, validation: validation)
        } else {
            family = try VAETraining(config: config, device: device, train: train, validation: validation)
        }
        if changedMasks, let masks = config.conditional?.masks {
            try Checkpoint.saveConfig(config, to: directory)
            events.log("continuing with training masks \(masks)")
        }
        let loop = try EpochLoop(config: config, directory: directory, family: family, resume: resume, events: events)
        return try loop.runAndFinish(resume: "vae train --out \(directory) --resume")
    }
}
