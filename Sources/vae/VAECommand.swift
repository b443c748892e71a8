import ArgumentParser
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The `vae` command line tool: train, evaluate and use convolutional VAEs.
@main
struct VAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Train convolutional VAEs on images; sample, reconstruct, interpolate and evaluate them.",
        subcommands: [Train.self, TrainPrior.self, Evaluate.self, Sample.self, Reconstruct.self, Interpolate.self, Inpaint.self,
                      Colorize.self, ExperimentCommand.self, Bench.self, Devices.self])

    /// Runs the tool with stderr line-buffered: ArgumentParser writes an error message a byte at a
    /// time, and under an MPI launcher the ranks' messages would interleave letter by letter.
    static func main() {
        setvbuf(stderr, nil, _IOLBF, Int(BUFSIZ))
        main(nil)
    }
}
