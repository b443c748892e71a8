import Foundation
import Testing
import ImageIO
import NN
import TestSupport
@testable import VAE

@Suite("Likelihood bounds")
struct EvaluationTests {
    @Test("ELBO <= importance-weighted bound <= log p(x) from the grid, for a 2-D latent")
    func boundsAreOrdered() throws {
        let dir = TemporaryDirectory()
        var config = RunConfig(model: Fixtures.tinyConfig(latent: 2), training: Fixtures.options(epochs: 4))
        config.training.batch = 32
        let trainer = try Fixtures.train(config, directory: dir.path, train: Fixtures.shapes(256),
                                         validation: Fixtures.shapes(8, seed: 7))
        let evaluator = Evaluator(model: trainer.vae)
        let r = try evaluator.evaluate(Fixtures.shapes(6, seed: 21), iwSamples: 500, grid: 120)
        let elbo = -r.negativeELBO, iw = -(r.negativeIWBound ?? .nan), grid = -(r.negativeLogLikelihoodGrid ?? .nan)
        #expect(elbo <= iw + 0.05, "ELBO \(elbo) vs IW \(iw)")
        #expect(iw <= grid + 0.05, "IW \(iw) vs grid \(grid)")
        #expect(grid - elbo < 50, "the bounds should be close: ELBO \(elbo), grid \(grid)")
        #expect(r.bitsPerDim > 0)
    }

    @Test("The IW bound under a fitted prior equal to N(0, I) is the standard bound")
    func fittedPriorBoundAgrees() throws {
        let dir = TemporaryDirectory()
        let config = RunConfig(model: Fixtures.tinyConfig(latent: 3), training: Fixtures.options(epochs: 2))
        let train = Fixtures.shapes(128)
        let trainer = try Fixtures.train(config, directory: dir.path, train: train, validation: Fixtures.shapes(8, seed: 7))
        var evaluator = Evaluator(model: trainer.vae)
        evaluator.fittedPrior = FittedPrior(mixture: GaussianMixture(weights: [0.5, 0.5], means: [Double](repeating: 0, count: 6),
                                                                     scales: [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1], dimension: 3))
        let same = try evaluator.evaluate(Fixtures.shapes(4, seed: 21), iwSamples: 50)
        let fitted = try #require(same.negativeIWBoundFittedPrior), standard = try #require(same.negativeIWBound)
        #expect(abs(fitted - standard) < 1e-6 * abs(standard))
        evaluator.fittedPrior = try trainer.vae.fitPrior(to: train, seed: 1, binarize: false)
        #expect(try evaluator.evaluate(Fixtures.shapes(4, seed: 21), iwSamples: 50).negativeIWBoundFittedPrior?.isFinite == true)
    }

    @Test func logSumExpIsStable() {
        #expect(abs(logSumExp([1000, 1000]) - (1000 + Foundation.log(2.0))) < 1e-9)
        #expect(abs(logSumExp([-1000, -1000]) - (-1000 + Foundation.log(2.0))) < 1e-9)
    }
}

