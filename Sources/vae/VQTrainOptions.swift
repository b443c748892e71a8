import ArgumentParser
import NN
import VAE

/// `vae train --model vqvae`: the options that choose and shape a VQ-VAE.
struct VQTrainOptions: ParsableArguments {
    @Option(help: "The model: vae (the default) or vqvae (discrete codes; sample it after vae train-prior).")
    var model: ModelFamily = .vae
    @Option(help: "VQ-VAE: codes K in the codebook.") var codes: Int?
    @Option(help: "VQ-VAE: values D per code.") var codeDim: Int?
    @Option(help: "VQ-VAE: the code map's side is the image's over this: 4 or 8.") var downsample: Int?
    @Option(help: "VQ-VAE: weight beta of the commitment term |z - sg(c)|^2 (default 0.25).") var commitment: Float?
    @Option(help: "VQ-VAE: how the codebook learns: ema (moving averages, the default) or loss (the codebook loss).")
    var codebook: VectorQuantizer.CodebookUpdate?
    @Option(help: "VQ-VAE: decay of the codebook's moving averages (default 0.99).") var emaDecay: Float?

    var given: Bool { codes != nil || codeDim != nil || downsample != nil || commitment != nil || codebook != nil || emaDecay != nil }

    func validate() throws {
        guard model != .pixelcnn else { throw ValidationError("--model must be vae or vqvae (train a PixelCNN prior with vae train-prior)") }
        if given, model != .vqvae { throw ValidationError("--codes, --code-dim, --downsample, --commitment, --codebook and --ema-decay apply to --model vqvae") }
    }

    /// Puts the family and its options into a training request.
    func apply(to request: inout TrainingRequest) {
        request.family = model
        guard model == .vqvae else { return }
        var o = VQOptions()
        if let codes { o.codes = codes }
        if let codeDim { o.codeDimension = codeDim }
        if let downsample { o.downsample = downsample }
        if let commitment { o.commitment = commitment }
        if let codebook { o.codebook = codebook }
        if let emaDecay { o.decay = emaDecay }
        request.vq = o
    }
}
