import Foundation
import Testing
import ImageIO
import NN
import TestSupport
@testable import VAE

@Suite("The feature network and Frechet distances")
struct FrechetTests {
    @Test("the classifier's gradient matches finite differences of its cross-entropy")
    func classifierGradient() throws {
        let data = labeledShapes(4)
        let config = FeatureNetwork.architecture(channels: 1, height: 8, width: 8, classes: 6)
        let net = try FeatureNetwork(config, device: try Fixtures.device(), maxBatch: 4, seed: 3)
        try net.load(data, 0..<4)
        _ = try net.lossAndGradients(data, 0..<4)
        let targets = try net.parameters.map { (name: $0.name, tensor: $0.value, analytic: try $0.grad.read()) }
        var check = GradientCheck(seed: 4, step: 5e-3)
        let report = try check.compare(targets, samples: 6) {
            try net.load(data, 0..<4)
            return try net.lossAndGradients(data, 0..<4) / 4
        }
        // The first layer's biases move every ReLU of the network: a few kinks fall inside
        // the step, and float32 rounds a loss of ~1.8, so the tolerance is wider than for one layer.
        #expect(report.agrees(within: 5e-2), "\(report)")
    }

    /// 8x8 images of 3 classes: a bright row, a bright column or a bright diagonal, placed at
    /// random, on noise.
    static func bars(_ count: Int, seed: UInt64) -> ImageSet {
        var rng = SplitMix64(seed: seed)
        var pixels: [Float] = [], labels: [Int] = []
        for _ in 0..<count {
            let k = rng.nextInt(below: 3), at = rng.nextInt(below: 8)
            for y in 0..<8 {
                for x in 0..<8 {
                    let on = k == 0 ? y == at : k == 1 ? x == at : (x + y) % 8 == at
                    pixels.append(on ? 0.9 : 0.3 * rng.nextFloat())
                }
            }
            labels.append(k)
        }
        return ImageSet(count: count, channels: 1, height: 8, width: 8, pixels: pixels, labels: labels)
    }

    @Test("the network learns labels it can see")
    func learns() throws {
        let net = try FeatureNetwork.train(on: Self.bars(512, seed: 1), epochs: 10, seed: 2, device: try Fixtures.device())
        let accuracy = try net.accuracy(Self.bars(200, seed: 9))
        #expect(accuracy > 0.9, "accuracy \(accuracy)")
        #expect(try net.evaluate(Self.bars(3, seed: 9)).features.count == 3 * FeatureNetwork.featureSize)
    }

    @Test("the store saves the network with cached statistics and refuses other data")
    func storeRoundTrip() throws {
        let dir = TemporaryDirectory()
        let spec = DataSpec.shapes(count: 300)
        let store = try FeatureNetworkStore.open(dir.path, data: spec, channels: 1, height: 8, width: 8, epochs: 1,
                                                 device: try Fixtures.device())
        let reopened = try FeatureNetworkStore.open(dir.path, data: spec, channels: 1, height: 8, width: 8,
                                                    device: try Fixtures.device())
        let images = try spec.load(split: .test, channels: 1, height: 8, width: 8, seed: 1)
        #expect(try store.network.evaluate(images).features == reopened.network.evaluate(images).features)
        let computed = try store.statistics(split: .test, limit: 40)
        let cached = try reopened.statistics(split: .test, limit: 40)
        #expect(FileManager.default.fileExists(atPath: dir.file("statistics-test-40.safetensors")))
        #expect(computed == cached, "the first evaluation uses the statistics as saved")
        // They are the moments of the network's features, up to float32 rounding.
        let direct = try store.featureMoments(images.subset(0..<min(40, images.count)))
        #expect(zip(direct.covariance, cached.covariance).allSatisfy { abs($0 - $1) <= 1e-6 * max(1e-3, abs($0)) })
        #expect(abs(try LinearAlgebra.frechetDistance(direct, cached)) < 1e-4)
        #expect(throws: VAEError.self) {
            try FeatureNetworkStore.open(dir.path, data: .shapes(count: 700), channels: 1, height: 8, width: 8,
                                         device: try Fixtures.device())
        }
        #expect(throws: VAEError.self) {
            try FeatureNetworkStore.open(dir.path, data: spec, channels: 3, height: 8, width: 8, device: try Fixtures.device())
        }
    }
}
