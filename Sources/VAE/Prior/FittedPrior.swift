import ImageIO
import NN

extension ConvVAE {
    /// Images whose codes a prior is fitted to, at most: bounds the fitting time (seconds).
    public static let priorFitImages = 5000

    /// Fits a Gaussian mixture to the model's codes of `images`: one posterior draw
    /// z = mu + sigma * eps per image (the aggregated posterior), or mu for an autoencoder.
    /// Decoding its samples gives images like the data even where N(0, I) samples do not.
    /// - Parameters:
    ///   - images: training images
    ///   - seed: picks the images (at most `maxPoints`), the posterior noise and EM's start
    ///   - maxPoints: images used at most, which bounds the fitting time
    public func fitMixture(to images: ImageSet, seed: UInt64, maxPoints: Int = priorFitImages) throws -> GaussianMixture {
        let L = config.latent
        let picked = Array(SplitMix64.permutation(count: images.count, seed: seed).prefix(maxPoints))
        precondition(!picked.isEmpty, "no images to fit a prior to")
        var codes: [Double] = []
        codes.reserveCapacity(picked.count * L)
        var pixels = [Float](repeating: 0, count: maxBatch * config.dimensions)
        for start in stride(from: 0, to: picked.count, by: maxBatch) {
            let rows = picked[start..<min(start + maxBatch, picked.count)]
            try pixels.withUnsafeMutableBufferPointer { buffer in
                images.copyBatch(indices: rows, into: buffer.baseAddress!)
                try loadBatch(UnsafePointer(buffer.baseAddress!), batch: rows.count)
            }
            if conditioning != nil { try condition(on: images.labels.map { l in ArraySlice(rows.map { l[$0] }) }) }
            let z = try latent.draw(from: try encode(batch: rows.count), seed: seed, counter: UInt64(start * L))
            codes += try z.read().map(Double.init)
        }
        // Enough points per component for a full covariance: about 6 L each, at most 50 components.
        let components = min(50, max(1, picked.count / (6 * L)))
        return GaussianMixture.fit(codes, dimension: L, components: components, seed: seed)
    }

    /// The mixture fitted to the codes of up to `priorFitImages` of `images` (see `fitMixture`).
    public func fitPrior(to images: ImageSet, seed: UInt64) throws -> GaussianMixture? {
        try fitMixture(to: images, seed: seed)
    }

    /// Draws `count` images from a fitted prior, decoded to pixel means.
    public func sample(count: Int, seed: UInt64, prior: GaussianMixture) throws -> [Image] {
        try sample(count: count, seed: seed, prior: prior, labels: nil)
    }

    /// Draws `count` images from a fitted prior, decoded to pixel means, given a label per
    /// image for a label-conditional model.
    public func sample(count: Int, seed: UInt64, prior: GaussianMixture, labels: [Int]?) throws -> [Image] {
        precondition(prior.dimension == config.latent, "a prior of dimension \(prior.dimension) for latent \(config.latent)")
        return try decode(latents: prior.sample(count: count, seed: seed), labels: labels)
    }
}

extension Checkpoint {
    static let priorFile = "prior.safetensors"

    /// Saves a fitted prior as prior.safetensors (weights [K], means [K, d], scales [K, d, d]).
    public static func savePrior(_ prior: GaussianMixture, to dir: String) throws {
        let k = prior.components, d = prior.dimension
        let entries = [SafeTensors.Entry(name: "prior.weights", shape: [k], values: prior.weights.map(Float.init)),
                       SafeTensors.Entry(name: "prior.means", shape: [k, d], values: prior.means.map(Float.init)),
                       SafeTensors.Entry(name: "prior.scales", shape: [k, d, d], values: prior.scales.map(Float.init))]
        try FileIO.writeAtomically(SafeTensors.encode(entries, metadata: ["kind": "gaussian-mixture"]),
                                   to: path(dir, priorFile))
    }

    /// The run's fitted prior, or nil when it has none.
    /// - Parameters:
    ///   - dir: the run directory
    ///   - latent: the model's latent size, which the prior must match
    public static func loadPrior(from dir: String, latent: Int) throws -> GaussianMixture? {
        let file = path(dir, priorFile)
        guard FileIO.exists(file) else { return nil }
        let t = try read(file).tensors
        guard let w = t["prior.weights"], let m = t["prior.means"], let s = t["prior.scales"], w.shape.count == 1,
              m.shape == [w.shape[0], latent], s.shape == [w.shape[0], latent, latent], w.shape[0] > 0
        else { throw VAEError("\(file): not a mixture prior for latent \(latent)") }
        let scales = s.values.map(Double.init)
        let proper = w.values.allSatisfy { $0 > 0 && $0.isFinite } && m.values.allSatisfy(\.isFinite)
            && (0..<w.shape[0]).allSatisfy { j in (0..<latent).allSatisfy { a in scales[(j * latent + a) * latent + a] > 0 } }
            && scales.allSatisfy(\.isFinite)
        guard proper else { throw VAEError("\(file): weights or scales are not positive and finite") }
        let total = w.values.reduce(0) { $0 + Double($1) }
        return GaussianMixture(weights: w.values.map { Double($0) / total }, means: m.values.map(Double.init),
                               scales: scales, dimension: latent)
    }
}
