import Foundation
import NN

/// One latent group of a `HierarchicalVAE`'s top-down path, at one resolution: with the
/// top-down state h (what the groups above decided) and the bottom-up features e of the image,
///
/// - prior p(z | h): a 3x3 convolution of h to packed statistics (mu, log sigma^2 per
///   position and channel); the top group has none, its prior is N(0, I);
/// - posterior q(z | x, h) = p + a 3x3 convolution of [h; e] (the top group: of e alone): the
///   posterior is parameterized relative to the prior (NVAE's residual normal, Vahdat and Kautz
///   2020), so it starts near the prior and the KL starts small;
/// - the state goes on as h' = block(h + projection(z)), a 1x1 convolution of z added to h and
///   one residual block.
///
/// Each pass keeps what the backward pass needs in the layers' own buffers: the posterior's
/// statistics are written over its convolution's output, the sum over the projection's, so no
/// pass allocates.
final class LatentGroup {
    /// "top", or "stage S group G".
    let name: String
    /// The stage (resolution) the group works at.
    let stage: Int
    /// z per image [channels, height, width].
    let shape: [Int]
    let prior: Conv2D?
    let join: ChannelConcatenation?
    let posterior: Conv2D
    let projection: Conv2D
    let block: ResidualBlock
    /// z, its noise, the KL to the prior and their gradients.
    let latent: GaussianLatent

    /// - Parameters:
    ///   - name: for parameters (`prefix.prior.weight`, ...) and reports
    ///   - stage: the resolution stage
    ///   - state: per-item shape of h and of e [C, H, W]
    ///   - latentChannels: channels of z
    ///   - top: the top group (prior N(0, I), posterior from e alone)
    ///   - branchScale: initial scale of the projection and of the block's branch
    init(name: String, prefix: String, stage: Int, state: [Int], latentChannels: Int, top: Bool, branchScale: Float,
         maxBatch: Int, device: Device, workspace: Workspace, rng: inout some RandomNumberGenerator) throws {
        self.name = name
        self.stage = stage
        let (C, H, W) = (state[0], state[1], state[2])
        shape = [latentChannels, H, W]
        if top {
            prior = nil
            join = nil
        } else {
            let p = try Conv2D(input: state, outChannels: 2 * latentChannels, kernel: 3, padding: 1, maxBatch: maxBatch,
                               workspace: workspace, rng: &rng)
            // The prior starts as a constant (its bias): the same for every h until it learns.
            try p.weight.value.fill(0)
            try p.bias.value.fill(0)
            p.nameParameters(prefix + ".prior")
            prior = p
            join = try ChannelConcatenation(first: state, second: state, maxBatch: maxBatch, on: device)
        }
        posterior = try Conv2D(input: top ? state : [2 * C, H, W], outChannels: 2 * latentChannels, kernel: 3, padding: 1,
                               maxBatch: maxBatch, workspace: workspace, rng: &rng)
        try posterior.bias.value.fill(0)
        posterior.nameParameters(prefix + ".posterior")
        projection = try Conv2D(input: shape, outChannels: C, kernel: 1, maxBatch: maxBatch, workspace: workspace, rng: &rng)
        try projection.weight.value.write(try projection.weight.value.read().map { $0 * branchScale })
        try projection.bias.value.fill(0)
        projection.nameParameters(prefix + ".projection")
        block = try ResidualBlock(input: state, branchScale: branchScale, maxBatch: maxBatch, workspace: workspace, rng: &rng)
        block.nameParameters(prefix + ".block")
        latent = try GaussianLatent(size: shape.reduce(1, *), maxBatch: maxBatch, learnedPrior: !top, on: device)
    }

    var isTop: Bool { prior == nil }
    /// Multiply-adds times two of the group's posterior pass per image (prior, posterior,
    /// projection and block).
    var forwardFLOPs: Int {
        (prior?.forwardFLOPs ?? 0) + posterior.forwardFLOPs + projection.forwardFLOPs + block.forwardFLOPs
    }
    var size: Int { latent.size }
    var parameters: [Parameter] {
        (prior?.parameters ?? []) + posterior.parameters + projection.parameters + block.parameters
    }

    /// The prior's statistics of the last pass (nil for the top group).
    private(set) var priorStats: Tensor?
    /// The posterior's statistics of the last posterior pass.
    private(set) var posteriorStats: Tensor?

    /// How the group picks z in a pass.
    enum Draw {
        /// From the posterior at a temperature (1: a sample, 0: its mean).
        case posterior(seed: UInt64, counter: UInt64, temperature: Float)
        /// From the prior at a temperature (generation).
        case prior(seed: UInt64, counter: UInt64, temperature: Float)
        /// Given values (`batch * size` host values), with the prior computed alongside.
        case given(ArraySlice<Float>)
        /// Another draw, then `values` (rows of `coordinates.count`) in place of its values at
        /// `coordinates` (a fitted prior's part of a code).
        indirect case overriding(Draw, coordinates: [Int], values: ArraySlice<Float>)
    }

    /// One pass: the statistics the draw needs, z, and the next state.
    /// - Parameters:
    ///   - h: the state from the groups above (nil for the top group)
    ///   - e: the bottom-up features of this resolution (posterior draws only)
    ///   - batch: rows in the pass
    func forward(h: Tensor?, e: Tensor?, batch: Int, draw: Draw) throws -> Tensor {
        if let prior { priorStats = try prior.forward(h!) }
        let s = try projection.forward(try pick(h: h, e: e, batch: batch, draw: draw))
        if let h { try s.axpby(1, h, 1) }
        return try block.forward(s)
    }

    /// z of one pass, as `draw` says.
    private func pick(h: Tensor?, e: Tensor?, batch: Int, draw: Draw) throws -> Tensor {
        let z: Tensor
        switch draw {
        case let .posterior(seed, counter, temperature):
            let q = try posteriorStatistics(h: h, e: e!)
            z = try latent.draw(from: q, seed: seed, counter: counter, temperature: temperature)
        case let .prior(seed, counter, temperature):
            if let p = priorStats {
                z = try latent.draw(from: p, seed: seed, counter: counter, temperature: temperature)
            } else {
                z = try latent.drawStandardNormal(batch: batch, seed: seed, counter: counter, temperature: temperature)
            }
        case let .given(values):
            z = try latent.set(values)
        case let .overriding(first, coordinates, values):
            var all = try pick(h: h, e: e, batch: batch, draw: first).read()
            let L = size, a = coordinates.count, base = values.startIndex
            for r in 0..<batch {
                for (i, j) in coordinates.enumerated() { all[r * L + j] = values[base + r * a + i] }
            }
            z = try latent.set(all[...])
        }
        return z
    }

    /// log p(z_j) per row and coordinate of the last draw under the group's own prior (N(0, 1)
    /// for the top), without the log(2 pi) terms, as in `logDensityRatio`.
    func priorLogDensities(rows m: Int) throws -> [Double] {
        let L = size, z = try latent.sample.read(), p = try priorStats?.read()
        return (0..<(m * L)).map { i in
            let r = i / L, j = i % L, zz = Double(z[i])
            guard let p else { return -0.5 * zz * zz }
            let mu = Double(p[r * 2 * L + j]), lv = Double(p[r * 2 * L + L + j])
            return -0.5 * (lv + (zz - mu) * (zz - mu) * exp(-lv))
        }
    }

    /// q = p + posterior([h; e]), or posterior(e) for the top group (after the prior's forward).
    private func posteriorStatistics(h: Tensor?, e: Tensor) throws -> Tensor {
        guard let join, let p = priorStats, let h else {
            posteriorStats = try posterior.forward(e)
            return posteriorStats!
        }
        let q = try posterior.forward(try join.forward(h, e))
        try q.axpby(1, p, 1)
        posteriorStats = q
        return q
    }

    /// The gradients of one posterior pass, from the gradient of the next state `dNext`: into the
    /// parameters (overwritten), the KL term's (scaled by `klScale`, under free bits), the
    /// bottom-up features' gradient added to `de`; returns the gradient of the state h (nil
    /// for the top group). The KL of the pass is left in `latent.kl`.
    func backward(_ dNext: Tensor, de: Tensor, klScale: Float, freeBits: Float) throws -> Tensor? {
        let q = posteriorStats!
        guard let ds = try block.backward(dNext, inputGradient: true),
              let dz = try projection.backward(ds, inputGradient: true) else { fatalError("no input gradient") }
        let dq = try latent.backward(q, sampleGradient: dz)
        guard let prior, let join, let p = priorStats, let dp = latent.priorGradient else {
            try latent.klToStandardNormal(q, gradientScale: klScale, freeBits: freeBits)
            try de.axpby(1, try posterior.backward(dq, inputGradient: true)!, 1)
            return nil
        }
        dp.setBatch(q.batch)
        try dp.fill(0)
        try latent.klToPrior(posterior: q, prior: p, gradientScale: klScale, freeBits: freeBits)
        // q = p + posterior(...): the prior also receives the posterior's gradient.
        try dp.axpby(1, dq, 1)
        let dJoin = try posterior.backward(dq, inputGradient: true)!
        try de.axpby(1, try join.backwardSecond(dJoin), 1)
        try ds.axpby(1, try join.backwardFirst(dJoin), 1)
        try ds.axpby(1, try prior.backward(dp, inputGradient: true)!, 1)
        return ds
    }

    /// KL(q || p) per image of the last posterior pass into `latent.kl`, without gradients.
    @discardableResult
    func klTerm() throws -> Tensor {
        guard let p = priorStats else { return try latent.klToStandardNormal(posteriorStats!) }
        return try latent.klToPrior(posterior: posteriorStats!, prior: p)
    }

    /// log p(z) - log q(z) per row of the last posterior draw (at temperature 1), in double
    /// precision on the host; the log(2 pi) terms cancel.
    func logDensityRatio(rows m: Int) throws -> [Double] {
        let L = size
        let q = try posteriorStats!.read(), eps = try latent.noise.read(), z = try latent.sample.read()
        let p = try priorStats?.read()
        return (0..<m).map { r in
            var s = 0.0
            for j in 0..<L {
                let e = Double(eps[r * L + j]), zz = Double(z[r * L + j])
                s += 0.5 * (Double(q[r * 2 * L + L + j]) + e * e)
                if let p {
                    let mu = Double(p[r * 2 * L + j]), lv = Double(p[r * 2 * L + L + j])
                    s -= 0.5 * (lv + (zz - mu) * (zz - mu) * exp(-lv))
                } else {
                    s -= 0.5 * zz * zz
                }
            }
            return s
        }
    }
}
