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

    /// The top group's size: a fitted prior replaces its N(0, I); the learned priors of the
    /// groups below it stay.
    public var priorDimension: Int { groups[0].size }

    /// Fits the prior to the top group's codes of up to `FittedPrior.maxImages` of `images`:
    /// one posterior draw per image (the aggregated posterior); the posterior means pick the
    /// active coordinates.
    /// - Parameter seed: picks the images, the posterior noise and EM's start
    public func fitPrior(to images: ImageSet, seed: UInt64) throws -> FittedPrior? {
        let top = groups[0], d = top.size
        let picked = Array(SplitMix64.permutation(count: images.count, seed: seed).prefix(FittedPrior.maxImages))
        precondition(!picked.isEmpty, "no images to fit a prior to")
        var draws: [Double] = [], means: [Double] = []
        draws.reserveCapacity(picked.count * d)
        means.reserveCapacity(picked.count * d)
        var pixels = [Float](repeating: 0, count: maxBatch * config.dimensions)
        for start in stride(from: 0, to: picked.count, by: maxBatch) {
            let rows = picked[start..<min(start + maxBatch, picked.count)]
            try pixels.withUnsafeMutableBufferPointer { buffer in
                images.copyBatch(indices: rows, into: buffer.baseAddress!)
                try loadBatch(UnsafePointer(buffer.baseAddress!), batch: rows.count)
            }
            try bottomUp(batch: rows.count)
            // The top group's posterior needs only the features: draw it alone.
            let s = top.stage
            _ = try top.forward(h: nil, e: features[s], batch: rows.count,
                                draw: posteriorDraw(0, seed: seed, firstRow: UInt64(start)))
            draws += try top.latent.sample.read().map(Double.init)
            let q = try top.posteriorStats!.read()
            for r in 0..<rows.count { means += q[(r * 2 * d)..<(r * 2 * d + d)].map(Double.init) }
        }
        return FittedPrior.fit(draws: draws, means: means, dimension: d, seed: seed)
    }

    /// Draws `count` images with the top group from a fitted prior and every other group from
    /// its learned prior, decoded to pixel means.
    public func sample(count: Int, seed: UInt64, prior: FittedPrior) throws -> [Image] {
        precondition(prior.dimension == priorDimension, "a prior of dimension \(prior.dimension) for a top group of \(priorDimension)")
        let tops = prior.sample(count: count, seed: seed), d = priorDimension
        var result: [Image] = []
        for start in stride(from: 0, to: count, by: maxBatch) {
            let m = min(maxBatch, count - start)
            let counter = UInt64(start * codeSize)
            let out = try topDown(batch: m) { g in
                g == 0 ? .given(tops[(start * d)..<((start + m) * d)])
                       : .prior(seed: seed, counter: counter &+ UInt64(m * self.groupOffsets[g]), temperature: 1)
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
