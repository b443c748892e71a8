import Foundation
import ImageIO
import NN
import Testing
import TestSupport
@testable import VAE

@Suite("Quantized colors: bins, labels, rebalancing, annealed mean")
struct ChromaBinsTests {
    @Test("labels are the bins of block-mean chroma; the annealed mean of a sure bin is its center")
    func labelsAndMeans() {
        var bins = ChromaBins(perAxis: 8, stride: 2)
        bins.weights = (0..<64).map { Float($0) / 10 }
        for k in [0, 9, 27, 63] {
            let c = bins.center(k)
            #expect(bins.bin(cb: c.cb, cr: c.cr) == k)
        }
        // A 4x2 picture: left block one color, right block another.
        let w = 4, h = 2
        var chroma = [Float](repeating: 0, count: 2 * w * h)
        for y in 0..<h {
            for x in 0..<w {
                chroma[y * w + x] = x < 2 ? 0.1 : 0.7
                chroma[w * h + y * w + x] = x < 2 ? 0.55 : 0.3
            }
        }
        var labels = [Float](repeating: -1, count: 2), weights = labels
        chroma.withUnsafeBufferPointer { c in
            labels.withUnsafeMutableBufferPointer { l in
                weights.withUnsafeMutableBufferPointer { bins.label(chroma: c.baseAddress!, width: w, height: h, labels: l.baseAddress!, weights: $0.baseAddress!) }
            }
        }
        #expect(labels == [Float(bins.bin(cb: 0.1, cr: 0.55)), Float(bins.bin(cb: 0.7, cr: 0.3))])
        #expect(weights == labels.map { bins.weights[Int($0)] })
        // One position whose logits put (almost) all mass on bin 27; another uniform.
        var logits = [Float](repeating: 0, count: 64 * 2)
        logits[27 * 2] = 40
        let out = bins.chroma(logits: logits[...], positions: 2)
        #expect(abs(out[0] - bins.center(27).cb) < 1e-5 && abs(out[2] - bins.center(27).cr) < 1e-5)
        #expect(abs(out[1] - 0.5) < 1e-5 && abs(out[3] - 0.5) < 1e-5)
    }

    @Test("the read-out keeps `rebalancing` of the weights: 0 gives the mean of the distribution before weighting")
    func rebalancedReadOut() throws {
        var bins = ChromaBins(perAxis: 4, stride: 1, temperature: 1)
        bins.weights = (0..<16).map { 0.5 + Float($0 % 5) }
        // A distribution p over the bins, and the logits that a softmax weighted by w fits: log(w p).
        let p = (0..<16).map { Double($0 % 7 + 1) }
        let logits = (0..<16).map { Float(log(Double(bins.weights[$0]) * p[$0])) }
        /// The mean chroma under q(k) ~ p(k) w(k)^kept.
        func expected(_ kept: Double) -> (cb: Double, cr: Double) {
            let q = (0..<16).map { p[$0] * pow(Double(bins.weights[$0]), kept) }, z = q.reduce(0, +)
            return (0..<16).reduce((0, 0)) { acc, k in
                (acc.0 + q[k] / z * Double(bins.center(k).cb), acc.1 + q[k] / z * Double(bins.center(k).cr))
            }
        }
        for (rebalancing, kept) in [(Float?.none, 1.0), (1, 1), (0, 0), (0.5, 0.5)] {
            bins.rebalancing = rebalancing
            let out = bins.chroma(logits: logits[...], positions: 1), e = expected(kept)
            #expect(abs(Double(out[0]) - e.cb) < 1e-5 && abs(Double(out[1]) - e.cr) < 1e-5, "rebalancing \(String(describing: rebalancing))")
        }
        // The choice is checked, and new runs record it.
        bins.rebalancing = 1.5
        #expect(throws: VAEError.self) { try bins.check(height: 4, width: 4) }
        var request = TrainingRequest()
        request.task = .colorize
        request.data = .shapes(count: 8)
        request.architecture = .cifar
        #expect(try request.resolve().conditional?.chroma?.rebalancing == ChromaBins.recipeRebalancing)
    }

    @Test("rebalancing weights have mean 1 under the data's colors and favor rare ones")
    func rebalancing() {
        var histogram = [Double](repeating: 0, count: 16)
        histogram[5] = 900
        histogram[6] = 90
        histogram[15] = 10
        let w = ChromaBins.rebalancingWeights(histogram: histogram, perAxis: 4)
        let expected = zip(histogram, w).reduce(0) { $0 + $1.0 / 1000 * Double($1.1) }
        #expect(abs(expected - 1) < 1e-5)
        #expect(w[15] > w[6] && w[6] > w[5])
    }

    @Test("the conditional model with quantized colors: gradients match finite differences, prior skips included")
    func gradients() throws {
        let device = try Device("cpu", threads: 1)
        var bins = ChromaBins(perAxis: 4, stride: 2)
        bins.weights = (0..<16).map { 0.5 + Float($0) / 16 }
        let config = ModelConfig(arch: "custom", channels: 3, height: 8, width: 8, widths: [3, 4], latent: 2, likelihood: .gaussian)
        let model = try ConditionalVAE(config, task: .colorize, device: device, maxBatch: 3, seed: 4, chroma: bins)
        let images = ImageSet.shapes(count: 3, channels: 3, height: 8, width: 8, seed: 5)
        let rows = ConditionalBatch(task: .colorize, channels: 3, height: 8, width: 8, capacity: 3, masks: nil, chroma: bins)
        rows.fill(from: images, indices: 0..<3) { i, _ in SplitMix64(seed: UInt64(i)) }
        try model.load(rows)
        try model.lossAndGradients(StepSettings(beta: 0.5), seed: 2, firstRow: 0)
        let targets = try model.parameters.map { (name: $0.name, tensor: $0.value, analytic: try $0.grad.read()) }
        var check = GradientCheck(seed: 6, step: 1e-3)
        let report = try check.compare(targets, samples: 6) {
            let s = try model.evaluateBatch(seed: 2, firstRow: 0)
            return (s.reconstruction + 0.5 * s.kl) / 3
        }
        #expect(report.agrees(within: 2e-2), "\(report)")
        for p in model.priorStages.flatMap(\.parameters) { #expect(try p.grad.sumOfSquares() > 0, "\(p.name) has no gradient") }
        // Samples come back as chroma at the image's size.
        let out = try model.complete(conditions: Array(UnsafeBufferPointer(start: rows.conditions, count: 3 * 64)), count: 3,
                                     sample: 0, seed: 1)
        #expect(out.count == 3 * 2 * 64 && out.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test("freeform masks miss 20-30% of a photo")
    func freeformCoverage() {
        let masks = MaskGenerator(kinds: [.freeform])
        for i in 0..<6 {
            var rng = MaskGenerator.generator(seed: 3, index: i)
            let c = masks.mask(width: 160, height: 107, rng: &rng).coverage
            #expect(c >= 0.2 && c <= 0.3, "coverage \(c)")
        }
    }
}
