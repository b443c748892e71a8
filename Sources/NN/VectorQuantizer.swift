import CKernels

/// A VQ-VAE's bottleneck (van den Oord et al. 2017): each D-vector of an encoder map
/// [batch, D, h, w] is replaced by its nearest of K codebook vectors (the distances of the
/// whole batch as one GEMM, in C), the decoder's gradient passes straight through to the
/// encoder, and the commitment term beta |z - sg(c)|^2 pulls the encoder towards its codes.
///
/// The codebook learns by exponential moving averages of the vectors that chose each code
/// (Laplace-smoothed counts), or, with `update == .loss`, by Adam on the plain codebook loss
/// |sg(z) - c|^2. Codes no position chose since the last restart can be restarted from the
/// batch's encoder vectors (`restartDeadCodes`). Every step's work runs in C; buffers are
/// preallocated for `maxBatch`, so nothing in a step allocates.
public final class VectorQuantizer {
    /// How the codebook learns.
    public enum CodebookUpdate: String, Codable, CaseIterable, Sendable {
        /// Exponential moving averages of the assigned vectors (the default).
        case ema
        /// Adam on the codebook loss |sg(z) - c|^2.
        case loss
    }

    /// Codes K, values per code D, and the code map's height and width.
    public let codes: Int, dimension: Int, height: Int, width: Int
    public let update: CodebookUpdate
    /// The codes [K, D], named `quantizer.codebook`; Adam trains it only for `.loss` (its
    /// gradient stays zero otherwise, so Adam leaves it alone).
    public let codebook: Parameter
    /// The moving averages' counts N [K] and sums m [K, D] (`.ema` only).
    public let emaCounts: Tensor?, emaSums: Tensor?
    /// How often each code was chosen in training since the last restart [K].
    public let usage: Tensor
    /// The last quantization: code indices [batch, h, w] (floats), the code vectors
    /// [batch, D, h, w] and each item's summed |z - c|^2 [batch].
    public let indices: Tensor, quantized: Tensor, squaredDistance: Tensor
    /// Per code, the count and the sum of the vectors that chose it in the last `learn` [K], [K, D].
    public let counts: Tensor, sums: Tensor
    private let workspace: Tensor
    private let maxBatch: Int

    /// Positions per item.
    public var plane: Int { height * width }

    /// - Parameters:
    ///   - codes: K
    ///   - dimension: D, the encoder map's channels
    ///   - height, width: the code map's size
    ///   - maxBatch: the largest batch
    ///   - update: how the codebook learns
    ///   - rng: initializes the codes uniformly in ±1/K
    public init(codes: Int, dimension: Int, height: Int, width: Int, maxBatch: Int, update: CodebookUpdate = .ema,
                on device: Device, rng: inout some RandomNumberGenerator) throws {
        self.codes = codes
        self.dimension = dimension
        self.height = height
        self.width = width
        self.update = update
        self.maxBatch = maxBatch
        codebook = try Parameter("quantizer.codebook", [codes, dimension], on: device, decays: false)
        try codebook.initializeUniform(bound: 1 / Float(codes), rng: &rng)
        if update == .ema {
            // Counts of 1 and sums equal to the codes: the averages start at the codes, so a
            // code nobody picks keeps its value instead of being divided by a tiny count.
            let n = try Tensor([codes], on: device)
            try n.fill(1)
            let m = try Tensor([codes, dimension], on: device)
            try m.copy(from: codebook.value)
            emaCounts = n
            emaSums = m
        } else {
            emaCounts = nil
            emaSums = nil
        }
        usage = try Tensor([codes], on: device)
        indices = try Tensor([maxBatch, height, width], on: device)
        quantized = try Tensor([maxBatch, dimension, height, width], on: device)
        squaredDistance = try Tensor([maxBatch], on: device)
        counts = try Tensor([codes], on: device)
        sums = try Tensor([codes, dimension], on: device)
        var need = 0
        try check(ck_vq_workspace(Int32(maxBatch), Int32(dimension), Int32(height * width), Int32(codes), &need))
        workspace = try Tensor([need], on: device)
    }

    /// The state a checkpoint keeps besides the codebook, by name.
    public var buffers: [(name: String, tensor: Tensor)] {
        var b: [(String, Tensor)] = [("quantizer.usage", usage)]
        if let emaCounts, let emaSums { b += [("quantizer.ema_counts", emaCounts), ("quantizer.ema_sums", emaSums)] }
        return b
    }

    private func setBatch(_ b: Int) {
        precondition(b <= maxBatch, "batch \(b) exceeds the quantizer's \(maxBatch)")
        indices.setBatch(b)
        quantized.setBatch(b)
        squaredDistance.setBatch(b)
    }

    /// The nearest codes of `z` [batch, D, h, w] into `indices`, their vectors into
    /// `quantized` (returned) and each item's summed squared distance into `squaredDistance`.
    @discardableResult
    public func quantize(_ z: Tensor) throws -> Tensor {
        precondition(z.itemCount == dimension * plane, "quantizer: input \(z.shape) is not [batch, \(dimension), \(height), \(width)]")
        setBatch(z.batch)
        try check(ck_vq_assign(Int32(z.batch), Int32(dimension), Int32(plane), Int32(codes), z.buffer,
                               codebook.value.buffer, indices.buffer, quantized.buffer, squaredDistance.buffer,
                               workspace.buffer))
        return quantized
    }

    /// The code vectors of code maps (indices as floats [batch, h, w]) into `quantized`.
    @discardableResult
    public func embed(_ codeMaps: Tensor) throws -> Tensor {
        precondition(codeMaps.itemCount == plane, "quantizer: code maps \(codeMaps.shape) are not [batch, \(height), \(width)]")
        setBatch(codeMaps.batch)
        try check(ck_vq_embed(Int32(codeMaps.batch), Int32(dimension), Int32(plane), Int32(codes), codeMaps.buffer,
                              codebook.value.buffer, quantized.buffer))
        return quantized
    }

    /// The encoder's gradient from the decoder's gradient at the codes (straight through) plus
    /// the commitment term's, `scale` * d/dz |z - sg(c)|^2 = 2 scale (z - c), written over
    /// `quantizedGradient`, which it returns.
    /// - Parameters:
    ///   - z: the encoder output of the last `quantize`
    ///   - quantizedGradient: dL/d(quantized), overwritten
    ///   - scale: the commitment weight over the batch (beta / batch)
    public func backward(_ z: Tensor, quantizedGradient: Tensor, scale: Float) throws -> Tensor {
        precondition(quantizedGradient.count == z.count && quantized.count == z.count, "quantizer: gradient shape mismatch")
        try quantizedGradient.axpby(2 * scale, z, 1)
        try quantizedGradient.axpby(-2 * scale, quantized, 1)
        return quantizedGradient
    }

    /// Learns from the last `quantize` of `z`: counts the codes' use, then updates the codebook
    /// by moving averages (`.ema`) or writes the codebook loss's gradient `scale` *
    /// d/dc |sg(z) - c|^2 into the codebook's `grad` (`.loss`). On several `ranks` the counts
    /// and sums are those of every rank's batch, so every rank updates its codebook alike (and
    /// the loss's gradient is pre-divided by the ranks, whose gradients the caller averages).
    public func learn(from z: Tensor, decay: Float, epsilon: Float = 1e-5, scale: Float,
                      ranks: Communicator = .alone) throws {
        try check(ck_vq_statistics(Int32(z.batch), Int32(dimension), Int32(plane), Int32(codes), z.buffer,
                                   indices.buffer, counts.buffer, sums.buffer))
        if ranks.size > 1 {
            try ranks.sum(counts)
            try ranks.sum(sums)
        }
        try usage.axpby(1, counts, 1)
        if let emaCounts, let emaSums {
            try check(ck_vq_ema_update(Int32(codes), Int32(dimension), decay, epsilon, counts.buffer, sums.buffer,
                                       emaCounts.buffer, emaSums.buffer, codebook.value.buffer))
        } else {
            try check(ck_vq_codebook_grad(Int32(codes), Int32(dimension), scale / Float(ranks.size), counts.buffer, sums.buffer,
                                          codebook.value.buffer, codebook.grad.buffer))
        }
    }

    /// Restarts every code unused since the last restart from a vector of `z` (a batch of
    /// encoder outputs) picked by (seed, counter + code), then starts counting again. On several
    /// `ranks` (whose usage `learn` summed, so all find the same dead codes) rank 0's batch
    /// restarts them and every rank takes its codebook.
    /// - Returns: how many codes were restarted.
    @discardableResult
    public func restartDeadCodes(from z: Tensor, seed: UInt64, counter: UInt64, ranks: Communicator = .alone) throws -> Int {
        let dead = try usage.read().filter { $0 == 0 }.count
        if dead > 0 {
            try check(ck_vq_restart(Int32(z.batch), Int32(dimension), Int32(plane), Int32(codes), z.buffer,
                                    usage.buffer, seed, counter, codebook.value.buffer, emaCounts?.buffer,
                                    emaSums?.buffer))
            if ranks.size > 1 {
                for t in [codebook.value, emaCounts, emaSums].compactMap({ $0 }) { try ranks.broadcast(t) }
            }
        }
        try usage.fill(0)
        return dead
    }

    /// Per code, how many positions of the last `quantize` chose it, added to `total` [K]
    /// (usage over a whole data set, for perplexity).
    public func accumulateCounts(of z: Tensor, into total: Tensor) throws {
        try check(ck_vq_statistics(Int32(z.batch), Int32(dimension), Int32(plane), Int32(codes), z.buffer,
                                   indices.buffer, counts.buffer, sums.buffer))
        try total.axpby(1, counts, 1)
    }
}

extension Tensor {
    /// self = x * self, elementwise (a mask on weights or gradients).
    public func multiply(by x: Tensor) throws {
        precondition(x.count == count, "multiply: \(x.shape) and \(shape) differ")
        try check(ck_multiply(count, x.buffer, buffer))
    }
}
