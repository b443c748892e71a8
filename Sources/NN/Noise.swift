import CKernels

/// Counter-based random numbers: value i of a stream depends only on (seed, counter + i), the
/// same on the host, on every device and for every thread count, so runs replay and resume
/// exactly. Every seed a run uses is derived here from the run's seed, one stream per use.
public enum Noise {
    /// The independent streams of a run; `seed(_:)` keys each one from the run's seed.
    public enum Stream: UInt64, CaseIterable, Sendable {
        /// A plain VAE's latent noise eps.
        case latent = 0x4C41_5445_4E54
        /// Dynamic binarization of Bernoulli targets.
        case binarize = 0x4249_4E41_5259
        /// A conditional VAE's latent noise (posterior and test-time samples).
        case conditionalLatent = 0x434C_4154_454E_54
        /// A conditional VAE's prior-path training steps.
        case priorPath = 0x4753_534E_4E
        /// Training masks of inpainting steps.
        case trainingMasks = 0x434D_4153_4B53
        /// Evaluation and inference masks, one per picture.
        case masks = 0x4D41_534B_5345_5453
        /// An imputation chain's draws of the missing pixels.
        case imputationDraws = 0x5A_3B1E
        /// An imputation chain's Metropolis acceptance tests.
        case imputationAcceptance = 0xACCE
        /// A VQ-VAE's dead-code restarts (which encoder vectors become codes).
        case codeRestarts = 0x5245_5354_4152_54
        /// Codes drawn from a prior over code maps (PixelCNN sampling).
        case codeSamples = 0x434F_4445_5341_4D

        /// This stream's key for a run seeded with `runSeed`.
        public func seed(_ runSeed: UInt64) -> UInt64 { runSeed ^ rawValue }
    }

    /// The seed of item `index` of a family of seeds (an epoch's order, a picture, a chunk).
    public static func derive(_ seed: UInt64, _ index: Int) -> UInt64 {
        seed ^ (UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// The seed of the tiles starting at `start` of sample `sample` of a picture (imputation chains).
    public static func derive(_ seed: UInt64, sample: Int, start: Int) -> UInt64 {
        derive(seed, sample) ^ (UInt64(truncatingIfNeeded: start) &* 0xC2B2_AE3D_27D4_EB4F)
    }

    /// The stream position of the first value of row `row` when every row draws
    /// `valuesPerRow` values. Training numbers its rows (images) across the run: step s with a
    /// global batch of B holds rows s B ..< (s + 1) B, however they are split among ranks, so
    /// an image's noise does not depend on which process draws it.
    public static func counter(row: UInt64, valuesPerRow: Int) -> UInt64 {
        row &* UInt64(valuesPerRow)
    }

    /// 64 random bits at (seed, counter).
    public static func bits(seed: UInt64, counter: UInt64) -> UInt64 { ck_random_bits(seed, counter) }

    /// `count` standard normal values at (seed, counter ...), on the host: what
    /// `Tensor.fillNormal` writes on a device, bit for bit on the CPU.
    public static func normal(count: Int, seed: UInt64, counter: UInt64) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, n in
            ck_host_random_normal(count, seed, counter, buffer.baseAddress)
            n = count
        }
    }

    /// `count` values uniform in (0, 1) at (seed, counter ...), on the host (the threshold that
    /// `Tensor.sampleBernoulli` compares with).
    public static func uniform(count: Int, seed: UInt64, counter: UInt64) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, n in
            ck_host_random_uniform(count, seed, counter, buffer.baseAddress)
            n = count
        }
    }
}

extension Tensor {
    /// Fills the current shape with standard normal values at (seed, counter ...).
    public func fillNormal(seed: UInt64, counter: UInt64) throws {
        try check(ck_random_normal(count, seed, counter, buffer))
    }

    /// Replaces each probability p of the current shape by a draw of Bernoulli(p) at
    /// (seed, counter ...), in place (dynamic binarization).
    public func sampleBernoulli(seed: UInt64, counter: UInt64) throws {
        try check(ck_random_bernoulli(count, seed, counter, buffer, buffer))
    }
}
