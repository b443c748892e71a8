import Testing
@testable import NN

@Suite("Layer gradients match finite differences")
struct LayerGradientTests {
    let device: Device
    init() throws { device = try Device("cpu", threads: 2) }

    func input(_ shape: [Int], _ check: inout GradientCheck) throws -> Tensor {
        try Tensor(shape, values: check.randoms(shape.reduce(1, *)), on: device)
    }

    @Test("Conv2D", arguments: [(3, 1, 1), (4, 2, 1), (3, 2, 0), (1, 1, 0)])
    func conv(kernel: Int, stride: Int, padding: Int) throws {
        var check = GradientCheck()
        var rng = SystemRandomNumberGenerator()
        let ws = Workspace(device: device)
        let layer = try Conv2D(input: [3, 7, 6], outChannels: 4, kernel: kernel, stride: stride, padding: padding,
                               maxBatch: 2, workspace: ws, rng: &rng)
        let e = try check.maxError(layer, input: try input([2, 3, 7, 6], &check))
        #expect(e < 2e-2, "relative error \(e)")
    }

    @Test("ConvTranspose2D", arguments: [(4, 2, 1, 0), (3, 2, 1, 1), (3, 1, 1, 0)])
    func deconv(kernel: Int, stride: Int, padding: Int, outputPadding: Int) throws {
        var check = GradientCheck()
        var rng = SystemRandomNumberGenerator()
        let ws = Workspace(device: device)
        let layer = try Conv2D(input: [3, 4, 5], outChannels: 2, kernel: kernel, stride: stride, padding: padding,
                               outputPadding: outputPadding, transposed: true, maxBatch: 2, workspace: ws, rng: &rng)
        let e = try check.maxError(layer, input: try input([2, 3, 4, 5], &check))
        #expect(e < 2e-2, "relative error \(e)")
    }

    @Test("Dense") func dense() throws {
        var check = GradientCheck()
        var rng = SystemRandomNumberGenerator()
        let layer = try Dense(12, 5, maxBatch: 3, on: device, rng: &rng)
        let e = try check.maxError(layer, input: try input([3, 12], &check))
        #expect(e < 2e-2, "relative error \(e)")
    }

    @Test("Activations", arguments: [ActivationKind.sigmoid, .tanh, .softplus, .leakyReLU(0.1), .relu, .identity])
    func activation(kind: ActivationKind) throws {
        var check = GradientCheck()
        let layer = try Activation(kind, shape: [10], maxBatch: 2, on: device)
        // Keep inputs away from ReLU's kink, where differences straddle it.
        var x = check.randoms(20).map { $0 + ($0 >= 0 ? 0.05 : -0.05) }
        x[0] = 0.5
        let e = try check.maxError(layer, input: try Tensor([2, 10], values: x, on: device), h: 1e-3)
        #expect(e < 2e-2, "relative error \(e)")
    }

    @Test("Sequential chains backward through every layer") func sequential() throws {
        var check = GradientCheck()
        var rng = SystemRandomNumberGenerator()
        let ws = Workspace(device: device)
        let conv = try Conv2D(input: [2, 8, 8], outChannels: 3, kernel: 4, stride: 2, padding: 1, maxBatch: 2,
                              workspace: ws, rng: &rng)
        let act = try Activation(.tanh, shape: conv.outputShape, maxBatch: 2, on: device)
        let dense = try Dense(3 * 4 * 4, 6, maxBatch: 2, on: device, rng: &rng)
        let net = Sequential([conv, act, dense])
        let e = try check.maxError(net, input: try input([2, 2, 8, 8], &check))
        #expect(e < 2e-2, "relative error \(e)")
    }
}
