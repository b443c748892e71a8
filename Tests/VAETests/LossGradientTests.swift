import Testing
import ImageIO
import NN
@testable import VAE

@Suite("The VAE loss gradient matches finite differences")
struct LossGradientTests {
    @Test(arguments: [Likelihood.bernoulli, .gaussian, .logistic])
    func fullLoss(likelihood: Likelihood) throws {
        let device = try Fixtures.device()
        let model = try ConvVAE(Fixtures.tinyConfig(likelihood), device: device, maxBatch: 4, seed: 11)
        // A unit pixel scale keeps the float32 loss small enough for finite differences.
        try model.pixelScale?.value.fill(likelihood == .gaussian ? 0 : -1)
        let data = Fixtures.shapes(4)
        try data.pixels.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: 4) }
        let settings = StepSettings(beta: 0.7, freeBits: 0, binarize: false)
        // Mean loss over the batch with fixed noise, as a function of the parameters.
        func loss() throws -> Double {
            let s = try model.evaluateBatch(seed: 9, counter: 0)
            return (s.reconstruction + Double(settings.beta) * s.kl) / 4
        }
        try model.lossAndGradients(settings, seed: 9, counter: 0)
        var worst = 0.0
        var rng = SplitMix64(seed: 1)
        for p in model.parameters {
            let analytic = try p.grad.read()
            var values = try p.value.read()
            for _ in 0..<min(6, values.count) {
                let i = rng.nextInt(below: values.count)
                let h: Float = 5e-3
                let saved = values[i]
                values[i] = saved + h
                try p.value.write(values)
                let plus = try loss()
                values[i] = saved - h
                try p.value.write(values)
                let minus = try loss()
                values[i] = saved
                try p.value.write(values)
                let numeric = (plus - minus) / Double(2 * h)
                let err = abs(Double(analytic[i]) - numeric) / max(1, abs(numeric))
                if err > worst { worst = err }
                #expect(err < 3e-2, "\(p.name)[\(i)]: analytic \(analytic[i]), numeric \(numeric)")
            }
        }
        #expect(worst < 3e-2)
    }
}
