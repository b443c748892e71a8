import CKernels

/// A fully connected layer, y = x Wᵀ + b, on inputs flattened per item. Weights are [out, in].
public final class Dense: Layer, ActivationFusing {
    public let weight: Parameter
    public let bias: Parameter
    public let inFeatures: Int, outFeatures: Int
    public var outputShape: [Int]
    let output: Tensor
    private var inputGrad: Tensor?
    private var input: Tensor?
    private let maxBatch: Int
    var outputActivation: ActivationKind = .identity
    var inputActivation: ActivationKind = .identity

    /// - Parameters:
    ///   - inFeatures: input features per item (the product of its shape)
    ///   - outFeatures: output features, or `outputShape` to reshape them (e.g. [C, H, W])
    ///   - maxBatch: the largest batch this layer will see
    ///   - rng: initializes uniformly in ±1/sqrt(inFeatures), as PyTorch does
    public init(_ inFeatures: Int, _ outFeatures: Int, outputShape: [Int]? = nil, maxBatch: Int,
                on device: Device, rng: inout some RandomNumberGenerator) throws {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.outputShape = outputShape ?? [outFeatures]
        precondition(self.outputShape.reduce(1, *) == outFeatures, "Dense output shape mismatch")
        self.maxBatch = maxBatch
        weight = try Parameter("weight", [outFeatures, inFeatures], on: device)
        bias = try Parameter("bias", [outFeatures], on: device, decays: false)
        let bound = 1 / Float(inFeatures).squareRoot()
        try weight.initializeUniform(bound: bound, rng: &rng)
        try bias.initializeUniform(bound: bound, rng: &rng)
        output = try Tensor([maxBatch] + self.outputShape, on: device)
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var forwardFLOPs: Int { 2 * inFeatures * outFeatures }

    public func forward(_ x: Tensor) throws -> Tensor {
        precondition(x.itemCount == inFeatures, "Dense: input \(x.shape) has not \(inFeatures) features")
        input = x
        output.setBatch(x.batch)
        let (act, alpha) = outputActivation.kernel
        try check(ck_dense_forward_act(Int32(x.batch), Int32(inFeatures), Int32(outFeatures),
                                       x.buffer, weight.value.buffer, bias.value.buffer, act, alpha, output.buffer))
        return output
    }

    public func backward(_ dy: Tensor, inputGradient: Bool) throws -> Tensor? {
        guard let x = input else { preconditionFailure("Dense.backward before forward") }
        let n = Int32(x.batch)
        try check(ck_dense_backward_weights(n, Int32(inFeatures), Int32(outFeatures), x.buffer, dy.buffer,
                                            weight.grad.buffer, bias.grad.buffer))
        guard inputGradient else { return nil }
        if inputGrad == nil { inputGrad = try Tensor([maxBatch] + Array(x.shape.dropFirst()), on: x.device) }
        let dx = inputGrad!
        dx.shape = x.shape
        let (act, alpha) = inputActivation.kernel
        try check(ck_dense_backward_data_act(n, Int32(inFeatures), Int32(outFeatures), dy.buffer,
                                             weight.value.buffer, act, alpha, x.buffer, dx.buffer))
        return dx
    }
}
