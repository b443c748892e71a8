import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// A trained run to load, and the device to run it on.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "The run directory of a trained model.") var checkpoint: String
    @OptionGroup var device: DeviceOptions

    /// The VAE of either family (for batches up to maxBatch) and its run configuration.
    /// - Parameter purpose: what the command needs a VAE for, said when the run holds another family
    func load(maxBatch: Int = 128, purpose: String? = nil) throws -> (any GenerativeModel, RunConfig) {
        try loadGenerativeModel(from: checkpoint, device: try device.open(), maxBatch: maxBatch, purpose: purpose)
    }

    /// The model of any family that encodes and decodes images, and its run configuration.
    func loadAny(maxBatch: Int = 128) throws -> (TrainedModel, RunConfig) {
        try TrainedModel.load(from: checkpoint, device: try device.open(), maxBatch: maxBatch)
    }
}

/// Loads a split of a data set (by default the run's own) at a model's geometry.
/// - Throws: `VAEError` when the split holds no images (a tiny data set has no held-out part).
func loadImages(_ data: DataSpec?, split: DataSplit, model: ModelConfig, run: RunConfig) throws -> ImageSet {
    let spec = try data ?? DataSpec(parsing: run.training.data)
    let set = try spec.load(split: split, channels: model.channels, height: model.height, width: model.width,
                            seed: run.training.seed)
    guard set.count > 0 else {
        throw VAEError("\(spec): the \(split.rawValue) split holds no images (too few images to hold any out)")
    }
    return set
}

/// Loads one image file converted to the model's geometry (center crop and resize).
func loadImage(_ path: String, model: ModelConfig) throws -> Image {
    try Image.load(path).converted(channels: model.channels).fitted(width: model.width, height: model.height)
}

/// Writes a grid of images to an image file (atomically; PNG or JPEG by the name, which
/// `checkImageOutput` has checked).
func writeGrid(_ images: [Image], columns: Int, to path: String) throws {
    guard !images.isEmpty else { throw VAEError("\(path): no images to write (the data holds none)") }
    try checkFinite(images)
    try checkImageOutput(path)
    try ImageGrid.compose(images, columns: max(1, columns)).write(to: path)
}
