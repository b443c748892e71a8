import ImageIO
import NN

extension HierarchicalVAE {
    /// Draws `count` images: the top group from N(0, T^2 I), every other group from its prior
    /// given the groups above with its spread scaled by its temperature, decoded to pixel means.
    public func sample(count: Int, seed: UInt64, temperatures: [Float]) throws -> [Image] {
        var result: [Image] = []
        for start in stride(from: 0, to: count, by: maxBatch) {
            let m = min(maxBatch, count - start)
            let counter = UInt64(start * codeSize)
            let out = try topDown(batch: m) { g in
                .prior(seed: seed, counter: counter &+ UInt64(m * self.groupOffsets[g]),
                       temperature: self.temperature(temperatures, group: g))
            }
            result += try images(out, count: m)
        }
        return result
    }

    /// Fits the prior to the codes of the topmost group in use (a group above it whose posterior
    /// means do not vary carries nothing, so its prior changes nothing) over up to
    /// `FittedPrior.maxImages` of `images`: one posterior draw per image (the aggregated
    /// posterior); the posterior means pick the active coordinates.
    /// - Parameters:
    ///   - seed: picks the images, the posterior noise, the binarization and EM's start
    ///   - binarize: fit to the codes of binary images drawn from the intensities, the images
    ///     the encoder sees in training and evaluation
    public func fitPrior(to images: ImageSet, seed: UInt64, binarize: Bool) throws -> FittedPrior? {
        /// Runs `body(rows)` after a posterior pass over each batch of the images.
        func passes(_ body: (Int) throws -> Void) throws {
            try forEachPriorFitBatch(of: images, seed: seed, binarize: binarize) { start, rows in
                try bottomUp(batch: rows.count)
                _ = try topDown(batch: rows.count) { g in self.posteriorDraw(g, seed: seed, firstRow: UInt64(start)) }
                try body(rows.count)
            }
        }
        // First pass: which groups' posterior means vary (the active units of evaluation).
        var sums = groups.map { [Double](repeating: 0, count: 2 * $0.size) }, count = 0
        try passes { m in
            count += m
            for (g, group) in groups.enumerated() {
                let d = group.size, q = try group.posteriorStats!.read()
                for r in 0..<m {
                    for j in 0..<d {
                        let mu = Double(q[r * 2 * d + j])
                        sums[g][j] += mu
                        sums[g][d + j] += mu * mu
                    }
                }
            }
        }
        let n = Double(count)
        let g = groups.indices.first { g in
            let d = groups[g].size
            return (0..<d).contains { j in sums[g][d + j] / n - (sums[g][j] / n) * (sums[g][j] / n) > 0.01 }
        } ?? 0
        // Second pass: that group's draws and means.
        let d = groups[g].size
        var draws: [Double] = [], means: [Double] = []
        try passes { m in
            draws += try groups[g].latent.sample.read().prefix(m * d).map(Double.init)
            let q = try groups[g].posteriorStats!.read()
            for r in 0..<m { means += q[(r * 2 * d)..<(r * 2 * d + d)].map(Double.init) }
        }
        return FittedPrior.fit(draws: draws, means: means, dimension: d, group: g, seed: seed)
    }

    /// Draws `count` images with the fitted prior's group from it on its coordinates (the rest
    /// of that group and every other group from the model's priors), decoded to pixel means.
    public func sample(count: Int, seed: UInt64, prior: FittedPrior) throws -> [Image] {
        let fitted = prior.group, d = groups[fitted].size
        precondition(prior.dimension == d, "a prior of dimension \(prior.dimension) for group \(fitted) of \(d)")
        let drawn = prior.mixture.sample(count: count, seed: seed), a = prior.coordinates.count
        var result: [Image] = []
        for start in stride(from: 0, to: count, by: maxBatch) {
            let m = min(maxBatch, count - start)
            let counter = UInt64(start * codeSize)
            let out = try topDown(batch: m) { g in
                let draw = LatentGroup.Draw.prior(seed: seed, counter: counter &+ UInt64(m * self.groupOffsets[g]), temperature: 1)
                return g == fitted ? .overriding(draw, coordinates: prior.coordinates, values: drawn[(start * a)..<((start + m) * a)]) : draw
            }
            result += try images(out, count: m)
        }
        return result
    }

    /// Codes of images: each group's posterior mean given the means chosen above it, every
    /// group's values in a row, top first.
    public func encodeMeans(_ images: [Image]) throws -> [Float] {
        var result: [Float] = []
        for start in stride(from: 0, to: images.count, by: maxBatch) {
            let chunk = images[start..<min(start + maxBatch, images.count)]
            let m = chunk.count
            try load(chunk.flatMap { checkedPixels($0) })
            try bottomUp(batch: m)
            _ = try topDown(batch: m) { g in .posterior(seed: 0, counter: 0, temperature: 0) }
            let z = try groups.map { try $0.latent.sample.read() }
            for r in 0..<m {
                for (g, group) in groups.enumerated() { result += z[g][(r * group.size)..<((r + 1) * group.size)] }
            }
        }
        return result
    }

    /// Images decoded from codes (rows of every group's values, top first).
    public func decode(latents: [Float]) throws -> [Image] {
        let n = codeSize, offsets = groupOffsets
        var result: [Image] = []
        for start in stride(from: 0, to: latents.count / n, by: maxBatch) {
            let m = min(maxBatch, latents.count / n - start)
            let values = groups.indices.map { g in
                (0..<m).flatMap { r in
                    let row = (start + r) * n + offsets[g]
                    return latents[row..<(row + groups[g].size)]
                }
            }
            let out = try topDown(batch: m) { g in .given(values[g][...]) }
            result += try images(out, count: m)
        }
        return result
    }
}
