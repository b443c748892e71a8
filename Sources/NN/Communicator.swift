import CKernels
import Foundation

/// The processes of one data-parallel run (Open MPI's ranks, started by `mpirun`), or this
/// process alone. Every rank calls the collectives in the same order; alone, they return at
/// once and change nothing. A collective that waits longer than the timeout for the others
/// (one died or hangs) ends the process with a message; `barrier` waits without a limit.
public final class Communicator: @unchecked Sendable {
    let handle: OpaquePointer?
    /// This process's rank, 0 ..< `size`.
    public let rank: Int
    /// The number of processes.
    public let size: Int

    /// One process, alone (no MPI).
    public static let alone = Communicator(handle: nil)

    init(handle: OpaquePointer?) {
        self.handle = handle
        rank = Int(ck_dist_rank(handle))
        size = Int(ck_dist_size(handle))
    }

    /// Joins the run's processes: MPI when `mpirun` started this process (libmpi loaded now),
    /// else alone. Call once per process; `close()` when the work ended well.
    /// - Parameter timeout: seconds a collective may wait for the other ranks (0: forever);
    ///   nil reads `VAE_MPI_TIMEOUT`, else 60
    public convenience init(timeout: Double? = nil) throws {
        let seconds = timeout ?? ProcessInfo.processInfo.environment["VAE_MPI_TIMEOUT"].flatMap(Double.init) ?? 60
        var out: OpaquePointer?
        try check(ck_dist_open(max(seconds, 0), &out))
        self.init(handle: out)
    }

    /// Whether this is rank 0, the one that reads and writes the run directory.
    public var isRoot: Bool { rank == 0 }

    /// "rank R of N on HOST (Open MPI v...)", or "one process ...".
    public var description: String { handle.map { String(cString: ck_dist_description($0)) } ?? "one process" }

    /// Leaves the run (MPI_Finalize, which waits for every rank to leave). Only after the
    /// work ended well: a rank that fails exits without it, and mpirun then ends the others.
    public func close() { ck_dist_close(handle) }

    /// Sums `tensor`'s current elements over the ranks, in place.
    public func sum(_ tensor: Tensor) throws {
        try check(ck_dist_allreduce_sum(handle, tensor.buffer, 0, tensor.count))
    }

    /// Sums host doubles over the ranks, in place.
    public func sum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        try check(ck_dist_allreduce_sum_host(handle, values.baseAddress, values.count))
    }

    /// Gives every rank rank 0's current elements of `tensor`.
    public func broadcast(_ tensor: Tensor) throws {
        try check(ck_dist_broadcast(handle, tensor.buffer, 0, tensor.count, 0))
    }

    /// Rank 0's bytes, on every rank (the others pass anything; the length travels first).
    public func broadcast(_ bytes: [UInt8]) throws -> [UInt8] {
        var count = UInt64(bytes.count)
        try check(ck_dist_broadcast_host(handle, &count, 8, 0))
        var out = isRoot ? bytes : [UInt8](repeating: 0, count: Int(count))
        try out.withUnsafeMutableBytes { try check(ck_dist_broadcast_host(handle, $0.baseAddress, $0.count, 0)) }
        return out
    }

    /// Whether every rank holds the same floats (by a hash compared with rank 0's).
    public func agree(_ values: [Float]) throws -> Bool {
        var same: Int32 = 0
        try values.withUnsafeBytes { try check(ck_dist_agree(handle, $0.baseAddress, $0.count, &same)) }
        return same == 1
    }

    /// Waits, without a time limit, until every rank arrives: after uneven work (loading,
    /// rank 0 validating and saving).
    public func barrier() throws { try check(ck_dist_barrier(handle)) }

    /// Whether Open MPI can be loaded here: its version line, or why not.
    public static func probe() -> (available: Bool, text: String) {
        var text = [CChar](repeating: 0, count: 512)
        let status = ck_dist_probe(&text, text.count)
        return (status == CK_OK, String(cString: text))
    }
}
