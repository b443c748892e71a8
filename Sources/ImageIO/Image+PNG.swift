import CPNG

extension Image {
    /// Whether `bytes` start with the PNG signature.
    public static func isPNG(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 8 && bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    /// Decodes a PNG with libpng's simplified API (no longjmp crosses Swift).
    ///
    /// Any PNG libpng reads is accepted: gray, gray+alpha, RGB, RGBA, palette, 1..16-bit.
    /// Color images become 3 channels and gray ones 1; 16-bit samples are reduced to 8-bit
    /// (untagged 16-bit data is taken as sRGB-encoded, like 8-bit data) and alpha is removed by
    /// compositing onto black.
    /// - Parameters:
    ///   - bytes: The PNG file content.
    ///   - path: Used only in error messages.
    /// - Throws: `ImageIOError` with libpng's message when the data is not a valid PNG.
    public static func decodePNG(_ bytes: [UInt8], path: String = "<memory>") throws -> Image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw ImageIOError(path, "invalid PNG: \(pngMessage(&image))") }
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height <= maxPixels else {
            throw ImageIOError(path, "PNG of \(width)x\(height) pixels is larger than the \(maxPixels) pixels accepted")
        }
        // Deflate expands at most 1032-fold, and a row holds a filter byte and at least a bit
        // per pixel: a header claiming more than the file can hold is refused before allocating.
        guard height * (1 + (width + 7) / 8) <= 1032 * bytes.count else {
            throw ImageIOError(path, "invalid PNG: \(width)x\(height) pixels cannot fit in \(bytes.count) bytes (truncated or corrupt)")
        }
        let color = (image.format & 0x02) != 0  // PNG_FORMAT_FLAG_COLOR
        let channels = color ? 3 : 1
        image.format = color ? 0x02 : 0x00     // PNG_FORMAT_RGB : PNG_FORMAT_GRAY (8-bit, no alpha)
        image.flags |= 0x04                    // PNG_IMAGE_FLAG_16BIT_sRGB: untagged 16-bit data is sRGB, not linear
        var buffer = [UInt8](repeating: 0, count: width * height * channels)
        var background = png_color(red: 0, green: 0, blue: 0)
        let finished = buffer.withUnsafeMutableBytes {
            png_image_finish_read(&image, &background, $0.baseAddress, 0, nil)
        }
        guard finished != 0 else { throw ImageIOError(path, "invalid PNG: \(pngMessage(&image))") }
        return Image(interleaved: buffer, width: width, height: height, channels: channels)
    }

    /// Encodes as an 8-bit PNG (gray for 1 channel, RGB for 3); values are clamped to [0, 1] and
    /// rounded to 0...255.
    /// - Parameter path: Used only in error messages.
    /// - Returns: The PNG file bytes.
    public func encodePNG(path: String = "<memory>") throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 3 ? 0x02 : 0x00
        defer { png_image_free(&image) }
        let samples = toInterleaved()
        var size = 0
        let sized = samples.withUnsafeBytes {
            png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil)
        }
        guard sized != 0, size > 0 else { throw ImageIOError(path, "PNG encode failed: \(Image.pngMessage(&image))") }
        var out = [UInt8](repeating: 0, count: size)
        let written = out.withUnsafeMutableBytes { dst in
            samples.withUnsafeBytes { src in
                png_image_write_to_memory(&image, dst.baseAddress, &size, 0, src.baseAddress, 0, nil)
            }
        }
        guard written != 0 else { throw ImageIOError(path, "PNG encode failed: \(Image.pngMessage(&image))") }
        return Array(out[0..<size])
    }

    /// Writes the image as an 8-bit PNG, atomically (temporary file + rename).
    /// - Parameter path: Destination file.
    public func writePNG(to path: String) throws {
        try FileIO.writeAtomically(encodePNG(path: path), to: path)
    }

    static func pngMessage(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.isEmpty ? "unknown libpng error" : text
        }
    }
}
