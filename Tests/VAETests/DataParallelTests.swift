import Foundation
import ImageIO
import NN
import Testing
import TestSupport
@testable import VAE

/// What makes N ranks train like one process, checked in one process: a step's batch split into
/// shares as the epoch loop splits it among ranks, each share at its own rows of the run, gives
/// the full batch's gradient (their mean) and loss terms (their sum) up to float reassociation,
/// because every image draws the noise, binarization and mask of its row wherever it is computed.
/// The same split with every share at the batch's first row (noise numbered per process) does
/// not, which shows the comparison can fail.
@Suite("Data parallelism: a batch split among ranks is the batch of one process")
struct DataParallelTests {
    struct Outcome {
        var gradient: [Float]
        var sums: LossSums?
    }

    /// Step `step`'s batch of the first `batch` images (in reverse order, as a permutation
    /// gives them): in one call, or in `ranks` shares (numbered by their rows unless
    /// `sameRows`) whose mean gradient and summed terms come back.
    func step(_ config: RunConfig, _ images: ImageSet, ranks: Int, step: Int64, sameRows: Bool = false) throws -> Outcome {
        let device = try Fixtures.device()
        let family: any TrainingFamily = config.task.conditional == nil
            ? try VAETraining(config: config, device: device, train: images, validation: images, ranks: ranks)
            : try ConditionalTraining(config: config, device: device, train: .images(images), validation: .images(images),
                                      ranks: ranks)
        let b = family.batchSize, total = b * ranks
        #expect(total == config.training.batch)
        let order = Array((0..<family.trainingCount).reversed())
        var mean = [Float](), sums: LossSums?
        for r in 0..<ranks {
            let row = UInt64(step) * UInt64(total) + (sameRows ? 0 : UInt64(r * b))
            let s = try family.computeGradients(indices: order[(r * b)..<((r + 1) * b)], firstRow: row, step: step, beta: 0.8)
            let g = try family.checkpointable.parameters.flatMap { try $0.grad.read() }
            mean = mean.isEmpty ? g.map { $0 / Float(ranks) } : zip(mean, g).map { $0 + $1 / Float(ranks) }
            if let s { sums = sums.map { var a = $0; a += s; return a } ?? s }
        }
        return Outcome(gradient: mean, sums: sums)
    }

    /// max |a - b| / max(1e-3, max |a|).
    func difference(_ a: [Float], _ b: [Float]) -> Double {
        let scale = max(1e-3, a.map { Double(abs($0)) }.max() ?? 0)
        return zip(a, b).map { Double(abs($0 - $1)) }.max()! / scale
    }

    func check(_ config: RunConfig, _ images: ImageSet, steps: [Int64]) throws {
        for s in steps {
            let one = try step(config, images, ranks: 1, step: s)
            let split = try step(config, images, ranks: 4, step: s)
            let misnumbered = try step(config, images, ranks: 4, step: s, sameRows: true)
            #expect(difference(one.gradient, split.gradient) < 2e-5, "step \(s): the split batch's gradient differs")
            #expect(difference(one.gradient, misnumbered.gradient) > 1e-3,
                    "step \(s): noise numbered per share gives the same gradient; the comparison cannot fail")
            #expect((one.sums == nil) == (split.sums == nil))
            if let a = one.sums, let b = split.sums {
                #expect(a.images == b.images)
                #expect(abs(a.reconstruction - b.reconstruction) <= 1e-5 * abs(a.reconstruction))
                #expect(abs(a.kl - b.kl) <= 1e-5 * max(abs(a.kl), 1e-3))
            }
        }
    }

    @Test("a plain VAE: binarization and latent noise follow the image", arguments: [Likelihood.bernoulli, .gaussian])
    func plainVAE(likelihood: Likelihood) throws {
        var t = Fixtures.options(epochs: 1, batch: 16)
        t.binarize = likelihood == .bernoulli
        try check(RunConfig(model: Fixtures.tinyConfig(likelihood), training: t), Fixtures.shapes(40), steps: [0, 3])
    }

    @Test("conditional models: masks, mirroring and both halves of the objective follow the image",
          arguments: [RunTask.inpaint, .colorize])
    func conditional(task: RunTask) throws {
        let channels = task == .colorize ? 3 : 1
        let images = ImageSet.shapes(count: 40, channels: channels, height: 8, width: 8, seed: 4)
        var config = RunConfig(model: ConditionalVAETests.config(channels: channels), training: Fixtures.options(epochs: 1, batch: 16),
                               task: task)
        config.conditional = ConditionalOptions(masks: task == .inpaint ? try MaskGenerator(parsing: "boxes,strokes") : nil,
                                                mirror: true)
        // Step 1 trains the prior path, step 2 the ELBO (priorPathEvery 2).
        try check(config, images, steps: [1, 2])
    }

    @Test("the batch must divide among the ranks, and the training set must hold a share for each")
    func batchPerRank() throws {
        var t = TrainingOptions()
        t.batch = 128
        #expect(try t.batch(perRankOf: 4, images: 1000) == 32)
        #expect(try t.batch(perRankOf: 3, images: 100) == 33)  // a small set: 99 of its images per step
        #expect(throws: VAEError.self) { try t.batch(perRankOf: 8, images: 5) }
    }
}
