import Foundation
import ImageIO
import NN

/// One group of a model's latent variables, for reports: a name and its shape per image.
public struct LatentGroupInfo: Codable, Equatable, Sendable {
    public var name: String
    /// [dimensions] for a vector, [channels, height, width] for a spatial group.
    public var shape: [Int]
    /// Dimensions per image.
    public var size: Int { shape.reduce(1, *) }
}

/// An unconditional VAE of any family as training, evaluation and the commands (sample,
/// reconstruct, interpolate, evaluate) use it: one protocol, so that a command loads a run by
/// its config.json (`loadGenerativeModel`) and works the same on every family.
///
/// Latent codes (`encodeMeans`, `decode(latents:)`) are rows of every group's values, top first.
public protocol GenerativeModel: CheckpointableModel {
    var device: Device { get }
    /// The largest batch of every pass.
    var maxBatch: Int { get }
    /// The loaded images, which are also the likelihood's target (or their binarization).
    var target: Tensor { get }
    /// p(x | decoder output).
    var likelihood: PixelLikelihood { get }
    /// The latent groups, top first (one for a single-latent model).
    var latentGroups: [LatentGroupInfo] { get }
    /// Convolution and dense work of one training step per image (forward and backward), for
    /// benchmarks' GFLOP/s.
    var trainingFLOPs: Int { get }

    /// Copies `batch` images from host memory into `target`.
    func loadBatch(_ images: UnsafePointer<Float>, batch: Int) throws
    /// The loaded batch's loss terms and, into every parameter's `grad`, the gradient of the
    /// batch's mean loss; row i's noise is that of row `firstRow + i` of the run's stream of
    /// rows (`Noise.counter(row:valuesPerRow:)`), whichever batch or rank it falls in.
    func lossAndGradients(_ settings: StepSettings, seed: UInt64, firstRow: UInt64) throws -> LossSums
    /// The loaded batch's ELBO terms without gradients, one posterior draw per row with the
    /// noise of rows `firstRow...`.
    func evaluateBatch(seed: UInt64, firstRow: UInt64) throws -> LossSums
    /// Posterior means of the batch last evaluated, per group: row after row of `size` values.
    func lastPosteriorMeans() throws -> [[Float]]
    /// One inference pass over the loaded batch (encode, draw z, decode to pixel means), for
    /// benchmarks.
    func inferBatch(seed: UInt64, firstRow: UInt64) throws

    /// Runs what importance sampling shares between draws (the deterministic encoder) on the
    /// loaded batch, whose rows are copies of one image.
    func prepareImportanceSampling() throws
    /// log p(x, z) - log q(z | x) of one draw z ~ q(z | x) per row for the first `count` rows
    /// of the prepared batch, draws from (seed, counter); and the same log weights with
    /// `fittedPrior` in place of its group's prior when given.
    func importanceLogWeights(count: Int, seed: UInt64, firstRow: UInt64, fittedPrior: FittedPrior?) throws
        -> (standard: [Double], fitted: [Double]?)

    /// Draws `count` images from the model's prior, decoded to pixel means; each group's
    /// spread scaled by its temperature (`temperatures` per group, top first; one value serves
    /// every group; 1 is the prior itself).
    func sample(count: Int, seed: UInt64, temperatures: [Float]) throws -> [Image]
    /// Like `sample` at temperature 1, with the fitted prior's group drawn from it.
    func sample(count: Int, seed: UInt64, prior: FittedPrior) throws -> [Image]
    /// A prior fitted to the codes of some training images (of a hierarchy's topmost group in use).
    /// `binarize`: draw binary images from the intensities first, as training and evaluation do.
    func fitPrior(to images: ImageSet, seed: UInt64, binarize: Bool) throws -> FittedPrior?
    /// Codes of images: each group's posterior mean given the means above it.
    func encodeMeans(_ images: [Image]) throws -> [Float]
    /// Images decoded from codes (rows of `codeSize` values), as pixel means.
    func decode(latents: [Float]) throws -> [Image]
}

extension GenerativeModel {
    /// Values of one code: every group's dimensions.
    public var codeSize: Int { latentGroups.reduce(0) { $0 + $1.size } }

    /// Reconstructions: each image decoded from its code.
    public func reconstruct(_ images: [Image]) throws -> [Image] {
        try decode(latents: try encodeMeans(images))
    }

    /// Images along the path between two images' codes: linear, or spherical (slerp, which
    /// keeps the norm typical of the prior).
    public func interpolate(from a: Image, to b: Image, steps: Int, spherical: Bool) throws -> [Image] {
        let codes = try encodeMeans([a, b])
        let n = codeSize
        let za = Array(codes[0..<n]), zb = Array(codes[n..<(2 * n)])
        var path: [Float] = []
        for s in 0..<steps {
            let t = steps == 1 ? 0 : Float(s) / Float(steps - 1)
            path += spherical ? slerp(za, zb, t) : zip(za, zb).map { $0 + t * ($1 - $0) }
        }
        return try decode(latents: path)
    }

    /// Draws from the prior at temperature 1.
    public func sample(count: Int, seed: UInt64) throws -> [Image] {
        try sample(count: count, seed: seed, temperatures: [1])
    }

    /// Images of the first `count` decoded items of `out`, as pixel means clamped to [0, 1].
    func images(_ out: Tensor, count: Int) throws -> [Image] {
        try likelihood.images(out, count: count, config: config)
    }

    func checkedPixels(_ image: Image) -> [Float] {
        let c = config
        precondition(image.channels == c.channels && image.width == c.width && image.height == c.height,
                     "image is \(image.channels)x\(image.height)x\(image.width), the model needs \(c.channels)x\(c.height)x\(c.width)")
        return image.pixels
    }

    /// Loads whole images (host values, NCHW rows) as the batch.
    func load(_ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try loadBatch($0.baseAddress!, batch: $0.count / config.dimensions) }
    }

    /// Loads the images a prior is fitted to, batch by batch: up to `FittedPrior.maxImages` of
    /// `images` picked by `seed`, binarized as in training when `binarize`; `body(start, rows)`
    /// runs on each loaded batch (`start`: its first position among the picked images).
    func forEachPriorFitBatch(of images: ImageSet, seed: UInt64, binarize: Bool,
                              _ body: (Int, ArraySlice<Int>) throws -> Void) throws {
        let picked = Array(SplitMix64.permutation(count: images.count, seed: seed).prefix(FittedPrior.maxImages))
        precondition(!picked.isEmpty, "no images to fit a prior to")
        let staging = UnsafeMutablePointer<Float>.allocate(capacity: maxBatch * config.dimensions)
        defer { staging.deallocate() }
        for start in stride(from: 0, to: picked.count, by: maxBatch) {
            let rows = picked[start..<min(start + maxBatch, picked.count)]
            try images.load(rows, into: target, staging: staging)
            if binarize { try binarizeTarget(seed: seed, firstRow: UInt64(start)) }
            try body(start, rows)
        }
    }

    /// Dynamic binarization: replaces the loaded intensities by Bernoulli draws of them, with the
    /// noise of rows `firstRow...`.
    func binarizeTarget(seed: UInt64, firstRow: UInt64) throws {
        try target.sampleBernoulli(seed: Noise.Stream.binarize.seed(seed),
                                   counter: Noise.counter(row: firstRow, valuesPerRow: config.dimensions))
    }

    /// The temperature of group `g` from a per-group list (one value serves every group).
    func temperature(_ temperatures: [Float], group g: Int) -> Float {
        temperatures.isEmpty ? 1 : temperatures[min(g, temperatures.count - 1)]
    }
}

/// Builds the model of a run's configuration (weights initialized from `seed`), by its family.
public func makeGenerativeModel(_ config: ModelConfig, device: Device, maxBatch: Int, seed: UInt64) throws -> any GenerativeModel {
    switch config.modelFamily {
    case .vae: return try ConvVAE(config, device: device, maxBatch: maxBatch, seed: seed)
    case .deep:
        try config.checkDeep()
        return try HierarchicalVAE(config, device: device, maxBatch: maxBatch, seed: seed)
    case .vqvae, .pixelcnn: throw VAEError("\(config.modelFamily.title) has discrete codes, not a VAE's latent variables")
    }
}

/// Rebuilds the trained unconditional model of a run directory, of whatever family its
/// config.json names.
/// - Parameters:
///   - directory: holds config.json and model.safetensors
///   - maxBatch: the largest batch the model will process
///   - shallowOnly: refuse the deep family too (for what only the shallow VAE does)
///   - purpose: what needs the model, said when the run holds another family
/// - Throws: `VAEError` for a run of another family or a conditional run (one line naming the
///   command to use instead).
public func loadGenerativeModel(from directory: String, device: Device, maxBatch: Int = 128, shallowOnly: Bool = false,
                                purpose: String? = nil) throws -> (any GenerativeModel, RunConfig) {
    let config = try Checkpoint.loadConfig(directory)
    if shallowOnly || config.model.modelFamily != .deep { try config.expect(.vae, in: directory, purpose: purpose) }
    if let task = config.task.conditional {
        throw VAEError("\(directory): a conditional model trained for \(task.rawValue); use vae \(task.rawValue) or vae evaluate --task \(task.rawValue)")
    }
    let model = try Checkpoint.build(from: directory) {
        try makeGenerativeModel(config.model, device: device, maxBatch: maxBatch, seed: 0)
    }
    try Checkpoint.load(into: model, optimizer: nil, from: directory)
    return (model, config)
}

/// Spherical interpolation between two vectors (linear when they are nearly parallel).
func slerp(_ a: [Float], _ b: [Float], _ t: Float) -> [Float] {
    let na = sqrt(a.reduce(0) { $0 + $1 * $1 }), nb = sqrt(b.reduce(0) { $0 + $1 * $1 })
    guard na > 0, nb > 0 else { return zip(a, b).map { $0 + t * ($1 - $0) } }
    let cosine = max(-1, min(1, zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (na * nb)))
    let omega = acos(cosine)
    guard sin(omega) > 1e-5 else { return zip(a, b).map { $0 + t * ($1 - $0) } }
    let wa = sin((1 - t) * omega) / sin(omega), wb = sin(t * omega) / sin(omega)
    return zip(a, b).map { wa * $0 + wb * $1 }
}
