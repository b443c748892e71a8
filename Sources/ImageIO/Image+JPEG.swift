import CImageShims

extension Image {
    /// Whether `bytes` start with the JPEG start-of-image marker.
    public static func isJPEG(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
    }

    /// Decodes a JPEG with libjpeg (through a setjmp-guarded C shim, so corrupt files throw
    /// instead of exiting). Grayscale JPEGs give 1 channel, YCbCr/RGB give 3; CMYK is rejected,
    /// and so are truncated files and images over `maxPixels`.
    /// - Parameters:
    ///   - bytes: The JPEG file content.
    ///   - path: Used only in error messages.
    public static func decodeJPEG(_ bytes: [UInt8], path: String = "<memory>") throws -> Image {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var w: Int32 = 0, h: Int32 = 0, c: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { src in
            ck_jpeg_decode(src.baseAddress, src.count, maxPixels, &out, &w, &h, &c, &message, message.count)
        }
        defer { ck_image_free(out) }
        guard status == Int32(CK_IMAGE_OK), let pixels = out else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageIOError(path, status == Int32(CK_IMAGE_UNSUPPORTED) ? "unsupported JPEG: \(text)" : "invalid JPEG: \(text)")
        }
        let count = Int(w) * Int(h) * Int(c)
        let samples = Array(UnsafeBufferPointer(start: pixels, count: count))
        return Image(interleaved: samples, width: Int(w), height: Int(h), channels: Int(c))
    }

    /// Encodes as a baseline JPEG (gray or RGB).
    /// - Parameters:
    ///   - quality: 1...100 (default 90).
    ///   - path: Used only in error messages.
    public func encodeJPEG(quality: Int = 90, path: String = "<memory>") throws -> [UInt8] {
        let samples = toInterleaved()
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = samples.withUnsafeBufferPointer { src in
            ck_jpeg_encode(src.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(quality),
                           &out, &size, &message, message.count)
        }
        defer { ck_image_free(out) }
        guard status == Int32(CK_IMAGE_OK), let data = out else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageIOError(path, "JPEG encode failed: \(text)")
        }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Writes the image as a JPEG, atomically (temporary file + rename).
    /// - Parameters:
    ///   - path: Destination file.
    ///   - quality: 1...100 (default 90).
    public func writeJPEG(to path: String, quality: Int = 90) throws {
        try FileIO.writeAtomically(encodeJPEG(quality: quality, path: path), to: path)
    }
}
