// CKernelChecksTests.swift -- runs every shared C kernel check (Tests/CKernelChecks) on the
// CPU backend, the same checks ctest runs as ckernels.<check>.cpu, and calls the C API
// directly from Swift for a buffer round trip and an error with its message.
import CKernelChecks
import CKernels
import Testing

/// Runs one shared check group and records its outcome: failures as an issue, a skip (the
/// device, or an operation the group needs, is unavailable here) as a skipped test case with
/// its reason, never as a plain pass.
func runCheckGroup(_ name: String, on device: String) throws {
    var failures: Int32 = 0
    let outcome = ckc_run(name, device, &failures)
    switch outcome {
    case CKC_PASSED:
        return
    case CKC_SKIPPED:
        try skipTest("\(name) on \(device): skipped, the device or an operation it needs is not available here (reason on stderr)")
    case CKC_FAILED:
        Issue.record("\(name) on \(device): \(failures) failures (details on stderr)")
    default:
        Issue.record("\(name) on \(device): \(String(cString: ckc_outcome_name(outcome)))")
    }
}

/// Ends the running test case as skipped, with its reason: cancelled (Test.cancel, Swift 6.3
/// and later), which event streams record as a skip. The console shows neither a cancelled
/// test case nor its comment, so the reason also goes out as a known issue (not a failure),
/// which it prints up to the run's summary.
func skipTest(_ reason: String) throws {
    withKnownIssue { Issue.record(Comment(rawValue: reason)) }
    #if compiler(>=6.3)
    try Test.cancel(Comment(rawValue: reason))
    #endif
}

/// The names of the shared check groups, from the C registry.
private let cpuCheckNames: [String] = {
    var names: [String] = []
    guard var entry = ckc_names() else { return names }
    while let name = entry.pointee {
        names.append(String(cString: name))
        entry += 1
    }
    return names
}()

@Suite("C kernel checks on the CPU")
struct CKernelChecksTests {
    @Test("the registry lists the check groups")
    func registry() {
        #expect(cpuCheckNames.count >= 14)
        #expect(cpuCheckNames.contains("conv") && cpuCheckNames.contains("errors"))
    }

    @Test("check group on cpu", arguments: cpuCheckNames)
    func check(_ name: String) throws {
        try runCheckGroup(name, on: "cpu")
    }

    @Test("an unknown check is its own outcome, not a skip or a pass")
    func unknownCheck() {
        var failures: Int32 = -1
        #expect(ckc_run("no-such-check", "cpu", &failures) == CKC_UNKNOWN_CHECK)
        #expect(failures == 0)
        #expect(ckc_run(nil, "cpu", nil) == CKC_UNKNOWN_CHECK)
    }

    @Test("a device that does not exist here is a skip, with no failures")
    func missingDevice() {
        var failures: Int32 = -1
        #expect(ckc_run("kl", "opencl:99.99", &failures) == CKC_SKIPPED)
        #expect(failures == 0)
        #expect(String(cString: ckc_outcome_name(CKC_SKIPPED)) == "skipped")
    }

    @Test("a device name that is wrong is a failure, not a skip")
    func badDevice() {
        var failures: Int32 = 0
        #expect(ckc_run("kl", "no-such-device", &failures) == CKC_FAILED)
        #expect(failures == 1)
    }
}

@Suite("C API from Swift")
struct CKernelsAPITests {
    @Test("floats written to a CPU buffer read back unchanged")
    func bufferRoundTrip() throws {
        var backend: OpaquePointer?
        #expect(ck_backend_open("cpu", 2, &backend) == CK_OK)
        defer { ck_backend_close(backend) }
        #expect(String(cString: ck_backend_kind(backend)) == "cpu")
        #expect(ck_backend_threads(backend) == 2)

        var buffer: OpaquePointer?
        #expect(ck_buffer_new(backend, 16, &buffer) == CK_OK)
        defer { ck_buffer_free(buffer) }
        #expect(ck_buffer_count(buffer) == 16)
        let values: [Float] = (0..<16).map { Float($0) * 0.5 - 3 }
        #expect(ck_buffer_write(buffer, 0, 16, values) == CK_OK)
        var back = [Float](repeating: .nan, count: 16)
        #expect(ck_buffer_read(buffer, 0, 16, &back) == CK_OK)
        #expect(back == values)

        var sum = 0.0
        #expect(ck_sum(buffer, 0, 16, &sum) == CK_OK)
        #expect(sum == Double(values.reduce(0, +)))
    }

    @Test("a bad argument returns an error status and a message")
    func errorWithMessage() {
        var backend: OpaquePointer?
        #expect(ck_backend_open("cpu", 1, &backend) == CK_OK)
        defer { ck_backend_close(backend) }
        var buffer: OpaquePointer?
        let status = ck_buffer_new(backend, 0, &buffer)
        #expect(status == CK_ERR_ARGUMENT)
        #expect(buffer == nil)
        let message = String(cString: ck_last_error())
        #expect(message.contains("count"), "message: \(message)")
        #expect(String(cString: ck_status_name(status)) != "ok")

        #expect(ck_backend_open("no-such-device", 1, &backend) == CK_ERR_ARGUMENT)
        #expect(!String(cString: ck_last_error()).isEmpty)
    }

    @Test("convolution output sizes")
    func convOutput() {
        var shape = ck_conv_shape_make(1, 1, 28, 28, 32, 4, 4)
        shape.stride_h = 2; shape.stride_w = 2; shape.pad_h = 1; shape.pad_w = 1
        var h: Int32 = 0, w: Int32 = 0
        #expect(ck_conv_output(&shape, 0, &h, &w) == CK_OK)
        #expect(h == 14 && w == 14)
        shape.h_in = 7; shape.w_in = 7
        #expect(ck_conv_output(&shape, 1, &h, &w) == CK_OK)
        #expect(h == 14 && w == 14)
    }
}
