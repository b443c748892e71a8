import Foundation
import ImageIO
import NN

/// A prior fitted to a trained model's codes after training (ex-post density estimation, Ghosh
/// et al. 2020). A trained VAE's codes do not fill N(0, I): decoding prior draws that land
/// between them gives blends and fragments, and the bound pays for the mismatch. The fitted
/// prior is a Gaussian mixture over the active coordinates of one latent group's code (those
/// whose posterior means vary between images); the group's other coordinates keep the model's
/// prior (N(0, 1) for a top group), where the posterior is the prior anyway. A hierarchy's
/// fitted group is its topmost one in use (groups above it that carry nothing change nothing).
/// Leaving those out keeps a full covariance estimable: its estimation error costs about
/// d^2 / 4n nats for d coordinates and n codes, 8 nats for a deep model's 392-value top group
/// from 5,000 images, but 0.1 for its 41 active ones.
public struct FittedPrior: Equatable, Sendable {
    /// The mixture over `coordinates`.
    public let mixture: GaussianMixture
    /// The code's coordinates the mixture models, ascending; the others keep the model's prior.
    public let coordinates: [Int]
    /// Values in the group's code.
    public let dimension: Int
    /// The latent group whose prior it replaces on `coordinates`, top first (0: the top).
    public let group: Int

    /// Images whose codes a prior is fitted to, at most: bounds the fitting time (about three
    /// minutes of one core for a deep MNIST model's 42 active values).
    public static let maxImages = 20_000

    public init(mixture: GaussianMixture, coordinates: [Int], dimension: Int, group: Int = 0) {
        precondition(mixture.dimension == coordinates.count && coordinates == coordinates.sorted()
                     && Set(coordinates).count == coordinates.count && coordinates.allSatisfy { (0..<dimension).contains($0) },
                     "a fitted prior's coordinates must be distinct, ascending and inside the code")
        self.mixture = mixture
        self.coordinates = coordinates
        self.dimension = dimension
        self.group = group
    }

    /// A mixture over every coordinate.
    public init(mixture: GaussianMixture) {
        self.init(mixture: mixture, coordinates: Array(0..<mixture.dimension), dimension: mixture.dimension)
    }

    /// Fits the prior to codes.
    /// - Parameters:
    ///   - draws: n rows of `dimension` codes, one posterior draw per image (the aggregated posterior)
    ///   - means: the images' posterior means, rows like `draws`, which pick the active
    ///     coordinates (variance over the images above 0.01, as in evaluation's active units);
    ///     nil models every coordinate (an autoencoder's codes are its means)
    ///   - group: the latent group the codes are of
    ///   - seed: EM's start
    public static func fit(draws: [Double], means: [Double]?, dimension d: Int, group: Int = 0, seed: UInt64) -> FittedPrior {
        let n = draws.count / d
        precondition(n >= 1 && draws.count == n * d && (means?.count ?? draws.count) == draws.count, "codes of the wrong size")
        var coordinates = Array(0..<d)
        if let means {
            let variance = (0..<d).map { j in
                let mean = stride(from: j, to: means.count, by: d).reduce(0) { $0 + means[$1] } / Double(n)
                return stride(from: j, to: means.count, by: d).reduce(0) { $0 + (means[$1] - mean) * (means[$1] - mean) } / Double(n)
            }
            coordinates = (0..<d).filter { variance[$0] > 0.01 }
            // No active coordinate: model the most varied one, so the mixture has a dimension.
            if coordinates.isEmpty { coordinates = [variance.indices.max { variance[$0] < variance[$1] }!] }
        }
        let a = coordinates.count
        let points = (0..<n).flatMap { r in coordinates.map { draws[r * d + $0] } }
        return FittedPrior(mixture: mixture(points, dimension: a, seed: seed), coordinates: coordinates,
                           dimension: d, group: group)
    }

    /// Points a fit holds out to choose the number of components, at least.
    static let minHeldOut = 100

    /// A mixture fitted to `points` (rows of `a`, in random order). The number of components is
    /// the one whose fit to the first 80% gives the last 20% the highest likelihood (1, 2, 4, ...
    /// up to 50, each with at least 6a points; the search stops after two that do worse), then
    /// refitted to all: a full covariance has a(a+3)/2 parameters per component, and a mixture
    /// with more than the points support fits the training codes, not the prior, and costs the
    /// bound on new images. With too few points to hold any out, as many components as 6a
    /// points each allow.
    static func mixture(_ points: [Double], dimension a: Int, seed: UInt64) -> GaussianMixture {
        let n = points.count / a
        let held = n / 5, kept = n - held
        let limit = min(50, max(1, kept / (6 * a)))
        guard held >= minHeldOut, limit > 1 else {
            return .fit(points, dimension: a, components: min(50, max(1, n / (6 * a))), seed: seed)
        }
        let train = Array(points[..<(kept * a)]), test = points[(kept * a)...]
        var best = (components: 1, score: -Double.infinity), worse = 0
        for k in [1, 2, 4, 8, 16, 32, 50].filter({ $0 <= limit }) {
            let g = GaussianMixture.fit(train, dimension: a, components: k, seed: seed)
            let score = stride(from: test.startIndex, to: test.endIndex, by: a).reduce(0.0) { $0 + g.logDensity(test[$1..<($1 + a)]) }
            if score > best.score {
                best = (k, score)
                worse = 0
            } else {
                worse += 1
                if worse == 2 { break }
            }
        }
        return .fit(points, dimension: a, components: best.components, seed: seed)
    }

    /// log p(z) of a whole code, with N(0, 1) on the coordinates the mixture leaves out (the
    /// prior of a top group).
    public func logDensity<C: RandomAccessCollection<Double>>(_ z: C) -> Double where C.Index == Int {
        precondition(z.count == dimension, "a code of \(z.count) values for a prior of \(dimension)")
        let base = z.startIndex
        var modelled = coordinates.makeIterator(), next = modelled.next(), normal = 0.0, rest = 0
        for j in 0..<dimension {
            if j == next {
                next = modelled.next()
            } else {
                normal -= 0.5 * z[base + j] * z[base + j]
                rest += 1
            }
        }
        return mixture.logDensity(coordinates.lazy.map { z[base + $0] }) + normal - 0.5 * Double(rest) * log(2 * Double.pi)
    }

    /// `count` codes, row after row: the mixture's draws at its coordinates, N(0, 1) elsewhere
    /// (with every coordinate modelled, exactly the mixture's draws).
    public func sample(count: Int, seed: UInt64) -> [Float] {
        let drawn = mixture.sample(count: count, seed: seed)
        if coordinates.count == dimension { return drawn }
        var out = Noise.normal(count: count * dimension, seed: Noise.derive(seed, 1), counter: 0)
        let a = coordinates.count
        for r in 0..<count {
            for (i, j) in coordinates.enumerated() { out[r * dimension + j] = drawn[r * a + i] }
        }
        return out
    }
}

extension ConvVAE {
    /// Fits the prior to the model's codes of up to `FittedPrior.maxImages` of `images`: one
    /// posterior draw z = mu + sigma * eps per image (the aggregated posterior), or mu for an
    /// autoencoder; the posterior means pick the active coordinates.
    /// - Parameters:
    ///   - seed: picks the images, the posterior noise, the binarization and EM's start
    ///   - binarize: fit to the codes of binary images drawn from the intensities, the images
    ///     the encoder sees in training and evaluation
    public func fitPrior(to images: ImageSet, seed: UInt64, binarize: Bool) throws -> FittedPrior? {
        let L = config.latent
        var draws: [Double] = [], means: [Double] = []
        try forEachPriorFitBatch(of: images, seed: seed, binarize: binarize) { start, rows in
            if conditioning != nil { try condition(on: images.labels.map { l in ArraySlice(rows.map { l[$0] }) }) }
            let stats = try encode(batch: rows.count)
            let z = try latent.draw(from: stats, seed: seed, counter: UInt64(start * L))
            draws += try z.read().map(Double.init)
            let s = try stats.read()
            for r in 0..<rows.count { means += s[(r * 2 * L)..<(r * 2 * L + L)].map(Double.init) }
        }
        return FittedPrior.fit(draws: draws, means: config.autoencoder ? nil : means, dimension: L, seed: seed)
    }

    /// Draws `count` images from a fitted prior, decoded to pixel means.
    public func sample(count: Int, seed: UInt64, prior: FittedPrior) throws -> [Image] {
        try sample(count: count, seed: seed, prior: prior, labels: nil)
    }

    /// Draws `count` images from a fitted prior, decoded to pixel means, given a label per
    /// image for a label-conditional model.
    public func sample(count: Int, seed: UInt64, prior: FittedPrior, labels: [Int]?) throws -> [Image] {
        precondition(prior.dimension == config.latent, "a prior of dimension \(prior.dimension) for latent \(config.latent)")
        return try decode(latents: prior.sample(count: count, seed: seed), labels: labels)
    }
}

extension Checkpoint {
    static let priorFile = "prior.safetensors"

    /// Saves a fitted prior as prior.safetensors (weights [K], means [K, a], scales [K, a, a],
    /// and the a coordinates of the code it models).
    public static func savePrior(_ prior: FittedPrior, to dir: String) throws {
        let g = prior.mixture, k = g.components, d = g.dimension
        let entries = [SafeTensors.Entry(name: "prior.weights", shape: [k], values: g.weights.map(Float.init)),
                       SafeTensors.Entry(name: "prior.means", shape: [k, d], values: g.means.map(Float.init)),
                       SafeTensors.Entry(name: "prior.scales", shape: [k, d, d], values: g.scales.map(Float.init)),
                       SafeTensors.Entry(name: "prior.coordinates", shape: [d], values: prior.coordinates.map(Float.init))]
        try FileIO.writeAtomically(SafeTensors.encode(entries, metadata: ["kind": "gaussian-mixture",
                                                                          "dimension": String(prior.dimension),
                                                                          "group": String(prior.group)]),
                                   to: path(dir, priorFile))
    }

    /// The run's fitted prior, or nil when it has none. A file without coordinates (written
    /// before they were saved) models every coordinate of the top group.
    /// - Parameters:
    ///   - dir: the run directory
    ///   - groupSizes: the size of each latent group's code, top first (the model's `latentGroups`)
    public static func loadPrior(from dir: String, groupSizes: [Int]) throws -> FittedPrior? {
        let file = path(dir, priorFile)
        guard FileIO.exists(file) else { return nil }
        let contents = try read(file), t = contents.tensors
        let group = contents.metadata["group"].map { Int($0) ?? -1 } ?? 0
        guard groupSizes.indices.contains(group) else {
            throw VAEError("\(file): a prior of latent group \(contents.metadata["group"] ?? "?"), which the model (\(groupSizes.count) group(s)) does not have")
        }
        let dimension = groupSizes[group]
        guard let w = t["prior.weights"], let m = t["prior.means"], let s = t["prior.scales"], w.shape.count == 1,
              w.shape[0] > 0, m.shape.count == 2, m.shape[0] == w.shape[0], (1...dimension).contains(m.shape[1])
        else { throw VAEError("\(file): not a mixture prior for codes of \(dimension) values") }
        let k = w.shape[0], a = m.shape[1]
        guard s.shape == [k, a, a] else { throw VAEError("\(file): scales of shape \(s.shape), not [\(k), \(a), \(a)]") }
        let coordinates = try t["prior.coordinates"].map { c -> [Int] in
            let values = c.values.map { Int(exactly: $0) ?? -1 }
            guard c.shape == [a], values.allSatisfy({ (0..<dimension).contains($0) }), zip(values, values.dropFirst()).allSatisfy({ $0 < $1 })
            else { throw VAEError("\(file): coordinates are not \(a) ascending positions in a code of \(dimension)") }
            return values
        } ?? Array(0..<a)
        guard coordinates.count == a, t["prior.coordinates"] != nil || a == dimension else {
            throw VAEError("\(file): not a mixture prior for codes of \(dimension) values")
        }
        let scales = s.values.map(Double.init)
        let proper = w.values.allSatisfy { $0 > 0 && $0.isFinite } && m.values.allSatisfy(\.isFinite)
            && (0..<k).allSatisfy { j in (0..<a).allSatisfy { i in scales[(j * a + i) * a + i] > 0 } }
            && scales.allSatisfy(\.isFinite)
        guard proper else { throw VAEError("\(file): weights or scales are not positive and finite") }
        let total = w.values.reduce(0) { $0 + Double($1) }
        let mixture = GaussianMixture(weights: w.values.map { Double($0) / total }, means: m.values.map(Double.init),
                                      scales: scales, dimension: a)
        return FittedPrior(mixture: mixture, coordinates: coordinates, dimension: dimension, group: group)
    }
}
