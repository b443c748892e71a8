/// A failure the user must hear about, as one line that names the file or option and the
/// problem: a bad run directory, checkpoint or mask, input that does not fit the model, a
/// training run that cannot go on.
public struct VAEError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
