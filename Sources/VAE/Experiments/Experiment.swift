import Foundation
import ImageIO
import NN

/// What the experiment commands share (`vae experiment pca|ablation|beta`): the data, the run
/// directory they write (report.html, experiment.json and one ordinary run directory per model
/// they train, which `vae sample` and `vae evaluate` accept), the training budget every model
/// gets, and the device.
public struct Experiment {
    /// The models' training: data, architecture, latent size and options (epochs, batch,
    /// learning rate, seed ...), as `vae train` takes them.
    public var request: TrainingRequest
    public var directory: String
    public let device: Device
    public var events: TrainingEvents
    /// Test images the evaluations use at most.
    public var evaluationImages = 1000

    public init(request: TrainingRequest, directory: String, device: Device, events: TrainingEvents = TrainingEvents()) {
        self.request = request
        self.directory = directory
        self.device = device
        self.events = events
    }

    func path(_ file: String) -> String { (directory as NSString).appendingPathComponent(file) }

    /// A model trained by `config` in the subdirectory `name`: trained now, or taken from a
    /// finished run of the same configuration already there (an experiment run again only
    /// redoes its analysis).
    /// - Throws: `VAEError` when the subdirectory holds another run.
    func train(_ config: RunConfig, name: String) throws -> (model: ConvVAE, state: RunState, directory: String) {
        let dir = path(name)
        var log = events
        let parent = events.log
        log.log = { parent("[\(name)] " + $0) }
        if FileIO.exists((dir as NSString).appendingPathComponent("model.safetensors")) {
            var saved = try Checkpoint.loadConfig(dir)
            saved.training.threads = config.training.threads  // the thread count does not change the model
            guard saved == config, try Checkpoint.loadState(dir).finished else {
                throw VAEError("\(dir): holds another or an unfinished run; give the experiment another --out")
            }
            log.log("finished run of the same configuration found; not training again")
        } else {
            try TrainingJob(config: config, directory: dir).run(on: device, events: log)
        }
        let state = try Checkpoint.loadState(dir)
        return (try ConvVAE.load(from: dir, device: device).0, state, dir)
    }

    /// The training and test images at the models' geometry (the split training used).
    func data(_ config: RunConfig) throws -> (train: ImageSet, test: ImageSet) {
        let m = config.model, spec = request.data
        let train = try spec.loadSplits(channels: m.channels, height: m.height, width: m.width, seed: config.training.seed).train
        let test = try spec.load(split: .test, channels: m.channels, height: m.height, width: m.width, seed: config.training.seed)
        return (train, test.subset(0..<min(evaluationImages, test.count)))
    }

    /// Writes experiment.json (the result) and report.html.
    func write(_ result: some Encodable, report: Report) throws {
        try FileIO.writeAtomically(try Checkpoint.encodeJSON(result), to: path("experiment.json"))
        try report.write(to: path("report.html"))
        events.log("wrote \(path("report.html")) and experiment.json")
    }

    /// The summary rows every experiment's report starts with.
    func summary(_ config: RunConfig, state: RunState) -> [(String, String)] {
        let t = config.training, m = config.model
        return [("data", t.data), ("model", "\(m.arch), widths \(m.widths), latent \(m.latent), \(m.likelihood.rawValue)"),
                ("budget per model", "\(t.epochs.map { "\($0) epochs" } ?? "\(t.minutes ?? 0) minutes"), \(state.step) steps of batch \(t.batch), lr \(t.learningRate)\(t.cosineDecay ? " with cosine decay" : ""), seed \(t.seed)")]
    }
}

/// The table an experiment writes (experiment.json) and prints with `--json`: one row per model.
public struct ExperimentTable<Row: Codable & Sendable>: Codable, Sendable {
    public var data: String
    public var latent: Int
    public var epochs: Int?
    /// Test images the rows are measured on.
    public var testImages: Int
    /// Importance samples of the rows' IW bounds, when they have them.
    public var iwSamples: Int?
    public var rows: [Row]
}

/// A grid of the first images of each row set, one set per row (originals, reconstructions ...).
func rowsGrid(_ rows: [[Image]]) -> Image {
    ImageGrid.compose(rows.flatMap { $0 }, columns: rows.map(\.count).max() ?? 1)
}

/// Formats a number for a table ("-" when absent or not finite).
func cell(_ v: Double?, _ format: String = "%.3f") -> String {
    guard let v, v.isFinite else { return "-" }
    return String(format: format, v)
}
