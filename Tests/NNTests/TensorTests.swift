import Testing
@testable import NN

@Suite("Tensors, Adam and safetensors")
struct TensorTests {
    let device: Device
    init() throws { device = try Device("cpu", threads: 2) }

    @Test func roundTripAndReductions() throws {
        let t = try Tensor([2, 3], values: [1, -2, 3, 4, 5, -6], on: device)
        #expect(try t.read() == [1, -2, 3, 4, 5, -6])
        #expect(try t.sum() == 5)
        #expect(try t.sumOfSquares() == 91)
        t.setBatch(1)
        #expect(try t.read() == [1, -2, 3])
    }

    @Test func kernelErrorsBecomeSwiftErrors() throws {
        #expect(throws: KernelError.self) { try Device("no-such-device") }
        do {
            _ = try Device("no-such-device")
        } catch let e as KernelError {
            #expect(e.description.contains("no-such-device"))
        }
    }

    @Test("Adam matches a double-precision reference, with weight decay and clipping")
    func adam() throws {
        let p = try Parameter("w", [3], on: device)
        try p.value.write([0.5, -1, 2])
        let opt = Adam([p], learningRate: 0.1, weightDecay: 0.01, clipNorm: 1)
        var w: [Double] = [0.5, -1, 2], m = [0.0, 0, 0], v = [0.0, 0, 0]
        for step in 1...5 {
            let g: [Double] = [Double(step), -2, 0.5]
            try p.grad.write(g.map(Float.init))
            try opt.update()
            let norm = (g.reduce(0) { $0 + $1 * $1 }).squareRoot()
            let s = min(1, 1 / norm)
            for i in 0..<3 {
                let gi = g[i] * s
                m[i] = 0.9 * m[i] + 0.1 * gi
                v[i] = 0.999 * v[i] + 0.001 * gi * gi
                let mh = m[i] / (1 - pow(0.9, Double(step))), vh = v[i] / (1 - pow(0.999, Double(step)))
                w[i] -= 0.1 * 0.01 * w[i]
                w[i] -= 0.1 * mh / (vh.squareRoot() + 1e-8)
            }
        }
        let got = try p.value.read()
        for i in 0..<3 { #expect(abs(Double(got[i]) - w[i]) < 1e-4, "w[\(i)] = \(got[i]), expected \(w[i])") }
    }

    @Test func safetensorsRoundTrip() throws {
        let entries = [SafeTensors.Entry(name: "a.weight", shape: [2, 2], values: [1, 2, 3, 4]),
                       SafeTensors.Entry(name: "b", shape: [3], values: [-1, 0.5, .pi])]
        let bytes = SafeTensors.encode(entries, metadata: ["format": "pt"])
        // The header length is little-endian and the header is 8-byte aligned JSON.
        let n = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect((8 + n) % 8 == 0)
        #expect(String(decoding: bytes[8..<(8 + n)], as: UTF8.self).contains("\"dtype\":\"F32\""))
        let (decoded, metadata) = try SafeTensors.decode(bytes)
        #expect(decoded == entries)
        #expect(metadata == ["format": "pt"])
    }

    @Test func safetensorsRejectsMalformedFiles() {
        #expect(throws: SafeTensors.FormatError.self) { try SafeTensors.decode([1, 2, 3]) }
        var bytes = SafeTensors.encode([SafeTensors.Entry(name: "x", shape: [4], values: [1, 2, 3, 4])])
        bytes.removeLast(4)
        #expect(throws: SafeTensors.FormatError.self) { try SafeTensors.decode(bytes) }
    }
}

import Foundation
