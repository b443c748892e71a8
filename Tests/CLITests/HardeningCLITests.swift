import Foundation
import Testing
import ImageIO
import NN
import TestSupport

extension Tool {
    /// Starts the tool without waiting; its standard error goes to `errors`.
    static func start(_ arguments: [String], errors: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        return try start(arguments, stdout: FileHandle.nullDevice, stderr: try FileHandle(forWritingTo: URL(fileURLWithPath: errors)))
    }
}

func bytes(_ path: String) -> [UInt8]? { (try? Data(contentsOf: URL(fileURLWithPath: path))).map { [UInt8]($0) } }

@Suite("The vae tool under faults, hostile files and dangerous flags", .timeLimit(.minutes(3)))
struct HardeningCLITests {
    static let tiny = ["--data", "shapes:64", "--arch", "mnist", "--batch", "16", "--threads", "2"]

    /// A small trained run shared by the tests that only read it.
    static let run: String = {
        let dir = TemporaryDirectory("convvae-hardening").path
        let r = try! Tool.run(["train", "--epochs", "1", "--out", dir + "/run"] + tiny)
        precondition(r.status == 0, r.stderr)
        return dir + "/run"
    }()

    @Test("a run SIGKILLed at random moments and resumed each time ends with the weights of an uninterrupted run")
    func killedAndResumed() throws {
        let tmp = TemporaryDirectory("convvae-kill"), straight = tmp.file("straight"), killed = tmp.file("killed")
        let args = ["train", "--data", "shapes:160", "--arch", "mnist", "--epochs", "6", "--batch", "16", "--seed", "3",
                    "--threads", "2"]
        let r = try Tool.run(args + ["--out", straight])
        #expect(r.status == 0, "\(r.stderr)")

        /// The step of the run's checkpoint, -1 before the first.
        func step() -> Int {
            guard let data = bytes(killed + "/state.json"),
                  let json = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else { return -1 }
            return json["step"] as? Int ?? -1
        }
        func wait(until done: () -> Bool, _ p: Process) {
            let deadline = Date().addingTimeInterval(60)
            while !done(), p.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        }
        // Kills that land by the run's progress, not by a clock, so any load gives the same story:
        // every other one while a checkpoint is being committed, the others at a random moment
        // of the epoch after a new checkpoint.
        var rng = TestRandom(seed: 16)
        var kills = 0
        for attempt in 0..<6 {
            let before = step()
            // Resume once a checkpoint exists (whole, or committed and not yet in place).
            let resumable = FileManager.default.fileExists(atPath: killed + "/model.safetensors")
                || FileManager.default.fileExists(atPath: killed + "/.checkpoint.complete")
            let p = try Tool.start(resumable ? ["train", "--out", killed, "--resume", "--threads", "2"] : args + ["--out", killed],
                                   errors: tmp.file("err"))
            if attempt % 2 == 0 {
                wait(until: { FileManager.default.fileExists(atPath: killed + "/.checkpoint.partial") }, p)
                Thread.sleep(forTimeInterval: Double(rng.next() % 20) / 1000)
            } else {
                wait(until: { step() > before }, p)
                Thread.sleep(forTimeInterval: Double(rng.next() % 300) / 1000)
            }
            guard p.isRunning else {
                p.waitUntilExit()
                #expect(p.terminationStatus == 0, "\(String(decoding: bytes(tmp.file("err")) ?? [], as: UTF8.self))")
                break
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            kills += 1
        }
        #expect(kills >= 4, "only \(kills) kills landed")
        let last = try Tool.run(["train", "--out", killed, "--resume", "--threads", "2"])
        #expect(last.status == 0, "\(last.stderr)")
        for file in ["model.safetensors", "optimizer.safetensors", "prior.safetensors"] {
            #expect(bytes(straight + "/" + file) != nil && bytes(straight + "/" + file) == bytes(killed + "/" + file), "\(file) differs")
        }
        // state.json and metrics.csv agree but for the seconds each session took.
        let state = { (dir: String) in String(decoding: bytes(dir + "/state.json") ?? [], as: UTF8.self).split(separator: "\n").filter { !$0.contains("seconds") } }
        #expect(state(killed) == state(straight) && state(straight).contains { $0.contains("\"step\" : 54") })
        let rows = { (dir: String) in String(decoding: bytes(dir + "/metrics.csv") ?? [], as: UTF8.self).split(separator: "\n").map { $0.split(separator: ",").prefix(5) } }
        #expect(rows(killed) == rows(straight) && rows(straight).count == 7)
        let left = try FileManager.default.contentsOfDirectory(atPath: killed).filter { $0.contains(".tmp-") || $0.hasPrefix(".checkpoint") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("two trainings on one run directory: the second is refused while the first runs")
    func runLock() throws {
        let tmp = TemporaryDirectory("convvae-lock"), run = tmp.file("run")
        let first = try Tool.start(["train", "--data", "shapes:4000", "--arch", "mnist", "--epochs", "50", "--batch", "16",
                                    "--out", run], errors: tmp.file("err"))
        defer { kill(first.processIdentifier, SIGKILL); first.waitUntilExit() }
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: run + "/config.json"), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let again = try Tool.run(["train", "--data", "shapes:64", "--arch", "mnist", "--epochs", "1", "--out", run])
        expectOneLineError(again, naming: "another vae train (process \(first.processIdentifier)) is writing this run")
        let resumed = try Tool.run(["train", "--out", run, "--resume"])
        expectOneLineError(resumed, naming: "another vae train")
        #expect(first.isRunning)
    }

    @Test("a data folder with link loops and a FIFO trains; a one-image folder has no held-out split to evaluate")
    func hostileFolders() throws {
        let tmp = TemporaryDirectory("convvae-folder"), d = tmp.mkdir("d")
        try Image(width: 16, height: 16, channels: 3, fill: 0.5).writePNG(to: d + "/x.png")
        #expect(symlink(".", d + "/a") == 0 && symlink(".", d + "/b") == 0 && mkfifo(d + "/pipe.png", 0o644) == 0)
        let r = try Tool.run(["train", "--data", "folder:" + d, "--arch", "mnist", "--epochs", "1", "--batch", "4",
                              "--out", tmp.file("run")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("no validation images") && !r.stderr.contains("nan"))
        #expect(!r.stderr.contains("reconstructions.png"))
        let e = try Tool.run(["evaluate", "--checkpoint", tmp.file("run")])
        expectOneLineError(e, naming: "the test split holds no images")
    }

    @Test("outputs: never over a checkpoint, a non-image or a FIFO; a .jpg name gets JPEG bytes")
    func outputs() throws {
        let tmp = TemporaryDirectory("convvae-out"), run = Self.run
        let model = bytes(run + "/model.safetensors")
        let over = try Tool.run(["sample", "--checkpoint", run, "--out", run + "/model.safetensors"])
        expectOneLineError(over, naming: "model.safetensors")
        #expect(bytes(run + "/model.safetensors") == model)
        write(Array("notes".utf8), to: tmp.file("notes.png"))
        expectOneLineError(try Tool.run(["sample", "--checkpoint", run, "--out", tmp.file("notes.png")]), naming: "notes.png")
        #expect(bytes(tmp.file("notes.png")) == Array("notes".utf8))
        #expect(mkfifo(tmp.file("fifo.png"), 0o644) == 0)
        expectOneLineError(try Tool.run(["sample", "--checkpoint", run, "--out", tmp.file("fifo.png")]), naming: "fifo.png")
        let jpg = try Tool.run(["sample", "--checkpoint", run, "--count", "4", "--out", tmp.file("s.jpg")])
        #expect(jpg.status == 0, "\(jpg.stderr)")
        #expect(bytes(tmp.file("s.jpg"))?.starts(with: [0xFF, 0xD8, 0xFF]) == true)
        let png = try Tool.run(["sample", "--checkpoint", run, "--count", "4", "--out", tmp.file("s.jpg.png")])
        #expect(png.status == 0 && bytes(tmp.file("s.jpg.png"))?.starts(with: [0x89, 0x50, 0x4E, 0x47]) == true)
        // A file as a run directory, and a run directory under a file: one line each.
        expectOneLineError(try Tool.run(["train", "--data", "shapes:64", "--out", tmp.file("notes.png")]), naming: "exists and is not a directory")
        expectOneLineError(try Tool.run(["train", "--data", "shapes:64", "--epochs", "1", "--out", tmp.file("notes.png") + "/run"]),
                           naming: "cannot create directory")
    }

    @Test("NaN weights: sample, reconstruct and evaluate fail with one line and write nothing")
    func nonFiniteWeights() throws {
        let tmp = TemporaryDirectory("convvae-nan"), run = tmp.file("run")
        try FileManager.default.copyItem(atPath: Self.run, toPath: run)
        var (entries, metadata) = try SafeTensors.decode(bytes(run + "/model.safetensors")!)
        entries[0].values[0] = .nan
        try FileIO.writeAtomically(SafeTensors.encode(entries, metadata: metadata), to: run + "/model.safetensors")
        for command in [["sample"], ["reconstruct", "--count", "2"], ["evaluate", "--limit", "4"]] {
            let r = try Tool.run(command + ["--checkpoint", run] + (command[0] == "evaluate" ? [] : ["--out", tmp.file("x.png")]))
            expectOneLineError(r, naming: "NaN or infinite")
        }
        #expect(!FileManager.default.fileExists(atPath: tmp.file("x.png")))
    }

    @Test("flag values out of range are refused before any data is read or folder made", arguments: [
        ["--clip-norm", "-1"], ["--clip-norm", "nan"], ["--lr", "inf"], ["--lr", "0"],
        ["--batch", "1000000000"], ["--latent", "1000000000"], ["--epochs", "9223372036854775807"],
        ["--beta", "nan"], ["--warmup-epochs", "inf"], ["--threads", "1000000"], ["--minutes", "1e300"],
        ["--zoom", "nan"], ["--patch", "1000000000", "--task", "inpaint"], ["--prior-path-every", "-1"],
        ["--prior-path-samples", "0"], ["--prior-path-samples", "65"],
    ])
    func flags(flag: [String]) throws {
        let tmp = TemporaryDirectory("convvae-flags")
        let r = try Tool.run(["train", "--data", "folder:" + tmp.file("missing"), "--out", tmp.file("run")] + flag)
        #expect(r.status != 0)
        #expect(r.stderr.contains(flag[0]) && !r.stderr.contains("missing"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tmp.file("run")))
    }

    @Test("options that do not fit the data fail before a run folder is made; other commands' counts are bounded")
    func lateFailures() throws {
        let tmp = TemporaryDirectory("convvae-late")
        let widths = try Tool.run(["train", "--data", "shapes:64", "--task", "inpaint", "--widths", "8,8,8,8,8,8,8,8",
                                   "--out", tmp.file("run")])
        expectOneLineError(widths, naming: "--widths")
        #expect(!FileManager.default.fileExists(atPath: tmp.file("run")))
        let draws = try Tool.run(["train", "--data", "shapes:64", "--task", "inpaint", "--prior-path-every", "0",
                                  "--prior-path-samples", "4", "--out", tmp.file("run")])
        expectOneLineError(draws, naming: "--prior-path-samples")
        #expect(!FileManager.default.fileExists(atPath: tmp.file("run")))
        for args in [["sample", "--count", "1000000000"], ["interpolate", "--steps", "1000000000"],
                     ["evaluate", "--iw-samples", "1000000000000"], ["reconstruct", "--count", "0"]] {
            let r = try Tool.run(args + ["--checkpoint", Self.run] + (args[0] == "evaluate" ? [] : ["--out", tmp.file("x.png")]))
            #expect(r.status != 0 && r.stderr.contains(args[1]), "\(args): \(r.stderr)")
        }
    }

    @Test("--resume refuses settings that cannot change, says what it applies, and needs a whole checkpoint")
    func resume() throws {
        let tmp = TemporaryDirectory("convvae-resume"), run = tmp.file("run")
        try FileManager.default.copyItem(atPath: Self.run, toPath: run)
        let changed = try Tool.run(["train", "--out", run, "--resume", "--lr", "0.01", "--batch", "32", "--latent", "4",
                                    "--arch", "cifar", "--data", "shapes:128"])
        expectOneLineError(changed, naming: "--lr 0.01 (the run's: 0.001)")
        for flag in ["--batch 32", "--latent 4", "--arch cifar", "--data shapes:128"] { #expect(changed.stderr.contains(flag)) }
        let same = try Tool.run(["train", "--out", run, "--resume", "--lr", "0.001", "--batch", "16", "--epochs", "2"] + Self.tiny)
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stderr.contains("continuing with 2 epochs (was 1 epochs)"))
        try FileManager.default.removeItem(atPath: run + "/state.json")
        expectOneLineError(try Tool.run(["train", "--out", run, "--resume", "--epochs", "3"]), naming: "state.json")
    }

    @Test("evaluate refuses data of another geometry unless --convert asks for it")
    func evaluateGeometry() throws {
        let tmp = TemporaryDirectory("convvae-geometry"), mnist = tmp.mkdir("mnist")
        let set = ImageSet(count: 4, channels: 1, height: 28, width: 28, pixels: (0..<(4 * 784)).map { Float($0 % 7) / 7 })
        try IDX.writeImages(set, to: mnist + "/train-images-idx3-ubyte")
        try IDX.writeImages(set, to: mnist + "/t10k-images-idx3-ubyte")
        let r = try Tool.run(["train", "--data", "shapes:64", "--arch", "cifar", "--latent", "4", "--epochs", "1", "--batch", "16",
                              "--out", tmp.file("run")])
        #expect(r.status == 0, "\(r.stderr)")
        let refused = try Tool.run(["evaluate", "--checkpoint", tmp.file("run"), "--data", "mnist:" + mnist])
        expectOneLineError(refused, naming: "images of 1x28x28, but the model is of 3x32x32")
        let converted = try Tool.run(["evaluate", "--checkpoint", tmp.file("run"), "--data", "mnist:" + mnist, "--convert"])
        #expect(converted.status == 0, "\(converted.stderr)")
    }

    @Test("crafted files: a config.json claiming another geometry, a truncated JPEG input")
    func craftedFiles() throws {
        let tmp = TemporaryDirectory("convvae-crafted"), run = tmp.file("run")
        try FileManager.default.copyItem(atPath: Self.run, toPath: run)
        let config = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        try config.replacingOccurrences(of: "\"height\" : 28", with: "\"height\" : 512")
            .replacingOccurrences(of: "\"width\" : 28", with: "\"width\" : 512")
            .write(toFile: run + "/config.json", atomically: true, encoding: .utf8)
        let started = Date()
        expectOneLineError(try Tool.run(["sample", "--checkpoint", run, "--out", tmp.file("x.png")]), naming: "config.json")
        #expect(Date().timeIntervalSince(started) < 10)
        let jpeg = try Image(width: 40, height: 40, channels: 1, fill: 0.3).encodeJPEG()
        write(Array(jpeg.prefix(jpeg.count / 2)), to: tmp.file("cut.jpg"))
        let r = try Tool.run(["reconstruct", "--checkpoint", Self.run, "--input", tmp.file("cut.jpg"), "--out", tmp.file("r.png")])
        expectOneLineError(r, naming: "cut.jpg: invalid JPEG: the file ends before its image data (truncated)")
    }
}
