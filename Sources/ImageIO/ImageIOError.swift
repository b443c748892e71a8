import Foundation

/// An error from reading or writing images and datasets.
///
/// The description is one line that names the file (or data spec) and the problem, for example
/// `data/x.png: not a PNG or JPEG image`.
public struct ImageIOError: LocalizedError, CustomStringConvertible, Equatable, Sendable {
    /// The file, directory or data spec the error is about.
    public let path: String
    /// What went wrong, without the path.
    public let reason: String

    /// Creates an error about `path`.
    /// - Parameters:
    ///   - path: The file, directory or spec the problem concerns.
    ///   - reason: A short description of the problem.
    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `"<path>: <reason>"`.
    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }

    /// Same as `description`, so `localizedDescription` prints the one-line message too.
    public var errorDescription: String? { description }
}
