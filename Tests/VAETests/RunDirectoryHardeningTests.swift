import Foundation
import Testing
import ImageIO
import NN
import TestSupport
@testable import VAE

@Suite("Run directories under faults and crafted files")
struct RunDirectoryHardeningTests {
    static let names = ["config.json", "model.safetensors", "optimizer.safetensors", "state.json", "metrics.csv"]

    func contents(_ dir: String) -> [String] {
        Self.names.map { (try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8)) ?? "missing" }
    }

    @Test("a crash at any step of a checkpoint's commit leaves, once recovered, the whole old set or the whole new one")
    func everyCrashPoint() throws {
        let old = Self.names.map { ($0, Array("old \($0)".utf8)) }, new = Self.names.map { ($0, Array("new \($0)".utf8)) }
        let steps = Self.names.count + 5, commitStep = 2
        for k in 0...steps {
            let tmp = TemporaryDirectory()
            try Checkpoint.commit(old, to: tmp.path)
            do { try Checkpoint.commit(new, to: tmp.path, crashAfter: k) } catch is Checkpoint.SimulatedCrash {}
            let done = try Checkpoint.recover(tmp.path)
            let expected = (k <= commitStep ? old : new).map { String(decoding: $0.1, as: UTF8.self) }
            #expect(contents(tmp.path) == expected, "crash before step \(k)")
            #expect(done.isEmpty == (k == 0 || k == steps), "crash before step \(k): \(done)")
            let left = try FileManager.default.contentsOfDirectory(atPath: tmp.path).sorted()
            #expect(left == Self.names.sorted(), "crash before step \(k)")
        }
    }

    @Test("one trainer at a time holds a run directory; the lock goes with its holder")
    func runLock() throws {
        let tmp = TemporaryDirectory()
        var first: RunLock? = try RunLock(tmp.path)
        #expect(first != nil)
        do {
            _ = try RunLock(tmp.path)
            Issue.record("a second lock was granted")
        } catch {
            #expect("\(error)" == "\(tmp.path): another vae train (process \(getpid())) is writing this run; wait for it to end or choose another --out")
        }
        first = nil
        _ = try RunLock(tmp.path)
    }

    /// A valid config.json of the tiny model, as text.
    func configText() throws -> String {
        var t = Fixtures.options(epochs: 1)
        t.clipNorm = 1
        return String(decoding: try Checkpoint.encodeJSON(RunConfig(model: Fixtures.tinyConfig(), training: t)), as: UTF8.self)
    }

    @Test("config.json values out of range are refused, naming the file and the field", arguments: [
        ("\"latent\" : 3", "\"latent\" : 0", "latent 0"),
        ("\"latent\" : 3", "\"latent\" : 1000000000", "latent 1000000000"),
        ("\"channels\" : 1", "\"channels\" : 2", "channels 2"),
        ("\"height\" : 8", "\"height\" : 0", "image size 0x8"),
        ("\"height\" : 8", "\"height\" : 9223372036854775807", "image size"),
        ("\"height\" : 8", "\"height\" : 10", "do not divide"),
        ("\"batch\" : 16", "\"batch\" : 0", "batch 0"),
        ("\"batch\" : 16", "\"batch\" : 100000000", "batch 100000000"),
        ("\"learningRate\" : 0.001", "\"learningRate\" : -1", "learning rate -1"),
        ("\"clipNorm\" : 1", "\"clipNorm\" : 0", "clipping norm 0"),
        ("\"epochs\" : 1", "\"epochs\" : 0", "epochs 0"),
        ("\"epochs\" : 1", "\"epochs\" : 4611686018427387904", "epochs"),
        ("\"threads\" : 0", "\"threads\" : -3", "threads -3"),
        ("\"data\" : \"shapes\"", "\"data\" : \"nothing:here\"", "data: "),
        ("\"beta\" : 1", "\"beta\" : -2", "beta -2"),
        ("\"latent\" : 3", "\"latent\" : \"three\"", "not a valid config.json"),
    ] as [(String, String, String)])
    func configLimits(field: String, crafted: String, problem: String) throws {
        let text = try configText()
        #expect(text.contains(field), "fixture lacks \(field)")
        let bytes = Array(text.replacingOccurrences(of: field, with: crafted).utf8)
        let message = errorText { _ = try Checkpoint.decodeConfig(bytes, path: "R/config.json") }
        #expect(message?.hasPrefix("R/config.json: ") == true && message?.contains(problem) == true, "\(message ?? "accepted")")
    }

    @Test("a conditional run's options in config.json: widths, chroma bins, patch and zoom within limits")
    func conditionalLimits() throws {
        var model = Fixtures.tinyConfig()
        model.channels = 3
        func problem(_ task: RunTask, widths: [Int]? = nil, _ change: (inout ConditionalOptions) -> Void) -> String? {
            var m = model
            if let widths { m.widths = widths }
            var config = RunConfig(model: m, training: Fixtures.options(epochs: 1), task: task)
            var options = ConditionalOptions(chroma: task == .colorize ? ChromaBins(stride: 2) : nil)
            change(&options)
            config.conditional = options
            return errorText { try config.check() }
        }
        #expect(problem(.colorize) { _ in } == nil)
        #expect(problem(.inpaint, widths: []) { _ in }?.contains("at least one width") == true)
        #expect(problem(.colorize) { $0.chroma?.perAxis = 100_000 }?.contains("perAxis 100000") == true)
        #expect(problem(.colorize) { $0.chroma?.stride = 3 }?.contains("stride 3") == true)
        #expect(problem(.colorize) { $0.chroma?.stride = 4 }?.contains("below the model's reduction") == true)
        #expect(problem(.colorize) { $0.chroma?.weights = [1, 2, 3] }?.contains("3 values for 256 bins") == true)
        #expect(problem(.colorize) { $0.chroma?.temperature = -1 }?.contains("temperature") == true)
        #expect(problem(.inpaint) { $0.chroma = ChromaBins(stride: 2) }?.contains("for colorization") == true)
        #expect(problem(.inpaint) { $0.patch = 16 }?.contains("patch 16") == true)
        #expect(problem(.inpaint) { $0.zoom = .nan }?.contains("zoom") == true)
    }

    @Test("a geometry whose parameters and activations exceed the memory limit is refused before anything is built")
    func geometryMemory() throws {
        var model = Fixtures.tinyConfig()
        model.channels = 3
        model.height = 4096
        model.width = 4096
        model.widths = [8192]
        let message = errorText { try model.check(batch: 128) }
        #expect(message?.contains("more than the") == true, "\(message ?? "accepted")")
        #expect(errorText { try Fixtures.tinyConfig().check(batch: 128) } == nil)
    }

    @Test("state.json: a negative step or time is refused, a missing one stops a resume")
    func stateLimits() throws {
        #expect(errorText { _ = try Checkpoint.decodeState(Array(#"{"step":-5,"seconds":1,"finished":false}"#.utf8), path: "s") } == "s: step -5 is negative")
        #expect(errorText { _ = try Checkpoint.decodeState(Array(#"{"step":5,"seconds":-1,"finished":false}"#.utf8), path: "s") }?.contains("seconds -1") == true)
        let tmp = TemporaryDirectory()
        _ = try train(tmp.path, epochs: 1)
        try FileManager.default.removeItem(atPath: tmp.file("state.json"))
        let message = errorText { _ = try train(tmp.path, epochs: 2, resume: true) }
        #expect(message == "\(tmp.file("state.json")): missing, so the run's checkpoint is incomplete and cannot be resumed")
    }

    func train(_ dir: String, epochs: Int, resume: Bool = false, validation: ImageSet = Fixtures.shapes(16, seed: 99)) throws -> EpochLoop {
        let config = RunConfig(model: Fixtures.tinyConfig(), training: Fixtures.options(epochs: epochs))
        return try Fixtures.train(config, directory: dir, train: Fixtures.shapes(64), validation: validation, resume: resume)
    }

    @Test("config.json is checked against the weights' record of their model before a model is built")
    func configAgainstWeights() throws {
        let tmp = TemporaryDirectory()
        _ = try train(tmp.path, epochs: 1)
        let path = tmp.file("config.json")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "\"height\" : 8", with: "\"height\" : 512")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let started = Date()
        let message = errorText { _ = try ConvVAE.load(from: tmp.path, device: try Fixtures.device()) }
        #expect(message == "\(path): describes a custom model of 1x512x8, widths [4, 6], latent 3, but \(tmp.file("model.safetensors")) holds the weights of a custom model of 1x8x8, widths [4, 6], latent 3")
        #expect(Date().timeIntervalSince(started) < 5)
    }

    /// Rewrites one value of a tensor in a safetensors file.
    func poison(_ file: String, tensor: String, value: Float) throws {
        var (entries, metadata) = try SafeTensors.decode(try FileIO.readBytes(file))
        let k = entries.firstIndex { $0.name == tensor }!
        entries[k].values[0] = value
        try FileIO.writeAtomically(SafeTensors.encode(entries, metadata: metadata), to: file)
    }

    @Test("non-finite weights or moments, negative second moments and moments of another step are refused")
    func unusableCheckpoints() throws {
        let tmp = TemporaryDirectory()
        _ = try train(tmp.path, epochs: 1)
        let saved = try FileIO.readBytes(tmp.file("model.safetensors"))
        try poison(tmp.file("model.safetensors"), tensor: "decoder.proj.bias", value: .infinity)
        #expect(errorText { _ = try ConvVAE.load(from: tmp.path, device: try Fixtures.device()) }
                == "\(tmp.file("model.safetensors")): tensor decoder.proj.bias holds NaN or infinite values; the weights are unusable")
        try FileIO.writeAtomically(saved, to: tmp.file("model.safetensors"))
        let moments = try FileIO.readBytes(tmp.file("optimizer.safetensors"))
        try poison(tmp.file("optimizer.safetensors"), tensor: "v.decoder.proj.bias", value: -1)
        #expect(errorText { _ = try train(tmp.path, epochs: 2, resume: true) }?.contains("second moment is negative") == true)
        try FileIO.writeAtomically(moments, to: tmp.file("optimizer.safetensors"))
        try FileIO.writeAtomically(Array(#"{"step":3,"seconds":1,"finished":false}"#.utf8), to: tmp.file("state.json"))
        #expect(errorText { _ = try train(tmp.path, epochs: 2, resume: true) }?.contains("files are of different moments") == true)
    }

    @Test("a model that computes NaN writes no picture and gives no bound")
    func nonFiniteOutputs() throws {
        let model = try ConvVAE(Fixtures.tinyConfig(), device: try Fixtures.device(), maxBatch: 4, seed: 1)
        let p = model.decoder.parameters.last!  // the last layer's bias: no ReLU after it to hide a NaN
        var w = try p.value.read()
        w[0] = .nan
        try p.value.write(w)
        #expect(errorText { _ = try model.sample(count: 2, seed: 1) } == "the model produced NaN or infinite pixel values; its weights are unusable")
        #expect(errorText { _ = try Evaluator(model: model).evaluate(Fixtures.shapes(4)) }?.contains("not finite") == true)
    }

    @Test("an empty data set is an error, and a run without validation images says so and lists only what it wrote")
    func degenerateData() throws {
        let model = try ConvVAE(Fixtures.tinyConfig(), device: try Fixtures.device(), maxBatch: 4, seed: 1)
        let empty = ImageSet(count: 0, channels: 1, height: 8, width: 8, pixels: [])
        #expect(errorText { _ = try Evaluator(model: model).evaluate(empty) } == "no images to evaluate: the data set is empty")
        let tmp = TemporaryDirectory()
        var lines: [String] = []
        let config = RunConfig(model: Fixtures.tinyConfig(), training: Fixtures.options(epochs: 1))
        let family = try VAETraining(config: config, device: try Fixtures.device(), train: Fixtures.shapes(8), validation: empty)
        let loop = try EpochLoop(config: config, directory: tmp.path, family: family, resume: false,
                                 events: TrainingEvents(log: { lines.append($0) }))
        try loop.run()
        #expect(lines.contains { $0.contains("no validation images") } && !lines.contains { $0.contains("nan") })
        let files = try family.finish(loop)
        #expect(!files.contains("reconstructions.png"))
        for f in files { #expect(FileManager.default.fileExists(atPath: tmp.file(f)), "\(f) listed but not written") }
    }
}

/// The error's text, or nil when `body` succeeds.
func errorText(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}
