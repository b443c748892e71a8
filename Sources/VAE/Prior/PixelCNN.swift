import ImageIO
import NN

/// A gated PixelCNN (van den Oord et al. 2016) over a VQ-VAE's code maps: p(codes) as the
/// product over positions, in raster order, of a softmax over the K codes given the codes
/// before. Its input is the code vectors of the map (the VQ-VAE's codebook, a fixed
/// embedding); a 7x7 mask-A convolution (which hides each position from itself) and gated
/// residual layers of mask-B convolutions (tanh * sigmoid, then a 1x1 convolution) lead to
/// a ReLU and 1x1 head with K logits per position.
///
/// Buffers are preallocated for `maxBatch`, so a training step allocates nothing.
public final class PixelCNN: CheckpointableModel {
    public let config: ModelConfig
    public let options: PixelCNNOptions
    public let maxBatch: Int
    /// K, and the code map's height and width.
    public let codes: Int, height: Int, width: Int
    let first: Sequential
    let blocks: [Sequential]
    let head: Sequential
    /// -log p of each position's code under the softmax of the logits.
    public let likelihood: CategoricalLikelihood
    /// The code maps of the batch [batch, h, w] (indices as floats), the likelihood's labels.
    public let labels: Tensor
    let workspace: Workspace

    /// - Parameters:
    ///   - config: the prior's configuration: the VQ-VAE's, with family `.pixelcnn` and its options
    ///   - seed: initializes the weights
    public init(_ config: ModelConfig, device: Device, maxBatch: Int, seed: UInt64) throws {
        guard let vq = config.vq, let options = config.pixelcnn else {
            throw VAEError("a PixelCNN prior's configuration needs the VQ-VAE's and its own options")
        }
        self.config = config
        self.options = options
        self.maxBatch = maxBatch
        codes = vq.codes
        height = config.codeMap[0]
        width = config.codeMap[1]
        var rng = SplitMix64(seed: seed)
        let ws = Workspace(device: device)
        workspace = ws
        let h = options.channels, codes = vq.codes, height = self.height, width = self.width
        let map = [vq.codeDimension, height, width], hidden = [h, height, width]
        let a = try MaskedConv2D(input: map, outChannels: 2 * h, kernel: 7, mask: .a, maxBatch: maxBatch,
                                 workspace: ws, rng: &rng)
        a.nameParameters("prior.first")
        first = Sequential([a, try GatedActivation(input: [2 * h, height, width], maxBatch: maxBatch, on: device)])
        blocks = try (0..<options.layers).map { i in
            let m = try MaskedConv2D(input: hidden, outChannels: 2 * h, kernel: options.kernel, mask: .b,
                                     maxBatch: maxBatch, workspace: ws, rng: &rng)
            m.nameParameters("prior.block\(i).masked")
            let mix = try Conv2D(input: hidden, outChannels: h, kernel: 1, maxBatch: maxBatch, workspace: ws,
                                 rng: &rng)
            mix.nameParameters("prior.block\(i).mix")
            return Sequential([m, try GatedActivation(input: [2 * h, height, width], maxBatch: maxBatch, on: device), mix])
        }
        let c1 = try Conv2D(input: hidden, outChannels: 2 * h, kernel: 1, maxBatch: maxBatch, workspace: ws,
                            rng: &rng)
        c1.nameParameters("prior.head0")
        let c2 = try Conv2D(input: [2 * h, height, width], outChannels: codes, kernel: 1, maxBatch: maxBatch,
                            workspace: ws, rng: &rng)
        c2.nameParameters("prior.head1")
        let relu = { (shape: [Int]) in try Activation(.relu, shape: shape, maxBatch: maxBatch, on: device) }
        head = Sequential([try relu(hidden), c1, try relu([2 * h, height, width]), c2])
        likelihood = try CategoricalLikelihood(classes: codes, positionShape: [height, width], maxBatch: maxBatch,
                                               on: device)
        labels = try Tensor([maxBatch, height, width], on: device)
    }

    public var parameters: [Parameter] {
        first.parameters + blocks.flatMap(\.parameters) + head.parameters
    }

    /// Positions per code map.
    public var positions: Int { height * width }

    /// The logits [batch, K, h, w] of each position's code given the codes before it, from the
    /// code vectors of the maps [batch, D, h, w].
    @discardableResult
    public func forward(_ embedded: Tensor) throws -> Tensor {
        var x = try first.forward(embedded)
        for block in blocks {
            let y = try block.forward(x)
            try y.axpby(1, x, 1)  // the residual path
            x = y
        }
        return try head.forward(x)
    }

    /// The gradients of the mean -log p(labels) over the batch into every parameter's `grad`
    /// (after `forward` of the labels' code vectors).
    /// - Returns: the batch's summed -log p in nats.
    @discardableResult
    public func lossAndGradients(logits: Tensor) throws -> Double {
        let b = logits.batch
        try likelihood.loss(logits, labels: labels, gradientScale: 1 / Float(b))
        var g = try head.backward(likelihood.logitGradient, inputGradient: true)!
        for block in blocks.reversed() {
            let dx = try block.backward(g, inputGradient: true)!
            try dx.axpby(1, g, 1)  // the residual path
            g = dx
        }
        _ = try first.backward(g, inputGradient: false)
        return try likelihood.nll.sum()
    }

    /// Copies code maps (host rows of `positions` indices) into `labels`.
    public func loadCodes(_ rows: UnsafePointer<Float>, batch: Int) throws {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the prior's \(maxBatch)")
        labels.setBatch(batch)
        try labels.write(from: rows, count: batch * positions)
    }
}
