import ArgumentParser
import Foundation
import NN

/// Where to compute: shared by every command that computes.
struct DeviceOptions: ParsableArguments {
    @Option(help: "auto, cpu, opencl or opencl:P.D (default: $VAE_DEVICE, else auto).")
    var device: String?

    @Option(help: "CPU threads (0 = every core this process may use; under mpirun, its rank's).")
    var threads: Int = 0

    func validate() throws {
        guard (0...4096).contains(threads) else { throw ValidationError("--threads must be in 0...4096") }
    }

    /// Opens the device asked for.
    func open() throws -> Device {
        let name = device ?? ProcessInfo.processInfo.environment["VAE_DEVICE"] ?? "auto"
        return try Device(name, threads: threads)
    }
}
