import Foundation
import ImageIO
import NN

/// What a run directory holds besides the weights: the model, the training options and
/// where training stands. Written as config.json and state.json.
public struct TrainingOptions: Codable, Equatable, Sendable {
    public var data: String = "shapes"
    public var batch: Int = 128
    public var learningRate: Float = 1e-3
    /// Decay the learning rate to zero along a half cosine over the run (epochs or minutes).
    public var cosineDecay: Bool = false
    public var beta: Float = 1
    public var warmupEpochs: Double = 0
    public var freeBits: Float = 0
    public var clipNorm: Float? = nil
    public var binarize: Bool = false
    public var seed: UInt64 = 1
    public var threads: Int = 0
    public var epochs: Int? = nil
    public var minutes: Double? = nil

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingOptions()
        data = try c.decodeIfPresent(String.self, forKey: .data) ?? d.data
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? d.batch
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        cosineDecay = try c.decodeIfPresent(Bool.self, forKey: .cosineDecay) ?? d.cosineDecay
        beta = try c.decodeIfPresent(Float.self, forKey: .beta) ?? d.beta
        warmupEpochs = try c.decodeIfPresent(Double.self, forKey: .warmupEpochs) ?? d.warmupEpochs
        freeBits = try c.decodeIfPresent(Float.self, forKey: .freeBits) ?? d.freeBits
        clipNorm = try c.decodeIfPresent(Float.self, forKey: .clipNorm)
        binarize = try c.decodeIfPresent(Bool.self, forKey: .binarize) ?? d.binarize
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        minutes = try c.decodeIfPresent(Double.self, forKey: .minutes)
    }
}

/// The saved configuration of a run: model and training options.
public struct RunConfig: Codable, Equatable, Sendable {
    public var model: ModelConfig
    public var training: TrainingOptions
    /// What the run trains for: "vae" (the default), or a conditional task.
    public var task: String = "vae"
    /// Conditional runs (inpaint, colorize): their own options; nil for a plain VAE.
    public var conditional: ConditionalOptions? = nil

    public init(model: ModelConfig, training: TrainingOptions, task: String = "vae") {
        self.model = model
        self.training = training
        self.task = task
    }
}

/// Where a run stands, so `--resume` continues exactly.
public struct RunState: Codable, Equatable, Sendable {
    /// Optimizer steps taken.
    public var step: Int64 = 0
    /// Seconds spent training, over all sessions.
    public var seconds: Double = 0
    /// Whether the run reached its end.
    public var finished: Bool = false

    public init() {}
}

/// Reads and writes run directories: config.json, model.safetensors, optimizer.safetensors,
/// state.json. Every file is written to a temporary name and renamed into place.
public enum Checkpoint {
    static let configFile = "config.json", modelFile = "model.safetensors"
    static let optimizerFile = "optimizer.safetensors", stateFile = "state.json"

    /// A problem with a run directory, naming the file.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    static func path(_ dir: String, _ file: String) -> String { (dir as NSString).appendingPathComponent(file) }

    static func encodeJSON<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(value)) + [0x0A]
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ dir: String, _ file: String) throws -> T {
        let p = path(dir, file)
        let bytes: [UInt8]
        do { bytes = try FileIO.readBytes(p) } catch { throw Failure(description: "\(error)") }
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch {
            throw Failure(description: "\(p): not a valid \(file) (\(error.localizedDescription))")
        }
    }

    /// Reads config.json.
    public static func loadConfig(_ dir: String) throws -> RunConfig {
        guard FileIO.isDirectory(dir) else { throw Failure(description: "\(dir): no such run directory") }
        return try decodeJSON(RunConfig.self, dir, configFile)
    }

    /// Reads state.json (a fresh state when absent).
    public static func loadState(_ dir: String) throws -> RunState {
        FileIO.exists(path(dir, stateFile)) ? try decodeJSON(RunState.self, dir, stateFile) : RunState()
    }

    /// Saves the configuration.
    public static func saveConfig(_ config: RunConfig, to dir: String) throws {
        try FileIO.writeAtomically(try encodeJSON(config), to: path(dir, configFile))
    }

    /// Saves weights, then optimizer moments, then the state that points at both.
    public static func save(model: some CheckpointableModel, optimizer: Adam?, state: RunState, to dir: String) throws {
        let params = model.parameters
        let weights = try params.map { SafeTensors.Entry(name: $0.name, shape: $0.value.shape, values: try $0.value.read()) }
        try FileIO.writeAtomically(SafeTensors.encode(weights, metadata: ["format": "pt", "arch": model.config.arch]),
                                   to: path(dir, modelFile))
        if let optimizer {
            var moments: [SafeTensors.Entry] = []
            for p in params {
                moments.append(.init(name: "m." + p.name, shape: p.m.shape, values: try p.m.read()))
                moments.append(.init(name: "v." + p.name, shape: p.v.shape, values: try p.v.read()))
            }
            try FileIO.writeAtomically(SafeTensors.encode(moments, metadata: ["step": String(optimizer.step)]),
                                       to: path(dir, optimizerFile))
        }
        try FileIO.writeAtomically(try encodeJSON(state), to: path(dir, stateFile))
    }

    /// Loads weights (and optimizer moments when asked) into a model of the saved architecture.
    public static func load(into model: some CheckpointableModel, optimizer: Adam?, from dir: String) throws {
        let file = path(dir, modelFile)
        let tensors = try read(file)
        for p in model.parameters {
            guard let e = tensors[p.name] else {
                throw Failure(description: "\(file): has no tensor \(p.name); the checkpoint is of another architecture")
            }
            guard e.shape == p.value.shape else {
                throw Failure(description: "\(file): tensor \(p.name) has shape \(e.shape), the model needs \(p.value.shape)")
            }
            try p.value.write(e.values)
        }
        guard let optimizer else { return }
        let ofile = path(dir, optimizerFile)
        let moments = try read(ofile)
        for p in model.parameters {
            guard let m = moments["m." + p.name], let v = moments["v." + p.name],
                  m.values.count == p.m.count, v.values.count == p.v.count
            else { throw Failure(description: "\(ofile): moments of \(p.name) are missing or misshapen") }
            try p.m.write(m.values)
            try p.v.write(v.values)
        }
        optimizer.step = try loadState(dir).step
    }

    static func read(_ file: String) throws -> [String: SafeTensors.Entry] {
        let bytes: [UInt8]
        do { bytes = try FileIO.readBytes(file) } catch { throw Failure(description: "\(error)") }
        do {
            let entries = try SafeTensors.decode(bytes).entries
            return Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        } catch {
            throw Failure(description: "\(file): \(error)")
        }
    }
}
