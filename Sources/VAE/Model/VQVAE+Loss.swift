import NN

extension VQVAE {

    /// The loaded batch's terms and, into every parameter's `grad`, the gradient of
    /// mean(reconstruction + beta |z - sg(c)|^2) over the batch: the decoder's gradient passes
    /// straight through the quantizer to the encoder. Then the codebook learns (moving averages,
    /// or the codebook loss's gradient into its `grad`).
    /// - Parameters:
    ///   - binarize: resample binary targets from the pixel intensities first, with the noise of
    ///     rows `firstRow...` of the run (see `Noise.counter(row:valuesPerRow:)`)
    /// - Returns: the summed reconstruction terms and, in `kl`, the summed squared distances
    ///   |z - c|^2 (the commitment term before its weight).
    ///   - ranks: the processes whose batches the codebook learns from together (data parallelism)
    @discardableResult
    public func lossAndGradients(binarize: Bool, seed: UInt64, firstRow: UInt64, ranks: Communicator = .alone) throws -> LossSums {
        if binarize {
            try target.sampleBernoulli(seed: Noise.Stream.binarize.seed(seed),
                                       counter: Noise.counter(row: firstRow, valuesPerRow: config.dimensions))
        }
        let b = target.batch, scale = 1 / Float(b)
        let z = try encoder.forward(target)
        encoding = z
        try likelihood.loss(try decoder.forward(try quantizer.quantize(z)), target: target, gradientScale: scale)
        guard let dq = try decoder.backward(likelihood.outputGradient, inputGradient: true) else {
            fatalError("decoder gave no gradient")
        }
        _ = try encoder.backward(try quantizer.backward(z, quantizedGradient: dq, scale: options.commitment * scale),
                                 inputGradient: false)
        try quantizer.learn(from: z, decay: options.decay, scale: scale, ranks: ranks)
        return LossSums(reconstruction: try likelihood.nll.sum(), kl: try quantizer.squaredDistance.sum(), images: b)
    }

    /// Restarts the codes unused since the last restart from the last batch's encoder vectors
    /// (call after `lossAndGradients`), with picks from (seed, step).
    /// - Returns: how many codes were restarted.
    @discardableResult
    public func restartDeadCodes(seed: UInt64, step: Int64, ranks: Communicator = .alone) throws -> Int {
        guard let z = encoding else { preconditionFailure("restart before a forward pass") }
        return try quantizer.restartDeadCodes(from: z, seed: Noise.Stream.codeRestarts.seed(seed),
                                              counter: UInt64(step) &* UInt64(options.codes), ranks: ranks)
    }

    /// Encodes, quantizes and decodes the loaded batch without gradients: the likelihood's
    /// per-image terms in `likelihood.nll`, the codes in `quantizer.indices`, the decoder's
    /// output returned.
    @discardableResult
    public func evaluateBatch() throws -> Tensor {
        let z = try encoder.forward(target)
        encoding = z
        let out = try decoder.forward(try quantizer.quantize(z))
        try likelihood.loss(out, target: target)
        return out
    }
}
