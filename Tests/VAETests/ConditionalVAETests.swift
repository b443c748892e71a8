import Foundation
import ImageIO
import NN
import Testing
import TestSupport
@testable import VAE

@Suite("Conditional VAE: gradients, training, checkpoints", .serialized)
struct ConditionalVAETests {
    /// A small model; `deep`: with one residual block per stage in every path.
    static func config(channels: Int = 1, likelihood: Likelihood = .gaussian, deep: Bool = false) -> ModelConfig {
        var config = ModelConfig(arch: "custom", channels: channels, height: 8, width: 8, widths: [3, 4], latent: 2,
                                 likelihood: likelihood)
        if deep {
            config.family = .deep
            config.deep = DeepOptions(blocks: 1, groups: [])
        }
        return config
    }

    /// A model with a loaded batch of random targets and conditions.
    func loadedModel(_ task: ConditionalTask, likelihood: Likelihood, batch: Int, deep: Bool = false,
                     headKernel: Int = 1, device name: String = "cpu") throws -> ConditionalVAE {
        let device = try Device(name, threads: 1)
        let model = try ConditionalVAE(Self.config(channels: task == .colorize ? 3 : 1, likelihood: likelihood, deep: deep),
                                       task: task, device: device, maxBatch: batch, seed: 11, headKernel: headKernel)
        if let scale = model.likelihood.scale { try scale.value.fill(-1) }
        let images = ImageSet.shapes(count: batch, channels: task == .colorize ? 3 : 1, height: 8, width: 8, seed: 2)
        let rows = ConditionalBatch(task: task, channels: images.channels, height: 8, width: 8, capacity: batch,
                                    masks: task == .inpaint ? MaskGenerator(kinds: [.boxes, .strokes]) : nil)
        rows.fill(from: images, indices: 0..<batch) { i, _ in SplitMix64(seed: UInt64(i + 1)) }
        try model.load(rows)
        return model
    }

    @Test("the loss gradient matches finite differences in every network, on both halves of the objective",
          arguments: [(ConditionalTask.inpaint, Likelihood.gaussian, false, false, 1), (.colorize, .gaussian, false, false, 1),
                      (.inpaint, .bernoulli, false, false, 1), (.inpaint, .gaussian, true, false, 1),
                      (.colorize, .gaussian, true, false, 1), (.inpaint, .gaussian, false, true, 1),
                      (.colorize, .gaussian, true, true, 1), (.inpaint, .gaussian, false, false, 3)])
    func gradientCheck(task: ConditionalTask, likelihood: Likelihood, priorPath: Bool, deep: Bool, headKernel: Int) throws {
        let b = 3
        let model = try loadedModel(task, likelihood: likelihood, batch: b, deep: deep, headKernel: headKernel)
        #expect(model.head.weight.value.shape.last == headKernel)
        if deep {
            // Residual blocks in the posterior, the prior network and the decoder.
            for part in ["posterior.stage1.block0", "prior.stage0.block0", "decoder.stage1.block0"] {
                #expect(model.parameters.contains { $0.name.hasPrefix(part) }, "no \(part)")
            }
        }
        let seed: UInt64 = 5, firstRow: UInt64 = 17, beta: Float = 0.7
        func loss() throws -> Double {
            if priorPath { return try model.evaluatePriorPath(seed: seed, firstRow: firstRow) / Double(b) }
            let s = try model.evaluateBatch(seed: seed, firstRow: firstRow)
            return (s.reconstruction + Double(beta) * s.kl) / Double(b)
        }
        if priorPath {
            _ = try model.priorPathLossAndGradients(seed: seed, firstRow: firstRow)
            for p in model.posteriorEncoder.parameters { #expect(try p.grad.sumOfSquares() == 0) }
        } else {
            _ = try model.lossAndGradients(StepSettings(beta: beta), seed: seed, firstRow: firstRow)
        }
        let posteriorNames = Set(model.posteriorEncoder.parameters.map(\.name))
        let targets = try model.parameters.filter { !(priorPath && posteriorNames.contains($0.name)) }
            .map { (name: $0.name, tensor: $0.value, analytic: try $0.grad.read()) }
        var check = GradientCheck(seed: 3, step: 1e-3)
        let report = try check.compare(targets, samples: 6, loss: loss)
        #expect(report.agrees(within: 2e-2), "\(report)")
    }

    @Test("inpainting scores the missing pixels alone: observed target values do not move the loss")
    func inpaintingLossCountsMissingPixels() throws {
        let model = try loadedModel(.inpaint, likelihood: .gaussian, batch: 3)
        let weights = try model.weight!.read(), targets = try model.target.read()
        let observed = weights.indices.filter { weights[$0] == 0 }, missing = weights.indices.filter { weights[$0] == 1 }
        #expect(!observed.isEmpty && !missing.isEmpty && observed.count + missing.count == weights.count)
        // On the prior path the target enters through the likelihood alone (the posterior, which
        // sees the whole target, takes no part); the condition carries the observed pixels.
        let base = try model.evaluatePriorPath(seed: 1, firstRow: 0)
        var changed = targets
        for i in observed { changed[i] = 1 - changed[i] }
        try model.target.write(changed)
        #expect(try model.evaluatePriorPath(seed: 1, firstRow: 0) == base)
        changed = targets
        changed[missing[0]] += 0.5
        try model.target.write(changed)
        #expect(try model.evaluatePriorPath(seed: 1, firstRow: 0) != base)
    }

    @Test("mirroring flips about half the rows left-right and leaves masks and the rest alone", arguments: ConditionalTask.allCases)
    func mirroredRows(task: ConditionalTask) throws {
        let n = 64, w = 8, h = 8
        let images = ImageSet.shapes(count: n, channels: task == .colorize ? 3 : 1, height: h, width: w, seed: 6)
        func rows(mirror: Bool) -> ConditionalBatch {
            let rows = ConditionalBatch(task: task, channels: images.channels, height: h, width: w, capacity: n,
                                        masks: task == .inpaint ? MaskGenerator(kinds: [.boxes]) : nil)
            rows.fill(from: images, indices: 0..<n, mirror: mirror) { i, _ in SplitMix64(seed: UInt64(i + 1)) }
            return rows
        }
        let plain = rows(mirror: false), mirrored = rows(mirror: true)
        let item = plain.targetItem, plane = w * h
        var flipped = 0
        for r in 0..<n {
            let a = Array(UnsafeBufferPointer(start: plain.targets + r * item, count: item))
            let b = Array(UnsafeBufferPointer(start: mirrored.targets + r * item, count: item))
            // The mirror image of row a: every plane's rows reversed.
            let flip = (0..<item).map { i in a[i - i % w + (w - 1 - i % w)] }
            #expect(b == a || b == flip, "row \(r) is neither the image nor its mirror")
            if b != a { flipped += 1 }
            if task == .inpaint {
                #expect(Array(UnsafeBufferPointer(start: plain.weights! + r * item, count: plane))
                        == Array(UnsafeBufferPointer(start: mirrored.weights! + r * item, count: plane)))
            }
        }
        #expect(flipped > n / 4 && flipped < 3 * n / 4, "\(flipped) of \(n) rows flipped")
    }

    /// The devices here: the CPU, and OpenCL where a device is installed.
    static let devices = ["cpu"] + ((try? Device("opencl", threads: 1)) != nil ? ["opencl"] : [])

    @Test("a best-of-K prior-path step trains each image on the draw whose completion scores lowest",
          arguments: ConditionalTask.allCases, devices)
    func bestOfManyPriorPath(task: ConditionalTask, device: String) throws {
        let b = 8, K = 3, seed: UInt64 = 4, firstRow: UInt64 = 9
        let model = try loadedModel(task, likelihood: .gaussian, batch: b, device: device)
        let L = model.config.latent, streamSeed = Noise.Stream.priorPath.seed(seed)
        // The reference: each draw scored on its own (one-draw passes), the argmin taken on the host.
        var losses: [[Float]] = [], noises: [[Float]] = []
        for k in 0..<K {
            let prior = try model.priorForward()
            try model.latent.draw(from: prior, seed: k == 0 ? streamSeed : Noise.derive(streamSeed, k),
                                  counter: model.latentCounter(firstRow))
            try model.reconstructionLoss(try model.decode())
            losses.append(try model.lastLoss.read())
            noises.append(try model.latent.noise.read())
        }
        let chosen = (0..<b).map { i in (0..<K).min { losses[$0][i] < losses[$1][i] }! }
        #expect(Set(chosen).count > 1, "every image chose the same draw: the check would not tell rows apart")
        _ = try model.priorPathLossAndGradients(seed: seed, firstRow: firstRow, samples: K)
        let noise = try model.latent.noise.read(), loss = try model.lastLoss.read()
        for i in 0..<b {
            #expect(Array(noise[(i * L)..<((i + 1) * L)]) == Array(noises[chosen[i]][(i * L)..<((i + 1) * L)]), "image \(i)")
            #expect(abs(loss[i] - losses[chosen[i]][i]) <= 1e-4 * max(1, abs(loss[i])), "image \(i)")
        }
        // One draw is the plain prior path: its noise is the first draw's.
        _ = try model.priorPathLossAndGradients(seed: seed, firstRow: firstRow, samples: 1)
        #expect(try model.latent.noise.read() == noises[0])
    }

    @Test("the prior's skip connections reach the prior network: every parameter gets a gradient")
    func everyParameterLearns() throws {
        let model = try loadedModel(.inpaint, likelihood: .gaussian, batch: 4)
        _ = try model.lossAndGradients(StepSettings(beta: 1), seed: 1, firstRow: 0)
        for p in model.parameters { #expect(try p.grad.sumOfSquares() > 0, "\(p.name) has no gradient") }
    }

    @Test("a new inpainting model starts at the pre-filled picture: its head passes the condition's filled pixels through",
          arguments: [1, 3])
    func inpaintingStartsAtTheFill(headKernel: Int) throws {
        let device = try Device("cpu", threads: 1)
        let model = try ConditionalVAE(Self.config(channels: 3), task: .inpaint, device: device, maxBatch: 2, seed: 5,
                                       headKernel: headKernel)
        // Keep only the head's center taps from each filled color plane of the condition to its
        // output plane: what the model starts from besides the random taps around them.
        let weights = try model.head.weight.value.read()
        let inputs = model.featureChannels + model.conditionChannels, taps = headKernel * headKernel
        var kept = [Float](repeating: 0, count: weights.count)
        for o in 0..<3 {
            let center = (o * inputs + model.featureChannels + o) * taps + taps / 2
            kept[center] = weights[center]
        }
        try model.head.weight.value.write(kept)
        let images = ImageSet.shapes(count: 2, channels: 3, height: 8, width: 8, seed: 2)
        let rows = ConditionalBatch(task: .inpaint, channels: 3, height: 8, width: 8, capacity: 2,
                                    masks: MaskGenerator(kinds: [.boxes]))
        rows.fill(from: images, indices: 0..<2) { i, _ in SplitMix64(seed: UInt64(i + 1)) }
        try model.load(rows)
        let conditions = Array(try model.condition.read().prefix(2 * model.conditionItem))
        let noise = Noise.normal(count: 2 * model.config.latent, seed: 4, counter: 0)
        let means = try model.sample(conditions: conditions, count: 2, noise: noise)
        // Each condition item is [3 filled color planes; the mask plane].
        let plane = 64, item = model.conditionItem
        var holes = 0, largest: Float = 0
        for i in 0..<2 {
            holes += conditions[(i * item + 3 * plane)..<((i + 1) * item)].filter { $0 > 0.5 }.count
            for v in 0..<3 * plane {
                largest = max(largest, abs(means[i * 3 * plane + v] - conditions[i * item + v]))
            }
        }
        #expect(holes > 0, "the masks left no holes to fill")
        #expect(largest < 1e-6, "the means differ from the filled pixels by up to \(largest)")
    }

    @Test("the completion temperature scales the latent noise: 0 decodes the prior's mean, so every sample agrees")
    func completionTemperature() throws {
        let model = try loadedModel(.inpaint, likelihood: .gaussian, batch: 2)
        let conditions = Array(try model.condition.read().prefix(2 * model.conditionItem))
        let first = try model.complete(conditions: conditions, count: 2, sample: 0, seed: 3)
        let second = try model.complete(conditions: conditions, count: 2, sample: 1, seed: 3)
        #expect(zip(first, second).contains { abs($0 - $1) > 1e-4 }, "samples at temperature 1 should differ")
        model.temperature = 0.5
        let half = try model.complete(conditions: conditions, count: 2, sample: 0, seed: 3)
        // The reference: the same draw with its noise row halved by hand.
        let L = model.config.latent
        let row = Noise.normal(count: L, seed: Noise.Stream.conditionalLatent.seed(3), counter: 0).map { $0 * 0.5 }
        let reference = try model.sample(conditions: conditions, count: 2, noise: row + row)
        #expect(half == reference)
        model.temperature = 0
        let a = try model.complete(conditions: conditions, count: 2, sample: 0, seed: 3)
        let b = try model.complete(conditions: conditions, count: 2, sample: 5, seed: 9)
        #expect(a == b)
        #expect(a == (try model.sample(conditions: conditions, count: 2, noise: [Float](repeating: 0, count: 2 * L))))
    }

    @Test("a few epochs of training lower the loss and write a run directory with a report", arguments: ConditionalTask.allCases)
    func endToEnd(task: ConditionalTask) throws {
        let device = try Device("cpu", threads: 2)
        let channels = task == .colorize ? 3 : 1
        let data = ImageSet.shapes(count: 96, channels: channels, height: 8, width: 8, seed: 4)
        let (train, validation) = data.split(validationFraction: 0.25, seed: 1)
        var t = TrainingOptions()
        t.data = "shapes"
        t.batch = 24
        t.epochs = 6
        t.learningRate = 3e-3
        t.cosineDecay = true
        t.seed = 2
        var config = RunConfig(model: Self.config(channels: channels), training: t, task: task == .inpaint ? .inpaint : .colorize)
        // Inpainting trains its prior path on the best of 3 draws and completes cooler.
        config.conditional = task == .inpaint
            ? ConditionalOptions(masks: try MaskGenerator(parsing: "center,boxes"), priorPathSamples: 3, temperature: 0.5)
            : ConditionalOptions()
        let temporary = TemporaryDirectory(), dir = temporary.path
        let trainer = try Fixtures.train(config, directory: dir, device: device, train: train, validation: validation)
        let state = trainer.state
        let trainingCount = (trainer.family as! ConditionalTraining).trainingCount
        // Colorization leaves out the pictures without color (a white figure on gray).
        let steps = 6 * (trainingCount / 24)
        #expect(trainingCount == (task == .colorize ? Colorization.colorImages(in: train).count : 72))
        #expect(state.finished && state.step == steps, "step \(state.step)")
        // The last step ran at the cosine schedule's rate for step steps - 1.
        let lastRate = 3e-3 * 0.5 * (1 + cos(Double.pi * Double(steps - 1) / Double(steps)))
        #expect(abs(Double(trainer.optimizer.learningRate) - lastRate) < 1e-9)
        let history = trainer.history
        #expect(history.count == 6)
        // Held-out loss on fixed masks: an epoch's training loss moves with its masks' sizes (the
        // loss counts missing pixels), and an inpainting model starts at harmonic fill.
        #expect(history.last!.valLoss < history.first!.valLoss)
        #expect(history.allSatisfy { $0.valLoss.isFinite })
        try Report.writeConditionalRun(model: trainer.conditional, config: config, history: history, state: state,
                                       heldOut: (0..<8).map { validation.image(at: $0) },
                                       directory: dir, samples: 3)
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        #expect(html.contains("samples, ground truth") || html.contains("colorizations, ground truth"))
        // The checkpoint loads back for its task only.
        let (loaded, _) = try ConditionalVAE.load(from: dir, task: task, device: device)
        #expect(try loaded.parameters.last!.value.read() == trainer.conditional.parameters.last!.value.read())
        // The run's completion temperature, unless a completion asks for another.
        let temperature: Float = task == .inpaint ? 0.5 : 1
        #expect(loaded.temperature == temperature && trainer.conditional.temperature == temperature)
        let kept = try CompletionMethod.auto.completer(checkpoint: dir, task: task, iterations: 1, device: device).0
        let asked = try CompletionMethod.auto.completer(checkpoint: dir, task: task, iterations: 1, temperature: 0.3,
                                                        device: device).0
        #expect((kept as? ConditionalVAE)?.temperature == temperature && (asked as? ConditionalVAE)?.temperature == 0.3)
        let other: ConditionalTask = task == .inpaint ? .colorize : .inpaint
        #expect(throws: VAEError.self) { try ConditionalVAE.load(from: dir, task: other, device: device) }
    }

    @Test("new runs record their head (colorization 1x1, inpainting 3x3); a config without it reads as 3x3; other sizes are refused")
    func headKernelInConfig() throws {
        var request = TrainingRequest()
        request.task = .inpaint
        request.data = .shapes(count: 8)
        request.architecture = .cifar
        #expect(try request.resolve().conditional?.headKernel == 3)
        request.task = .colorize
        let config = try request.resolve()
        #expect(config.conditional?.headKernel == 1 && config.conditional?.headKernelSize == 1)
        var json = try #require(String(data: JSONEncoder().encode(config), encoding: .utf8))
        json = json.replacingOccurrences(of: "\"headKernel\":1", with: "\"headKernelGone\":1")
        let old = try JSONDecoder().decode(RunConfig.self, from: Data(json.utf8))
        #expect(old.conditional?.headKernel == nil && old.conditional?.headKernelSize == 3)
        var wrong = config
        wrong.conditional?.headKernel = 2
        #expect(throws: VAEError.self) { try wrong.check() }
        try config.check()
    }
}
