import CZlib

/// Reader and writer for IDX files (the MNIST format), raw or gzip-compressed.
///
/// Layout: a big-endian magic `0x00000803` (unsigned bytes, 3 dimensions) for images or
/// `0x00000801` for labels, one big-endian UInt32 per dimension, then the bytes.
public enum IDX {
    /// Magic number of an IDX file of unsigned-byte images (N x rows x cols).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of an IDX file of unsigned-byte labels (N).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Reads a whole file, transparently gunzipping it when it is gzip-compressed (zlib `gzread`).
    /// - Parameter path: The file.
    /// - Returns: The (decompressed) content.
    public static func readMaybeCompressed(_ path: String) throws -> [UInt8] {
        guard FileIO.exists(path) else { throw ImageIOError(path, "no such file") }
        guard !FileIO.isDirectory(path) else { throw ImageIOError(path, "is a directory, not a file") }
        guard let file = gzopen(path, "rb") else { throw ImageIOError(path, "cannot open") }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 17)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown zlib error"
                throw ImageIOError(path, "corrupt gzip data: \(message)")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(n)])
        }
        return bytes
    }

    /// The dimensions in an IDX file's header, reading only the header (raw or gzip).
    /// - Parameters:
    ///   - path: The file.
    ///   - magic: The expected magic (`imagesMagic` or `labelsMagic`).
    /// - Throws: `ImageIOError` for a missing file, a wrong magic or a short header.
    public static func readHeader(_ path: String, magic: UInt32) throws -> [Int] {
        guard FileIO.exists(path) else { throw ImageIOError(path, "no such file") }
        guard !FileIO.isDirectory(path) else { throw ImageIOError(path, "is a directory, not a file") }
        guard let file = gzopen(path, "rb") else { throw ImageIOError(path, "cannot open") }
        defer { gzclose(file) }
        let length = 4 + 4 * Int(magic & 0xff)
        var bytes = [UInt8](repeating: 0, count: length)
        let n = bytes.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(length)) }
        guard n == Int32(length) else {
            throw ImageIOError(path, "truncated IDX file: expected at least \(length) header bytes, got \(max(n, 0))")
        }
        let found = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        guard found == magic else {
            throw ImageIOError(path, "wrong IDX magic 0x\(hex(found)), expected 0x\(hex(magic))")
        }
        return (0..<Int(magic & 0xff)).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) }
        }
    }

    /// Parses an IDX header and checks the magic and the total size.
    /// - Returns: The dimensions and the offset of the data.
    static func parseHeader(_ bytes: [UInt8], magic: UInt32, path: String) throws -> (dims: [Int], offset: Int) {
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        }
        guard bytes.count >= 4 else {
            throw ImageIOError(path, "truncated IDX file: \(bytes.count) bytes is shorter than the header")
        }
        let found = u32(0)
        guard found == magic else {
            throw ImageIOError(path, "wrong IDX magic 0x\(hex(found)), expected 0x\(hex(magic))"
                + (magic == imagesMagic ? " (images)" : " (labels)"))
        }
        let ndims = Int(magic & 0xff)
        let offset = 4 + 4 * ndims
        guard bytes.count >= offset else {
            throw ImageIOError(path, "truncated IDX file: expected at least \(offset) header bytes, got \(bytes.count)")
        }
        let dims = (0..<ndims).map { Int(u32(4 + 4 * $0)) }
        let expected = dims.reduce(1, *) + offset
        guard bytes.count >= expected else {
            throw ImageIOError(path, "truncated IDX file: expected \(expected) bytes, got \(bytes.count)")
        }
        guard bytes.count == expected else {
            throw ImageIOError(path, "IDX file has \(bytes.count - expected) trailing bytes after the \(expected) expected")
        }
        return (dims, offset)
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    /// Reads an IDX image file (raw or .gz) into a 1-channel `ImageSet` in [0, 1] (byte / 255).
    /// - Parameter path: The file, e.g. `train-images-idx3-ubyte.gz`.
    /// - Throws: `ImageIOError` for a missing file, wrong magic, or truncated data.
    public static func readImages(_ path: String) throws -> ImageSet {
        let bytes = try readMaybeCompressed(path)
        let (dims, offset) = try parseHeader(bytes, magic: imagesMagic, path: path)
        let (n, rows, cols) = (dims[0], dims[1], dims[2])
        guard rows > 0, cols > 0 else { throw ImageIOError(path, "IDX images have zero size \(rows)x\(cols)") }
        var pixels = [Float](repeating: 0, count: n * rows * cols)
        bytes.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for i in 0..<dst.count { dst[i] = Float(src[offset + i]) / 255 }
            }
        }
        return ImageSet(count: n, channels: 1, height: rows, width: cols, pixels: pixels)
    }

    /// Reads an IDX label file (raw or .gz).
    /// - Parameter path: The file, e.g. `train-labels-idx1-ubyte.gz`.
    public static func readLabels(_ path: String) throws -> [Int] {
        let bytes = try readMaybeCompressed(path)
        let (_, offset) = try parseHeader(bytes, magic: labelsMagic, path: path)
        return bytes[offset...].map { Int($0) }
    }

    /// Writes a 1-channel `ImageSet` as an IDX image file, gzip-compressed when `path` ends in
    /// `.gz`; atomic (temporary file + rename). Pixels are rounded to bytes.
    public static func writeImages(_ set: ImageSet, to path: String) throws {
        precondition(set.channels == 1, "IDX images are single-channel")
        var bytes = header(magic: imagesMagic, dims: [set.count, set.height, set.width])
        bytes.reserveCapacity(bytes.count + set.pixels.count)
        for v in set.pixels { bytes.append(UInt8((min(1, max(0, v)) * 255).rounded())) }
        try write(bytes, to: path)
    }

    /// Writes labels (each 0...255) as an IDX label file, gzip-compressed when `path` ends in `.gz`.
    public static func writeLabels(_ labels: [Int], to path: String) throws {
        var bytes = header(magic: labelsMagic, dims: [labels.count])
        bytes.append(contentsOf: labels.map { UInt8(truncatingIfNeeded: $0) })
        try write(bytes, to: path)
    }

    static func header(magic: UInt32, dims: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        for v in [magic] + dims.map({ UInt32($0) }) {
            out += [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
        }
        return out
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        guard path.hasSuffix(".gz") else { return try FileIO.writeAtomically(bytes, to: path) }
        try FileIO.replace(path) { tmp in
            guard let file = gzopen(tmp, "wb") else { throw ImageIOError(path, "cannot create temporary file") }
            let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
            let closed = gzclose(file)
            guard Int(written) == bytes.count, closed == Z_OK else { throw ImageIOError(path, "gzip write failed") }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
