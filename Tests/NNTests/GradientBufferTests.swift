import Testing
import TestSupport
@testable import NN

/// The devices here: the CPU, and OpenCL when a device exists (PoCL's, in CI).
private let devices = ["cpu"] + ((try? Device("opencl", threads: 1)) != nil ? ["opencl"] : [])

@Suite("One buffer for every gradient")
struct GradientBufferTests {
    @Test("a network writes the same gradients into one buffer, at aligned offsets, and the buffer holds them all",
          arguments: devices)
    func gathersGradients(deviceName: String) throws {
        let device = try Device(deviceName, threads: 2)
        var rng = TestRandom(seed: 8)
        let ws = Workspace(device: device)
        let conv = try Conv2D(input: [2, 8, 8], outChannels: 3, kernel: 4, stride: 2, padding: 1, maxBatch: 2,
                              workspace: ws, rng: &rng)
        let act = try Activation(.relu, shape: conv.outputShape, maxBatch: 2, on: device)
        let dense = try Dense(3 * 4 * 4, 5, maxBatch: 2, on: device, rng: &rng)
        let net = Sequential([conv, act, dense])
        let x = try Tensor([2, 2, 8, 8], values: rng.signed(256), on: device)
        let dy = try Tensor([2, 5], values: rng.signed(10), on: device)
        func backward() throws -> [[Float]] {
            _ = try net.forward(x)
            _ = try net.backward(dy, inputGradient: false)
            return try net.parameters.map { try $0.grad.read() }
        }
        let before = try backward()
        let buffer = try GradientBuffer(net.parameters)
        #expect(try net.parameters.map { try $0.grad.read() } == before, "gathering changed the gradients")
        for p in net.parameters { try p.grad.fill(0) }
        #expect(try backward() == before, "the backward pass through views gave other gradients")
        // The buffer holds every gradient at its aligned offset, zeros between them.
        let all = try buffer.all.read(), align = device.viewAlignment
        var offset = 0, expected = [Float](repeating: 0, count: all.count)
        for g in before {
            #expect(offset % align == 0)
            expected.replaceSubrange(offset..<(offset + g.count), with: g)
            offset += (g.count + align - 1) / align * align
        }
        #expect(all == expected)
        #expect(buffer.gradientCount == before.reduce(0) { $0 + $1.count })
        // Scaling the buffer scales every parameter's gradient.
        try buffer.all.axpby(0, buffer.all, 2)
        #expect(try net.parameters.map { try $0.grad.read() } == before.map { $0.map { 2 * $0 } })
    }

    @Test("one process alone: the collectives change nothing")
    func alone() throws {
        let device = try Device("cpu", threads: 1)
        let ranks = Communicator.alone
        #expect(ranks.rank == 0 && ranks.size == 1 && ranks.isRoot)
        let t = try Tensor([3], values: [1, 2, 3], on: device)
        try ranks.sum(t)
        try ranks.broadcast(t)
        #expect(try t.read() == [1, 2, 3])
        #expect(try ranks.broadcast([7, 8]) == [7, 8])
        #expect(try ranks.agree([1, 2]))
        var values = [4.0, 5.0]
        try values.withUnsafeMutableBufferPointer { try ranks.sum($0) }
        #expect(values == [4, 5])
    }
}
