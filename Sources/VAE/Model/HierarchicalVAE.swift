import ImageIO
import NN

/// A hierarchical VAE with top-down inference (Sonderby et al. 2016, Kingma et al. 2016,
/// Vahdat and Kautz 2020, Child 2021), the deep family (`ModelConfig.family == .deep`).
///
/// - Bottom-up: a 4x4 stride-2 convolution to the first stage, then per stage (resolution
///   halved each time by a 4x4 stride-2 convolution) `blocks` residual blocks; each stage's
///   output e_s is what the posteriors of that resolution read.
/// - Top-down, from the lowest resolution up: per stage its latent groups (`LatentGroup`: a
///   prior p(z_i | z_<i) from the state, a posterior q(z_i | x, z_<i) from the state and e_s, the
///   state updated by z_i and a residual block), then `blocks` residual blocks and a 4x4
///   stride-2 transposed convolution to the next stage; the first group of the lowest stage is
///   the top, with prior N(0, I). An ELU and a last transposed convolution give the likelihood's
///   parameters at full resolution.
///
/// The loss is the ELBO with the KL summed over the groups (each reported), free bits per latent
/// dimension as everywhere (`GaussianLatent`). One group in all is the ResNet VAE of Kingma et
/// al. (2016). Residual branches and the latent projections start scaled by 1/sqrt(blocks in
/// the model), so the stack starts near the identity and trains without normalization layers.
///
/// Buffers are preallocated for `maxBatch`, so training and evaluation steps allocate nothing.
public final class HierarchicalVAE {
    public let config: ModelConfig
    public let options: DeepOptions
    public let device: Device
    public let maxBatch: Int
    /// Bottom-up stages: the (stride-2) convolution into the stage, then its residual blocks.
    let encoder: [Sequential]
    /// The latent groups in top-down order (the top first).
    let groups: [LatentGroup]
    /// Per stage: its residual blocks after the groups (nil when `blocks` is 0).
    let decoderBlocks: [Sequential?]
    /// Per stage but the first: the transposed convolution up to the stage above (index s: s -> s - 1).
    let upsample: [Conv2D?]
    /// ELU and the transposed convolution to the likelihood's parameters.
    let head: Sequential
    public let likelihood: PixelLikelihood
    let workspace: Workspace
    /// The loaded images, which are also the likelihood's target (or their binarization).
    public let target: Tensor
    /// Per stage: the gradient of e_s, summed over the groups that read it.
    let featureGradients: [Tensor]
    /// The bottom-up features e_s of the last bottom-up pass.
    var features: [Tensor] = []

    /// Builds the model with weights initialized from `seed`.
    public init(_ config: ModelConfig, device: Device, maxBatch: Int, seed: UInt64) throws {
        guard let options = config.deep, config.family == .deep else {
            preconditionFailure("HierarchicalVAE needs a deep family configuration")
        }
        let S = config.widths.count
        precondition(S >= 1 && options.groups.count == S && options.groups[S - 1] >= 1 && options.blocks >= 1,
                     "deep configuration: one group count per stage, at least one group at the last stage, one block")
        self.config = config
        self.options = options
        self.device = device
        self.maxBatch = maxBatch
        var rng = SplitMix64(seed: seed)
        let workspace = Workspace(device: device)
        self.workspace = workspace
        let (C, H, W) = (config.channels, config.height, config.width)
        let totalBlocks = 2 * S * options.blocks + options.groupCount
        let branchScale = 1 / Float(totalBlocks).squareRoot()

        func blocks(_ prefix: String, _ shape: [Int]) throws -> [Layer] {
            try (0..<options.blocks).map { b in
                let block = try ResidualBlock(input: shape, branchScale: branchScale, maxBatch: maxBatch, workspace: workspace,
                                              rng: &rng)
                block.nameParameters("\(prefix).block\(b)")
                return block
            }
        }
        var stages: [Sequential] = [], stateShapes: [[Int]] = []
        var shape = [C, H, W]
        for (s, width) in config.widths.enumerated() {
            let down = try Conv2D(input: shape, outChannels: width, kernel: 4, stride: 2, padding: 1, maxBatch: maxBatch,
                                  workspace: workspace, rng: &rng)
            down.nameParameters("encoder.stage\(s).down")
            shape = down.outputShape
            stateShapes.append(shape)
            stages.append(Sequential([down] + (try blocks("encoder.stage\(s)", shape))))
        }
        encoder = stages
        featureGradients = try stateShapes.map { try Tensor([maxBatch] + $0, on: device) }

        var groups: [LatentGroup] = [], decoderBlocks = [Sequential?](repeating: nil, count: S)
        var upsample = [Conv2D?](repeating: nil, count: S)
        for s in stride(from: S - 1, through: 0, by: -1) {
            for g in 0..<options.groups[s] {
                let top = groups.isEmpty
                groups.append(try LatentGroup(name: top ? "top" : "stage\(s).group\(g)", prefix: "decoder.stage\(s).group\(g)",
                                              stage: s, state: stateShapes[s], latentChannels: config.latent, top: top,
                                              branchScale: branchScale, maxBatch: maxBatch, device: device, workspace: workspace,
                                              rng: &rng))
            }
            let extra = try blocks("decoder.stage\(s)", stateShapes[s])
            decoderBlocks[s] = extra.isEmpty ? nil : Sequential(extra)
            if s > 0 {
                let up = try Conv2D(input: stateShapes[s], outChannels: stateShapes[s - 1][0], kernel: 4, stride: 2,
                                    padding: 1, transposed: true, maxBatch: maxBatch, workspace: workspace, rng: &rng)
                up.nameParameters("decoder.stage\(s).up")
                precondition(up.outputShape == stateShapes[s - 1], "stage \(s) does not upsample to \(stateShapes[s - 1])")
                upsample[s] = up
            }
        }
        self.groups = groups
        groupOffsets = groups.indices.map { g in groups[..<g].reduce(0) { $0 + $1.size } }
        self.decoderBlocks = decoderBlocks
        self.upsample = upsample
        let out = try Conv2D(input: stateShapes[0], outChannels: C, kernel: 4, stride: 2, padding: 1, transposed: true,
                             maxBatch: maxBatch, workspace: workspace, rng: &rng)
        precondition(out.outputShape == [C, H, W], "decoder output \(out.outputShape) does not match the image \([C, H, W])")
        out.nameParameters("decoder.head")
        // Means start at mid-gray for the continuous likelihoods (logits at 0 for Bernoulli).
        try out.bias.value.fill(config.likelihood == .bernoulli ? 0 : 0.5)
        head = Sequential([try Activation(.elu, shape: stateShapes[0], maxBatch: maxBatch, on: device), out])
        likelihood = try PixelLikelihood(config.likelihood, channels: C, height: H, width: W, maxBatch: maxBatch, on: device)
        target = try Tensor([maxBatch, C, H, W], on: device)
    }

    /// Every trainable parameter, in checkpoint order.
    public var parameters: [Parameter] {
        encoder.flatMap(\.parameters) + groups.flatMap(\.parameters) + decoderBlocks.flatMap { $0?.parameters ?? [] }
            + upsample.flatMap { $0?.parameters ?? [] } + head.parameters + likelihood.parameters
    }

    /// Convolution work of one training step per image (forward and two backward passes).
    public var trainingFLOPs: Int {
        let forward = encoder.reduce(0) { $0 + $1.forwardFLOPs } + groups.reduce(0) { $0 + $1.forwardFLOPs }
            + decoderBlocks.reduce(0) { $0 + ($1?.forwardFLOPs ?? 0) } + upsample.reduce(0) { $0 + ($1?.forwardFLOPs ?? 0) }
            + head.forwardFLOPs
        return 3 * forward
    }

    /// The latent groups, top first.
    public var latentGroups: [LatentGroupInfo] { groups.map { LatentGroupInfo(name: $0.name, shape: $0.shape) } }

    /// Where each group's values start in a code (and, times the rows, in a pass's noise).
    let groupOffsets: [Int]

    // MARK: - Passes

    /// The bottom-up pass over the first `batch` loaded images: the features e_s of each stage.
    func bottomUp(batch: Int) throws {
        target.setBatch(batch)
        features.removeAll(keepingCapacity: true)
        var h = target
        for stage in encoder {
            h = try stage.forward(h)
            features.append(h)
        }
    }

    /// The top-down pass for `batch` rows, each group drawing z as `draw(g)` says (after
    /// `bottomUp` when a draw reads the posterior): the likelihood's parameters [batch, C, H, W].
    func topDown(batch: Int, draw: (Int) -> LatentGroup.Draw) throws -> Tensor {
        var h: Tensor?
        var g = 0
        for s in stride(from: encoder.count - 1, through: 0, by: -1) {
            while g < groups.count, groups[g].stage == s {
                h = try groups[g].forward(h: h, e: s < features.count ? features[s] : nil, batch: batch, draw: draw(g))
                g += 1
            }
            if let blocks = decoderBlocks[s] { h = try blocks.forward(h!) }
            if let up = upsample[s] { h = try up.forward(h!) }
        }
        return try head.forward(h!)
    }

    /// The backward pass of a posterior top-down pass and its bottom-up pass, from the
    /// likelihood's output gradient: every parameter's gradient, with the KL terms scaled by
    /// `klScale` under free bits.
    func backward(klScale: Float, freeBits: Float) throws {
        let b = target.batch
        for de in featureGradients {
            de.setBatch(b)
            try de.fill(0)
        }
        var dh = try head.backward(likelihood.outputGradient, inputGradient: true)
        var g = groups.count - 1
        for s in 0..<encoder.count {
            if let up = upsample[s] { dh = try up.backward(dh!, inputGradient: true) }
            if let blocks = decoderBlocks[s] { dh = try blocks.backward(dh!, inputGradient: true) }
            while g >= 0, groups[g].stage == s {
                dh = try groups[g].backward(dh!, de: featureGradients[s], klScale: klScale, freeBits: freeBits)
                g -= 1
            }
        }
        for s in stride(from: encoder.count - 1, through: 0, by: -1) {
            let dx = try encoder[s].backward(featureGradients[s], inputGradient: s > 0)
            if s > 0 { try featureGradients[s - 1].axpby(1, dx!, 1) }
        }
    }
}
