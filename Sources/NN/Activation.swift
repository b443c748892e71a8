import CKernels

/// An elementwise nonlinearity.
public enum ActivationKind: Sendable {
    case identity, relu, leakyReLU(Float), sigmoid, tanh, softplus
    /// x for x > 0, exp(x) - 1 otherwise (Clevert et al. 2016): smooth, its negative side keeps
    /// mean activations near zero without normalization, and its derivative (1, or output + 1)
    /// follows from its output, so it fuses into convolutions both ways like ReLU.
    case elu

    var kernel: (ck_activation, Float) {
        switch self {
        case .identity: (CK_ACT_IDENTITY, 0)
        case .relu: (CK_ACT_RELU, 0)
        case .leakyReLU(let a): (CK_ACT_LEAKY_RELU, a)
        case .sigmoid: (CK_ACT_SIGMOID, 0)
        case .tanh: (CK_ACT_TANH, 0)
        case .softplus: (CK_ACT_SOFTPLUS, 0)
        case .elu: (CK_ACT_ELU, 0)
        }
    }

    /// Whether a following layer can apply this activation's derivative from its output
    /// (what the fused backward-data kernels need): all but softplus and negative slopes.
    var derivativeFromOutput: Bool {
        switch self {
        case .identity, .relu, .sigmoid, .tanh, .elu: true
        case .leakyReLU(let a): a >= 0
        case .softplus: false
        }
    }
}

/// A layer that can take over the activations next to it, so that no separate activation
/// pass runs: `Sequential` pairs `layer -> Activation -> layer` chains into fused kernels.
protocol ActivationFusing: Layer {
    /// Applied to this layer's output within its forward pass (identity: none).
    var outputActivation: ActivationKind { get set }
    /// The activation whose output this layer's input is: its backward pass then returns the
    /// gradient with respect to that activation's input (identity: the plain input gradient).
    var inputActivation: ActivationKind { get set }
}

/// Applies an activation to every element; keeps input and output for the backward pass,
/// which writes the input gradient over the output gradient (no extra memory).
///
/// Inside a `Sequential`, an activation between two layers that can fuse it is `fused`: the
/// layer before applies it in its forward pass and the layer after applies its derivative
/// in its backward pass, so this layer passes tensors through and owns no output memory.
public final class Activation: Layer {
    public let kind: ActivationKind
    public let outputShape: [Int]
    private let maxBatch: Int
    private let device: Device
    private var storage: Tensor?
    private var input: Tensor?
    /// Set by `Sequential`: the neighbouring layers do this layer's work.
    public internal(set) var fused = false

    /// - Parameters:
    ///   - kind: the nonlinearity
    ///   - shape: per-item shape
    ///   - maxBatch: the largest batch
    public init(_ kind: ActivationKind, shape: [Int], maxBatch: Int, on device: Device) throws {
        self.kind = kind
        outputShape = shape
        self.maxBatch = maxBatch
        self.device = device
    }

    /// Allocates the output buffer now (`Sequential` does so for the activations it does not
    /// fuse, so that no training step allocates); a standalone activation allocates it on its
    /// first forward pass.
    public func allocate() throws {
        _ = try output()
    }

    /// The output buffer, allocated on first unfused use.
    private func output() throws -> Tensor {
        if let t = storage { return t }
        let t = try Tensor([maxBatch] + outputShape, on: device)
        storage = t
        return t
    }

    public var parameters: [Parameter] { [] }
    public var forwardFLOPs: Int { 0 }

    public func forward(_ x: Tensor) throws -> Tensor {
        input = x
        if fused { return x }
        let output = try output()
        output.shape = x.shape
        let (k, a) = kind.kernel
        try check(ck_activation_forward(k, a, x.count, x.buffer, output.buffer))
        return output
    }

    public func backward(_ dy: Tensor, inputGradient: Bool) throws -> Tensor? {
        guard inputGradient else { return nil }
        guard let x = input else { preconditionFailure("Activation.backward before forward") }
        if fused { return dy }
        let (k, a) = kind.kernel
        try check(ck_activation_backward(k, a, x.count, x.buffer, try output().buffer, dy.buffer, dy.buffer))
        return dy
    }
}
