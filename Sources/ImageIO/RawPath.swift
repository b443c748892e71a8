/// A path exactly as the file system holds it: bytes, which need not be UTF-8. A folder walk
/// keeps names this way so that every file it lists can be opened (a `String` would replace
/// invalid bytes and so name a file that does not exist); messages show such bytes as `\xNN`.
public struct RawPath: Hashable, Sendable, CustomStringConvertible {
    /// The path's bytes, without a terminating NUL.
    public let bytes: [UInt8]

    public init(_ path: String) { bytes = Array(path.utf8) }

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The path with `name` appended after a slash.
    public func appending(_ name: [UInt8]) -> RawPath {
        RawPath(bytes: bytes.last == UInt8(ascii: "/") ? bytes + name : bytes + [UInt8(ascii: "/")] + name)
    }

    /// The bytes of the last component.
    public var lastComponent: ArraySlice<UInt8> {
        let end = bytes.last == UInt8(ascii: "/") ? bytes.count - 1 : bytes.count
        let start = bytes[..<end].lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0
        return bytes[start..<end]
    }

    /// The last component's extension in lower case ("" without one).
    public var pathExtension: String {
        let name = lastComponent
        guard let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > name.startIndex else { return "" }
        return RawPath.text(name[(dot + 1)...]).lowercased()
    }

    /// Whether the bytes are valid UTF-8 (the path is then exactly a `String`).
    public var isUTF8: Bool { String(validating: bytes, as: UTF8.self) != nil }

    /// The path as text: valid UTF-8 as it is, any other byte as `\xNN`.
    public var description: String { RawPath.text(bytes[...]) }

    /// Calls `body` with the path as a NUL-terminated C string.
    public func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// Orders paths by their bytes (a deterministic order whatever the names' encoding).
    public static func byteOrder(_ a: RawPath, _ b: RawPath) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        var out = "", i = bytes.startIndex
        while i < bytes.endIndex {
            let lead = bytes[i]
            let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            if length > 0, i + length <= bytes.endIndex,
               let s = String(validating: bytes[i..<(i + length)], as: UTF8.self) {
                out += s
                i += length
            } else {
                let hex = String(lead, radix: 16, uppercase: true)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                i += 1
            }
        }
        return out
    }
}
