import Foundation
import VAE

/// A one-line progress bar on a terminal; silent when standard error is not a terminal
/// (the trainer's per-epoch log lines are the record then).
enum Progress {
    static let isTerminal = isatty(STDERR_FILENO) == 1
    nonisolated(unsafe) static var lastDraw = Date.distantPast

    static func show(_ p: TrainingProgress) {
        guard isTerminal, p.step == p.stepsPerEpoch || Date().timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = Date()
        let width = 24, done = width * p.step / max(p.stepsPerEpoch, 1)
        let bar = String(repeating: "#", count: done) + String(repeating: ".", count: width - done)
        let eta = p.secondsLeft.map { $0.isFinite ? String(format: "%d:%02d", Int($0) / 60, Int($0) % 60) : "?" } ?? "?"
        let line = String(format: "\repoch %d [%@] %d/%d  loss %.2f  kl %.2f  %.0f img/s  left %@ ",
                          p.epoch + 1, bar, p.step, p.stepsPerEpoch, p.loss, p.kl, p.imagesPerSecond, eta)
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func clear() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// SIGINT or SIGTERM asks the trainer to save a checkpoint and stop; a second one exits at
/// once. (mpirun turns a Ctrl-C into SIGTERM for every rank, and SIGKILL a second later.)
enum Interrupt {
    nonisolated(unsafe) static var requested = false

    static func install() {
        // A launcher may hand us SIGINT blocked (signal masks are inherited): unblock it.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for s in [SIGINT, SIGTERM] {
            signal(s) { signal in
                if Interrupt.requested { _exit(128 + signal) }
                Interrupt.requested = true
            }
        }
    }
}
