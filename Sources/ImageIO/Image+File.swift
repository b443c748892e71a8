import Foundation

extension Image {
    /// Decodes PNG or JPEG bytes, recognized by their signature (not by file name).
    /// - Parameters:
    ///   - bytes: File content.
    ///   - path: Used only in error messages.
    /// - Throws: `ImageIOError` "`path`: not a PNG or JPEG image" for other data, or the decoder's error.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>") throws -> Image {
        if isPNG(bytes) { return try decodePNG(bytes, path: path) }
        if isJPEG(bytes) { return try decodeJPEG(bytes, path: path) }
        throw ImageIOError(path, "not a PNG or JPEG image")
    }

    /// The largest image file read (256 MiB).
    public static let maxFileBytes = 1 << 28
    /// The most pixels a decoded image may have (64 Mpx, e.g. 8192 x 8192), checked against
    /// the header before the decoder allocates anything.
    public static let maxPixels = 1 << 26

    /// Reads a PNG or JPEG file.
    /// - Parameter path: The image file.
    public static func load(_ path: String) throws -> Image {
        try load(RawPath(path))
    }

    /// Reads a PNG or JPEG file named by its bytes (see `RawPath`).
    public static func load(_ path: RawPath) throws -> Image {
        try decode(FileIO.readBytes(path, limit: maxFileBytes), path: path.description)
    }

    /// The image formats `write(to:)` chooses between, by a file name's extension.
    public enum FileFormat: Sendable {
        case png, jpeg

        /// The format a file name asks for: `.png`, or `.jpg` / `.jpeg`; nil for any other name.
        public init?(path: String) {
            switch (path as NSString).pathExtension.lowercased() {
            case "png": self = .png
            case "jpg", "jpeg": self = .jpeg
            default: return nil
            }
        }
    }

    /// Writes the image atomically, choosing the format from the extension:
    /// `.png`, or `.jpg` / `.jpeg` (quality 90).
    /// - Parameter path: Destination file.
    public func write(to path: String) throws {
        switch FileFormat(path: path) {
        case .png: try writePNG(to: path)
        case .jpeg: try writeJPEG(to: path)
        case nil: throw ImageIOError(path, "unknown image extension (use .png, .jpg or .jpeg)")
        }
    }
}
