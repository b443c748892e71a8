import ArgumentParser
import Foundation
import VAE

/// `vae train-prior`: trains a PixelCNN over the code maps of a trained VQ-VAE, so that
/// `vae sample` can draw from it and `vae evaluate` can give the two-stage model's bound.
struct TrainPrior: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-prior",
        abstract: "Train a PixelCNN prior over a VQ-VAE's codes (written to RUN_DIR/prior).")

    @Option(help: "The run directory of a trained VQ-VAE.") var checkpoint: String
    @Option(help: "Epochs to train (default 10 unless --minutes).") var epochs: Int?
    @Option(help: "Minutes of training instead of epochs.") var minutes: Double?
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Option(help: "Channels of the gated layers.") var channels: Int = PixelCNNOptions().channels
    @Option(help: "Gated residual layers after the first.") var layers: Int = PixelCNNOptions().layers
    @Option(help: "Kernel of the mask-B layers (odd).") var kernel: Int = PixelCNNOptions().kernel
    @Flag(help: "Continue the prior in RUN_DIR/prior.") var resume = false
    @OptionGroup var device: DeviceOptions

    func validate() throws {
        guard batch > 0, lr > 0 else { throw ValidationError("--batch and --lr must be positive") }
        if let epochs, epochs <= 0 { throw ValidationError("--epochs must be positive") }
        if let minutes, minutes <= 0 { throw ValidationError("--minutes must be positive") }
        if epochs != nil, minutes != nil { throw ValidationError("give --epochs or --minutes, not both") }
        guard channels > 0, layers >= 0, kernel > 0, kernel % 2 == 1 else {
            throw ValidationError("--channels must be positive, --layers >= 0 and --kernel odd")
        }
    }

    func run() throws {
        Interrupt.install()
        let job: PriorTrainingJob
        if resume {
            job = try PriorTrainingJob(resuming: checkpoint, epochs: epochs, minutes: minutes)
        } else {
            var options = PixelCNNOptions()
            options.channels = channels
            options.layers = layers
            options.kernel = kernel
            var t = TrainingOptions()
            t.batch = batch
            t.learningRate = lr
            t.threads = device.threads
            t.epochs = epochs
            t.minutes = minutes
            job = try PriorTrainingJob(run: checkpoint, options: options, training: t)
        }
        let events = TrainingEvents(log: { line in Progress.clear(); log(line) }, progress: Progress.show,
                                    shouldStop: { Interrupt.requested })
        try job.run(on: try device.open(), events: events)
        Progress.clear()
    }
}
