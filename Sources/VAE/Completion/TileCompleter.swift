import NN

/// Anything that turns model-sized condition tiles into target tiles: a conditional VAE, or a
/// plain VAE imputing by MCMC. The tiling, padding and blending around it do not care which.
public protocol TileCompleter: AnyObject {
    /// What the tiles hold (inpaint: [x, holes pre-filled; m] to x; colorize: Y to (Cb, Cr)).
    var task: ConditionalTask { get }
    /// Channels of the images the model works on.
    var imageChannels: Int { get }
    var tileWidth: Int { get }
    var tileHeight: Int { get }
    /// Completes `count` condition tiles (NCHW rows) into target tiles (pixel means). Every tile
    /// of one call belongs to sample number `sample` of one picture drawn with `seed`.
    func complete(conditions: [Float], count: Int, sample: Int, seed: UInt64) throws -> [Float]
}

extension ConditionalVAE: TileCompleter {
    public var imageChannels: Int { config.channels }
    public var tileWidth: Int { config.width }
    public var tileHeight: Int { config.height }

    /// Samples p(x | c) tile by tile with ONE noise vector eps per sample shared by all tiles:
    /// z = mu_p(c) + sigma_p(c) eps, so neighbouring tiles, whose conditions overlap, make the same
    /// choices (one colour scheme per picture rather than one per tile). eps is scaled by
    /// `temperature` (below 1: completions closer to the prior's mean, and closer to each other).
    public func complete(conditions: [Float], count: Int, sample: Int, seed: UInt64) throws -> [Float] {
        let L = config.latent
        let row = Noise.normal(count: L, seed: Noise.Stream.conditionalLatent.seed(seed), counter: UInt64(sample) &* UInt64(L))
            .map { $0 * temperature }
        var noise = [Float]()
        noise.reserveCapacity(count * L)
        for _ in 0..<count { noise += row }
        return try self.sample(conditions: conditions, count: count, noise: noise)
    }
}
