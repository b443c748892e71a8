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

    /// A PNG's or JPEG's width and height from its header (PNG's IHDR, JPEG's frame header),
    /// without decoding it; nil when the bytes hold no such header.
    public static func headerSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        func be16(_ i: Int) -> Int { Int(bytes[i]) << 8 | Int(bytes[i + 1]) }
        if isPNG(bytes) {
            guard bytes.count >= 24, bytes[12..<16].elementsEqual(Array("IHDR".utf8)) else { return nil }
            return (be16(16) << 16 | be16(18), be16(20) << 16 | be16(22))
        }
        guard isJPEG(bytes) else { return nil }
        // Segments after SOI: FF, marker, then (except for markers without one) a 2-byte length.
        var i = 2
        while i + 1 < bytes.count {
            guard bytes[i] == 0xFF else { return nil }
            let marker = bytes[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            guard i + 3 < bytes.count, marker != 0xD9, marker != 0xDA else { return nil }
            // Start of frame: every C0-CF but DHT (C4), JPG (C8) and DAC (CC).
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard i + 8 < bytes.count else { return nil }
                return (be16(i + 7), be16(i + 5))
            }
            i += 2 + be16(i + 2)
        }
        return nil
    }

    /// The size of the PNG or JPEG `path` from its header (see `headerSize`).
    /// - Throws: `ImageIOError` naming the file when it cannot be read or has no such header.
    public static func headerSize(of path: RawPath) throws -> (width: Int, height: Int) {
        guard let size = headerSize(try FileIO.readBytes(path, limit: maxFileBytes)) else {
            throw ImageIOError(path.description, "not a PNG or JPEG image")
        }
        return size
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
