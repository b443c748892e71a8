import Testing
import ImageIO
import NN
import TestSupport
@testable import VAE

@Suite("The VAE loss gradient matches finite differences")
struct LossGradientTests {
    @Test(arguments: [Likelihood.bernoulli, .gaussian, .logistic])
    func fullLoss(likelihood: Likelihood) throws {
        let device = try Fixtures.device()
        let model = try ConvVAE(Fixtures.tinyConfig(likelihood), device: device, maxBatch: 4, seed: 11)
        // A unit pixel scale keeps the float32 loss small enough for finite differences.
        try model.likelihood.scale?.value.fill(likelihood == .gaussian ? 0 : -1)
        let report = try Self.check(model, data: Fixtures.shapes(4), seed: 1)
        #expect(report.agrees(within: 2e-2), "\(report)")
    }

    /// The analytic gradient of the mean loss on `data` (its labels set first for a
    /// label-conditional model) against central differences with fixed noise.
    static func check(_ model: ConvVAE, data: ImageSet, seed: UInt64) throws -> GradientReport {
        let n = data.count
        try data.pixels.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: n) }
        if let labels = data.labels, model.conditioning != nil { try model.setLabels(count: n) { labels[$0] } }
        let settings = StepSettings(beta: 0.7, freeBits: 0, binarize: false)
        try model.lossAndGradients(settings, seed: 9, firstRow: 0)
        let targets = try model.parameters.map { (name: $0.name, tensor: $0.value, analytic: try $0.grad.read()) }
        var check = GradientCheck(seed: seed, step: 5e-3)
        // Mean loss over the batch with fixed noise, as a function of the parameters.
        return try check.compare(targets, samples: 6) {
            let s = try model.evaluateBatch(seed: 9, firstRow: 0)
            return (s.reconstruction + Double(settings.beta) * s.kl) / Double(n)
        }
    }
}
