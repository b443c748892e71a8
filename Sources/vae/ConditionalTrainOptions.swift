import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// `vae train --task inpaint|colorize`: the options that choose a conditional task.
struct ConditionalTrainOptions: ParsableArguments {
    @Option(help: "What to train: vae (the default), inpaint or colorize (a conditional VAE).")
    var task: String = "vae"
    @Option(help: "Inpainting: the training mask mix, e.g. center,boxes,strokes,pixels or mix (all kinds, the default); with --resume, continue with this mix instead.")
    var maskKind: String?
    @Option(help: "Conditional models: convolution widths, e.g. 16,32,64,128 (one stride-2 stage each; default: the preset's).")
    var widths: String?
    @Option(help: "Conditional models: one step in N trains the prior (sampling) path, the others the ELBO; 0 never.")
    var priorPathEvery: Int = 2
    @Flag(help: "Conditional models: also train on left-right mirror images (each flipped with probability 1/2); for photos, not digits or text.")
    var mirror = false

    /// The conditional task asked for, or nil for a plain VAE.
    var conditionalTask: ConditionalTask? { ConditionalTask(runTask: task) }

    func validate() throws {
        guard task == "vae" || conditionalTask != nil else {
            throw ValidationError("unknown --task '\(task)' (vae, inpaint, colorize)")
        }
        if let maskKind { _ = try MaskGenerator(parsing: maskKind) }
        if widths != nil, conditionalTask == nil { throw ValidationError("--widths applies to --task inpaint or colorize") }
        if mirror, conditionalTask == nil { throw ValidationError("--mirror applies to --task inpaint or colorize") }
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

    /// Records the task in a new run's configuration. Conditional models default to a Gaussian
    /// likelihood (its mean is the least-squares completion that PSNR measures).
    func apply(to config: inout RunConfig, likelihoodGiven: Bool) throws {
        config.task = task
        guard let conditionalTask else { return }
        config.conditional = ConditionalOptions(
            masks: conditionalTask == .inpaint ? try MaskGenerator(parsing: maskKind ?? "mix").description : nil,
            priorPathEvery: priorPathEvery, mirror: mirror ? true : nil)
        if conditionalTask == .colorize, config.model.channels != 3 {
            throw CLIError("colorization needs color images; \(config.training.data) has \(config.model.channels) channel(s)")
        }
        if let w = try parsedWidths() {
            let m = config.model
            guard m.height >> w.count >= 1, m.width >> w.count >= 1, m.height % (1 << w.count) == 0, m.width % (1 << w.count) == 0 else {
                throw CLIError("--widths: \(w.count) stride-2 stages do not divide \(m.height)x\(m.width) images")
            }
            config.model.widths = w
            config.model.arch = "custom"
        }
        if config.model.autoencoder { throw CLIError("--autoencoder cannot be combined with --task \(task)") }
        if config.model.widths.isEmpty { throw CLIError("images of \(config.model.height)x\(config.model.width) are too small for a conditional model") }
        if !likelihoodGiven { config.model.likelihood = .gaussian }
    }
}

extension Train {
    /// Trains a conditional model for `config.task` and writes its run directory and report.
    func runConditional(config: RunConfig, device: Device, train: ImageSet, validation: ImageSet) throws {
        var config = config
        if resume, config.task == ConditionalTask.inpaint.rawValue, let kind = conditional.maskKind {
            // Fine-tuning on another mask mix: recorded, so a later --resume keeps it.
            let mix = try MaskGenerator(parsing: kind).description
            if mix != config.conditional?.masks {
                var options = config.conditional ?? ConditionalOptions()
                options.masks = mix
                config.conditional = options
                try Checkpoint.saveConfig(config, to: out)
                log("continuing with training masks \(mix)")
            }
        }
        let trainer = try ConditionalTrainer(config: config, directory: out, device: device, train: train,
                                             validation: validation, resume: resume)
        let m = config.model
        log("model: conditional VAE for \(config.task), \(m.arch) widths \(m.widths), latent \(m.latent), \(m.likelihood.rawValue), \(trainer.model.parameterCount) parameters\(resume ? ", resuming at step \(trainer.state.step)" : "")\(config.conditional?.masks.map { ", masks \($0)" } ?? "")")
        Interrupt.install()
        trainer.shouldStop = { Interrupt.requested }
        trainer.log = { line in Progress.clear(); log(line) }
        trainer.onStep = Progress.show
        let state = try trainer.run()
        Progress.clear()
        guard state.finished else { log("stopped; resume with: vae train --out \(out) --resume"); return }
        try Report.writeConditionalRun(model: trainer.model, config: config, history: trainer.history, state: state,
                                       heldOut: validation, directory: out)
        log("wrote \(out)/model.safetensors, metrics.csv, completions.png and report.html")
    }
}
