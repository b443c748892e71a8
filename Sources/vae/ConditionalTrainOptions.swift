import ArgumentParser
import Foundation
import VAE

/// `vae train --task inpaint|colorize`: the options that choose and shape a conditional task.
struct ConditionalTrainOptions: ParsableArguments {
    @Option(help: "What to train: vae (the default), inpaint or colorize (a conditional VAE).")
    var task: RunTask = .vae
    @Option(help: "Inpainting: the training mask mix, e.g. center,boxes,strokes,pixels or mix (all kinds; the default, except on photos: freeform,center,boxes); with --resume, continue with this mix instead.")
    var maskKind: MaskGenerator?
    @Option(help: "Conditional models and VQ-VAEs: convolution widths, e.g. 16,32,64,128 (one stride-2 stage each); --arch deep: the channels of each resolution stage, highest resolution first (default: the preset's).")
    var widths: String?
    @Option(help: "Conditional models: one step in N trains the prior (sampling) path, the others the ELBO; 0 never (default 4; 0 for --arch deep colorization).")
    var priorPathEvery: Int?
    @Option(help: "Conditional models: a prior-path step draws N latent samples per image and trains on the one whose completion fits best (best of many: diverse samples; default 1).")
    var priorPathSamples: Int?
    @Flag(inversion: .prefixedNo, help: "Conditional models: also train on left-right mirror images (each flipped with probability 1/2; default: on for color, off for gray data such as digits or text).")
    var mirror: Bool?
    @Option(help: "Conditional models on a folder of photos: train on random NxN patches of the photos at their own size (N is the model's window).")
    var patch: Int?
    @Option(help: "With --patch: each patch is a square of up to Z times N pixels of the photo, averaged down to N (wider context; default 2).")
    var zoom: Float?
    @Option(help: "Colorization: bins (a distribution over quantized colors, rebalanced toward rare colors: vivid; the default) or gaussian (the chroma's mean: muted).")
    var color: ColorModel?

    func validate() throws {
        if mirror != nil, task.conditional == nil { throw ValidationError("--mirror applies to --task inpaint or colorize") }
        if maskKind != nil, task == .colorize { throw ValidationError("--mask-kind applies to --task inpaint") }
        _ = try parsedWidths()
        if let priorPathEvery, priorPathEvery < 0 { throw ValidationError("--prior-path-every must be >= 0") }
        if let k = priorPathSamples, !(1...ConditionalOptions.maxPriorPathSamples).contains(k) {
            throw ValidationError("--prior-path-samples must be in 1...\(ConditionalOptions.maxPriorPathSamples)")
        }
        if patch != nil, task.conditional == nil { throw ValidationError("--patch applies to --task inpaint or colorize") }
        if let patch, !(8...ModelConfig.maxSide).contains(patch) {
            throw ValidationError("--patch must be in 8...\(ModelConfig.maxSide)")
        }
        if let zoom, !(zoom >= 1 && zoom <= 8) { throw ValidationError("--zoom must be between 1 and 8") }
    }

    /// The --widths list, validated.
    func parsedWidths() throws -> [Int]? {
        guard let widths else { return nil }
        let values = widths.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count <= ModelConfig.maxStages,
              values.allSatisfy({ (1...ModelConfig.maxWidth).contains($0 ?? 0) }) else {
            throw ValidationError("--widths must be at most \(ModelConfig.maxStages) integers in 1...\(ModelConfig.maxWidth) separated by commas, e.g. 16,32,64")
        }
        return values.map { $0! }
    }

    /// Puts the task and its options into a training request.
    func apply(to request: inout TrainingRequest) {
        request.task = task
        request.masks = maskKind
        request.widths = try? parsedWidths()
        request.priorPathEvery = priorPathEvery
        request.priorPathSamples = priorPathSamples
        request.mirror = mirror
        request.patch = patch
        request.zoom = zoom ?? 2
        request.quantizedColor = (color ?? .bins) == .bins
    }
}

/// How a colorization model predicts color.
enum ColorModel: String, ExpressibleByArgument, CaseIterable {
    case bins, gaussian
}
