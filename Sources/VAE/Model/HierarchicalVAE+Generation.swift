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

    /// A fitted prior does not apply: the top group is one of many, and the learned priors
    /// below it already fit the codes.
    public func fitPrior(to images: ImageSet, seed: UInt64) throws -> GaussianMixture? { nil }

    public func sample(count: Int, seed: UInt64, prior: GaussianMixture) throws -> [Image] {
        throw VAEError("a fitted prior does not apply to the deep family")
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
