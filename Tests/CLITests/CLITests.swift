import Foundation
import ImageIO
import Testing
import TestSupport

/// Runs the built `vae` tool and captures its exit status and output.
struct Tool {
    static let path: String = {
        let candidates = [Bundle.main.bundleURL.path, Bundle.main.bundleURL.deletingLastPathComponent().path,
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path]
        return candidates.map { $0 + "/vae" }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "vae"
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Seconds from the `act` of `run(_:launcher:environment:when:act:)` to the exit.
        var secondsAfterAction: Double? = nil
    }

    /// Starts the tool on the CPU without waiting, after `launcher` (e.g. mpirun and its flags)
    /// when given, with `environment` added.
    static func start(_ arguments: [String], launcher: [String] = [], environment: [String: String] = [:],
                      stdout: FileHandle, stderr: FileHandle) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: launcher.first ?? path)
        p.arguments = launcher.isEmpty ? arguments : Array(launcher.dropFirst()) + [path] + arguments
        var env = ProcessInfo.processInfo.environment
        env["VAE_DEVICE"] = "cpu"
        env.merge(environment) { $1 }
        p.environment = env
        p.standardOutput = stdout
        p.standardError = stderr
        // Children inherit the spawning thread's signal mask, and a test runs on a worker thread
        // that blocks SIGINT and SIGTERM; a launcher such as mpirun keeps them blocked.
        var all = sigset_t(), saved = sigset_t()
        sigemptyset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try p.run()
        return p
    }

    /// Runs the tool; with `interruptWhenExists`, sends SIGINT once that file appears (or after 60 s).
    static func run(_ arguments: [String], interruptWhenExists file: String? = nil) throws -> Result {
        try run(arguments, when: file) { kill($0.processIdentifier, SIGINT) }
    }

    /// Runs the tool, after `launcher` (e.g. mpirun and its flags) when given, with `environment`
    /// added; once `file` exists (or after 60 s), waits 0.3 s and calls `act` with the process.
    /// Output goes to files rather than pipes, so no amount of it can block the tool.
    static func run(_ arguments: [String], launcher: [String] = [], environment: [String: String] = [:],
                    when file: String?, act: (Process) -> Void) throws -> Result {
        let capture = TemporaryDirectory("convvae-cli-output")
        FileManager.default.createFile(atPath: capture.file("out"), contents: nil)
        FileManager.default.createFile(atPath: capture.file("err"), contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: capture.file("out")))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: capture.file("err")))
        let p = try start(arguments, launcher: launcher, environment: environment, stdout: out, stderr: err)
        var acted: Date?
        if let file {
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: file), p.isRunning, Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            Thread.sleep(forTimeInterval: 0.3)
            acted = Date()
            act(p)
        }
        p.waitUntilExit()
        try out.close()
        try err.close()
        return Result(status: p.terminationStatus,
                      stdout: try String(contentsOfFile: capture.file("out"), encoding: .utf8),
                      stderr: try String(contentsOfFile: capture.file("err"), encoding: .utf8),
                      secondsAfterAction: acted.map { Date().timeIntervalSince($0) })
    }
}

func write(_ bytes: [UInt8], to path: String) {
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

/// The error lines of a failed run: exactly one, naming `subject`.
func expectOneLineError(_ r: Tool.Result, naming subject: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status != 0, "exit status", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty && !$0.hasPrefix("data:") && !$0.hasPrefix("device:") }
    #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.contains(subject), "stderr should name \(subject): \(r.stderr)", sourceLocation: sourceLocation)
}

@Suite("The vae tool refuses bad input with one clear line and overwrites nothing", .serialized)
struct CLITests {
    @Test func truncatedIDX() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.mkdir("data"), out = tmp.file("run")
        var header: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28]
        header += [UInt8](repeating: 7, count: 100)
        write(header, to: dir + "/train-images-idx3-ubyte")
        let r = try Tool.run(["train", "--data", "mnist:" + dir, "--out", out, "--epochs", "1"])
        expectOneLineError(r, naming: "train-images-idx3-ubyte")
        #expect(r.stderr.contains("truncated"))
        #expect(!FileManager.default.fileExists(atPath: out + "/model.safetensors"))
    }

    @Test func wrongMagicIDX() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.mkdir("data"), out = tmp.file("run")
        write([0, 0, 8, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0], to: dir + "/train-images-idx3-ubyte")
        let r = try Tool.run(["train", "--data", "mnist:" + dir, "--out", out])
        expectOneLineError(r, naming: "train-images-idx3-ubyte")
    }

    @Test func cifarSizeNotAMultipleOfTheRecord() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.path
        write([UInt8](repeating: 1, count: 3073 + 10), to: dir + "/data.bin")
        let r = try Tool.run(["train", "--data", "cifar10:" + dir + "/data.bin", "--out", dir + "/run"])
        expectOneLineError(r, naming: "data.bin")
        #expect(r.stderr.contains("3073"))
    }

    @Test func unreadableImageAndEmptyFolder() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.path
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        let r1 = try Tool.run(["train", "--data", "folder:" + dir + "/empty", "--out", dir + "/run"])
        expectOneLineError(r1, naming: "empty")
        try FileManager.default.createDirectory(atPath: dir + "/bad", withIntermediateDirectories: true)
        write(Array("not an image".utf8), to: dir + "/bad/broken.png")
        let r2 = try Tool.run(["train", "--data", "folder:" + dir + "/bad", "--out", dir + "/run"])
        expectOneLineError(r2, naming: "broken.png")
    }

    @Test func unknownFlag() throws {
        let tmp = TemporaryDirectory("convvae-cli")
        let r = try Tool.run(["train", "--out", tmp.path, "--no-such-flag"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("no-such-flag"))
    }

    @Test("A trained run is neither overwritten by a new run nor loaded into another architecture")
    func runDirectoryIsProtected() throws {
        let tmp = TemporaryDirectory("convvae-cli"), run = tmp.file("run")
        let ok = try Tool.run(["train", "--data", "shapes:64", "--arch", "mnist", "--epochs", "1", "--batch", "32",
                               "--out", run])
        #expect(ok.status == 0, "\(ok.stderr)")
        let model = try Data(contentsOf: URL(fileURLWithPath: run + "/model.safetensors"))
        let again = try Tool.run(["train", "--data", "shapes:64", "--out", run])
        expectOneLineError(again, naming: run)
        // Claim another architecture in config.json: loading must fail and name the weights file.
        let configPath = run + "/config.json"
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "\"latent\" : 16", with: "\"latent\" : 8")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let eval = try Tool.run(["evaluate", "--checkpoint", run, "--data", "shapes:64", "--limit", "8"])
        expectOneLineError(eval, naming: "model.safetensors")
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/model.safetensors")) == model)
    }

    @Test("sample, reconstruct and interpolate write PNG files; evaluate --json prints one object")
    func commandsWork() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.path, run = dir + "/run"
        let ok = try Tool.run(["train", "--data", "shapes:64", "--arch", "mnist", "--latent", "2", "--epochs", "1",
                               "--batch", "32", "--out", run])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(FileManager.default.fileExists(atPath: run + "/prior.safetensors"))
        for (cmd, extra) in [("sample", ["--count", "4"]), ("sample", ["--count", "4", "--normal-prior"]), ("reconstruct", ["--count", "4"]),
                             ("interpolate", ["--steps", "3", "--spherical"])] {
            let r = try Tool.run([cmd, "--checkpoint", run, "--out", dir + "/\(cmd).png"] + extra)
            #expect(r.status == 0, "\(cmd): \(r.stderr)")
            let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(cmd).png"))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
        let e = try Tool.run(["evaluate", "--checkpoint", run, "--limit", "4", "--iw-samples", "10", "--grid", "20", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any]
        #expect(json?["negativeIWBound"] is Double)
        #expect(json?["negativeLogLikelihoodGrid"] is Double)
    }

    @Test("a deep run: its config names the family; sample (with temperatures), reconstruct, interpolate and evaluate load it; imputation refuses it in one line")
    func deepCommandsWork() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.path, run = dir + "/run"
        let ok = try Tool.run(["train", "--data", "shapes:64", "--arch", "deep", "--widths", "8,8", "--latent", "2",
                               "--epochs", "1", "--batch", "32", "--out", run])
        #expect(ok.status == 0, "\(ok.stderr)")
        let config = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        #expect(config.contains("\"family\" : \"deep\"") && config.contains("\"groups\""), "\(config)")
        #expect(ok.stderr.contains("KL per group"), "\(ok.stderr)")
        // A prior fitted to the codes of its topmost group in use; sample draws from it at temperature 1.
        #expect(ok.stderr.contains("Gaussian mixture over") && FileManager.default.fileExists(atPath: run + "/prior.safetensors"),
                "\(ok.stderr)")
        for (cmd, extra) in [("sample", ["--count", "4"]), ("sample", ["--count", "4", "--temperature", "0.5"]),
                             ("sample", ["--count", "4", "--temperature", "1,0.8,0.5"]), ("reconstruct", ["--count", "4"]),
                             ("interpolate", ["--steps", "3"])] {
            let r = try Tool.run([cmd, "--checkpoint", run, "--out", dir + "/\(cmd).png"] + extra)
            #expect(r.status == 0, "\(cmd): \(r.stderr)")
            let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(cmd).png"))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
        let wrong = try Tool.run(["sample", "--checkpoint", run, "--out", dir + "/t.png", "--temperature", "1,0.5"])
        expectOneLineError(wrong, naming: "3 latent group(s)")
        let e = try Tool.run(["evaluate", "--checkpoint", run, "--limit", "4", "--iw-samples", "5", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any]
        #expect(json?["negativeIWBound"] is Double)
        #expect((json?["groups"] as? [Any])?.count == 3)
        let fid = try Tool.run(["evaluate", "--checkpoint", run, "--fid", "--fid-images", "24", "--feature-epochs", "1", "--json"])
        #expect(fid.status == 0, "\(fid.stderr)")
        let f = try JSONSerialization.jsonObject(with: Data(fid.stdout.utf8)) as? [String: Any]
        #expect(f?["model"] is Double && f?["untrained"] is Double && f?["modelPrior"] as? String == "fitted Gaussian mixture")
        try Image(width: 32, height: 32, channels: 3, pixels: (0..<3072).map { Float($0 % 7) / 7 }).writePNG(to: dir + "/in.png")
        let mwg = try Tool.run(["inpaint", "--checkpoint", run, "--input", dir + "/in.png", "--mask-kind", "center",
                                "--method", "mwg", "--out", dir + "/out.png"])
        expectOneLineError(mwg, naming: "needs a shallow VAE")
    }

    @Test("Ctrl-C saves a checkpoint that --resume continues")
    func interruptSavesAndResumes() throws {
        let tmp = TemporaryDirectory("convvae-cli"), run = tmp.file("run")
        let r = try Tool.run(["train", "--data", "shapes:512", "--arch", "mnist", "--epochs", "100", "--batch", "32",
                              "--out", run], interruptWhenExists: run + "/config.json")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("interrupted"))
        let state = try String(contentsOfFile: run + "/state.json", encoding: .utf8)
        #expect(state.contains("\"finished\" : false"))
        let resumed = try Tool.run(["train", "--out", run, "--resume", "--epochs", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }
}
