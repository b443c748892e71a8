/// A trainable tensor with its gradient and Adam moments, named for checkpoints.
public final class Parameter {
    /// A dotted name, e.g. "encoder.0.weight".
    public var name: String
    /// The values.
    public let value: Tensor
    /// The gradient of the loss, written by the backward pass (a view of one buffer for all
    /// parameters once `GradientBuffer` gathers them).
    public internal(set) var grad: Tensor
    /// Adam's first and second moments.
    public let m: Tensor, v: Tensor
    /// Whether weight decay applies (weights yes, biases and scales no).
    public let decays: Bool

    /// A zero parameter of the given shape.
    public init(_ name: String, _ shape: [Int], on device: Device, decays: Bool = true) throws {
        self.name = name
        value = try Tensor(shape, on: device)
        grad = try Tensor(shape, on: device)
        m = try Tensor(shape, on: device)
        v = try Tensor(shape, on: device)
        self.decays = decays
    }

    /// Fills the values uniformly in [-bound, bound] from a (seeded) generator.
    public func initializeUniform(bound: Float, rng: inout some RandomNumberGenerator) throws {
        let values = (0..<value.count).map { _ in Float.random(in: -bound...bound, using: &rng) }
        try value.write(values)
    }
}
