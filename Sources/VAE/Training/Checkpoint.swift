import Foundation
import ImageIO
import NN

/// Reads and writes run directories: config.json, model.safetensors, optimizer.safetensors,
/// state.json. Every file is written to a temporary name and renamed into place.
public enum Checkpoint {
    static let configFile = "config.json", modelFile = "model.safetensors"
    static let optimizerFile = "optimizer.safetensors", stateFile = "state.json"

    static func path(_ dir: String, _ file: String) -> String { (dir as NSString).appendingPathComponent(file) }

    static func encodeJSON<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(value)) + [0x0A]
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ dir: String, _ file: String) throws -> T {
        let p = path(dir, file)
        let bytes: [UInt8]
        do { bytes = try FileIO.readBytes(p) } catch { throw VAEError("\(error)") }
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch {
            throw VAEError("\(p): not a valid \(file) (\(error.localizedDescription))")
        }
    }

    /// Reads config.json.
    public static func loadConfig(_ dir: String) throws -> RunConfig {
        guard FileIO.isDirectory(dir) else { throw VAEError("\(dir): no such run directory") }
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
            + model.buffers.map { SafeTensors.Entry(name: $0.name, shape: $0.tensor.shape, values: try $0.tensor.read()) }
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
                throw VAEError("\(file): has no tensor \(p.name); the checkpoint is of another architecture")
            }
            guard e.shape == p.value.shape else {
                throw VAEError("\(file): tensor \(p.name) has shape \(e.shape), the model needs \(p.value.shape)")
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
        let moments = try read(ofile)
        for p in model.parameters {
            guard let m = moments["m." + p.name], let v = moments["v." + p.name],
                  m.values.count == p.m.count, v.values.count == p.v.count
            else { throw VAEError("\(ofile): moments of \(p.name) are missing or misshapen") }
            try p.m.write(m.values)
            try p.v.write(v.values)
        }
        optimizer.step = try loadState(dir).step
    }

    static func read(_ file: String) throws -> [String: SafeTensors.Entry] {
        let bytes: [UInt8]
        do { bytes = try FileIO.readBytes(file) } catch { throw VAEError("\(error)") }
        do {
            let entries = try SafeTensors.decode(bytes).entries
            return Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        } catch {
            throw VAEError("\(file): \(error)")
        }
    }
}
