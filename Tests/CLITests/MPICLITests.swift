import Foundation
import NN
import Testing
import TestSupport

/// Open MPI's launcher, when installed (scripts/setup installs it), with the flags that let CI
/// run two ranks as root on however few cores it has.
enum MPI {
    static let mpirun: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
        .split(separator: ":").map { $0 + "/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    static func launcher(_ ranks: Int) -> [String] {
        [mpirun!, "--allow-run-as-root", "--oversubscribe", "-np", String(ranks)]
    }

    /// The pid of rank `rank` of the `vae` processes whose command line mentions `marker`.
    static func pid(ofRank rank: Int, marker: String) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry),
                  let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            let env = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if args.first?.hasSuffix("/vae") == true, args.contains(marker), env.contains("OMPI_COMM_WORLD_RANK=\(rank)") {
                return pid
            }
        }
        return nil
    }
}

/// The weights of a run directory, by name.
func runWeights(_ dir: String) throws -> [String: [Float]] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors")))
    return Dictionary(uniqueKeysWithValues: try SafeTensors.decode(bytes).entries.map { ($0.name, $0.values) })
}

/// `mpirun -np 2 vae train`: the same run as one process, rank 0 alone writing; refusals; a
/// killed rank, a stalled rank and Ctrl-C on the launcher, each leaving a checkpoint that
/// `--resume` continues (on another number of ranks).
@Suite("vae train on two Open MPI ranks", .serialized,
       .enabled(if: MPI.mpirun != nil, "Open MPI's mpirun is not installed (scripts/setup installs it)"))
struct MPICLITests {
    /// A small, fast run: 288 training images of 28x28 (9 steps per epoch at batch 32).
    static let run = ["train", "--data", "shapes:320", "--arch", "mnist", "--latent", "2", "--batch", "32",
                      "--threads", "1", "--seed", "3"]

    @Test("two ranks end with the weights of one process up to float rounding; two runs on two ranks are bit-identical")
    func sameResult() throws {
        let tmp = TemporaryDirectory("convvae-mpi")
        let one = try Tool.run(Self.run + ["--epochs", "1", "--out", tmp.file("one")])
        #expect(one.status == 0, "\(one.stderr)")
        var two: [[String: [Float]]] = []
        for name in ["two-a", "two-b"] {
            let r = try Tool.run(Self.run + ["--epochs", "1", "--out", tmp.file(name)], launcher: MPI.launcher(2), when: nil) { _ in }
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("processes: 2 ranks of 16 images per step"), "\(r.stderr)")
            // Rank 0 alone logs (and writes): one line per epoch.
            #expect(r.stderr.components(separatedBy: "epoch 1  step 9").count == 2, "\(r.stderr)")
            two.append(try runWeights(tmp.file(name)))
        }
        #expect(two[0] == two[1], "two runs on two ranks differ")
        let single = try runWeights(tmp.file("one"))
        #expect(Set(single.keys) == Set(two[0].keys))
        var largest: Float = 0, difference: Float = 0
        for (name, w) in single {
            largest = max(largest, w.map(abs).max()!)
            difference = max(difference, zip(w, two[0][name]!).map { abs($0 - $1) }.max()!)
        }
        #expect(difference <= 1e-4 * largest, "largest weight difference \(difference) (largest weight \(largest))")
        // The 2-rank run continues in one process, exactly where it stopped.
        let resumed = try Tool.run(["train", "--out", tmp.file("two-a"), "--resume", "--epochs", "2", "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming at step 9") && resumed.stderr.contains("epoch 2  step 18"), "\(resumed.stderr)")
    }

    /// Debug builds compare the ranks' weights (the codebook among them) every 10 steps and at
    /// each epoch's end, and stop the run if they differ: moving averages of each rank's own
    /// batch, or dead codes restarted from each rank's own vectors, would fail it.
    @Test("a VQ-VAE trains on two ranks with one codebook, and one process resumes it")
    func vqVAE() throws {
        let tmp = TemporaryDirectory("convvae-mpi")
        let args = ["train", "--model", "vqvae", "--data", "shapes:320", "--batch", "32", "--codes", "16", "--code-dim", "4",
                    "--threads", "1", "--seed", "3"]
        let r = try Tool.run(args + ["--epochs", "2", "--out", tmp.file("vq")], launcher: MPI.launcher(2), when: nil) { _ in }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("processes: 2 ranks of 16 images per step") && r.stderr.contains("epoch 2  step 18"),
                "\(r.stderr)")
        let resumed = try Tool.run(["train", "--out", tmp.file("vq"), "--resume", "--epochs", "3", "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("epoch 3  step 27"), "\(resumed.stderr)")
    }

    @Test("vae devices says that Open MPI is there; another MPI's launcher is refused, not run N times over")
    func devicesAndLaunchers() throws {
        let r = try Tool.run(["devices"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("mpi      Open MPI v"), "\(r.stdout)")
        let tmp = TemporaryDirectory("convvae-mpi")
        let other = try Tool.run(["train", "--data", "shapes:64", "--epochs", "1", "--out", tmp.file("run")],
                                 launcher: [], environment: ["PMI_RANK": "1", "PMI_SIZE": "2"], when: nil) { _ in }
        #expect(other.status != 0)
        #expect(other.stderr.contains("started by an MPI launcher other than Open MPI's"), "\(other.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tmp.file("run")))
    }

    @Test("a batch that does not divide among the ranks is refused with one clear line per rank")
    func indivisibleBatch() throws {
        let tmp = TemporaryDirectory("convvae-mpi")
        let r = try Tool.run(["train", "--data", "shapes:64", "--batch", "33", "--epochs", "1", "--out", tmp.file("run")],
                             launcher: MPI.launcher(2), when: nil) { _ in }
        #expect(r.status != 0)
        #expect(r.stderr.contains("--batch 33 does not divide among 2 processes; give a multiple of 2"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tmp.file("run") + "/model.safetensors"))
    }

    @Test("a killed rank stops the other within seconds; the checkpoint resumes on two ranks")
    func killedRank() throws {
        let tmp = TemporaryDirectory("convvae-mpi"), dir = tmp.file("run")
        let r = try Tool.run(Self.run + ["--epochs", "60", "--out", dir], launcher: MPI.launcher(2),
                             when: dir + "/state.json") { _ in
            if let pid = MPI.pid(ofRank: 1, marker: dir) { kill(pid, SIGKILL) }
        }
        #expect(r.status != 0)
        #expect(r.secondsAfterAction! < 30, "the job took \(r.secondsAfterAction!) s to end")
        let resumed = try Tool.run(["train", "--out", dir, "--resume", "--epochs", "6", "--threads", "1"],
                                   launcher: MPI.launcher(2), when: nil) { _ in }
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("epoch 6  step 54"), "\(resumed.stderr)")
    }

    @Test("a rank that stalls ends the other after the collective timeout, with a message")
    func stalledRank() throws {
        let tmp = TemporaryDirectory("convvae-mpi"), dir = tmp.file("run")
        var stalled: pid_t?
        let r = try Tool.run(Self.run + ["--epochs", "60", "--out", dir], launcher: MPI.launcher(2),
                             environment: ["VAE_MPI_TIMEOUT": "2"], when: dir + "/state.json") { _ in
            stalled = MPI.pid(ofRank: 1, marker: dir)
            if let stalled { kill(stalled, SIGSTOP) }
        }
        if let stalled { kill(stalled, SIGKILL) }  // in case mpirun left it stopped
        #expect(stalled != nil)
        #expect(r.status != 0)
        #expect(r.stderr.contains("rank 0 of 2: waited 2 s for the other ranks"), "\(r.stderr)")
        #expect(r.secondsAfterAction! < 30, "the job took \(r.secondsAfterAction!) s to end")
    }

    /// mpirun answers Ctrl-C with SIGTERM to every rank, and SIGKILL a second or two later.
    @Test("Ctrl-C on mpirun saves a checkpoint that one process resumes")
    func interruptOnLauncher() throws {
        let tmp = TemporaryDirectory("convvae-mpi"), dir = tmp.file("run")
        let r = try Tool.run(Self.run + ["--epochs", "60", "--out", dir], launcher: MPI.launcher(2),
                             when: dir + "/state.json") { kill($0.processIdentifier, SIGINT) }
        #expect(r.stderr.contains("interrupted at step"), "\(r.stderr)")
        let state = try String(contentsOfFile: dir + "/state.json", encoding: .utf8)
        #expect(state.contains("\"finished\" : false"))
        let resumed = try Tool.run(["train", "--out", dir, "--resume", "--epochs", "3", "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }
}
