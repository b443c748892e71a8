/// A convolution that sees only the positions before the current one in raster order (a
/// PixelCNN's masked convolution, van den Oord et al. 2016): its weights are multiplied by a
/// fixed spatial mask. Mask A also hides the current position (the first layer, so that no
/// output sees its own input); mask B shows it (later layers, whose inputs at a position
/// already depend only on earlier positions). Every forward pass multiplies the weights by the
/// mask (so the masked ones are zero whatever a checkpoint held), and every backward pass
/// zeroes their gradients, so Adam never moves them.
public final class MaskedConv2D: Layer {
    public enum Mask: String, Sendable { case a = "A", b = "B" }

    public let conv: Conv2D
    public let mask: Tensor
    public let kind: Mask

    /// - Parameters:
    ///   - input: per-item input shape [C, H, W]
    ///   - outChannels: output channels
    ///   - kernel: an odd kernel size (padding kernel / 2 keeps the map's size)
    ///   - mask: A (hides the current position) or B
    ///   - maxBatch, workspace, rng: as for `Conv2D`
    public init(input: [Int], outChannels: Int, kernel: Int, mask: Mask, maxBatch: Int, workspace: Workspace,
                rng: inout some RandomNumberGenerator) throws {
        precondition(kernel % 2 == 1, "a masked convolution needs an odd kernel")
        kind = mask
        conv = try Conv2D(input: input, outChannels: outChannels, kernel: kernel, padding: kernel / 2,
                          maxBatch: maxBatch, workspace: workspace, rng: &rng)
        let c = kernel / 2, taps = kernel * kernel
        // Raster order: every tap after the centre (and, for A, the centre) is masked.
        let open = (0..<taps).map { t -> Float in t < c * kernel + c || (mask == .b && t == c * kernel + c) ? 1 : 0 }
        let pairs = conv.weight.value.count / taps
        self.mask = try Tensor(conv.weight.value.shape, values: Array((0..<pairs).map { _ in open }.joined()),
                               on: workspace.device)
        try conv.weight.value.multiply(by: self.mask)
    }

    public var parameters: [Parameter] { conv.parameters }
    public var outputShape: [Int] { conv.outputShape }
    public var forwardFLOPs: Int { conv.forwardFLOPs }

    public func forward(_ x: Tensor) throws -> Tensor {
        try conv.weight.value.multiply(by: mask)
        return try conv.forward(x)
    }

    public func backward(_ dy: Tensor, inputGradient: Bool) throws -> Tensor? {
        let dx = try conv.backward(dy, inputGradient: inputGradient)
        try conv.weight.grad.multiply(by: mask)
        return dx
    }
}
