import Foundation
import Testing
import TestSupport
@testable import NN

/// The parts of a VQ-VAE and a PixelCNN: the quantizer's gradients and codebook updates, the
/// masked convolution and the gated activation.
@Suite("Vector quantizer, masked convolution and gated activation")
struct VectorQuantizerTests {
    let device: Device
    init() throws { device = try Device("cpu", threads: 2) }

    func quantizer(_ update: VectorQuantizer.CodebookUpdate, codes: Int = 6, dimension: Int = 3) throws -> VectorQuantizer {
        var rng = TestRandom(seed: 21)
        let q = try VectorQuantizer(codes: codes, dimension: dimension, height: 2, width: 3, maxBatch: 4, update: update,
                                    on: device, rng: &rng)
        // Codes spread like the encoder's vectors, so that several are chosen.
        var r = TestRandom(seed: 8)
        try q.codebook.value.write(r.signed(codes * dimension))
        if let m = q.emaSums { try m.copy(from: q.codebook.value) }
        return q
    }

    @Test("straight-through and commitment gradients match finite differences of their surrogate")
    func straightThroughGradient() throws {
        let q = try quantizer(.ema)
        var rng = TestRandom(seed: 5)
        let z = try Tensor([3, 3, 2, 3], values: rng.signed(54), on: device)
        let r = rng.signed(54)
        try q.quantize(z)
        let indices = try q.indices.read(), codebook = try q.codebook.value.read(), z0 = try z.read()
        // Loss sum(r * zq) + beta sum |z - sg(c)|^2 with zq = z + sg(c - z): the straight-through
        // estimator is this surrogate's exact gradient; the codes are those of the base point.
        let beta: Float = 0.3
        let dq = try Tensor([3, 3, 2, 3], values: r, on: device)
        let dz = try q.backward(z, quantizedGradient: dq, scale: beta).read()
        func code(_ i: Int) -> Int {  // the code at element i of [b, d, p]
            let b = i / 18, p = i % 6
            return Int(indices[b * 6 + p])
        }
        var check = GradientCheck(seed: 2, step: 1e-2)
        let report = try check.compare([("z", z, dz)], samples: 30) {
            let v = try z.read()
            var loss = 0.0
            for i in 0..<54 {
                let c = Double(codebook[code(i) * 3 + (i / 6) % 3])
                loss += Double(r[i]) * (c + Double(v[i]) - Double(z0[i])) + Double(beta) * (Double(v[i]) - c) * (Double(v[i]) - c)
            }
            return loss
        }
        #expect(report.agrees(within: 1e-2), "\(report)")
        // The commitment part alone against the real nearest codes (which hold under the small steps).
        let dz2 = try q.backward(z, quantizedGradient: try Tensor([3, 3, 2, 3], on: device), scale: beta).read()
        var check2 = GradientCheck(seed: 3, step: 1e-3)
        let report2 = try check2.compare([("z", z, dz2)], samples: 30) {
            try q.quantize(z)
            return Double(beta) * (try q.squaredDistance.sum())
        }
        #expect(report2.agrees(within: 1e-2), "\(report2)")
    }

    @Test("moving-average updates match a double-precision reference over three steps, and count usage")
    func emaUpdates() throws {
        let q = try quantizer(.ema)
        var rng = TestRandom(seed: 9)
        let K = 6, D = 3, P = 6
        var N = [Double](repeating: 1, count: K), M = try q.codebook.value.read().map(Double.init)
        var used = [Double](repeating: 0, count: K)
        let decay = 0.9, eps = 1e-5
        for _ in 0..<3 {
            let z = try Tensor([4, D, 2, 3], values: rng.signed(4 * D * P), on: device)
            try q.quantize(z)
            let idx = try q.indices.read().map(Int.init), v = try z.read()
            var cnt = [Double](repeating: 0, count: K), sum = [Double](repeating: 0, count: K * D)
            for b in 0..<4 {
                for p in 0..<P {
                    let k = idx[b * P + p]
                    cnt[k] += 1
                    for d in 0..<D { sum[k * D + d] += Double(v[(b * D + d) * P + p]) }
                }
            }
            try q.learn(from: z, decay: Float(decay), epsilon: Float(eps), scale: 1)
            for k in 0..<K { N[k] = decay * N[k] + (1 - decay) * cnt[k]; used[k] += cnt[k] }
            for i in 0..<(K * D) { M[i] = decay * M[i] + (1 - decay) * sum[i] }
            let n = N.reduce(0, +)
            let expected = (0..<(K * D)).map { i in M[i] / ((N[i / D] + eps) / (n + Double(K) * eps) * n) }
            let got = try q.codebook.value.read()
            let err = zip(got, expected).map { abs(Double($0) - $1) }.max()!
            #expect(err < 1e-5, "codebook differs from the reference by \(err)")
        }
        #expect(try q.usage.read().map(Double.init) == used)
        // Codes unused over the three steps restart from encoder vectors; then counting starts again.
        let dead = used.filter { $0 == 0 }.count
        let z = try Tensor([4, D, 2, 3], values: rng.signed(4 * D * P), on: device)
        #expect(try q.restartDeadCodes(from: z, seed: 1, counter: 0) == dead)
        #expect(try q.usage.read().allSatisfy { $0 == 0 })
    }

    @Test("the plain codebook loss writes its gradient and leaves the codes to Adam")
    func codebookLoss() throws {
        let q = try quantizer(.loss)
        #expect(q.emaCounts == nil && q.buffers.map(\.name) == ["quantizer.usage"])
        var rng = TestRandom(seed: 4)
        let z = try Tensor([2, 3, 2, 3], values: rng.signed(36), on: device)
        try q.quantize(z)
        let before = try q.codebook.value.read()
        try q.learn(from: z, decay: 0.99, scale: 0.5)
        #expect(try q.codebook.value.read() == before)
        let g = try q.codebook.grad.read()
        var check = GradientCheck(seed: 6, step: 1e-2)
        let indices = try q.indices.read().map(Int.init), v = try z.read()
        let report = try check.compare([("codebook", q.codebook.value, g)], samples: 18) {
            let c = try q.codebook.value.read()
            var loss = 0.0
            for b in 0..<2 {
                for p in 0..<6 {
                    for d in 0..<3 {
                        let e = Double(v[(b * 3 + d) * 6 + p]) - Double(c[indices[b * 6 + p] * 3 + d])
                        loss += 0.5 * e * e
                    }
                }
            }
            return loss
        }
        #expect(report.agrees(within: 1e-2), "\(report)")
    }

    @Test("a masked convolution's gradients match finite differences, and its masked weights stay zero")
    func maskedConvolution() throws {
        var rng = TestRandom(seed: 12)
        let ws = Workspace(device: device)
        for kind in [MaskedConv2D.Mask.a, .b] {
            let conv = try MaskedConv2D(input: [2, 4, 4], outChannels: 3, kernel: 3, mask: kind, maxBatch: 2,
                                        workspace: ws, rng: &rng)
            let x = try Tensor([2, 2, 4, 4], values: rng.signed(64), on: device)
            var check = GradientCheck(seed: 7)
            let report = try check.check(conv, input: x)
            #expect(report.agrees(), "mask \(kind): \(report)")
            let mask = try conv.mask.read(), w = try conv.conv.weight.value.read(), g = try conv.conv.weight.grad.read()
            #expect(zip(mask, w).allSatisfy { $0 == 1 || $1 == 0 } && zip(mask, g).allSatisfy { $0 == 1 || $1 == 0 })
            // Per 3x3 kernel: the four taps before the centre, and the centre for mask B.
            #expect(Array(mask[0..<9]) == [1, 1, 1, 1, kind == .b ? 1 : 0, 0, 0, 0, 0])
        }
    }

    @Test("the gated activation's gradient matches finite differences")
    func gatedActivation() throws {
        var rng = TestRandom(seed: 13)
        let gate = try GatedActivation(input: [4, 3, 3], maxBatch: 2, on: device)
        let x = try Tensor([2, 4, 3, 3], values: rng.signed(72).map { 2 * $0 }, on: device)
        var check = GradientCheck(seed: 8)
        let report = try check.check(gate, input: x, samples: 30)
        #expect(report.agrees(), "\(report)")
        let y = try gate.forward(x).read(), v = try x.read()
        let expected = (0..<36).map { i -> Double in
            let b = i / 18, j = i % 18
            let a = Double(v[b * 36 + j]), s = Double(v[b * 36 + 18 + j])
            return tanh(a) / (1 + exp(-s))
        }
        #expect(zip(y, expected).allSatisfy { abs(Double($0) - $1) < 1e-6 })
    }
}
