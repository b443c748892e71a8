#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An exclusive lock on a run directory, held while one `vae train` writes it, so that two
/// trainings on the same `--out` never both write. The kernel releases it when the process
/// ends, however it ends, so a killed run leaves no lock to clear by hand. The lock file
/// (`.lock`, holding the owner's process id) stays: removing it would let two processes lock
/// two different files.
final class RunLock {
    static let file = ".lock"
    let descriptor: Int32

    /// Takes the lock of `directory` (which must exist).
    /// - Throws: `VAEError` naming the directory when another process holds it.
    init(_ directory: String) throws {
        let path = (directory as NSString).appendingPathComponent(Self.file)
        // The descriptor is stored only once the lock is held: a throwing init of a fully
        // initialized object runs deinit, which would close it a second time (and with it
        // whatever file has reused the number meanwhile).
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw VAEError("\(directory): cannot create the run's lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            let owner = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw VAEError("\(directory): another vae train\(owner.isEmpty ? "" : " (process \(owner))") is writing this run; wait for it to end or choose another --out")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        descriptor = fd
    }

    deinit { close(descriptor) }
}
