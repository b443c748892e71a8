import Foundation
import ImageIO
import NN

/// Reads and writes run directories: config.json, model.safetensors, optimizer.safetensors,
/// state.json and metrics.csv.
///
/// A checkpoint is one set of these files, made consistent whatever moment the process dies:
/// `commit` writes the set into `.checkpoint.partial/`, renames that folder to
/// `.checkpoint.complete/` (the moment the new set exists as a whole) and only then moves its
/// files into place; `recover` finishes such a move, or drops a partial set, so the files in
/// the run directory are always all of one checkpoint once a trainer has opened it.
public enum Checkpoint {
    static let configFile = "config.json", modelFile = "model.safetensors"
    static let optimizerFile = "optimizer.safetensors", stateFile = "state.json", metricsFile = "metrics.csv"
    /// The folders of a checkpoint being written, and of one written whole but not yet in place.
    static let partialFolder = ".checkpoint.partial", completeFolder = ".checkpoint.complete"
    /// The largest config.json or state.json read.
    static let maxJSONBytes = 1 << 24

    static func path(_ dir: String, _ file: String) -> String { (dir as NSString).appendingPathComponent(file) }

    static func encodeJSON<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(value)) + [0x0A]
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], path: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch {
            throw VAEError("\(path): not a valid \((path as NSString).lastPathComponent) (\(error.localizedDescription))")
        }
    }

    static func readFile(_ file: String, limit: Int) throws -> [UInt8] {
        do { return try FileIO.readBytes(file, limit: limit) } catch { throw VAEError("\(error)") }
    }

    /// Decodes and checks the content of a config.json (see `RunConfig.check`).
    /// - Parameter path: Used only in error messages.
    public static func decodeConfig(_ bytes: [UInt8], path: String = "config.json") throws -> RunConfig {
        let config = try decodeJSON(RunConfig.self, bytes, path: path)
        do { try config.check() } catch { throw VAEError("\(path): \(error)") }
        return config
    }

    /// Decodes and checks the content of a state.json.
    /// - Parameter path: Used only in error messages.
    public static func decodeState(_ bytes: [UInt8], path: String = "state.json") throws -> RunState {
        let state = try decodeJSON(RunState.self, bytes, path: path)
        do { try state.check() } catch { throw VAEError("\(path): \(error)") }
        return state
    }

    /// Reads and checks config.json, and checks it against the weights' own record of their
    /// model, so that a config.json claiming another geometry fails before anything is built.
    public static func loadConfig(_ dir: String) throws -> RunConfig {
        guard FileIO.isDirectory(dir) else { throw VAEError("\(dir): no such run directory") }
        let file = path(dir, configFile)
        let config = try decodeConfig(try readFile(file, limit: maxJSONBytes), path: file)
        try checkWeights(of: config, in: dir)
        return config
    }

    /// Reads state.json, which every checkpoint has.
    public static func loadState(_ dir: String) throws -> RunState {
        let file = path(dir, stateFile)
        guard FileIO.exists(file) else {
            throw VAEError("\(file): missing, so the run's checkpoint is incomplete and cannot be resumed")
        }
        return try decodeState(try readFile(file, limit: maxJSONBytes), path: file)
    }

    /// Saves the configuration alone (a new run's, before its first checkpoint).
    public static func saveConfig(_ config: RunConfig, to dir: String) throws {
        try FileIO.writeAtomically(try encodeJSON(config), to: path(dir, configFile))
    }

    /// The weights file's record of its model, compared with config.json's from the header
    /// alone. Weights saved before the record existed are checked tensor by tensor on loading.
    static func checkWeights(of config: RunConfig, in dir: String) throws {
        let file = path(dir, modelFile)
        guard FileIO.exists(file) else { return }
        let metadata: [String: String]
        do {
            let length = try SafeTensors.headerLength(try FileIO.readPrefix(file, count: 8))
            metadata = try SafeTensors.decodeMetadata(try FileIO.readPrefix(file, count: length))
        } catch { throw VAEError("\(file): \(error)") }
        if let task = metadata["task"], task != config.task.rawValue {
            throw VAEError("\(path(dir, configFile)): says task \(config.task.rawValue), but \(file) holds a model trained for \(task)")
        }
        guard let recorded = metadata["model"] else { return }
        let saved = try decodeJSON(ModelConfig.self, Array(recorded.utf8), path: file + " (its model record)")
        guard saved == config.model else {
            throw VAEError("\(path(dir, configFile)): describes \(config.model.shortDescription), but \(file) holds the weights of \(saved.shortDescription)")
        }
    }

    /// Saves a checkpoint, atomically as a set (see `commit`): configuration, weights,
    /// optimizer moments, the state that points at them, and the metrics so far.
    public static func save(config: RunConfig, model: some CheckpointableModel, optimizer: Adam?, state: RunState,
                            metrics: [EpochMetrics], to dir: String) throws {
        let params = model.parameters
        let weights = try params.map { SafeTensors.Entry(name: $0.name, shape: $0.value.shape, values: try $0.value.read()) }
            + model.buffers.map { SafeTensors.Entry(name: $0.name, shape: $0.tensor.shape, values: try $0.tensor.read()) }
        let record = String(decoding: try JSONEncoder.sorted.encode(model.config), as: UTF8.self)
        var files: [(String, [UInt8])] = [
            (configFile, try encodeJSON(config)),
            (modelFile, SafeTensors.encode(weights, metadata: ["format": "pt", "arch": model.config.arch, "model": record,
                                                               "task": config.task.rawValue])),
        ]
        if let optimizer {
            var moments: [SafeTensors.Entry] = []
            for p in params {
                moments.append(.init(name: "m." + p.name, shape: p.m.shape, values: try p.m.read()))
                moments.append(.init(name: "v." + p.name, shape: p.v.shape, values: try p.v.read()))
            }
            files.append((optimizerFile, SafeTensors.encode(moments, metadata: ["step": String(optimizer.step)])))
        }
        files.append((stateFile, try encodeJSON(state)))
        files.append((metricsFile, EpochMetrics.csv(metrics)))
        try commit(files, to: dir)
    }

    /// Writes `files` into `dir` as one set: all under `.checkpoint.partial/` (synced),
    /// then that folder renamed to `.checkpoint.complete/` (the commit: from here the set
    /// exists whole), then each file renamed into `dir` and the folder removed. A crash before
    /// the commit leaves the old set, after it the new one (`recover` completes the move).
    /// - Parameter crashAfter: tests only: stop after this many of the steps, as a crash would.
    static func commit(_ files: [(String, [UInt8])], to dir: String, crashAfter: Int? = nil) throws {
        try recover(dir)
        let partial = path(dir, partialFolder), complete = path(dir, completeFolder)
        var steps: [() throws -> Void] = [{ try FileIO.makeDirectory(partial) }]
        steps.append { try FileIO.writeDurably(files.map { (name: $0.0, bytes: $0.1) }, into: partial) }
        steps.append {
            guard rename(partial, complete) == 0 else {
                throw VAEError("\(dir): cannot commit the checkpoint: \(String(cString: strerror(errno)))")
            }
            try FileIO.syncDirectory(dir)
        }
        for (name, _) in files { steps.append { try install(name, from: complete, into: dir) } }
        steps.append { try FileIO.syncDirectory(dir) }
        steps.append { try removeFolder(complete) }
        do {
            for (k, step) in steps.enumerated() {
                if let crashAfter, k >= crashAfter { throw SimulatedCrash() }
                try step()
            }
        } catch let error as ImageIOError { throw VAEError("\(error)") }
    }

    /// Thrown by `commit(crashAfter:)` where a crash would have stopped it.
    struct SimulatedCrash: Error {}

    /// Brings a run directory to one whole checkpoint after a crash: moves the files of a
    /// committed set into place, drops a set that was never committed, and removes the
    /// temporary files of dead processes. Only a process holding the run's lock may call it.
    /// - Returns: what it did, one line per action (empty when the directory was clean).
    @discardableResult
    public static func recover(_ dir: String) throws -> [String] {
        var done: [String] = []
        let partial = path(dir, partialFolder), complete = path(dir, completeFolder)
        do {
            if FileIO.isDirectory(complete) {
                for name in try FileManager.default.contentsOfDirectory(atPath: complete).sorted() {
                    try install(name, from: complete, into: dir)
                }
                try FileIO.syncDirectory(dir)
                try removeFolder(complete)
                done.append("completed the move of a committed checkpoint into place")
            }
            if FileIO.exists(partial) {
                try removeFolder(partial)
                done.append("dropped a checkpoint that was being written when the run stopped")
            }
        } catch let error as ImageIOError { throw VAEError("\(error)") }
        let stale = FileIO.removeStaleTemporaries(in: dir)
        if !stale.isEmpty { done.append("removed \(stale.count) temporary file(s) of stopped processes") }
        return done
    }

    static func install(_ name: String, from folder: String, into dir: String) throws {
        guard rename(path(folder, name), path(dir, name)) == 0 || errno == ENOENT else {
            throw VAEError("\(path(dir, name)): cannot move the checkpoint's file into place: \(String(cString: strerror(errno)))")
        }
    }

    static func removeFolder(_ folder: String) throws {
        do { try FileManager.default.removeItem(atPath: folder) } catch {
            throw VAEError("\(folder): cannot remove: \(error.localizedDescription)")
        }
    }

    /// The model a run's configuration describes, built by `make`; a failure is named with the
    /// run's config.json. (Its weights come next, by `load(into:optimizer:from:)`.)
    static func build<M>(from dir: String, _ make: () throws -> M) throws -> M {
        do { return try make() } catch {
            throw VAEError("\(path(dir, configFile)): cannot build the model it describes: \(error)")
        }
    }

    /// Loads weights (and optimizer moments when asked) into a model of the saved architecture.
    /// Every value must be finite (and second moments non-negative), and the optimizer's step
    /// must be state.json's.
    public static func load(into model: some CheckpointableModel, optimizer: Adam?, from dir: String) throws {
        let file = path(dir, modelFile)
        let tensors = try read(file).tensors
        for p in model.parameters {
            guard let e = tensors[p.name] else {
                throw VAEError("\(file): has no tensor \(p.name); the checkpoint is of another architecture")
            }
            guard e.shape == p.value.shape else {
                throw VAEError("\(file): tensor \(p.name) has shape \(e.shape), the model needs \(p.value.shape)")
            }
            guard e.values.allSatisfy(\.isFinite) else {
                throw VAEError("\(file): tensor \(p.name) holds NaN or infinite values; the weights are unusable")
            }
            try p.value.write(e.values)
        }
        for (name, tensor) in model.buffers {
            guard let e = tensors[name], e.shape == tensor.shape else {
                throw VAEError("\(file): has no tensor \(name) of shape \(tensor.shape); the checkpoint is of another architecture")
            }
            try tensor.write(e.values)
        }
        guard let optimizer else { return }
        let ofile = path(dir, optimizerFile)
        let (moments, metadata) = try read(ofile)
        let state = try loadState(dir)
        guard metadata["step"] == String(state.step) else {
            throw VAEError("\(ofile): is at step \(metadata["step"] ?? "?") but \(path(dir, stateFile)) at step \(state.step); the checkpoint's files are of different moments")
        }
        for p in model.parameters {
            guard let m = moments["m." + p.name], let v = moments["v." + p.name],
                  m.shape == p.m.shape, v.shape == p.v.shape
            else { throw VAEError("\(ofile): moments of \(p.name) are missing or misshapen") }
            guard m.values.allSatisfy(\.isFinite), v.values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw VAEError("\(ofile): moments of \(p.name) are not finite (or a second moment is negative)")
            }
            try p.m.write(m.values)
            try p.v.write(v.values)
        }
        optimizer.step = state.step
    }

    /// The tensors of a safetensors file by name, and its metadata.
    static func read(_ file: String) throws -> (tensors: [String: SafeTensors.Entry], metadata: [String: String]) {
        let bytes = try readFile(file, limit: MemoryLimit.bytes)
        do {
            let (entries, metadata) = try SafeTensors.decode(bytes)
            return (Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }), metadata)
        } catch {
            throw VAEError("\(file): \(error)")
        }
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys: the same value always gives the same bytes.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}

extension ModelConfig {
    /// The geometry in a few words, for messages.
    var shortDescription: String {
        "a \(arch) model of \(channels)x\(height)x\(width), widths \(widths), latent \(latent)\(autoencoder ? " (autoencoder)" : "")"
            + (deep.map { ", \($0.blocks) block(s) per stage, latent groups \($0.groups)" } ?? "")
    }
}
