import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// A trained run to load, and the device to run it on.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "The run directory of a trained model.") var checkpoint: String
    @OptionGroup var device: DeviceOptions

    /// The model of whatever family the run holds (for batches up to maxBatch) and its run
    /// configuration.
    func load(maxBatch: Int = 128) throws -> (any GenerativeModel, RunConfig) {
        try loadGenerativeModel(from: checkpoint, device: try device.open(), maxBatch: maxBatch)
    }
}

/// Loads a split of a data set (by default the run's own) at a model's geometry.
func loadImages(_ data: DataSpec?, split: DataSplit, model: ModelConfig, run: RunConfig) throws -> ImageSet {
    try (data ?? DataSpec(parsing: run.training.data)).load(split: split, channels: model.channels, height: model.height,
                                                            width: model.width, seed: run.training.seed)
}

/// Loads one image file converted to the model's geometry (center crop and resize).
func loadImage(_ path: String, model: ModelConfig) throws -> Image {
    try Image.load(path).converted(channels: model.channels).fitted(width: model.width, height: model.height)
}

/// Writes a grid of images to a PNG file (atomically).
func writeGrid(_ images: [Image], columns: Int, to path: String) throws {
    try ImageGrid.compose(images, columns: columns).writePNG(to: path)
}
