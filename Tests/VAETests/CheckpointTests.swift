import Foundation
import Testing
import ImageIO
import NN
@testable import VAE

@Suite("Run directories: save, load, resume, failure")
struct CheckpointTests {
    func train(_ dir: String, epochs: Int, resume: Bool, data: ImageSet? = nil) throws -> Trainer {
        let config = RunConfig(model: Fixtures.tinyConfig(), training: Fixtures.options(epochs: epochs))
        let set = data ?? Fixtures.shapes(64)
        let trainer = try Trainer(config: config, directory: dir, device: try Fixtures.device(), train: set,
                                  validation: Fixtures.shapes(16, seed: 99), resume: resume)
        trainer.log = { _ in }
        try trainer.run()
        return trainer
    }

    func weights(_ dir: String) throws -> [SafeTensors.Entry] {
        try SafeTensors.decode(try FileIO.readBytes(dir + "/model.safetensors")).entries
    }

    @Test("A resumed run ends with the same weights as an uninterrupted one")
    func resumeIsExact() throws {
        let straight = Fixtures.temporaryDirectory(), split = Fixtures.temporaryDirectory()
        _ = try train(straight, epochs: 3, resume: false)
        _ = try train(split, epochs: 1, resume: false)
        let resumed = try train(split, epochs: 3, resume: true)
        #expect(resumed.state.step == 12)
        #expect(try weights(straight) == weights(split))
        let metrics = try String(contentsOfFile: split + "/metrics.csv", encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 4)
    }

    @Test("Weights survive a save and load bit for bit")
    func loadRestoresWeights() throws {
        let dir = Fixtures.temporaryDirectory()
        let trainer = try train(dir, epochs: 1, resume: false)
        let (model, config) = try ConvVAE.load(from: dir, device: try Fixtures.device(), maxBatch: 8)
        #expect(config.model == Fixtures.tinyConfig())
        for (a, b) in zip(trainer.model.parameters, model.parameters) {
            #expect(a.name == b.name)
            #expect(try a.value.read() == b.value.read())
        }
    }

    @Test("A NaN loss stops training with a message and keeps the last good checkpoint")
    func nanKeepsCheckpoint() throws {
        let dir = Fixtures.temporaryDirectory()
        _ = try train(dir, epochs: 1, resume: false)
        let before = try FileIO.readBytes(dir + "/model.safetensors")
        let good = Fixtures.shapes(64)
        var pixels = good.pixels
        for i in stride(from: 0, to: pixels.count, by: 7) { pixels[i] = .nan }
        let poisoned = ImageSet(count: 64, channels: 1, height: 8, width: 8, pixels: pixels)
        #expect(throws: TrainingError.self) { _ = try train(dir, epochs: 2, resume: true, data: poisoned) }
        do { _ = try train(dir, epochs: 2, resume: true, data: poisoned) } catch {
            #expect("\(error)".contains("last good checkpoint"))
        }
        #expect(try FileIO.readBytes(dir + "/model.safetensors") == before)
    }

    @Test("A checkpoint of another architecture is refused with a clear message")
    func otherArchitecture() throws {
        let dir = Fixtures.temporaryDirectory()
        _ = try train(dir, epochs: 1, resume: false)
        var other = Fixtures.tinyConfig()
        other.widths = [8, 6]
        let model = try ConvVAE(other, device: try Fixtures.device(), maxBatch: 4, seed: 1)
        #expect(throws: Checkpoint.Failure.self) { try Checkpoint.load(into: model, optimizer: nil, from: dir) }
        do { try Checkpoint.load(into: model, optimizer: nil, from: dir) } catch {
            #expect("\(error)".contains("shape"))
        }
    }

    @Test("Training writes samples, reconstructions and a self-contained report")
    func report() throws {
        let dir = Fixtures.temporaryDirectory()
        let trainer = try train(dir, epochs: 2, resume: false)
        try Report.writeRun(model: trainer.model, config: trainer.config, history: trainer.history,
                            state: trainer.state, heldOut: Fixtures.shapes(16, seed: 99), directory: dir)
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        #expect(html.contains("<svg"))
        #expect(html.contains("data:image/png;base64,"))
        let samples = try Image.load(dir + "/samples.png")
        #expect(samples.width > 8 * 8)
    }
}

@Suite("Plain autoencoder mode")
struct AutoencoderTests {
    @Test("trains without sampling or KL and reconstructs better than it started")
    func autoencoder() throws {
        var model = Fixtures.tinyConfig()
        model.autoencoder = true
        let config = RunConfig(model: model, training: Fixtures.options(epochs: 6))
        let trainer = try Trainer(config: config, directory: Fixtures.temporaryDirectory(), device: try Fixtures.device(),
                                  train: Fixtures.shapes(128), validation: Fixtures.shapes(16, seed: 99), resume: false)
        trainer.log = { _ in }
        try trainer.run()
        let first = trainer.history.first!, last = trainer.history.last!
        #expect(last.trainKL == 0)
        #expect(last.trainReconstruction < first.trainReconstruction)
        // Deterministic: encoding the same batch twice gives the same loss.
        let a = try Evaluator(model: trainer.model).evaluate(Fixtures.shapes(8, seed: 5))
        let b = try Evaluator(model: trainer.model).evaluate(Fixtures.shapes(8, seed: 5))
        #expect(a.negativeELBO == b.negativeELBO)
    }
}
