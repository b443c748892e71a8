import Foundation
import Testing
import TestSupport
@testable import NN

@Suite("Layer gradients match finite differences")
struct LayerGradientTests {
    let device: Device
    init() throws { device = try Device("cpu", threads: 2) }

    func input(_ shape: [Int], _ check: inout GradientCheck) throws -> Tensor {
        try Tensor(shape, values: check.rng.signed(shape.reduce(1, *)), on: device)
    }

    @Test("Conv2D", arguments: [(3, 1, 1), (4, 2, 1), (3, 2, 0), (1, 1, 0)])
    func conv(kernel: Int, stride: Int, padding: Int) throws {
        var check = GradientCheck(seed: UInt64(kernel * 100 + stride * 10 + padding))
        var rng = TestRandom(seed: 1)
        let layer = try Conv2D(input: [3, 7, 6], outChannels: 4, kernel: kernel, stride: stride, padding: padding,
                               maxBatch: 2, workspace: Workspace(device: device), rng: &rng)
        let report = try check.check(layer, input: try input([2, 3, 7, 6], &check))
        #expect(report.agrees(within: 1e-3), "\(report)")
    }

    @Test("ConvTranspose2D", arguments: [(4, 2, 1, 0), (3, 2, 1, 1), (3, 1, 1, 0)])
    func deconv(kernel: Int, stride: Int, padding: Int, outputPadding: Int) throws {
        var check = GradientCheck(seed: UInt64(kernel * 100 + stride * 10 + padding))
        var rng = TestRandom(seed: 2)
        let layer = try Conv2D(input: [3, 4, 5], outChannels: 2, kernel: kernel, stride: stride, padding: padding,
                               outputPadding: outputPadding, transposed: true, maxBatch: 2, workspace: Workspace(device: device),
                               rng: &rng)
        let report = try check.check(layer, input: try input([2, 3, 4, 5], &check))
        #expect(report.agrees(within: 1e-3), "\(report)")
    }

    @Test("Dense") func dense() throws {
        var check = GradientCheck()
        var rng = TestRandom(seed: 3)
        let layer = try Dense(12, 5, maxBatch: 3, on: device, rng: &rng)
        let report = try check.check(layer, input: try input([3, 12], &check))
        #expect(report.agrees(within: 1e-3), "\(report)")
    }

    @Test("Activations", arguments: [ActivationKind.sigmoid, .tanh, .softplus, .leakyReLU(0.1), .relu, .identity, .elu])
    func activation(kind: ActivationKind) throws {
        var check = GradientCheck(step: 1e-3)
        let layer = try Activation(kind, shape: [10], maxBatch: 2, on: device)
        let report = try check.check(layer, input: try input([2, 10], &check), samples: 20)
        #expect(report.agrees(within: 1e-3), "\(report)")
    }

    @Test("Sequential chains backward through every layer, fused activations included") func sequential() throws {
        var check = GradientCheck()
        var rng = TestRandom(seed: 4)
        let ws = Workspace(device: device)
        let conv = try Conv2D(input: [2, 8, 8], outChannels: 3, kernel: 4, stride: 2, padding: 1, maxBatch: 2,
                              workspace: ws, rng: &rng)
        let act = try Activation(.tanh, shape: conv.outputShape, maxBatch: 2, on: device)
        let dense = try Dense(3 * 4 * 4, 6, maxBatch: 2, on: device, rng: &rng)
        let net = Sequential([conv, act, dense])
        #expect(act.fused)
        let report = try check.check(net, input: try input([2, 2, 8, 8], &check))
        #expect(report.agrees(within: 1e-3), "\(report)")
    }

    @Test("ResidualBlock: identity skip, and a 1x1 skip when the channels change", arguments: [3, 5])
    func residualBlock(outChannels: Int) throws {
        var check = GradientCheck(seed: UInt64(outChannels))
        var rng = TestRandom(seed: 6)
        let block = try ResidualBlock(input: [3, 5, 6], outChannels: outChannels, hiddenChannels: 4, branchScale: 0.5,
                                      maxBatch: 2, workspace: Workspace(device: device), rng: &rng)
        #expect((block.skip == nil) == (outChannels == 3))
        let activations = block.branch.layers.compactMap { $0 as? Activation }
        #expect(activations.count == 1 && activations[0].fused)
        let report = try check.check(block, input: try input([2, 3, 5, 6], &check), samples: 16)
        #expect(report.agrees(within: 1e-3), "\(report)")
    }

    @Test("ResidualBlock: the sum of the skip and a branch computed layer by layer")
    func residualBlockForward() throws {
        var rng = TestRandom(seed: 7)
        let ws = Workspace(device: device)
        let block = try ResidualBlock(input: [2, 4, 4], branchScale: 0.1, maxBatch: 1, workspace: ws, rng: &rng)
        #expect(try block.conv2.bias.value.read().allSatisfy { $0 == 0 })
        let values = (0..<32).map { _ in Float.random(in: -1...1, using: &rng) }
        let x = try Tensor([1, 2, 4, 4], values: values, on: device)
        let y = try block.forward(x).read()
        // The reference: each convolution from its weights in double precision, ELU between.
        func conv(_ input: [Double], _ layer: Conv2D) throws -> [Double] {
            let w = try layer.weight.value.read(), b = try layer.bias.value.read()
            let (ci, co) = (layer.weight.value.shape[1], layer.weight.value.shape[0])
            var out = [Double](repeating: 0, count: co * 16)
            for o in 0..<co {
                for p in 0..<16 {
                    var s = Double(b[o])
                    for c in 0..<ci {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let iy = p / 4 + ky - 1, ix = p % 4 + kx - 1
                                guard (0..<4).contains(iy), (0..<4).contains(ix) else { continue }
                                s += Double(w[((o * ci + c) * 3 + ky) * 3 + kx]) * input[c * 16 + iy * 4 + ix]
                            }
                        }
                    }
                    out[o * 16 + p] = s
                }
            }
            return out
        }
        let h = try conv(values.map(Double.init), block.conv1).map { $0 > 0 ? $0 : expm1($0) }
        let reference = zip(try conv(h, block.conv2), values).map { $0 + Double($1) }
        let err = zip(y, reference).map { abs(Double($0) - $1) }.max()!
        #expect(err < 1e-5, "max error \(err)")
    }

    @Test("the check itself catches a gradient off by a factor of two")
    func checkCatchesWrongFactor() throws {
        var check = GradientCheck()
        var rng = TestRandom(seed: 5)
        let layer = try Dense(6, 4, maxBatch: 2, on: device, rng: &rng)
        let x = try input([2, 6], &check)
        let y = try layer.forward(x)
        let r = check.rng.signed(y.count)
        _ = try layer.backward(try Tensor(y.shape, values: r, on: device), inputGradient: false)
        let doubled = try layer.weight.grad.read().map { 2 * $0 }
        let report = try check.compare([("weight", layer.weight.value, doubled)], samples: 12) {
            zip(try layer.forward(x).read(), r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        #expect(!report.agrees(within: 1e-2) && abs(report.slope - 2) < 1e-2, "\(report)")
    }

    @Test("Fused activations give the results of separate activation layers")
    func fusedMatchesUnfused() throws {
        // conv -> relu -> conv -> leaky relu -> deconv -> tanh -> dense, built twice from one seed
        func build(fuse: Bool) throws -> (Sequential, [Activation]) {
            var rng = TestRandom(seed: 7)
            let ws = Workspace(device: device)
            let c1 = try Conv2D(input: [2, 8, 8], outChannels: 3, kernel: 4, stride: 2, padding: 1, maxBatch: 3,
                                workspace: ws, rng: &rng)
            let a1 = try Activation(.relu, shape: c1.outputShape, maxBatch: 3, on: device)
            let c2 = try Conv2D(input: c1.outputShape, outChannels: 4, kernel: 3, stride: 1, padding: 1, maxBatch: 3,
                                workspace: ws, rng: &rng)
            let a2 = try Activation(.leakyReLU(0.1), shape: c2.outputShape, maxBatch: 3, on: device)
            let d3 = try Conv2D(input: c2.outputShape, outChannels: 2, kernel: 4, stride: 2, padding: 1,
                                transposed: true, maxBatch: 3, workspace: ws, rng: &rng)
            let a3 = try Activation(.tanh, shape: d3.outputShape, maxBatch: 3, on: device)
            let dense = try Dense(d3.outputShape.reduce(1, *), 5, maxBatch: 3, on: device, rng: &rng)
            return (Sequential([c1, a1, c2, a2, d3, a3, dense], fuse: fuse), [a1, a2, a3])
        }
        let (fused, fusedActs) = try build(fuse: true)
        let (plain, plainActs) = try build(fuse: false)
        #expect(fusedActs.allSatisfy(\.fused) && !plainActs.contains(where: \.fused))
        var rng = TestRandom(seed: 8)
        let xs = rng.signed(3 * 2 * 8 * 8), rs = rng.signed(3 * 5)
        var results: [[[Float]]] = []
        for net in [fused, plain] {
            let x = try Tensor([3, 2, 8, 8], values: xs, on: device)
            let y = try net.forward(x).read()
            let dx = try net.backward(try Tensor([3, 5], values: rs, on: device), inputGradient: true)!.read()
            results.append([y, dx] + (try net.parameters.map { try $0.grad.read() }))
        }
        for (a, b) in zip(results[0], results[1]) {
            let scale = max(1, b.map { abs($0) }.max() ?? 0)
            let err = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            #expect(err / scale < 1e-5, "fused and unfused differ by \(err) (scale \(scale))")
        }
    }

    @Test("channel concatenation joins per item and splits gradients back")
    func concatenation() throws {
        let join = try ChannelConcatenation(first: [2, 2, 3], second: [1, 2, 3], maxBatch: 2, on: device)
        var rng = TestRandom(seed: 9)
        let av = rng.signed(2 * 12), bv = rng.signed(2 * 6)
        let a = try Tensor([2, 2, 2, 3], values: av, on: device), b = try Tensor([2, 1, 2, 3], values: bv, on: device)
        let out = try join.forward(a, b).read()
        var joined: [Float] = Array(av[0..<12])
        joined += bv[0..<6]
        joined += av[12..<24]
        joined += bv[6..<12]
        #expect(out == joined)
        let g = try Tensor([2, 3, 2, 3], values: out, on: device)
        #expect(try join.backwardFirst(g).read() == av)
        #expect(try join.backwardSecond(g).read() == bv)
    }
}
