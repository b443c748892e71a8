/// A residual block: y = skip(x) + conv2(f(conv1(x))), two 3x3 stride-1 convolutions with a
/// nonlinearity f between them (ELU by default), and an identity skip, or a 1x1 convolution
/// when the channels change.
///
/// The branch has no activation on its input and none after the sum (as in EDSR, Lim et al.
/// 2017), so f sits between the two convolutions where `Sequential` fuses it into both passes:
/// a block costs its two convolutions, one residual add and no extra buffer. The branch's last
/// convolution starts with weights scaled by `branchScale` and a zero bias, so a deep stack
/// starts close to the identity and trains from the first step without a normalization layer
/// (the choice of Fixup and VDVAE: scale the residual branch at initialization, here by about
/// 1/sqrt(blocks)).
///
/// Buffers are preallocated for `maxBatch`; the sum is written over the second convolution's
/// output and the input gradient over the first one's, so no pass allocates.
public final class ResidualBlock: Layer {
    /// The branch: conv1, f, conv2 (f fused into the convolutions when it allows).
    public let branch: Sequential
    public let conv1: Conv2D, conv2: Conv2D
    /// The 1x1 skip convolution when input and output channels differ; nil for the identity.
    public let skip: Conv2D?
    public let outputShape: [Int]
    private var input: Tensor?

    /// - Parameters:
    ///   - input: per-item input shape [channels, height, width]
    ///   - outChannels: output channels (nil: the input's)
    ///   - hiddenChannels: channels between the two convolutions (nil: the output's)
    ///   - activation: f
    ///   - branchScale: factor on the second convolution's initial weights (its bias starts at 0)
    ///   - maxBatch: the largest batch
    ///   - workspace: shared convolution scratch
    ///   - rng: initializes the weights
    public init(input: [Int], outChannels: Int? = nil, hiddenChannels: Int? = nil, activation: ActivationKind = .elu,
                branchScale: Float = 1, maxBatch: Int, workspace: Workspace,
                rng: inout some RandomNumberGenerator) throws {
        precondition(input.count == 3, "ResidualBlock input shape must be [C, H, W]")
        let out = outChannels ?? input[0], hidden = hiddenChannels ?? out
        conv1 = try Conv2D(input: input, outChannels: hidden, kernel: 3, padding: 1, maxBatch: maxBatch,
                           workspace: workspace, rng: &rng)
        let act = try Activation(activation, shape: conv1.outputShape, maxBatch: maxBatch, on: workspace.device)
        conv2 = try Conv2D(input: conv1.outputShape, outChannels: out, kernel: 3, padding: 1, maxBatch: maxBatch,
                           workspace: workspace, rng: &rng)
        let w = try conv2.weight.value.read()
        try conv2.weight.value.write(w.map { $0 * branchScale })
        try conv2.bias.value.fill(0)
        branch = Sequential([conv1, act, conv2])
        skip = out == input[0] ? nil
            : try Conv2D(input: input, outChannels: out, kernel: 1, maxBatch: maxBatch, workspace: workspace, rng: &rng)
        outputShape = conv2.outputShape
        conv1.nameParameters("conv1")
        conv2.nameParameters("conv2")
        skip?.nameParameters("skip")
    }

    public var parameters: [Parameter] { branch.parameters + (skip?.parameters ?? []) }

    public var forwardFLOPs: Int { branch.forwardFLOPs + (skip?.forwardFLOPs ?? 0) }

    /// Names the parameters `prefix.conv1.weight`, `prefix.conv2.bias`, `prefix.skip.weight`, ...
    public func nameParameters(_ prefix: String) {
        conv1.nameParameters(prefix + ".conv1")
        conv2.nameParameters(prefix + ".conv2")
        skip?.nameParameters(prefix + ".skip")
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        input = x
        let y = try branch.forward(x)
        try y.axpby(1, try skip?.forward(x) ?? x, 1)
        return y
    }

    public func backward(_ dy: Tensor, inputGradient: Bool) throws -> Tensor? {
        guard input != nil else { preconditionFailure("ResidualBlock.backward before forward") }
        let dx = try branch.backward(dy, inputGradient: inputGradient)
        let dskip = try skip?.backward(dy, inputGradient: inputGradient)
        guard let dx else { return nil }
        try dx.axpby(1, dskip ?? dy, 1)
        return dx
    }
}
