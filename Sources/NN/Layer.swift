/// A differentiable layer with preallocated outputs: `forward` keeps what `backward` needs.
///
/// Shapes are per item (channels, height, width or features); the batch is the first
/// dimension of the tensors passed in and may be anything up to the layer's `maxBatch`.
public protocol Layer: AnyObject {
    /// The trainable parameters, in a stable order.
    var parameters: [Parameter] { get }
    /// The per-item shape of the output.
    var outputShape: [Int] { get }
    /// Floating-point operations of one item's forward pass (2 per multiply-add of the
    /// convolutions and dense layers; elementwise work not counted): the unit of GFLOP/s figures.
    var forwardFLOPs: Int { get }
    /// Computes the output for a batch; the returned tensor is owned by the layer.
    func forward(_ x: Tensor) throws -> Tensor
    /// Accumulates parameter gradients (overwriting them) from the output gradient and
    /// returns the input gradient, or nil when `inputGradient` is false.
    func backward(_ dy: Tensor, inputGradient: Bool) throws -> Tensor?
}

extension Layer {
    /// Names the parameters `prefix.weight`, `prefix.bias`, ...
    public func nameParameters(_ prefix: String) {
        for p in parameters { p.name = prefix + "." + (p.name.split(separator: ".").last.map(String.init) ?? p.name) }
    }
}

/// Layers applied one after the other.
public final class Sequential: Layer {
    public let layers: [Layer]

    /// - Parameters:
    ///   - layers: applied in order
    ///   - fuse: fold each activation that sits between two convolution or dense layers
    ///     into them (its forward into the layer before, its derivative into the backward
    ///     pass of the layer after): same results up to float rounding, one memory pass and
    ///     one buffer less per activation
    public init(_ layers: [Layer], fuse: Bool = true) {
        precondition(!layers.isEmpty, "Sequential needs at least one layer")
        self.layers = layers
        defer {
            // The activations left unfused get their buffers now, not in the first step (on
            // failure they try again, and throw, in their first forward pass).
            for case let act as Activation in layers where !act.fused { try? act.allocate() }
        }
        guard fuse, layers.count >= 3 else { return }
        for i in 0..<(layers.count - 2) {
            guard let before = layers[i] as? any ActivationFusing, let act = layers[i + 1] as? Activation,
                  let after = layers[i + 2] as? any ActivationFusing,
                  !act.fused, act.kind.derivativeFromOutput,
                  case .identity = before.outputActivation, case .identity = after.inputActivation
            else { continue }
            before.outputActivation = act.kind
            after.inputActivation = act.kind
            act.fused = true
        }
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var forwardFLOPs: Int { layers.reduce(0) { $0 + $1.forwardFLOPs } }
    public var outputShape: [Int] { layers.last!.outputShape }

    public func forward(_ x: Tensor) throws -> Tensor {
        var h = x
        for layer in layers { h = try layer.forward(h) }
        return h
    }

    public func backward(_ dy: Tensor, inputGradient: Bool) throws -> Tensor? {
        var g: Tensor? = dy
        for i in layers.indices.reversed() {
            g = try layers[i].backward(g!, inputGradient: i > 0 || inputGradient)
        }
        return g
    }
}
