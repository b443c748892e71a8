import ArgumentParser

/// The `vae` command line tool: train, evaluate and use convolutional VAEs.
@main
struct VAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Train convolutional VAEs on images; sample, reconstruct, interpolate and evaluate them.",
        subcommands: [Train.self, TrainPrior.self, Evaluate.self, Sample.self, Reconstruct.self, Interpolate.self, Inpaint.self,
                      Colorize.self, ExperimentCommand.self, Bench.self, Devices.self])
}
