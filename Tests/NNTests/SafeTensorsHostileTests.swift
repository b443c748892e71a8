import Foundation
import Testing
@testable import NN

/// Crafted safetensors headers: each ends in a `FormatError` naming the problem (the reference
/// reader's rules), never in a trap or an allocation the file does not back.
@Suite("safetensors: crafted headers")
struct SafeTensorsHostileTests {
    /// A file from a header given as JSON text and `data` bytes after it.
    func file(_ header: String, data: Int) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out += $0 }
        return out + h + [UInt8](repeating: 0, count: data)
    }

    func message(_ bytes: [UInt8]) -> String? {
        do { _ = try SafeTensors.decode(bytes); return nil } catch { return "\(error)" }
    }

    @Test("well-formed files with empty and scalar tensors load")
    func wellFormed() throws {
        let bytes = file(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"__metadata__":{"k":"v"}}"#, data: 4)
        let (entries, metadata) = try SafeTensors.decode(bytes)
        #expect(entries.map(\.name) == ["a", "b"] && entries[1].values == [0] && metadata == ["k": "v"])
        #expect(try SafeTensors.decodeMetadata(Array(bytes.prefix(try SafeTensors.headerLength(bytes)))) == ["k": "v"])
    }

    @Test("shapes, offsets, header length and metadata that the reference reader refuses", arguments: [
        (#"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, 4, "negative dimension"),
        (#"{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, 4, "overflows"),
        (#"{"x":{"dtype":"F32","shape":[3037000500,3037000500],"data_offsets":[0,4]}}"#, 4, "overflows"),
        (#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, 4, "does not match its shape"),
        (#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, 4, "outside"),
        (#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, 8, "outside"),
        (#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 4, "outside"),
        (#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "overlap"),
        (#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "gap of 4 bytes"),
        (#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 8, "4 bytes after the last tensor"),
        (#"{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, 4, "not F32"),
        (#"{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, 4, "malformed"),
        (#"{"__metadata__":{"k":1}}"#, 0, "not a map of strings"),
        (#"[1,2,3]"#, 0, "not a JSON object"),
        (String(repeating: "[", count: 100_000), 0, "not a JSON object"),
    ] as [(String, Int, String)])
    func refused(header: String, data: Int, problem: String) {
        let m = message(file(header, data: data))
        #expect(m?.contains(problem) == true, "\(header.prefix(80)): \(m ?? "loaded")")
    }

    @Test("a header length beyond the file or the 100 MB limit")
    func headerLength() {
        var bytes = file("{}", data: 0)
        bytes[0] = 0xFF; bytes[1] = 0xFF; bytes[7] = 0x7F
        #expect(message(bytes)?.contains("exceeds") == true)
        bytes = [16, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D]
        #expect(message(bytes) == "header length 16 exceeds the file")
        #expect(message([1, 2, 3]) == "file too short for a safetensors header")
    }
}
