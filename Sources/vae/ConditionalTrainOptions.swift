import ArgumentParser
import Foundation
import VAE

/// `vae train --task inpaint|colorize`: the options that choose and shape a conditional task.
struct ConditionalTrainOptions: ParsableArguments {
    @Option(help: "What to train: vae (the default), inpaint or colorize (a conditional VAE).")
    var task: RunTask = .vae
    @Option(help: "Inpainting: the training mask mix, e.g. center,boxes,strokes,pixels or mix (all kinds, the default); with --resume, continue with this mix instead.")
    var maskKind: MaskGenerator?
    @Option(help: "Conditional models: convolution widths, e.g. 16,32,64,128 (one stride-2 stage each); --arch deep: the channels of each resolution stage, highest resolution first (default: the preset's).")
    var widths: String?
    @Option(help: "Conditional models: one step in N trains the prior (sampling) path, the others the ELBO; 0 never.")
    var priorPathEvery: Int = 2
    @Flag(help: "Conditional models: also train on left-right mirror images (each flipped with probability 1/2); for photos, not digits or text.")
    var mirror = false

    func validate() throws {
        if mirror, task.conditional == nil { throw ValidationError("--mirror applies to --task inpaint or colorize") }
        if maskKind != nil, task == .colorize { throw ValidationError("--mask-kind applies to --task inpaint") }
        _ = try parsedWidths()
        guard priorPathEvery >= 0 else { throw ValidationError("--prior-path-every must be >= 0") }
    }

    /// The --widths list, validated.
    func parsedWidths() throws -> [Int]? {
        guard let widths else { return nil }
        let values = widths.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--widths must be positive integers separated by commas, e.g. 16,32,64")
        }
        return values.map { $0! }
    }

    /// Puts the task and its options into a training request.
    func apply(to request: inout TrainingRequest) {
        request.task = task
        request.masks = maskKind
        request.widths = try? parsedWidths()
        request.priorPathEvery = priorPathEvery
        request.mirror = mirror
    }
}
