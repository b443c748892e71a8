// OpenCLChecksTests.swift -- runs every shared C kernel check (Tests/CKernelChecks) on the
// OpenCL backend, the same checks ctest runs as ckernels.<check>.opencl, and checks the
// OpenCL device listing and naming. The suite is disabled where no OpenCL device opens; a
// group that ckc_run reports skipped (CKC_SKIPPED) is recorded as a skipped test case.
import CKernelChecks
import CKernels
import Testing

/// The names of the shared check groups, from the C registry.
private let openCLCheckNames: [String] = {
    var names: [String] = []
    guard var entry = ckc_names() else { return names }
    while let name = entry.pointee {
        names.append(String(cString: name))
        entry += 1
    }
    return names
}()

/// Whether an OpenCL device can be opened here (probed once).
private let openCLAvailable: Bool = {
    var backend: OpaquePointer?
    guard ck_backend_open("opencl", 1, &backend) == CK_OK else { return false }
    ck_backend_close(backend)
    return true
}()

@Suite("C kernel checks on OpenCL", .enabled(if: openCLAvailable, "no OpenCL device here"))
struct OpenCLChecksTests {
    @Test("check group on opencl", arguments: openCLCheckNames)
    func check(_ name: String) throws {
        try runCheckGroup(name, on: "opencl")
    }

    @Test("device list: one line per device, P.D  type  name  compute-units  memory-MiB")
    func deviceList() {
        var text = [CChar](repeating: 0, count: 8192)
        #expect(ck_opencl_list_devices(&text, text.count) == CK_OK)
        let listing = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let lines = listing.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            // the name may hold spaces: check the fields at both ends
            let fields = line.split(separator: " ")
            guard fields.count >= 5 else {
                Issue.record("short line: \(line)")
                continue
            }
            #expect(fields[0].split(separator: ".").count == 2, "\(line)")
            #expect(["gpu", "cpu", "accelerator", "other"].contains(String(fields[1])), "\(line)")
            #expect(Int(fields[fields.count - 2]) != nil && Int(fields[fields.count - 1]) != nil,
                    "\(line)")
        }
    }

    @Test("device names: opencl:0.0 opens, a missing device is unavailable, a bad one an error")
    func deviceNames() {
        var backend: OpaquePointer?
        #expect(ck_backend_open("opencl:0.0", 0, &backend) == CK_OK)
        #expect(String(cString: ck_backend_kind(backend)) == "opencl")
        #expect(String(cString: ck_backend_description(backend)).hasPrefix("OpenCL "))
        ck_backend_close(backend)
        #expect(ck_backend_open("opencl:99.0", 0, &backend) == CK_ERR_UNAVAILABLE)
        #expect(String(cString: ck_last_error()).contains("no device 99.0"))
        #expect(ck_backend_open("opencl:zero", 0, &backend) == CK_ERR_ARGUMENT)
    }
}
