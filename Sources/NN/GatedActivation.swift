import CKernels

/// The gated activation of a gated PixelCNN (van den Oord et al. 2016): an input of 2C
/// channels gives tanh(first C) * sigmoid(last C), in one C pass each way.
public final class GatedActivation: Layer {
    public let outputShape: [Int]
    private let output: Tensor, inputGrad: Tensor
    private var input: Tensor?

    /// - Parameters:
    ///   - input: per-item input shape [2C, H, W]
    ///   - maxBatch: the largest batch
    public init(input: [Int], maxBatch: Int, on device: Device) throws {
        precondition(input.count == 3 && input[0] % 2 == 0, "gated activation input \(input) needs an even channel count")
        outputShape = [input[0] / 2, input[1], input[2]]
        output = try Tensor([maxBatch] + outputShape, on: device)
        inputGrad = try Tensor([maxBatch] + input, on: device)
    }

    public var parameters: [Parameter] { [] }
    public var forwardFLOPs: Int { 0 }

    public func forward(_ x: Tensor) throws -> Tensor {
        input = x
        output.setBatch(x.batch)
        try check(ck_gate_forward(Int32(x.batch), Int32(outputShape[0]), Int32(outputShape[1] * outputShape[2]),
                                  x.buffer, output.buffer))
        return output
    }

    public func backward(_ dy: Tensor, inputGradient: Bool) throws -> Tensor? {
        guard inputGradient else { return nil }
        guard let x = input else { preconditionFailure("GatedActivation.backward before forward") }
        inputGrad.setBatch(x.batch)
        try check(ck_gate_backward(Int32(x.batch), Int32(outputShape[0]), Int32(outputShape[1] * outputShape[2]),
                                   x.buffer, dy.buffer, inputGrad.buffer))
        return inputGrad
    }
}
