import CKernels

/// An elementwise nonlinearity.
public enum ActivationKind: Sendable {
    case identity, relu, leakyReLU(Float), sigmoid, tanh, softplus

    var kernel: (ck_activation, Float) {
        switch self {
        case .identity: (CK_ACT_IDENTITY, 0)
        case .relu: (CK_ACT_RELU, 0)
        case .leakyReLU(let a): (CK_ACT_LEAKY_RELU, a)
        case .sigmoid: (CK_ACT_SIGMOID, 0)
        case .tanh: (CK_ACT_TANH, 0)
        case .softplus: (CK_ACT_SOFTPLUS, 0)
        }
    }
}

/// Applies an activation to every element; keeps input and output for the backward pass,
/// which writes the input gradient over the output gradient (no extra memory).
public final class Activation: Layer {
    public let kind: ActivationKind
    public let outputShape: [Int]
    let output: Tensor
    private var input: Tensor?

    /// - Parameters:
    ///   - kind: the nonlinearity
    ///   - shape: per-item shape
    ///   - maxBatch: the largest batch
    public init(_ kind: ActivationKind, shape: [Int], maxBatch: Int, on device: Device) throws {
        self.kind = kind
        outputShape = shape
        output = try Tensor([maxBatch] + shape, on: device)
    }

    public var parameters: [Parameter] { [] }

    public func forward(_ x: Tensor) throws -> Tensor {
        input = x
        output.shape = x.shape
        let (k, a) = kind.kernel
        try check(ck_activation_forward(k, a, x.count, x.buffer, output.buffer))
        return output
    }

    public func backward(_ dy: Tensor, inputGradient: Bool) throws -> Tensor? {
        guard inputGradient else { return nil }
        guard let x = input else { preconditionFailure("Activation.backward before forward") }
        let (k, a) = kind.kernel
        try check(ck_activation_backward(k, a, x.count, x.buffer, output.buffer, dy.buffer, dy.buffer))
        return dy
    }
}
