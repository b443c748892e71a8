import Foundation
import ImageIO
import NN

/// A whole `vae train` job: load the data, train (a new run, or a resumed one), then write what a
/// finished run adds: the fitted prior, pictures and report.html.
public struct TrainingJob {
    public let config: RunConfig
    public let directory: String
    public let resume: Bool
    /// The processes that train together (see `EpochLoop`); rank 0 reads and writes `directory`.
    public let ranks: Communicator
    /// What a resumed run applies that differs from its saved configuration, one line each.
    public let changes: [String]
    /// A resumed run's lock, taken before its configuration is read (a new run's is taken by
    /// the loop once the data and model are ready, so a failure before leaves no folder).
    let lock: RunLock?

    /// A new run of a resolved configuration into `directory`, which must not hold one already.
    /// - Throws: `VAEError` for options out of range, an `--out` that is a file, or a directory
    ///   that holds a trained run.
    public init(config: RunConfig, directory: String, ranks: Communicator = .alone) throws {
        do { try config.check() } catch { throw VAEError("the options: \(error)") }
        _ = try ranks.shared { () -> Bool in
            if FileIO.exists(directory), !FileIO.isDirectory(directory) {
                throw VAEError("\(directory): exists and is not a directory")
            }
            if FileIO.exists((directory as NSString).appendingPathComponent(Checkpoint.modelFile)) {
                throw VAEError("\(directory) already holds a trained run; use --resume or another --out")
            }
            return true
        }
        self.init(config: config, directory: directory, resume: false, ranks: ranks, changes: [], lock: nil)
    }

    init(config: RunConfig, directory: String, resume: Bool, ranks: Communicator, changes: [String], lock: RunLock?) {
        self.config = config
        self.directory = directory
        self.resume = resume
        self.ranks = ranks
        self.changes = changes
        self.lock = lock
    }

    /// Continues the run in `directory`: takes its lock, recovers a checkpoint a crash
    /// interrupted, and reads its configuration (rank 0, which sends it to the others).
    /// - Parameters:
    ///   - epochs, minutes: a new length for the run (one of them), or nil to keep its own
    ///   - masks: inpainting: continue with this training mask mix (fine-tuning), recorded in
    ///     config.json with the next checkpoint so that a later resume keeps it
    ///   - ranks: the processes
    /// - Throws: `VAEError` when the directory holds no run or no checkpoint yet, or another
    ///   training holds it.
    public static func resuming(_ directory: String, epochs: Int? = nil, minutes: Double? = nil,
                                masks: MaskGenerator? = nil, ranks: Communicator = .alone) throws -> TrainingJob {
        var lock: RunLock?
        var config = try ranks.shared { () -> RunConfig in
            guard FileIO.exists((directory as NSString).appendingPathComponent(Checkpoint.configFile)) else {
                throw VAEError("\(directory): holds no run to resume (no config.json)")
            }
            lock = try RunLock(directory)
            try Checkpoint.recover(directory)
            let config = try Checkpoint.loadConfig(directory)
            guard FileIO.exists((directory as NSString).appendingPathComponent(Checkpoint.modelFile)) else {
                throw VAEError("\(directory): has no checkpoint yet (the run stopped before its first one); start it again without --resume")
            }
            _ = try Checkpoint.loadState(directory)  // a whole checkpoint, before any data is read
            return config
        }
        var changes: [String] = []
        let t = config.training
        if let epochs, epochs != t.epochs {
            changes.append("\(epochs) epochs (was \(t.epochs.map { "\($0) epochs" } ?? t.minutes.map { "\($0) minutes" } ?? "10 epochs"))")
            config.training.epochs = epochs
            config.training.minutes = nil
        }
        if let minutes, minutes != t.minutes {
            changes.append("\(minutes) minutes (was \(t.minutes.map { "\($0) minutes" } ?? t.epochs.map { "\($0) epochs" } ?? "10 epochs"))")
            config.training.minutes = minutes
            config.training.epochs = nil
        }
        if config.task == .inpaint, let masks, masks != config.conditional?.masks {
            changes.append("training masks \(masks) (was \(config.conditional?.masks?.description ?? "every kind"))")
            var options = config.conditional ?? ConditionalOptions()
            options.masks = masks
            config.conditional = options
        }
        return TrainingJob(config: config, directory: directory, resume: true, ranks: ranks, changes: changes, lock: lock)
    }

    /// Trains on `device` until the run's end or an interruption (then the checkpoint is saved
    /// and the run can be resumed).
    /// - Returns: where the run stands (`finished` when it reached its end).
    /// On several ranks, rank 0 alone logs and writes; every rank returns the same state.
    @discardableResult
    public func run(on device: Device, events: TrainingEvents = TrainingEvents()) throws -> RunState {
        let n = ranks.size
        guard config.training.batch % n == 0 else {
            throw VAEError("--batch \(config.training.batch) does not divide among \(n) processes; give a multiple of \(n)")
        }
        var events = events
        if !ranks.isRoot { events.log = { _ in }; events.progress = { _ in } }
        var config = self.config
        let spec = try DataSpec(parsing: config.training.data)
        let m = config.model, seed = config.training.seed
        let family: any TrainingFamily
        if config.task.conditional != nil {
            let train: TrainingImages, validation: TrainingImages
            if let options = config.conditional, let size = options.patch {
                let (photos, held) = try spec.loadPhotos(seed: seed).split(seed: seed)
                train = .patches(of: photos, size: size, scales: options.zoomRange)
                validation = .patches(of: held, size: size, scales: 1...1)
                events.log("data: \(spec), \(photos.count) training and \(held.count) validation photos; \(train.count) patches of \(size)x\(size) per epoch, zoomed out up to \(options.zoomRange.upperBound)x")
            } else {
                let (images, held) = try spec.loadSplits(channels: m.channels, height: m.height, width: m.width, seed: seed)
                (train, validation) = (.images(images), .images(held))
                events.log("data: \(spec), \(images.count) training and \(held.count) validation images of \(m.channels)x\(m.height)x\(m.width)")
            }
            events.log("device: \(device.description)")
            if var chroma = config.conditional?.chroma, chroma.weights.isEmpty {
                // A new run of quantized colors weighs each bin by its rarity in the training pictures.
                chroma.weights = ConditionalTraining.chromaWeights(chroma, pictures: train.colored(), height: m.height,
                                                                   width: m.width, seed: seed)
                config.conditional?.chroma = chroma
            }
            family = try ConditionalTraining(config: config, device: device, train: train, validation: validation, ranks: n)
        } else if config.model.modelFamily == .pixelcnn {
            throw VAEError("\(directory): holds a PixelCNN prior; continue it with vae train-prior --checkpoint RUN_DIR --resume")
        } else {
            let (train, validation) = try spec.loadSplits(channels: m.channels, height: m.height, width: m.width, seed: seed)
            events.log("data: \(spec), \(train.count) training and \(validation.count) validation images of \(m.channels)x\(m.height)x\(m.width)")
            events.log("device: \(device.description)")
            family = config.model.modelFamily == .vqvae
                ? try VQTraining(config: config, device: device, train: train, validation: validation, ranks: ranks)
                : try VAETraining(config: config, device: device, train: train, validation: validation, ranks: n)
        }
        if n > 1 { events.log("processes: \(n) ranks of \(family.batchSize) images per step (\(ranks.description))") }
        for change in changes { events.log("continuing with \(change)") }
        let loop = try EpochLoop(config: config, directory: directory, family: family, resume: resume, events: events,
                                 ranks: ranks, lock: lock)
        return try loop.runAndFinish(resume: "vae train --out \(directory) --resume")
    }
}
