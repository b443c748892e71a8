import CKernels

/// A 2-D convolution (`transposed: false`) or transposed convolution (`true`) with bias.
///
/// Weights follow PyTorch: `[out, in, k, k]` for a convolution, `[in, out, k, k]` when transposed.
public final class Conv2D: Layer, ActivationFusing {
    public let weight: Parameter
    public let bias: Parameter
    public let transposed: Bool
    public let outputShape: [Int]
    let inputShape: [Int]
    var geometry: ck_conv_shape
    let output: Tensor
    private var inputGrad: Tensor?
    private var input: Tensor?
    private let workspace: Workspace
    var outputActivation: ActivationKind = .identity
    var inputActivation: ActivationKind = .identity

    /// - Parameters:
    ///   - input: per-item input shape [channels, height, width]
    ///   - outChannels: output channels
    ///   - kernel, stride, padding: square geometry
    ///   - outputPadding: transposed only: extra rows and columns at the far side
    ///   - transposed: a transposed convolution (upsampling)
    ///   - maxBatch: the largest batch this layer will see
    ///   - workspace: shared scratch, grown to what this layer needs
    ///   - rng: initializes weights and bias uniformly in ±1/sqrt(fan-in), as PyTorch does
    public init(input: [Int], outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, transposed: Bool = false, maxBatch: Int,
                workspace: Workspace, rng: inout some RandomNumberGenerator) throws {
        let device = workspace.device
        precondition(input.count == 3, "Conv2D input shape must be [C, H, W]")
        self.transposed = transposed
        self.inputShape = input
        self.workspace = workspace
        geometry = ck_conv_shape(
            batch: Int32(maxBatch), c_in: Int32(input[0]), h_in: Int32(input[1]), w_in: Int32(input[2]),
            c_out: Int32(outChannels), k_h: Int32(kernel), k_w: Int32(kernel),
            stride_h: Int32(stride), stride_w: Int32(stride), pad_h: Int32(padding), pad_w: Int32(padding),
            dil_h: 1, dil_w: 1, out_pad_h: Int32(outputPadding), out_pad_w: Int32(outputPadding))
        var ho: Int32 = 0, wo: Int32 = 0
        try check(ck_conv_output(&geometry, transposed ? 1 : 0, &ho, &wo))
        outputShape = [outChannels, Int(ho), Int(wo)]
        let wShape = transposed ? [input[0], outChannels, kernel, kernel] : [outChannels, input[0], kernel, kernel]
        weight = try Parameter("weight", wShape, on: device)
        bias = try Parameter("bias", [outChannels], on: device, decays: false)
        // PyTorch's fan-in for ConvTranspose2d is weight.size(1) * k * k.
        let fanIn = (transposed ? outChannels : input[0]) * kernel * kernel
        let bound = 1 / Float(fanIn).squareRoot()
        try weight.initializeUniform(bound: bound, rng: &rng)
        try bias.initializeUniform(bound: bound, rng: &rng)
        output = try Tensor([maxBatch] + outputShape, on: device)
        var need = 0
        try check(ck_conv_workspace(device.handle, &geometry, transposed ? 1 : 0, &need))
        try workspace.reserve(need)
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// 2 x the multiply-adds of one item: every output (input, for a transposed convolution)
    /// pixel meets every weight once.
    public var forwardFLOPs: Int {
        let k = Int(geometry.k_h * geometry.k_w) * inputShape[0] * outputShape[0]
        return 2 * k * (transposed ? inputShape[1] * inputShape[2] : outputShape[1] * outputShape[2])
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        precondition(x.itemCount == inputShape.reduce(1, *), "Conv2D: input \(x.shape) does not match \(inputShape)")
        geometry.batch = Int32(x.batch)
        input = x
        output.setBatch(x.batch)
        let ws = workspace.tensor?.buffer
        let (act, alpha) = outputActivation.kernel
        if transposed {
            try check(ck_deconv2d_forward_act(&geometry, x.buffer, weight.value.buffer, bias.value.buffer, act, alpha,
                                              output.buffer, ws))
        } else {
            try check(ck_conv2d_forward_act(&geometry, x.buffer, weight.value.buffer, bias.value.buffer, act, alpha,
                                            output.buffer, ws))
        }
        return output
    }

    public func backward(_ dy: Tensor, inputGradient: Bool) throws -> Tensor? {
        guard let x = input else { preconditionFailure("Conv2D.backward before forward") }
        geometry.batch = Int32(x.batch)
        let ws = workspace.tensor?.buffer
        if transposed {
            try check(ck_deconv2d_backward_weights(&geometry, x.buffer, dy.buffer, weight.grad.buffer, bias.grad.buffer, ws))
        } else {
            try check(ck_conv2d_backward_weights(&geometry, x.buffer, dy.buffer, weight.grad.buffer, bias.grad.buffer, ws))
        }
        guard inputGradient else { return nil }
        if inputGrad == nil { inputGrad = try Tensor([output.capacity / outputShape.reduce(1, *)] + inputShape, on: x.device) }
        let dx = inputGrad!
        dx.setBatch(x.batch)
        let (act, alpha) = inputActivation.kernel
        if transposed {
            try check(ck_deconv2d_backward_data_act(&geometry, dy.buffer, weight.value.buffer, act, alpha, x.buffer,
                                                    dx.buffer, ws))
        } else {
            try check(ck_conv2d_backward_data_act(&geometry, dy.buffer, weight.value.buffer, act, alpha, x.buffer,
                                                  dx.buffer, ws))
        }
        return dx
    }
}
