import ImageIO

/// Which pixels of an image are missing: one plane, 1 = missing, 0 = observed.
///
/// Mask images on disk follow the usual convention of inpainting tools: white = missing.
public struct Mask: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// width x height values, row-major, each 0 or 1.
    public var values: [Float]

    /// A mask from 0/1 values (anything above 0.5 counts as missing).
    public init(width: Int, height: Int, values: [Float]) {
        precondition(width > 0 && height > 0 && values.count == width * height, "mask size does not match its values")
        self.width = width
        self.height = height
        self.values = values.map { $0 > 0.5 ? 1 : 0 }
    }

    /// A mask with nothing missing.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, values: [Float](repeating: 0, count: width * height))
    }

    /// The fraction of pixels missing.
    public var coverage: Double {
        values.isEmpty ? 0 : values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
    }

    /// Whether any pixel is missing.
    public var hasMissing: Bool { values.contains(1) }

    /// Whether pixel (x, y) is missing.
    public func isMissing(x: Int, y: Int) -> Bool { values[y * width + x] > 0.5 }

    /// The mask drawn from an image (gray > 0.5, white = missing), resized to width x height
    /// (area averaging when shrinking, bilinear when enlarging, then the 0.5 threshold).
    public init(image: Image, width: Int, height: Int) {
        let gray = image.toGray()
        let sized = gray.width == width && gray.height == height ? gray : gray.resized(width: width, height: height)
        self.init(width: width, height: height, values: sized.pixels)
    }

    /// Reads a mask image (PNG or JPEG, white = missing) and fits it to an input of
    /// width x height. A mask of another size is resized when its aspect ratio matches the
    /// input's within 2%; otherwise there is no sensible way to match it, and loading fails.
    public static func load(_ path: String, width: Int, height: Int) throws -> Mask {
        try decode(try FileIO.readBytes(path, limit: Image.maxFileBytes), path: path, width: width, height: height)
    }

    /// A mask from the content of a mask image file (see `load`).
    /// - Parameter path: Used only in error messages.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>", width: Int, height: Int) throws -> Mask {
        let image = try Image.decode(bytes, path: path)
        let aspect = Double(image.width) / Double(image.height), wanted = Double(width) / Double(height)
        guard abs(aspect / wanted - 1) <= 0.02 else {
            throw ImageIOError(path, "mask is \(image.width)x\(image.height) but the input is \(width)x\(height); the sizes cannot be matched (the aspect ratios differ)")
        }
        return Mask(image: image, width: width, height: height)
    }

    /// The mask as a gray image (white = missing), for pictures and files.
    public var image: Image { Image(width: width, height: height, channels: 1, pixels: values) }
}
