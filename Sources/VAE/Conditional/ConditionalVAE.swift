import ImageIO
import NN

/// A conditional VAE (CVAE / VAEAC, Sohn et al. 2015, Ivanov et al. 2019) for a target x given a
/// condition c of the same height and width:
///
/// - posterior q(z | x, c): stride-2 convolutions over [x; c] to a diagonal Gaussian,
/// - prior p(z | c): the same kind of network over c alone, so that at test time, when x is
///   unknown, z is drawn from what the condition allows,
/// - decoder p(x | z, c): z through a dense layer to the bottleneck, then transposed convolutions
///   up to full-resolution features; each one also sees the prior network's feature map of its
///   resolution (U-Net skips, as in VAEAC), so the condition's local detail (edges that run into a
///   hole, the shapes in a gray picture) reaches the output without squeezing through z; the
///   full-resolution features are joined with c itself, and one 3x3 convolution gives the
///   likelihood's parameters (its means; the scale is the likelihood's learned per-channel one).
///   For inpainting that convolution starts by passing c's pre-filled pixels through, so a new
///   model predicts harmonic fill and learns corrections to it (after 10 minutes on CIFAR-10 the
///   held-out loss is 13 nats better than when starting from mid-gray and center holes 0.06 dB
///   better; on photo patches level after 900 steps).
///
/// Colorization can instead predict a distribution over quantized colors at a reduced resolution
/// (`ChromaBins`): the decoder then stops that many stages early and its head (1x1 in new runs),
/// over [features; the prior's feature map there], gives K logits per position.
/// With the deep family (`config.family == .deep`), every stage of the posterior, the prior
/// network and the decoder also runs `deep.blocks` residual blocks (`ResidualBlock`) after its
/// resampling convolution, at the same width and resolution: the skips are unchanged.
///
/// Every join is a channel concatenation done per image by device copies. Training mixes two
/// losses (Sohn et al.'s hybrid objective) over the values that the task asks for (inpainting:
/// the missing pixels alone, as VAEAC's log p(x_m | x_o); colorization: all): the conditional
/// ELBO -E_q[log p(x | z, c)] + beta KL(q || p), and, on some steps, the prior path
/// -E_p[log p(x | z, c)] with z drawn as at test time (see `trainStep`). Buffers are preallocated
/// for `maxBatch`, so training and sampling steps allocate nothing.
public final class ConditionalVAE: CheckpointableModel {
    /// The image geometry (channels of the images the task reads), widths, latent, likelihood.
    public let config: ModelConfig
    public let task: ConditionalTask
    public let device: Device
    public let maxBatch: Int
    /// Channels of the target x and of the condition c.
    public let targetChannels: Int, conditionChannels: Int
    /// Channels of the decoder's full-resolution features (the first encoder width).
    public let featureChannels: Int

    public let posteriorEncoder: Sequential
    /// The posterior's parameters (cached: the prior-path steps zero their gradients).
    let posteriorParameters: [Parameter]
    /// The prior network's stages (a stride-2 convolution and a ReLU each, then the deep
    /// family's residual blocks) and its dense head.
    public let priorStages: [Sequential]
    public let priorHead: Dense
    /// z to the bottleneck feature map (dense layer and ReLU).
    public let projection: Sequential
    /// Upsampling stages (a transposed convolution and a ReLU each, then the deep family's
    /// residual blocks) over [features; prior skip].
    public let decoderStages: [Sequential]
    /// The final 3x3 (or 1x1) convolution over [features; c] to the likelihood's means (or, with chroma
    /// bins, over [features; the prior's map at 1/stride] to the bins' logits).
    public let head: Conv2D
    /// z from the posterior or the prior, and KL(q || p).
    public let latent: GaussianLatent
    /// p(x | z, c): a pixel likelihood over the target, or with `chroma` a categorical over bins.
    public let likelihood: PixelLikelihood
    /// Colorization by quantized colors: the bins (whose read-out, `temperature` and
    /// `rebalancing`, may change after loading), their likelihood, and the loaded labels and
    /// loss weights [batch, H / stride, W / stride]; nil for a pixel likelihood.
    public internal(set) var chroma: ChromaBins?
    /// The scale of the latent noise when completing pictures (`vae inpaint|colorize|evaluate
    /// --temperature`, by default the run's `ConditionalOptions.temperature`): 1 samples p(z | c); 0
    /// decodes its mean.
    public var temperature: Float = 1
    let bins: CategoricalLikelihood?
    let labels: Tensor?, labelWeights: Tensor?
    /// Best-of-K prior-path steps: each image's best loss so far [batch] and its noise [batch, L].
    let bestLoss: Tensor, bestNoise: Tensor
    /// The prior stage whose feature map the head joins (-1: the condition itself).
    let headSkip: Int
    let workspace: Workspace

    /// The loaded batch: the target [batch, C, H, W] and the condition [batch, Cc, H, W].
    public let target: Tensor, condition: Tensor
    /// Inpainting: the target's loss weights [batch, C, H, W] (1 on missing pixels, 0 on observed
    /// ones, which the condition already gives exactly); nil when every value counts.
    public let weight: Tensor?
    /// [x; c] for the posterior, [features; prior feature map] per decoder stage, [features; c] for the head.
    let posteriorInput: ChannelConcatenation, skips: [ChannelConcatenation], headInput: ChannelConcatenation
    /// The prior stages' outputs of the last prior pass (owned by their layers).
    var priorFeatures: [Tensor] = []

    /// Builds the model with weights initialized from `seed`.
    /// - Parameters:
    ///   - config: image geometry (its `channels` are the images'), widths (at least one), latent, likelihood
    ///   - task: what the target and condition are
    ///   - maxBatch: the largest batch
    ///   - chroma: colorization only: predict quantized colors instead of the chroma's mean
    ///   - headKernel: the side of the head's convolution, 1 or 3
    public init(_ config: ModelConfig, task: ConditionalTask, device: Device, maxBatch: Int, seed: UInt64,
                chroma: ChromaBins? = nil, headKernel: Int = 3) throws {
        precondition(!config.widths.isEmpty, "a conditional VAE needs at least one convolution width")
        precondition(chroma == nil || task == .colorize, "chroma bins are for colorization")
        let dropped = chroma.map { $0.stride.trailingZeroBitCount } ?? 0
        precondition(chroma.map { 1 << dropped == $0.stride && dropped < config.widths.count } ?? true,
                     "the chroma stride must be a power of two below the image's reduction")
        self.chroma = chroma
        if config.family == .deep, (config.deep?.blocks ?? 0) < 1 {
            throw VAEError("model family 'deep' without residual blocks (model.deep.blocks)")
        }
        self.config = config
        self.task = task
        self.device = device
        self.maxBatch = maxBatch
        let C = task.targetChannels(imageChannels: config.channels)
        let Cc = task.conditionChannels(imageChannels: config.channels)
        targetChannels = C
        conditionChannels = Cc
        featureChannels = config.widths[0]
        var rng = SplitMix64(seed: seed)
        let workspace = Workspace(device: device)
        self.workspace = workspace
        let H = config.height, W = config.width, L = config.latent
        let relu = { (shape: [Int]) in try Activation(.relu, shape: shape, maxBatch: maxBatch, on: device) }
        let blockCount = config.family == .deep ? config.deep?.blocks ?? 0 : 0
        // Three paths of stages, each stage's blocks starting near the identity.
        let branchScale = 1 / Float(max(1, 3 * config.widths.count * blockCount)).squareRoot()
        /// The residual blocks of one stage (none for the shallow family).
        func blocks(_ name: String, _ shape: [Int]) throws -> [Layer] {
            try (0..<blockCount).map { b in
                let block = try ResidualBlock(input: shape, branchScale: branchScale, maxBatch: maxBatch, workspace: workspace,
                                              rng: &rng)
                block.nameParameters("\(name).block\(b)")
                return block
            }
        }

        /// Stride-2 convolution stages from `inputChannels`, one per width.
        func downStages(_ name: String, inputChannels: Int) throws -> [Sequential] {
            var shape = [inputChannels, H, W]
            return try config.widths.enumerated().map { i, w in
                let conv = try Conv2D(input: shape, outChannels: w, kernel: 4, stride: 2, padding: 1, maxBatch: maxBatch,
                                      workspace: workspace, rng: &rng)
                conv.nameParameters("\(name).conv\(i)")
                shape = conv.outputShape
                return Sequential([conv, try relu(shape)] + (try blocks("\(name).stage\(i)", shape)))
            }
        }
        let bottleneck = config.bottleneck
        let posteriorHead = try Dense(bottleneck.reduce(1, *), 2 * L, maxBatch: maxBatch, on: device, rng: &rng)
        posteriorHead.nameParameters("posterior.head")
        posteriorEncoder = Sequential(try downStages("posterior", inputChannels: C + Cc) + [posteriorHead])
        posteriorParameters = posteriorEncoder.parameters
        priorStages = try downStages("prior", inputChannels: Cc)
        priorHead = try Dense(bottleneck.reduce(1, *), 2 * L, maxBatch: maxBatch, on: device, rng: &rng)
        priorHead.nameParameters("prior.head")
        let skipShapes = priorStages.map(\.outputShape)

        let proj = try Dense(L, bottleneck.reduce(1, *), outputShape: bottleneck, maxBatch: maxBatch, on: device, rng: &rng)
        proj.nameParameters("decoder.proj")
        projection = Sequential([proj, try relu(bottleneck)])
        var shape = bottleneck
        var stages: [Sequential] = [], joins: [ChannelConcatenation] = []
        let outs = Array((Array(config.widths.reversed().dropFirst()) + [featureChannels]).dropLast(dropped))
        for (i, w) in outs.enumerated() {
            let skip = skipShapes[skipShapes.count - 1 - i]
            let join = try ChannelConcatenation(first: shape, second: skip, maxBatch: maxBatch, on: device)
            let deconv = try Conv2D(input: [shape[0] + skip[0], shape[1], shape[2]], outChannels: w, kernel: 4, stride: 2,
                                    padding: 1, transposed: true, maxBatch: maxBatch, workspace: workspace, rng: &rng)
            deconv.nameParameters("decoder.deconv\(i)")
            shape = deconv.outputShape
            joins.append(join)
            stages.append(Sequential([deconv, try relu(shape)] + (try blocks("decoder.stage\(i)", shape))))
        }
        let s = 1 << dropped
        precondition(shape[1] == H / s && shape[2] == W / s, "decoder features \(shape) do not match the image \(H)x\(W) / \(s)")
        decoderStages = stages
        skips = joins
        headSkip = config.widths.count - stages.count - 1
        let joined = headSkip < 0 ? [Cc, H, W] : skipShapes[headSkip]
        let headInputs = shape[0] + joined[0]
        head = try Conv2D(input: [headInputs, shape[1], shape[2]], outChannels: chroma?.classes ?? C,
                          kernel: headKernel, padding: headKernel / 2, maxBatch: maxBatch, workspace: workspace, rng: &rng)
        head.nameParameters("decoder.head")
        if config.likelihood != .bernoulli, chroma == nil {
            if task == .inpaint {
                // Means start as the condition's pre-filled pixels (the head's center taps pass
                // them through): a new model begins at harmonic fill and learns corrections to it.
                let taps = headKernel * headKernel
                for c in 0..<C {
                    try head.weight.value.write([1], at: (c * headInputs + shape[0] + c) * taps + taps / 2)
                }
                try head.bias.value.fill(0)
            } else {
                // Means start at neutral chroma rather than at 0: a bias that Adam would
                // otherwise take hundreds of steps to walk to 0.5.
                try head.bias.value.fill(0.5)
            }
        }
        likelihood = try PixelLikelihood(chroma == nil ? config.likelihood : .bernoulli, channels: C, height: H, width: W,
                                         maxBatch: maxBatch, on: device)
        if let chroma {
            bins = try CategoricalLikelihood(classes: chroma.classes, positionShape: [H / s, W / s], maxBatch: maxBatch,
                                             on: device)
            labels = try Tensor([maxBatch, H / s, W / s], on: device)
            labelWeights = try Tensor([maxBatch, H / s, W / s], on: device)
        } else {
            bins = nil
            labels = nil
            labelWeights = nil
        }
        latent = try GaussianLatent(size: L, maxBatch: maxBatch, learnedPrior: true, on: device)
        bestLoss = try Tensor([maxBatch], on: device)
        bestNoise = try Tensor([maxBatch, L], on: device)

        target = try Tensor([maxBatch, C, H, W], on: device)
        condition = try Tensor([maxBatch, Cc, H, W], on: device)
        weight = task == .inpaint ? try Tensor([maxBatch, C, H, W], on: device) : nil
        posteriorInput = try ChannelConcatenation(first: [C, H, W], second: [Cc, H, W], maxBatch: maxBatch, on: device)
        headInput = try ChannelConcatenation(first: shape, second: joined, maxBatch: maxBatch, on: device)
    }

    /// Every trainable parameter, in checkpoint order.
    public var parameters: [Parameter] {
        posteriorEncoder.parameters + priorStages.flatMap(\.parameters) + priorHead.parameters + projection.parameters
            + decoderStages.flatMap(\.parameters) + head.parameters + likelihood.parameters
    }

    /// Floating-point operations of one image's training step (forward, and a backward of about
    /// twice the forward): an ELBO step runs every network, a prior-path step all but the
    /// posterior (and with `priorPathSamples` K > 1, K more decoder forwards to pick the best
    /// draw); `priorPathEvery` says how they alternate.
    public func trainingFLOPs(priorPathEvery: Int, priorPathSamples: Int = 1) -> Int {
        let prior = priorStages.reduce(0) { $0 + $1.forwardFLOPs } + priorHead.forwardFLOPs
        let decoder = projection.forwardFLOPs + decoderStages.reduce(0) { $0 + $1.forwardFLOPs } + head.forwardFLOPs
        let elbo = 3 * (posteriorEncoder.forwardFLOPs + prior + decoder)
        let priorPath = 3 * (prior + decoder) + (priorPathSamples > 1 ? priorPathSamples * decoder : 0)
        guard priorPathEvery > 0 else { return elbo }
        return (elbo * (priorPathEvery - 1) + priorPath) / priorPathEvery
    }

    /// Values per item of the target and of the condition.
    public var targetItem: Int { targetChannels * config.height * config.width }
    public var conditionItem: Int { conditionChannels * config.height * config.width }

    // MARK: - Passes

    /// Copies a prepared batch (targets, conditions and, for inpainting, loss weights) into the model.
    public func load(_ rows: ConditionalBatch) throws {
        precondition(rows.task == task && (weight == nil) == (rows.weights == nil), "rows of another task")
        try loadConditions(rows.conditions, batch: rows.count)
        target.setBatch(rows.count)
        try target.write(from: rows.targets, count: rows.count * targetItem)
        if let weight, let weights = rows.weights {
            weight.setBatch(rows.count)
            try weight.write(from: weights, count: rows.count * targetItem)
        }
        if let labels, let labelWeights {
            guard let rowLabels = rows.labels, let rowWeights = rows.labelWeights else {
                preconditionFailure("rows without chroma labels for a model of chroma bins")
            }
            labels.setBatch(rows.count)
            labelWeights.setBatch(rows.count)
            try labels.write(from: rowLabels, count: rows.count * labels.itemCount)
            try labelWeights.write(from: rowWeights, count: rows.count * labels.itemCount)
        }
    }

    /// Copies `batch` conditions (NCHW rows) from host memory into the model, for sampling.
    public func loadConditions(_ conditions: UnsafePointer<Float>, batch: Int) throws {
        precondition(batch > 0 && batch <= maxBatch, "batch \(batch) outside 1...\(maxBatch)")
        condition.setBatch(batch)
        try condition.write(from: conditions, count: batch * conditionItem)
    }

    /// The prior p(z | c) of the loaded condition, as packed statistics [batch, 2L]; keeps the
    /// stages' feature maps for the decoder's skips.
    func priorForward() throws -> Tensor {
        var h = condition
        priorFeatures.removeAll(keepingCapacity: true)
        for stage in priorStages {
            h = try stage.forward(h)
            priorFeatures.append(h)
        }
        return try priorHead.forward(h)
    }

    /// Decodes the latent's sample with the loaded condition (after `priorForward`) into the
    /// likelihood's parameters [batch, C, H, W] (or the bins' logits [batch, K, H / s, W / s]).
    func decode() throws -> Tensor {
        var h = try projection.forward(latent.sample)
        for (i, stage) in decoderStages.enumerated() {
            h = try stage.forward(try skips[i].forward(h, priorFeatures[priorFeatures.count - 1 - i]))
        }
        return try head.forward(try headInput.forward(h, headSkip < 0 ? condition : priorFeatures[headSkip]))
    }

    /// The loaded batch's negative log-likelihood per image under decoder output `out`, with
    /// gradients (times `gradientScale`) into `outputGradient` when asked.
    @discardableResult
    func reconstructionLoss(_ out: Tensor, gradientScale: Float? = nil) throws -> Tensor {
        if let bins, let labels {
            return try bins.loss(out, labels: labels, weight: labelWeights, gradientScale: gradientScale)
        }
        return try likelihood.loss(out, target: target, weight: weight, gradientScale: gradientScale)
    }

    /// The per-image loss of the last `reconstructionLoss`.
    var lastLoss: Tensor { bins?.nll ?? likelihood.nll }

    /// The gradient of the last loss with respect to the decoder's output.
    var outputGradient: Tensor { bins?.logitGradient ?? likelihood.outputGradient }

    /// Target items (pixel means, or for chroma bins the annealed-mean chroma enlarged to the
    /// image's size) of decoder output `out`, on the host.
    func targetMeans(_ out: Tensor) throws -> [Float] {
        guard let chroma else { return try likelihood.means(out).read() }
        let logits = try out.read(), s = chroma.stride
        let H = config.height, W = config.width, h = H / s, w = W / s, K = chroma.classes
        var result = [Float]()
        result.reserveCapacity(out.batch * 2 * H * W)
        for i in 0..<out.batch {
            let small = chroma.chroma(logits: logits[(i * K * h * w)..<((i + 1) * K * h * w)], positions: h * w)
            let image = Image(width: w, height: h, channels: 1, pixels: Array(small[0..<(h * w)]))
            let image2 = Image(width: w, height: h, channels: 1, pixels: Array(small[(h * w)...]))
            result += image.resized(width: W, height: H).pixels + image2.resized(width: W, height: H).pixels
        }
        return result
    }
}
