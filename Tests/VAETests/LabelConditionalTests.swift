import Foundation
import Testing
import ImageIO
import NN
import TestSupport
@testable import VAE

/// Gray 8x8 shapes with their kinds as labels (6 classes).
func labeledShapes(_ count: Int, seed: UInt64 = 3) -> ImageSet {
    let set = Fixtures.shapes(count, seed: seed)
    return ImageSet(count: count, channels: 1, height: 8, width: 8, pixels: set.pixels,
                    labels: ImageSet.shapes(count: count, channels: 1, height: 8, width: 8, seed: seed).labels)
}

@Suite("The label-conditional VAE")
struct LabelConditionalTests {
    static let classes = ShapeKind.allCases.count

    @Test("a linear model's statistics and decoder output are W [x; planes(y)] + b and W [z; onehot(y)] + b")
    func inputsJoinTheLabel() throws {
        let device = try Fixtures.device()
        let config = ModelConfig(arch: "custom", channels: 1, height: 8, width: 8, widths: [], latent: 3,
                                 likelihood: .gaussian, classes: Self.classes)
        let model = try ConvVAE(config, device: device, maxBatch: 4, seed: 5)
        let data = labeledShapes(3)
        let labels = data.labels!
        try data.pixels.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: 3) }
        try model.setLabels(count: 3) { labels[$0] }
        let stats = try model.encode(batch: 3).read()
        let head = model.encoder.parameters, D = 64, inputs = D * (1 + Self.classes)
        let w = try head[0].value.read(), b = try head[1].value.read()
        for i in 0..<3 {
            for o in 0..<6 {
                var s = Double(b[o])
                for k in 0..<D { s += Double(w[o * inputs + k]) * Double(data.pixels[i * D + k]) }
                // Plane y of the K class planes (after the image's channel) is ones.
                for k in 0..<D { s += Double(w[o * inputs + D * (1 + labels[i]) + k]) }
                #expect(abs(Double(stats[i * 6 + o]) - s) < 1e-4, "image \(i) output \(o): \(stats[i * 6 + o]) vs \(s)")
            }
        }
        var rng = TestRandom(seed: 8)
        let zValues = rng.signed(6)
        try model.setLabels(count: 2) { [4, 1][$0] }
        let out = try model.decode(try model.latent.set(zValues[...])).read()
        let proj = model.decoder.parameters, pw = try proj[0].value.read(), pb = try proj[1].value.read()
        let width = 3 + Self.classes
        for i in 0..<2 {
            for o in [0, 17, 63] {
                var s = Double(pb[o]) + Double(pw[o * width + 3 + [4, 1][i]])
                for j in 0..<3 { s += Double(pw[o * width + j]) * Double(zValues[i * 3 + j]) }
                #expect(abs(Double(out[i * D + o]) - s) < 1e-5, "decoded \(i), pixel \(o): \(out[i * D + o]) vs \(s)")
            }
        }
    }

    @Test("the loss gradient of a convolutional label-conditional model matches finite differences")
    func gradients() throws {
        let device = try Fixtures.device()
        var config = Fixtures.tinyConfig(.gaussian)
        config.classes = Self.classes
        let model = try ConvVAE(config, device: device, maxBatch: 4, seed: 12)
        try model.likelihood.scale?.value.fill(0)
        let report = try LossGradientTests.check(model, data: labeledShapes(4), seed: 2)
        #expect(report.agrees(within: 2e-2), "\(report)")
    }

    @Test("a trained run records its classes, samples each label and evaluates given the labels only")
    func trainSampleEvaluate() throws {
        let dir = TemporaryDirectory()
        var config = RunConfig(model: Fixtures.tinyConfig(), training: Fixtures.options(epochs: 2))
        config.model.classes = Self.classes
        let trainer = try Fixtures.train(config, directory: dir.path, train: labeledShapes(64),
                                         validation: labeledShapes(8, seed: 7))
        #expect(trainer.history.last?.valLoss.isFinite == true)
        let (model, loaded) = try ConvVAE.load(from: dir.path, device: try Fixtures.device(), maxBatch: 16)
        #expect(loaded.model.classes == Self.classes)
        // The same z decoded with two labels gives two images; with one label, the same image.
        let a = try model.sample(count: 2, seed: 4, labels: [0, 0]), b = try model.sample(count: 2, seed: 4, labels: [5, 5])
        #expect(a[0].pixels != b[0].pixels)
        #expect(try model.sample(count: 1, seed: 4, labels: [0])[0].pixels == a[0].pixels)
        #expect(throws: VAEError.self) { try model.sample(count: 2, seed: 4) }
        #expect(throws: VAEError.self) { try model.sample(count: 1, seed: 4, labels: [Self.classes]) }
        let r = try Evaluator(model: model).evaluate(labeledShapes(6, seed: 21), iwSamples: 20)
        #expect(r.negativeELBO.isFinite && (r.negativeIWBound ?? .nan) <= r.negativeELBO + 0.05)
        #expect(throws: VAEError.self) { try Evaluator(model: model).evaluate(Fixtures.shapes(6, seed: 21)) }
        let prior = try #require(try model.fitPrior(to: labeledShapes(64), seed: 1, binarize: false))
        #expect(try model.sample(count: 3, seed: 1, prior: prior, labels: [0, 1, 2]).count == 3)
        #expect(FileManager.default.fileExists(atPath: dir.file("config.json")))
    }
}
