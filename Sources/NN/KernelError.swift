import CKernels

/// A failure reported by the C kernels: the status and the message of `ck_last_error`.
public struct KernelError: Error, CustomStringConvertible, Sendable {
    /// The C status code.
    public let status: UInt32
    /// What went wrong, as the kernel library worded it.
    public let message: String

    public var description: String { message.isEmpty ? "kernel error \(status)" : message }
}

/// Throws the kernel library's last error when `status` is not `CK_OK`.
@inline(__always)
func check(_ status: ck_status) throws {
    if status != CK_OK {
        throw KernelError(status: status.rawValue, message: String(cString: ck_last_error()))
    }
}
