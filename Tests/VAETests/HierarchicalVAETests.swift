import Foundation
import Testing
import ImageIO
import NN
import TestSupport
@testable import VAE

/// Small deep-family models: 8x8 pictures, stages at 4x4 and 2x2.
extension Fixtures {
    static func deepConfig(_ likelihood: Likelihood = .bernoulli, groups: [Int] = [1, 2], latent: Int = 2,
                           channels: Int = 1) -> ModelConfig {
        var config = ModelConfig(arch: "deep-custom", channels: channels, height: 8, width: 8, widths: [4, 6],
                                 latent: latent, likelihood: likelihood)
        config.family = .deep
        config.deep = DeepOptions(blocks: 1, groups: groups)
        return config
    }
}

@Suite("Hierarchical VAE: loss, bounds, generation, runs")
struct HierarchicalVAETests {
    let device: Device
    init() throws { device = try Fixtures.device() }

    /// A model with its batch loaded from the shapes.
    func model(_ config: ModelConfig, batch: Int, seed: UInt64 = 1) throws -> HierarchicalVAE {
        let model = try HierarchicalVAE(config, device: device, maxBatch: batch, seed: seed)
        let images = Fixtures.shapes(batch, seed: 11)
        var pixels = images.pixels
        if config.channels == 3 { pixels = pixels.flatMap { [$0, 1 - $0, $0 * $0] } }
        try pixels.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: batch) }
        return model
    }

    /// Random prior weights (0.3 x uniform in [-1, 1]), so the posteriors sit off their priors.
    func offsetPriors(_ model: HierarchicalVAE, seed: UInt64) throws {
        var rng = TestRandom(seed: seed)
        for p in model.parameters where p.name.contains("prior") {
            try p.value.write(rng.signed(p.value.count).map { 0.3 * $0 })
        }
    }

    @Test("every parameter's gradient of the whole loss (reconstruction + KL of every group) matches finite differences",
          arguments: [Likelihood.bernoulli, .logistic])
    func gradients(likelihood: Likelihood) throws {
        let config = Fixtures.deepConfig(likelihood, channels: likelihood == .bernoulli ? 1 : 3)
        let model = try model(config, batch: 3)
        // Bring the posteriors off their priors so that every KL term has a gradient.
        try offsetPriors(model, seed: 3)
        let settings = StepSettings(beta: 0.7)
        let sums = try model.lossAndGradients(settings, seed: 5, firstRow: 0)
        let evaluated = try model.evaluateBatch(seed: 5, firstRow: 0)
        #expect(evaluated.groupKL.count == 3 && evaluated.groupKL.allSatisfy { $0 > 0 })
        #expect(abs(evaluated.groupKL.reduce(0, +) - sums.kl) < 1e-9 * max(1, sums.kl))
        #expect(evaluated.reconstruction == sums.reconstruction)
        let targets = try model.parameters.map { (name: $0.name, tensor: $0.value, analytic: try $0.grad.read()) }
        var check = GradientCheck(seed: 9, step: 1e-2)
        let report = try check.compare(targets, samples: 3) {
            let s = try model.evaluateBatch(seed: 5, firstRow: 0)
            return (s.reconstruction + 0.7 * s.kl) / 3
        }
        #expect(report.agrees(within: 2e-3), "\(report)")
    }

    @Test("the importance weights average to the ELBO, and the IW bound lies between the ELBO and the data's cost")
    func importanceWeights() throws {
        let model = try model(Fixtures.deepConfig(), batch: 64)
        try offsetPriors(model, seed: 4)
        // E over draws of log p(x, z) - log q(z | x) is the ELBO: compare the mean of 64 x 40 draws
        // of the weights with the mean of as many ELBO draws (each an analytic KL).
        var meanWeight = 0.0, meanELBO = 0.0
        let draws = 40
        for d in 0..<draws {
            try model.prepareImportanceSampling()
            let w = try model.importanceLogWeights(count: 64, seed: 7, firstRow: UInt64(d * 64),
                                                   fittedPrior: nil).standard
            meanWeight += w.reduce(0, +) / Double(64 * draws)
            let s = try model.evaluateBatch(seed: 8, firstRow: UInt64(d * 64))
            meanELBO -= (s.reconstruction + s.kl) / Double(64 * draws)
        }
        #expect(abs(meanWeight - meanELBO) < 0.02 * abs(meanELBO), "weights \(meanWeight), ELBO \(meanELBO)")

        let data = Fixtures.shapes(6, seed: 12)
        let result = try Evaluator(model: model).evaluate(data, iwSamples: 50)
        let iw = try #require(result.negativeIWBound)
        #expect(iw < result.negativeELBO + 0.5 && iw > 0, "IW \(iw), ELBO \(result.negativeELBO)")
        #expect(result.groups.map(\.name) == ["top", "stage1.group1", "stage0.group0"])
        #expect(result.latent == 2 * 2 * 2 * 2 + 2 * 4 * 4)
    }

    @Test("a fitted prior replaces its group's prior on its coordinates: N(0, I) itself changes nothing; any other changes the weights by its log density ratio")
    func fittedPrior() throws {
        let model = try model(Fixtures.deepConfig(), batch: 16)
        try offsetPriors(model, seed: 4)
        let d = model.groups[0].size
        #expect(d == 2 * 2 * 2)
        // One standard normal component over every coordinate of the top group is N(0, I) itself.
        let identity = (0..<(d * d)).map { $0 / d == $0 % d ? 1.0 : 0.0 }
        let standard = FittedPrior(mixture: GaussianMixture(weights: [1], means: [Double](repeating: 0, count: d),
                                                            scales: identity, dimension: d))
        try model.prepareImportanceSampling()
        let w = try model.importanceLogWeights(count: 16, seed: 3, firstRow: 0, fittedPrior: standard)
        let fitted = try #require(w.fitted)
        for (a, b) in zip(w.standard, fitted) { #expect(abs(a - b) < 1e-9 * max(1, abs(a))) }
        // A mixture over three coordinates of the second group, against normalized densities
        // computed here: the weights move by log p_fit(z_A) - sum over A of log N(z_j; mu_j, var_j).
        let g = 1, L = model.groups[g].size, A = [0, 3, 5]
        let mixture = GaussianMixture(weights: [0.4, 0.6], means: [0.2, -0.1, 0.3, -0.5, 0.4, 0],
                                      scales: [1.1, 0, 0, 0.2, 0.9, 0, -0.1, 0.3, 1.2] + [0.7, 0, 0, 0, 0.8, 0, 0.1, 0, 1.3],
                                      dimension: 3)
        let partial = FittedPrior(mixture: mixture, coordinates: A, dimension: L, group: g)
        let w2 = try model.importanceLogWeights(count: 16, seed: 3, firstRow: 0, fittedPrior: partial)
        let z = try model.groups[g].latent.sample.read(), p = try #require(try model.groups[g].priorStats?.read())
        for r in 0..<16 {
            var expected = mixture.logDensity(A.map { Double(z[r * L + $0]) })
            for j in A {
                let mu = Double(p[r * 2 * L + j]), variance = exp(Double(p[r * 2 * L + L + j])), x = Double(z[r * L + j])
                expected -= -0.5 * log(2 * Double.pi * variance) - (x - mu) * (x - mu) / (2 * variance)
            }
            #expect(abs(try #require(w2.fitted)[r] - w2.standard[r] - expected) < 1e-6 * max(1, abs(w2.standard[r])))
        }
        // Samples put the mixture's draws at its coordinates.
        let images = try model.sample(count: 4, seed: 6, prior: partial)
        let drawn = mixture.sample(count: 4, seed: 6), zs = try model.groups[g].latent.sample.read()
        for r in 0..<4 { for (i, j) in A.enumerated() { #expect(zs[r * L + j] == drawn[r * 3 + i]) } }
        #expect(images.allSatisfy { $0.pixels.allSatisfy { (0...1).contains($0) } })
        #expect(try model.sample(count: 4, seed: 6, prior: partial).map(\.pixels) == images.map(\.pixels))
        // Fitted to codes: of a group the model has, over some of its coordinates.
        let prior = try #require(try model.fitPrior(to: Fixtures.shapes(64), seed: 2, binarize: true))
        #expect(model.groups.indices.contains(prior.group) && prior.dimension == model.groups[prior.group].size)
        #expect(!prior.coordinates.isEmpty)
    }

    @Test("codes decode to the reconstruction; temperature 0 samples are deterministic, others vary")
    func generation() throws {
        let model = try model(Fixtures.deepConfig(), batch: 4)
        let images = (0..<3).map { Fixtures.shapes(3, seed: 13).image(at: $0) }
        let codes = try model.encodeMeans(images)
        #expect(codes.count == 3 * model.codeSize)
        let a = try model.decode(latents: codes), b = try model.reconstruct(images)
        #expect(a.map(\.pixels) == b.map(\.pixels))
        let cold = try model.sample(count: 5, seed: 1, temperatures: [0]), cold2 = try model.sample(count: 5, seed: 2, temperatures: [0])
        #expect(cold.map(\.pixels) == cold2.map(\.pixels))
        let warm = try model.sample(count: 5, seed: 1, temperatures: [1]), warm2 = try model.sample(count: 5, seed: 2, temperatures: [1])
        #expect(warm.map(\.pixels) != warm2.map(\.pixels))
        let path = try model.interpolate(from: images[0], to: images[1], steps: 4, spherical: false)
        #expect(path.count == 4 && path[0].pixels == a[0].pixels)
    }

    func train(_ dir: String, epochs: Int, resume: Bool) throws -> EpochLoop {
        let config = RunConfig(model: Fixtures.deepConfig(), training: Fixtures.options(epochs: epochs))
        return try Fixtures.train(config, directory: dir, train: Fixtures.shapes(64), validation: Fixtures.shapes(16, seed: 99),
                                  resume: resume)
    }

    @Test("a resumed deep run ends with the same weights as an uninterrupted one; the loss falls")
    func resumeIsExact() throws {
        let a = TemporaryDirectory(), b = TemporaryDirectory()
        let straight = try train(a.path, epochs: 3, resume: false)
        _ = try train(b.path, epochs: 1, resume: false)
        _ = try train(b.path, epochs: 3, resume: true)
        let wa = try SafeTensors.decode(try FileIO.readBytes(a.path + "/model.safetensors")).entries
        let wb = try SafeTensors.decode(try FileIO.readBytes(b.path + "/model.safetensors")).entries
        #expect(wa == wb)
        #expect(straight.history.last!.trainLoss < straight.history.first!.trainLoss)
        let (loaded, config) = try loadGenerativeModel(from: a.path, device: device, maxBatch: 4)
        #expect(loaded is HierarchicalVAE && config.model.family == .deep)
    }

    @Test("a checkpoint of one family is refused by the other with one clear line")
    func familyMismatch() throws {
        let deep = TemporaryDirectory(), shallow = TemporaryDirectory()
        _ = try train(deep.path, epochs: 1, resume: false)
        // Imputation needs the shallow family.
        #expect(throws: VAEError.self) { _ = try ConvVAE.load(from: deep.path, device: device, purpose: "imputation needs a shallow VAE") }
        do { _ = try ConvVAE.load(from: deep.path, device: device, purpose: "imputation needs a shallow VAE") } catch {
            #expect("\(error)" == "\(deep.path): holds a deep VAE (vae train --arch deep); imputation needs a shallow VAE")
        }
        // Resuming a shallow run with the deep family's configuration (and the other way round).
        let shallowConfig = RunConfig(model: Fixtures.tinyConfig(), training: Fixtures.options(epochs: 1))
        try Fixtures.train(shallowConfig, directory: shallow.path, train: Fixtures.shapes(32), validation: Fixtures.shapes(8))
        let deepConfig = RunConfig(model: Fixtures.deepConfig(), training: Fixtures.options(epochs: 2))
        #expect(throws: VAEError.self) {
            try Fixtures.train(deepConfig, directory: shallow.path, train: Fixtures.shapes(32), validation: Fixtures.shapes(8),
                               resume: true)
        }
        // Weights of one family loaded into the other name the missing tensor.
        let other = try ConvVAE(Fixtures.tinyConfig(), device: device, maxBatch: 2, seed: 1)
        do {
            try Checkpoint.load(into: other, optimizer: nil, from: deep.path)
            Issue.record("a deep checkpoint loaded into a shallow model")
        } catch {
            #expect("\(error)".contains("another architecture"))
        }
    }

    @Test("a config.json whose deep options do not fit is refused in one line naming it")
    func badDeepConfig() throws {
        let run = TemporaryDirectory()
        _ = try train(run.path, epochs: 1, resume: false)
        var config = try Checkpoint.loadConfig(run.path)
        config.model.deep!.groups = [2]
        try Checkpoint.saveConfig(config, to: run.path)
        // The weights' own record of the model disagrees with the edited file.
        do {
            _ = try loadGenerativeModel(from: run.path, device: device)
            Issue.record("a deep model with one group count for two stages was loaded")
        } catch {
            #expect("\(error)".hasPrefix(run.path + "/config.json: describes") && "\(error)".contains("latent groups [2]"), "\(error)")
        }
        // Without weights, building the model it describes fails on the groups.
        try FileManager.default.removeItem(atPath: run.path + "/model.safetensors")
        do {
            _ = try loadGenerativeModel(from: run.path, device: device)
            Issue.record("a deep model with one group count for two stages was built")
        } catch {
            #expect("\(error)".hasPrefix(run.path + "/config.json: cannot build the model it describes: deep model: groups [2]"), "\(error)")
        }
    }

    @Test("config.json without a family decodes as the shallow family; the deep options round-trip")
    func configCompatibility() throws {
        let old = #"{"arch":"mnist","autoencoder":false,"channels":1,"height":28,"latent":16,"likelihood":"bernoulli","widths":[32,64],"width":28}"#
        let decoded = try JSONDecoder().decode(ModelConfig.self, from: Data(old.utf8))
        #expect(decoded == ModelConfig.presets["mnist"]!)
        #expect(decoded.modelFamily == .vae && decoded.deep == nil)
        let deep = Fixtures.deepConfig()
        let back = try JSONDecoder().decode(ModelConfig.self, from: try JSONEncoder().encode(deep))
        #expect(back == deep)
    }

    @Test("--arch deep sizes stages from the geometry and checks its options")
    func resolveDeep() throws {
        var request = TrainingRequest()
        request.architecture = .deep
        request.data = .shapes(count: 10)
        let shapes = try request.resolve().model
        #expect(shapes.family == .deep && shapes.widths.count >= 1 && shapes.deep!.groups.last! >= 1)
        #expect(ModelConfig.deep(channels: 1, height: 28, width: 28).widths.count == 2)
        #expect(ModelConfig.deep(channels: 3, height: 32, width: 32).widths.count == 3)
        request.groups = [1]
        #expect(throws: VAEError.self) { _ = try request.resolve() }
        request.groups = nil
        request.autoencoder = true
        #expect(throws: VAEError.self) { _ = try request.resolve() }
    }
}
