import Foundation
import Testing
import ImageIO
import NN
import TestSupport
@testable import VAE

/// Training on OpenCL (PoCL here) follows the CPU run, and a checkpoint evaluates the same on either.
@Suite("OpenCL training agrees with the CPU", .serialized)
struct DeviceAgreementTests {
    static let openCL: Device? = try? Device("opencl", threads: 2)

    func train(on device: Device, directory: String) throws -> EpochLoop {
        let model = ModelConfig.presets["mnist"]!
        var options = Fixtures.options(epochs: 3, batch: 32)
        options.binarize = true
        let data = ImageSet.shapes(count: 256, channels: 1, height: 28, width: 28, seed: 4)
        return try Fixtures.train(RunConfig(model: model, training: options), directory: directory, device: device,
                                  train: data, validation: data.subset(0..<32))
    }

    @Test("preset mnist: loss curves within 1% per epoch; one checkpoint, the same ELBO on both devices",
          .enabled(if: openCL != nil, "no OpenCL device here (scripts/setup installs PoCL)"))
    func lossCurvesAgree() throws {
        let a = TemporaryDirectory(), b = TemporaryDirectory()
        let cpuDir = a.path, oclDir = b.path
        let cpu = try train(on: try Device("cpu", threads: 2), directory: cpuDir)
        let ocl = try train(on: Self.openCL!, directory: oclDir)
        for (a, b) in zip(cpu.history, ocl.history) {
            #expect(abs(a.trainLoss - b.trainLoss) / abs(a.trainLoss) < 0.01,
                    "epoch \(a.epoch): cpu \(a.trainLoss), opencl \(b.trainLoss)")
        }
        let data = ImageSet.shapes(count: 64, channels: 1, height: 28, width: 28, seed: 8)
        let (onCPU, _) = try ConvVAE.load(from: oclDir, device: try Device("cpu"), maxBatch: 32)
        let (onOCL, _) = try ConvVAE.load(from: oclDir, device: Self.openCL!, maxBatch: 32)
        let e1 = try Evaluator(model: onCPU, binarize: true).evaluate(data)
        let e2 = try Evaluator(model: onOCL, binarize: true).evaluate(data)
        #expect(abs(e1.negativeELBO - e2.negativeELBO) / e1.negativeELBO < 1e-3, "cpu \(e1.negativeELBO), opencl \(e2.negativeELBO)")
    }

    @Test("deep family: the same weights give the same loss and gradients on both devices",
          .enabled(if: openCL != nil, "no OpenCL device here (scripts/setup installs PoCL)"))
    func deepStepAgrees() throws {
        var results: [(LossSums, [[Float]])] = []
        for device in [try Device("cpu", threads: 2), Self.openCL!] {
            let model = try HierarchicalVAE(Fixtures.deepConfig(), device: device, maxBatch: 8, seed: 3)
            let pixels = Fixtures.shapes(8, seed: 6).pixels
            try pixels.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: 8) }
            let sums = try model.lossAndGradients(StepSettings(beta: 1, binarize: true), seed: 2, firstRow: 0)
            results.append((sums, try model.parameters.map { try $0.grad.read() }))
        }
        let (a, ga) = results[0], (b, gb) = results[1]
        #expect(abs(a.reconstruction - b.reconstruction) < 1e-3 * a.reconstruction && abs(a.kl - b.kl) < 1e-3 * max(a.kl, 1),
                "cpu \(a), opencl \(b)")
        for (x, y) in zip(ga, gb) {
            let scale = max(x.map(abs).max()!, 1e-3)
            #expect(zip(x, y).map { abs($0 - $1) }.max()! < 1e-3 * scale)
        }
    }
}
