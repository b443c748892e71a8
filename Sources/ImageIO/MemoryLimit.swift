import Foundation

/// The most memory one allocation sized by a file's claim or a flag may take: half of this
/// machine's memory. Readers and the model check sizes against it before allocating, so a
/// crafted header or a huge flag ends in an error naming it, never in a trap or an exhausted
/// machine.
public enum MemoryLimit {
    /// Bytes one data set, image or model may take.
    public static let bytes: Int = Int(min(ProcessInfo.processInfo.physicalMemory / 2, UInt64(Int.max)))

    /// The product of `factors`, or nil when it overflows or a factor is negative.
    public static func product(_ factors: [Int]) -> Int? {
        var total = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (p, overflow) = total.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            total = p
        }
        return total
    }

    /// Checks that `factors` multiplied (element counts times bytes each) fit the limit.
    /// - Parameters:
    ///   - what: what would be allocated, e.g. "60000 images of 1x28x28"
    ///   - path: the file, folder or option whose claim it is
    /// - Throws: `ImageIOError` naming `path` when the size overflows or exceeds `bytes`.
    public static func check(_ factors: Int..., what: String, path: String) throws {
        guard let total = product(factors), total <= bytes else {
            let size = product(factors).map { String(format: "%.1f GB", Double($0) / 1e9) } ?? "more than 9 EB"
            throw ImageIOError(path, "\(what) would need \(size), more than the \(String(format: "%.1f", Double(bytes) / 1e9)) GB allowed (half of this machine's memory)")
        }
    }
}
