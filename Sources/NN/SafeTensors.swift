import Foundation

/// The safetensors format (F32 tensors only): an 8-byte little-endian header length, a JSON
/// header of names, shapes and byte ranges, then the raw little-endian data.
public enum SafeTensors {
    /// A named tensor on the host.
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]

        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// A malformed file.
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Serializes entries (in the given order) and string metadata.
    public static func encode(_ entries: [Entry], metadata: [String: String] = [:]) -> [UInt8] {
        var header = "{"
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            header += "\"__metadata__\":{\(items.joined(separator: ","))},"
        }
        var offset = 0
        header += entries.map { e in
            let bytes = e.values.count * 4
            defer { offset += bytes }
            return "\(jsonString(e.name)):{\"dtype\":\"F32\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}"
        }.joined(separator: ",")
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for e in entries {
            for v in e.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
        return out
    }

    /// The largest JSON header accepted (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    /// The bytes a file's header takes (8 + the JSON's length), from its first 8 bytes.
    /// - Throws: `FormatError` for fewer than 8 bytes or a length over `maxHeaderBytes`.
    public static func headerLength(_ bytes: [UInt8]) throws -> Int {
        guard bytes.count >= 8 else { throw FormatError(description: "file too short for a safetensors header") }
        let n = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(maxHeaderBytes) else {
            throw FormatError(description: "header length \(n) exceeds the \(maxHeaderBytes) bytes allowed")
        }
        return 8 + Int(n)
    }

    /// The metadata of a file from its header alone (its first `headerLength` bytes), without
    /// reading or checking the tensors: what a reader checks before it allocates anything.
    public static func decodeMetadata(_ header: [UInt8]) throws -> [String: String] {
        let end = try headerLength(header)
        guard end <= header.count else { throw FormatError(description: "header length \(end - 8) exceeds the file") }
        guard let value = try headerObject(header[8..<end])["__metadata__"] else { return [:] }
        guard let m = value as? [String: String] else {
            throw FormatError(description: "__metadata__ is not a map of strings to strings")
        }
        return m
    }

    static func headerObject(_ bytes: ArraySlice<UInt8>) throws -> [String: Any] {
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw FormatError(description: "header is not a JSON object")
        }
        return json
    }

    /// Parses a file's bytes into entries (sorted by data offset) and metadata, with the
    /// reference implementation's checks: a header of at most 100 MB that is a JSON object,
    /// string metadata, non-negative shapes whose sizes do not overflow, and byte ranges that
    /// tile the data section exactly (no gap, no overlap, nothing after the last tensor).
    /// - Throws: `FormatError` describing the first problem.
    public static func decode(_ bytes: [UInt8]) throws -> (entries: [Entry], metadata: [String: String]) {
        let headerEnd = try headerLength(bytes)
        guard headerEnd <= bytes.count else { throw FormatError(description: "header length \(headerEnd - 8) exceeds the file") }
        let json = try headerObject(bytes[8..<headerEnd]), dataSize = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var ranges: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in json {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else {
                    throw FormatError(description: "__metadata__ is not a map of strings to strings")
                }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let range = info["data_offsets"] as? [Int], range.count == 2
            else { throw FormatError(description: "tensor \(name): malformed header entry") }
            guard dtype == "F32" else { throw FormatError(description: "tensor \(name): dtype \(dtype) is not F32") }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw FormatError(description: "tensor \(name): negative dimension in shape \(shape)")
            }
            var bytesNeeded: Int? = 4
            for d in shape { bytesNeeded = bytesNeeded.flatMap { b in let (p, o) = b.multipliedReportingOverflow(by: d); return o ? nil : p } }
            guard let size = bytesNeeded else { throw FormatError(description: "tensor \(name): shape \(shape) overflows") }
            guard range[0] >= 0, range[0] <= range[1], range[1] <= dataSize else {
                throw FormatError(description: "tensor \(name): data offsets \(range) lie outside the \(dataSize) data bytes")
            }
            guard range[1] - range[0] == size else {
                throw FormatError(description: "tensor \(name): data range \(range) does not match its shape \(shape)")
            }
            ranges.append((name, shape, range[0], range[1]))
        }
        ranges.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        for r in ranges {
            guard r.begin == expected else {
                throw FormatError(description: r.begin < expected
                                  ? "tensor \(r.name): data offsets overlap another tensor's"
                                  : "tensor \(r.name): a gap of \(r.begin - expected) bytes before its data")
            }
            expected = r.end
        }
        guard expected == dataSize else {
            throw FormatError(description: "\(dataSize - expected) bytes after the last tensor's data")
        }
        let entries = ranges.map { r in
            var values = [Float](repeating: 0, count: (r.end - r.begin) / 4)
            values.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(headerEnd + r.begin)..<(headerEnd + r.end)]))
                }
            }
            #if _endian(big)
            values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #endif
            return Entry(name: r.name, shape: r.shape, values: values)
        }
        return (entries, metadata)
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
