/// A collection of equally sized images that a trainer can draw batches from.
public protocol ImageDataset: Sendable {
    /// Number of images.
    var count: Int { get }
    /// Channels per image (1 or 3).
    var channels: Int { get }
    /// Image height in pixels.
    var height: Int { get }
    /// Image width in pixels.
    var width: Int { get }
    /// Class labels (one per image) when the source has them.
    var labels: [Int]? { get }
    /// Copies the images at `indices`, in order, into `destination` as NCHW floats in [0, 1].
    /// - Parameters:
    ///   - indices: Image indices, each in `0..<count`.
    ///   - destination: Room for `indices.count * channels * height * width` floats.
    func copyBatch(indices: some Collection<Int>, into destination: UnsafeMutablePointer<Float>)
}

extension ImageDataset {
    /// Floats per image: `channels * height * width`.
    public var imageSize: Int { channels * height * width }
}
