import Foundation
import Testing
import ImageIO
import NN
import TestSupport
@testable import VAE

/// A tiny VQ-VAE and PixelCNN prior on 8x8 gray shapes.
extension Fixtures {
    static func vqConfig(_ update: VectorQuantizer.CodebookUpdate = .ema, likelihood: Likelihood = .gaussian) -> ModelConfig {
        var m = tinyConfig(likelihood)
        var o = VQOptions()
        o.codes = 5
        o.codeDimension = 3
        o.codebook = update
        m.family = .vqvae
        m.vq = o
        m.arch = "vqvae"
        return m
    }

    static func priorConfig(channels: Int = 8, layers: Int = 2, kernel: Int = 3) -> ModelConfig {
        var m = vqConfig()
        var o = PixelCNNOptions()
        o.channels = channels
        o.layers = layers
        o.kernel = kernel
        m.family = .pixelcnn
        m.pixelcnn = o
        return m
    }
}

@Suite("VQ-VAE and its PixelCNN prior")
struct VQVAETests {
    @Test("the loss's gradients (straight through, commitment, codebook loss) match finite differences")
    func lossGradient() throws {
        let device = try Fixtures.device()
        let model = try VQVAE(Fixtures.vqConfig(.loss), device: device, maxBatch: 4, seed: 11)
        try model.likelihood.scale?.value.fill(0)
        // Codes where the encoder's vectors are, so that several are chosen.
        let data = Fixtures.shapes(4)
        try data.pixels.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: 4) }
        let z0 = try model.encoder.forward(model.target).read()
        try model.quantizer.codebook.value.write(Array(z0.prefix(15)).map { $0 * 1.1 + 0.01 })
        try model.lossAndGradients(binarize: false, seed: 1, firstRow: 0)
        let targets = try model.parameters.map { (name: $0.name, tensor: $0.value, analytic: try $0.grad.read()) }
        let zq0 = try model.quantizer.quantized.read(), indices = try model.quantizer.indices
        let codes0 = try indices.read()
        let beta = Double(model.options.commitment)
        // The surrogate whose exact gradient the estimator is: the decoder sees z + sg(c - z) with
        // the base point's codes; commitment beta |z - sg(c)|^2; codebook |sg(z) - c|^2; over the batch.
        let shift = try Tensor(model.quantizer.quantized.shape, values: zip(zq0, z0).map { $0 - $1 }, on: device)
        let decoderInput = try Tensor(model.quantizer.quantized.shape, on: device)
        let fixedCodes = try Tensor(indices.shape, values: codes0, on: device)
        var check = GradientCheck(seed: 1, step: 5e-3)
        let report = try check.compare(targets, samples: 6) {
            let z = try model.encoder.forward(model.target)
            try decoderInput.copy(from: z)
            try decoderInput.axpby(1, shift, 1)
            let rec = try model.likelihood.loss(try model.decoder.forward(decoderInput), target: model.target).sum()
            let zv = try z.read()
            let c = try model.quantizer.embed(fixedCodes).read()
            var commit = 0.0, book = 0.0
            for i in 0..<zv.count {
                commit += (Double(zv[i]) - Double(zq0[i])) * (Double(zv[i]) - Double(zq0[i]))
                book += (Double(z0[i]) - Double(c[i])) * (Double(z0[i]) - Double(c[i]))
            }
            return (rec + beta * commit + book) / 4
        }
        #expect(report.agrees(within: 2e-2), "\(report)")
    }

    @Test("the PixelCNN never sees the current or a later code")
    func priorIsCausal() throws {
        let device = try Fixtures.device()
        var config = Fixtures.priorConfig()
        config.height = 20
        config.width = 20  // a 5x5 code map
        let prior = try PixelCNN(config, device: device, maxBatch: 2, seed: 3)
        var vqConfig = config
        vqConfig.family = .vqvae
        vqConfig.widths = [4, 6]
        let vq = try VQVAE(vqConfig, device: device, maxBatch: 2, seed: 4)
        var rng = TestRandom(seed: 17)
        try vq.quantizer.codebook.value.write(rng.signed(15))
        let P = 25, K = 5
        let base = (0..<(2 * P)).map { _ in Float(rng.next() % UInt64(K)) }
        func logits(_ maps: [Float]) throws -> [Float] {
            try maps.withUnsafeBufferPointer { try prior.loadCodes($0.baseAddress!, batch: 2) }
            return try prior.forward(try vq.quantizer.embed(prior.labels)).read()
        }
        let reference = try logits(base)
        for position in [0, 7, 12, 24] {
            // Every code from this position on changes: no logit up to it may move.
            var changed = base
            for b in 0..<2 { for p in position..<P { changed[b * P + p] = Float((Int(base[b * P + p]) + 1 + p % 3) % K) } }
            let after = try logits(changed)
            var moved = 0
            for b in 0..<2 { for k in 0..<K { for p in 0...position where after[(b * K + k) * P + p] != reference[(b * K + k) * P + p] { moved += 1 } } }
            #expect(moved == 0, "changing codes from position \(position) on moved \(moved) logits at or before it")
            // ... and the next position does see this one (the test can fail).
            if position < P - 1 {
                let next = position + 1
                let seen = (0..<K).contains { k in after[k * P + next] != reference[k * P + next] }
                #expect(seen, "position \(next) does not see position \(position)")
            }
        }
    }

    @Test("a resumed VQ-VAE run ends with the same weights and moving averages as an uninterrupted one")
    func resumeIsExact() throws {
        let a = TemporaryDirectory(), b = TemporaryDirectory()
        func train(_ dir: String, epochs: Int, resume: Bool) throws -> EpochLoop {
            let config = RunConfig(model: Fixtures.vqConfig(), training: Fixtures.options(epochs: epochs))
            let family = try VQTraining(config: config, device: try Fixtures.device(), train: Fixtures.shapes(64),
                                        validation: Fixtures.shapes(16, seed: 99))
            let loop = try EpochLoop(config: config, directory: dir, family: family, resume: resume,
                                     events: TrainingEvents(log: { _ in }))
            try loop.run()
            return loop
        }
        _ = try train(a.path, epochs: 3, resume: false)
        _ = try train(b.path, epochs: 1, resume: false)
        let resumed = try train(b.path, epochs: 3, resume: true)
        #expect(resumed.state.step == 12)
        let wa = try SafeTensors.decode(try FileIO.readBytes(a.path + "/model.safetensors")).entries
        let wb = try SafeTensors.decode(try FileIO.readBytes(b.path + "/model.safetensors")).entries
        #expect(wa == wb)
        #expect(wa.contains { $0.name == "quantizer.ema_sums" } && wa.contains { $0.name == "quantizer.usage" })
        let header = try String(contentsOfFile: b.path + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        #expect(header.count == 4 && header[0].hasSuffix("val_psnr,val_commitment,val_perplexity,val_codes_used,restarted"))
        #expect(EpochMetrics.read(b.path, upTo: .max).map(\.extras.count) == [5, 5, 5])
        // The prior over its codes trains on the same loop and draws code maps the VQ-VAE decodes.
        let job = try PriorTrainingJob(run: b.path, options: Fixtures.priorConfig().pixelcnn!, training: Fixtures.options(epochs: 1))
        let state = try job.run(on: try Fixtures.device(), events: TrainingEvents(log: { _ in }))
        #expect(state.finished && FileIO.exists(b.path + "/prior/samples.png"))
        let device = try Fixtures.device()
        let (vq, _) = try VQVAE.load(from: b.path, device: device, maxBatch: 8)
        let (prior, _) = try PixelCNN.load(from: b.path + "/prior", device: device, maxBatch: 8)
        let maps = try prior.sample(count: 3, temperature: 0.7, seed: 2, quantizer: vq.quantizer)
        #expect(maps.count == 3 * 4 && maps.allSatisfy { $0 >= 0 && $0 < 5 && $0 == $0.rounded() })
        #expect(try maps == prior.sample(count: 3, temperature: 0.7, seed: 2, quantizer: vq.quantizer))
        let result = try vq.evaluate(Fixtures.shapes(16, seed: 99), binarize: false, seed: 1, prior: prior)
        #expect(result.negativeELBOPrior != nil && result.codesUsed >= 1 && result.psnr > 0)
        #expect(abs(result.negativeELBOUniform - result.reconstruction - 4 * log(5.0)) < 1e-9)
    }

    @Test("config.json without a family is the VAE; with one, the loader names it")
    func families() throws {
        let old = #"{"arch":"mnist","autoencoder":false,"channels":1,"height":28,"latent":16,"likelihood":"bernoulli","widths":[32,64],"width":28}"#
        let config = try JSONDecoder().decode(ModelConfig.self, from: Data(old.utf8))
        #expect(config.modelFamily == .vae && config.vq == nil)
        let tmp = TemporaryDirectory()
        try Checkpoint.saveConfig(RunConfig(model: Fixtures.vqConfig(), training: Fixtures.options(epochs: 1)), to: tmp.path)
        #expect(throws: VAEError.self) { try ConvVAE.load(from: tmp.path, device: try Fixtures.device()) }
        do {
            _ = try ConvVAE.load(from: tmp.path, device: try Fixtures.device())
        } catch let e as VAEError {
            #expect(e.description.contains(tmp.path) && e.description.contains("VQ-VAE"), "\(e)")
        }
    }
}
