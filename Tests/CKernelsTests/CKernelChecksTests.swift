// CKernelChecksTests.swift -- runs every shared C kernel check (Tests/CKernelChecks) on the
// CPU backend, the same checks ctest runs as ckernels.<check>.cpu, and calls the C API
// directly from Swift for a buffer round trip and an error with its message.
import CKernelChecks
import CKernels
import Testing

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
    func check(_ name: String) {
        let failures = ckc_run(name, "cpu")
        #expect(failures == 0, "\(name) on cpu: \(failures) failures (details on stderr)")
    }

    @Test("an unknown check is a failure, not a skip")
    func unknownCheck() {
        #expect(ckc_run("no-such-check", "cpu") == 1)
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
