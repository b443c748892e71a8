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

    /// Parses a file's bytes into entries (sorted by data offset) and metadata.
    public static func decode(_ bytes: [UInt8]) throws -> (entries: [Entry], metadata: [String: String]) {
        guard bytes.count >= 8 else { throw FormatError(description: "file too short for a safetensors header") }
        let n = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(bytes.count - 8) else { throw FormatError(description: "header length \(n) exceeds the file") }
        let headerEnd = 8 + Int(n)
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])) as? [String: Any] else {
            throw FormatError(description: "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [(Int, Entry)] = []
        for (name, value) in json {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let range = info["data_offsets"] as? [Int], range.count == 2
            else { throw FormatError(description: "tensor \(name): malformed header entry") }
            guard dtype == "F32" else { throw FormatError(description: "tensor \(name): dtype \(dtype) is not F32") }
            let count = shape.reduce(1, *)
            let begin = headerEnd + range[0], end = headerEnd + range[1]
            guard range[0] >= 0, end - begin == count * 4, end <= bytes.count else {
                throw FormatError(description: "tensor \(name): data range does not match its shape \(shape)")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[begin..<end])) }
            }
            #if _endian(big)
            values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #endif
            entries.append((range[0], Entry(name: name, shape: shape, values: values)))
        }
        return (entries.sorted { $0.0 < $1.0 }.map(\.1), metadata)
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
