import Foundation
import ImageIO
import NN

/// PSNR (dB), SSIM and L1 of completions, averaged over images.
public struct CompletionScores: Codable, Sendable {
    public var psnr: Double
    public var ssim: Double
    public var l1: Double

    public init(psnr: Double = 0, ssim: Double = 0, l1: Double = 0) {
        self.psnr = psnr
        self.ssim = ssim
        self.l1 = l1
    }
}

/// How a set of K samples per image scores.
public struct SampleScores: Codable, Sendable {
    /// The first sample of each image.
    public var first: CompletionScores
    /// Each measure averaged over the K samples.
    public var mean: CompletionScores
    /// Per image and measure, the best of the K samples (highest PSNR and SSIM, lowest L1).
    public var best: CompletionScores
    /// Mean pairwise L1 between the samples of an image, on the scored region.
    public var diversity: Double
    /// Mean colorfulness (Hasler and Suesstrunk) of the samples (colorization only).
    public var colorfulness: Double?
}

/// The outcome of `vae evaluate --task inpaint|colorize`: the model's samples and the baselines,
/// scored on the same images and the same masks.
public struct ConditionalEvaluationResult: Codable, Sendable {
    public var task: String
    /// "conditional", "pseudo-gibbs" or "mwg".
    public var method: String
    public var images: Int
    public var samples: Int
    /// Inpainting: the mask mix and the mean fraction of pixels missing.
    public var maskKind: String?
    public var maskCoverage: Double?
    public var seed: UInt64
    /// Where the scores are taken: "missing pixels" or "whole image".
    public var region: String
    public var model: SampleScores
    /// Baselines by name: "mean fill" and "harmonic fill" (inpainting), "gray" (colorization).
    public var baselines: [String: CompletionScores]
    /// Colorization: mean colorfulness of the ground truth (the gray baseline's is 0).
    public var groundTruthColorfulness: Double?
    /// Colorization: images left out because their ground truth has no color (the gray baseline
    /// would be exact on them, its PSNR unbounded).
    public var grayImagesSkipped: Int?
    /// Pictures at their own size: their mean size, and the mean seconds to complete one with all
    /// its samples; nil for model-sized images.
    public var meanWidth: Double?, meanHeight: Double?, secondsPerPicture: Double?
}

/// Scores a TileCompleter's samples on model-sized images against baselines, with masks drawn
/// from (seed, image index) so that every run, method and baseline sees the same masks.
public struct ConditionalEvaluator {
    public let completer: TileCompleter
    public let samples: Int
    public let seed: UInt64
    /// Inpainting: the masks' mix.
    public let masks: MaskGenerator
    /// The method's name for the report.
    public var method = "conditional"

    public init(completer: TileCompleter, samples: Int, seed: UInt64, masks: MaskGenerator = MaskGenerator(kinds: [.center])) {
        precondition(samples >= 1, "at least one sample")
        self.completer = completer
        self.samples = samples
        self.seed = seed
        self.masks = masks
    }

    /// The mask of image `index` of an evaluation set.
    public func mask(index: Int, width: Int, height: Int) -> Mask {
        var rng = MaskGenerator.generator(seed: seed, index: index)
        return masks.mask(width: width, height: height, rng: &rng)
    }

    /// Evaluates on the first `limit` images (all when nil), which must have the model's size.
    public func evaluate(_ data: ImageSet, limit: Int? = nil, progress: ((Int, Int) -> Void)? = nil) throws
        -> ConditionalEvaluationResult {
        let considered = min(limit ?? data.count, data.count)
        guard considered > 0 else { throw VAEError("no images to evaluate: the data set is empty") }
        // Colorization is scored on pictures that have color.
        let chosen = completer.task == .colorize ? Colorization.colorImages(in: data.subset(0..<considered)) : Array(0..<considered)
        let n = chosen.count
        guard n > 0 else { throw VAEError("none of the \(considered) images has color to score a colorization against") }
        guard data.width == completer.tileWidth, data.height == completer.tileHeight else {
            throw VAEError("the images are \(data.width)x\(data.height), the model's \(completer.tileWidth)x\(completer.tileHeight)")
        }
        let task = completer.task, W = data.width, H = data.height, plane = W * H
        let truths = chosen.map { data.image(at: $0).converted(channels: task == .colorize ? 3 : completer.imageChannels) }
        let C = truths[0].channels
        let masksUsed = task == .inpaint ? (0..<n).map { mask(index: $0, width: W, height: H) } : []
        let lumas = task == .colorize ? truths.map { Colorization.luminance(of: $0) } : []

        // Conditions of every image, then K passes over them in chunks.
        let conditionItem = task.conditionChannels(imageChannels: C) * plane
        var conditions = [Float](repeating: 0, count: n * conditionItem)
        let interpolator = HarmonicInterpolator(width: W, height: H)
        conditions.withUnsafeMutableBufferPointer { out in
            for i in 0..<n {
                let dst = out.baseAddress! + i * conditionItem
                switch task {
                case .inpaint:
                    truths[i].pixels.withUnsafeBufferPointer { x in
                        masksUsed[i].values.withUnsafeBufferPointer { m in
                            Condition.inpainting(image: x.baseAddress!, mask: m.baseAddress!, channels: C,
                                                 interpolator: interpolator, into: dst)
                        }
                    }
                case .colorize:
                    dst.update(from: lumas[i].pixels, count: plane)
                }
            }
        }
        var outputs = [[Image]](repeating: [], count: n)
        let chunk = 256
        for k in 0..<samples {
            for start in stride(from: 0, to: n, by: chunk) {
                let m = min(chunk, n - start)
                let slice = Array(conditions[(start * conditionItem)..<((start + m) * conditionItem)])
                let out = try completer.complete(conditions: slice, count: m, sample: k,
                                                 seed: Noise.derive(seed, start))
                let targetItem = task.targetChannels(imageChannels: C) * plane
                for i in 0..<m {
                    let row = Array(out[(i * targetItem)..<((i + 1) * targetItem)])
                    outputs[start + i].append(compose(row, truth: truths[start + i], mask: masksUsed.isEmpty ? nil : masksUsed[start + i],
                                                      luma: lumas.isEmpty ? nil : lumas[start + i]))
                }
            }
            progress?(k + 1, samples)
        }

        return summarize(outputs: outputs, truths: truths, masks: masksUsed, lumas: lumas, considered: considered)
    }

    /// Evaluates on the first `limit` pictures (all when nil) at their own sizes: each is completed
    /// whole (tiles, coarse to fine) with masks drawn at its size, and timed.
    public func evaluate(_ photos: PhotoSet, limit: Int? = nil, progress: ((Int, Int) -> Void)? = nil) throws
        -> ConditionalEvaluationResult {
        let considered = min(limit ?? photos.count, photos.count)
        guard considered > 0 else { throw VAEError("no pictures to evaluate: the data set is empty") }
        let task = completer.task
        let candidates = (0..<considered).map { photos.photos[$0].converted(channels: task == .colorize ? 3 : completer.imageChannels) }
        let truths = task == .colorize ? candidates.filter { !Colorization.isGray($0) } : candidates
        guard !truths.isEmpty else { throw VAEError("none of the \(considered) pictures has color to score a colorization against") }
        // Every sample of every picture is kept for the scores: checked before any is made.
        do {
            try MemoryLimit.check(truths.reduce(0) { $0 + $1.pixels.count }, samples + 2, 4,
                                  what: "\(samples) sample(s) of \(truths.count) picture(s)", path: "--samples")
        } catch { throw VAEError("\(error)") }
        var outputs: [[Image]] = [], masksUsed: [Mask] = [], lumas: [Image] = []
        var seconds = 0.0
        for (i, truth) in truths.enumerated() {
            let started = Date()
            switch task {
            case .inpaint:
                let mask = self.mask(index: i, width: truth.width, height: truth.height)
                masksUsed.append(mask)
                outputs.append(try Inpainting.complete(truth, mask: mask, completer: completer, samples: samples,
                                                       seed: Noise.derive(seed, i)))
            case .colorize:
                lumas.append(Colorization.luminance(of: truth))
                outputs.append(try Colorization.colorize(truth, completer: completer, samples: samples,
                                                         seed: Noise.derive(seed, i)))
            }
            seconds += Date().timeIntervalSince(started)
            progress?(i + 1, truths.count)
        }
        var result = summarize(outputs: outputs, truths: truths, masks: masksUsed, lumas: lumas, considered: considered)
        let n = Double(truths.count)
        result.meanWidth = truths.reduce(0) { $0 + Double($1.width) } / n
        result.meanHeight = truths.reduce(0) { $0 + Double($1.height) } / n
        result.secondsPerPicture = seconds / n
        return result
    }

    /// Scores K outputs per image against the truth and the baselines.
    func summarize(outputs: [[Image]], truths: [Image], masks masksUsed: [Mask], lumas: [Image], considered: Int)
        -> ConditionalEvaluationResult {
        let task = completer.task, n = truths.count
        // Scores.
        var first = CompletionScores(), mean = CompletionScores(), best = CompletionScores()
        var diversity = 0.0, colorfulness = 0.0, truthColorfulness = 0.0, coverage = 0.0
        var baselineSums: [String: CompletionScores] = [:]
        func add(_ name: String, _ s: CompletionScores) {
            var t = baselineSums[name] ?? CompletionScores()
            t.psnr += s.psnr
            t.ssim += s.ssim
            t.l1 += s.l1
            baselineSums[name] = t
        }
        for i in 0..<n {
            let region = masksUsed.isEmpty ? nil : masksUsed[i]
            let scores = outputs[i].map { score($0, truths[i], region) }
            first.psnr += scores[0].psnr
            first.ssim += scores[0].ssim
            first.l1 += scores[0].l1
            mean.psnr += scores.reduce(0) { $0 + $1.psnr } / Double(samples)
            mean.ssim += scores.reduce(0) { $0 + $1.ssim } / Double(samples)
            mean.l1 += scores.reduce(0) { $0 + $1.l1 } / Double(samples)
            best.psnr += scores.map(\.psnr).max()!
            best.ssim += scores.map(\.ssim).max()!
            best.l1 += scores.map(\.l1).min()!
            diversity += ImageMetrics.diversity(outputs[i], region: region)
            switch task {
            case .inpaint:
                coverage += region!.coverage
                add("mean fill", score(BaselineFill.mean(truths[i], mask: region!), truths[i], region))
                add("harmonic fill", score(BaselineFill.harmonic(truths[i], mask: region!), truths[i], region))
            case .colorize:
                colorfulness += outputs[i].reduce(0) { $0 + ImageMetrics.colorfulness($1) } / Double(samples)
                truthColorfulness += ImageMetrics.colorfulness(truths[i])
                add("gray", score(lumas[i].toRGB(), truths[i], nil))
            }
        }
        let N = Double(n)
        func average(_ s: CompletionScores) -> CompletionScores { CompletionScores(psnr: s.psnr / N, ssim: s.ssim / N, l1: s.l1 / N) }
        return ConditionalEvaluationResult(
            task: task.rawValue, method: method, images: n, samples: samples,
            maskKind: task == .inpaint ? masks.description : nil, maskCoverage: task == .inpaint ? coverage / N : nil,
            seed: seed, region: task == .inpaint ? "missing pixels" : "whole image",
            model: SampleScores(first: average(first), mean: average(mean), best: average(best), diversity: diversity / N,
                                colorfulness: task == .colorize ? colorfulness / N : nil),
            baselines: baselineSums.mapValues(average),
            groundTruthColorfulness: task == .colorize ? truthColorfulness / N : nil,
            grayImagesSkipped: task == .colorize ? considered - n : nil)
    }

    /// The final picture from a model output: observed pixels kept (inpainting), or the
    /// luminance kept (colorization).
    func compose(_ output: [Float], truth: Image, mask: Mask?, luma: Image?) -> Image {
        if let luma { return Image.fromLuma(luma, chroma: output) }
        var pixels = truth.pixels
        let plane = truth.planeSize
        for c in 0..<truth.channels {
            for p in 0..<plane where mask!.values[p] > 0.5 { pixels[c * plane + p] = min(max(output[c * plane + p], 0), 1) }
        }
        return Image(width: truth.width, height: truth.height, channels: truth.channels, pixels: pixels)
    }

    func score(_ image: Image, _ truth: Image, _ region: Mask?) -> CompletionScores {
        CompletionScores(psnr: ImageMetrics.psnr(image, truth, region: region), ssim: ImageMetrics.ssim(image, truth, region: region),
                         l1: ImageMetrics.l1(image, truth, region: region))
    }
}
