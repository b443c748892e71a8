import CKernels

/// A compute backend (the CPU with its thread pool, or an OpenCL device) that owns tensors.
public final class Device: @unchecked Sendable {
    let handle: OpaquePointer

    /// Opens a backend by name: `auto`, `cpu`, `opencl` or `opencl:P.D`.
    /// - Parameters:
    ///   - name: the device to use
    ///   - threads: CPU threads for kernels; 0 uses every core the process may run on (under
    ///     mpirun, the cores its rank is bound to)
    public init(_ name: String = "cpu", threads: Int = 0) throws {
        var out: OpaquePointer?
        try check(ck_backend_open(name, Int32(threads), &out))
        handle = out!
    }

    deinit { ck_backend_close(handle) }

    /// "cpu" or "opencl".
    public var kind: String { String(cString: ck_backend_kind(handle)) }

    /// A one-line description of the device.
    public var description: String { String(cString: ck_backend_description(handle)) }

    /// CPU threads in use.
    public var threads: Int { Int(ck_backend_threads(handle)) }

    /// The alignment, in floats, of a tensor view's offset (`Tensor(viewing:offset:shape:)`).
    public var viewAlignment: Int { ck_buffer_view_alignment(handle) }

    /// Waits for queued work (a no-op on the CPU).
    public func synchronize() throws { try check(ck_backend_synchronize(handle)) }

    /// The OpenCL platforms and devices present, one per line.
    public static func openCLDevices() throws -> String {
        var text = [CChar](repeating: 0, count: 8192)
        try check(ck_opencl_list_devices(&text, text.count))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
