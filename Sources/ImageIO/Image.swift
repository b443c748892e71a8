/// An image with float pixels in [0, 1], stored planar (channel-major, CHW) as the models use it.
///
/// `pixels[c * height * width + y * width + x]` is channel `c` at row `y`, column `x`.
/// Channels are 1 (gray) or 3 (RGB).
public struct Image: Equatable, Sendable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Number of channels: 1 (gray) or 3 (RGB).
    public var channels: Int
    /// Planar CHW pixel values in [0, 1]; `channels * height * width` of them.
    public var pixels: [Float]

    /// Creates an image from planar CHW pixels.
    /// - Parameters:
    ///   - width: Width in pixels (> 0).
    ///   - height: Height in pixels (> 0).
    ///   - channels: 1 or 3.
    ///   - pixels: `channels * height * width` values, channel-major.
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(width > 0 && height > 0, "image size must be positive")
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        precondition(pixels.count == width * height * channels, "pixel count does not match size")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Creates an image filled with one value in every channel.
    /// - Parameters:
    ///   - width: Width in pixels.
    ///   - height: Height in pixels.
    ///   - channels: 1 or 3.
    ///   - value: The fill value (default 0).
    public init(width: Int, height: Int, channels: Int, fill value: Float = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [Float](repeating: value, count: width * height * channels))
    }

    /// Number of pixels in one channel plane (`width * height`).
    @inlinable public var planeSize: Int { width * height }

    /// The value of channel `c` at row `y`, column `x`.
    @inlinable public subscript(c: Int, y: Int, x: Int) -> Float {
        get { pixels[(c * height + y) * width + x] }
        set { pixels[(c * height + y) * width + x] = newValue }
    }
}
