import ArgumentParser
import NN

/// `vae devices`: lists the OpenCL platforms and devices, says what `auto` picks and whether
/// Open MPI is there for data-parallel training.
struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List compute devices.")

    func run() throws {
        print("cpu      \(try Device("cpu").description)")
        do {
            let list = try Device.openCLDevices()
            print(list.isEmpty ? "no OpenCL devices" : list, terminator: list.hasSuffix("\n") ? "" : "\n")
        } catch {
            print("OpenCL: \(error)")
        }
        print("auto     \(try Device("auto").description)")
        let mpi = Communicator.probe()
        print(mpi.available ? "mpi      \(mpi.text): mpirun -np N vae train ... trains on N processes"
                            : "mpi      not available: \(mpi.text)")
    }
}
