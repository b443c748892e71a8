import ArgumentParser
import NN

/// `vae devices`: lists the OpenCL platforms and devices and says what `auto` picks.
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
    }
}
