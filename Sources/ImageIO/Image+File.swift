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

    /// Reads a PNG or JPEG file.
    /// - Parameter path: The image file.
    public static func load(_ path: String) throws -> Image {
        try decode(FileIO.readBytes(path), path: path)
    }

    /// Writes the image atomically, choosing the format from the extension:
    /// `.png`, or `.jpg` / `.jpeg` (quality 90).
    /// - Parameter path: Destination file.
    public func write(to path: String) throws {
        let lower = path.lowercased()
        if lower.hasSuffix(".png") {
            try writePNG(to: path)
        } else if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") {
            try writeJPEG(to: path)
        } else {
            throw ImageIOError(path, "unknown image extension (use .png, .jpg or .jpeg)")
        }
    }
}
