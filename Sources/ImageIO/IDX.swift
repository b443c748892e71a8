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

    /// Whether `bytes` start with the gzip magic.
    static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b }

    /// Inflates gzip data (one member or several in a row) in memory.
    /// - Parameters:
    ///   - limit: the most output bytes accepted
    ///   - prefix: stop quietly once `limit` bytes are out (to read a header); otherwise more
    ///     output than `limit` is an error, so a small file never inflates into a large allocation
    /// - Throws: `ImageIOError` for corrupt, truncated or oversized data.
    static func gunzip(_ bytes: [UInt8], path: String, limit: Int, prefix: Bool = false) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ImageIOError(path, "cannot start gzip decompression")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var consumed = 0
        while true {
            let want = min(chunk.count, limit + 1 - out.count)
            let (status, used, produced) = bytes.withUnsafeBufferPointer { src in
                chunk.withUnsafeMutableBufferPointer { dst in
                    stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress! + consumed)
                    stream.avail_in = UInt32(min(src.count - consumed, Int(UInt32.max)))
                    stream.next_out = dst.baseAddress
                    stream.avail_out = UInt32(want)
                    let before = stream.avail_in
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, Int(before - stream.avail_in), want - Int(stream.avail_out))
                }
            }
            consumed += used
            out.append(contentsOf: chunk[0..<produced])
            if out.count > limit {
                if prefix { return Array(out[0..<limit]) }
                throw ImageIOError(path, "gzip data holds more than the \(limit) bytes its IDX header declares")
            }
            if prefix, out.count == limit { return out }
            switch status {
            case Z_STREAM_END:
                // Another member may follow; anything else after the data is an error.
                guard consumed < bytes.count else { return out }
                guard isGzip(Array(bytes[consumed..<min(consumed + 2, bytes.count)])) else {
                    throw ImageIOError(path, "\(bytes.count - consumed) bytes of trailing data after the gzip stream")
                }
                inflateReset(&stream)
            case Z_OK:
                continue
            case Z_BUF_ERROR where used == 0 && produced == 0:
                throw ImageIOError(path, "truncated gzip data")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw ImageIOError(path, "corrupt gzip data: \(message)")
            }
        }
    }

    /// The dimensions in an IDX file's header, reading only the header (raw or gzip).
    /// - Parameters:
    ///   - path: The file.
    ///   - magic: The expected magic (`imagesMagic` or `labelsMagic`).
    /// - Throws: `ImageIOError` for a missing file, a wrong magic or a short header.
    public static func readHeader(_ path: String, magic: UInt32) throws -> [Int] {
        let bytes = try FileIO.readBytes(path)
        let length = 4 + 4 * Int(magic & 0xff)
        let head = isGzip(bytes) ? try gunzip(bytes, path: path, limit: length, prefix: true) : Array(bytes.prefix(length))
        return try parseDimensions(head, magic: magic, path: path)
    }

    /// Checks an IDX header's magic and reads its dimensions.
    static func parseDimensions(_ bytes: [UInt8], magic: UInt32, path: String) throws -> [Int] {
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
        let ndims = Int(magic & 0xff), offset = 4 + 4 * ndims
        guard bytes.count >= offset else {
            throw ImageIOError(path, "truncated IDX file: expected at least \(offset) header bytes, got \(bytes.count)")
        }
        return (0..<ndims).map { Int(u32(4 + 4 * $0)) }
    }

    /// An IDX file's dimensions and data bytes, from its raw or gzip content. The size the
    /// header declares is checked against `MemoryLimit` (as floats) and bounds decompression.
    /// - Returns: The dimensions and the data (the bytes after the header).
    static func decode(_ file: [UInt8], magic: UInt32, path: String) throws -> (dims: [Int], data: ArraySlice<UInt8>) {
        let offset = 4 + 4 * Int(magic & 0xff)
        let head = isGzip(file) ? try gunzip(file, path: path, limit: offset, prefix: true) : Array(file.prefix(offset))
        let dims = try parseDimensions(head, magic: magic, path: path)
        try MemoryLimit.check(MemoryLimit.product(dims) ?? -1, 4,
                              what: "an IDX header declaring \(dims.map(String.init).joined(separator: "x")) values", path: path)
        let expected = dims.reduce(1, *) + offset
        let bytes = isGzip(file) ? try gunzip(file, path: path, limit: expected) : file
        guard bytes.count >= expected else {
            throw ImageIOError(path, "truncated IDX file: expected \(expected) bytes, got \(bytes.count)")
        }
        guard bytes.count == expected else {
            throw ImageIOError(path, "IDX file has \(bytes.count - expected) trailing bytes after the \(expected) expected")
        }
        return (dims, bytes[offset...])
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    /// Reads an IDX image file (raw or .gz) into a 1-channel `ImageSet` in [0, 1] (byte / 255).
    /// - Parameter path: The file, e.g. `train-images-idx3-ubyte.gz`.
    /// - Throws: `ImageIOError` for a missing file, wrong magic, or truncated data.
    public static func readImages(_ path: String) throws -> ImageSet {
        try decodeImages(FileIO.readBytes(path), path: path)
    }

    /// Decodes the content of an IDX image file (raw or gzip); see `readImages`.
    /// - Parameter path: Used only in error messages.
    public static func decodeImages(_ file: [UInt8], path: String = "<memory>") throws -> ImageSet {
        let (dims, data) = try decode(file, magic: imagesMagic, path: path)
        let (n, rows, cols) = (dims[0], dims[1], dims[2])
        guard rows > 0, cols > 0 else { throw ImageIOError(path, "IDX images have zero size \(rows)x\(cols)") }
        let pixels = data.map { Float($0) / 255 }
        return ImageSet(count: n, channels: 1, height: rows, width: cols, pixels: pixels)
    }

    /// Reads an IDX label file (raw or .gz).
    /// - Parameter path: The file, e.g. `train-labels-idx1-ubyte.gz`.
    public static func readLabels(_ path: String) throws -> [Int] {
        try decodeLabels(FileIO.readBytes(path), path: path)
    }

    /// Decodes the content of an IDX label file (raw or gzip); see `readLabels`.
    public static func decodeLabels(_ file: [UInt8], path: String = "<memory>") throws -> [Int] {
        try decode(file, magic: labelsMagic, path: path).data.map { Int($0) }
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
