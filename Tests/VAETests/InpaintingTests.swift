import Foundation
import ImageIO
import NN
import Testing
@testable import VAE

@Suite("Inpainting: baselines, observed pixels kept, imputation")
struct InpaintingTests {
    func ramp(width: Int, height: Int) -> Image {
        var image = Image(width: width, height: height, channels: 3, fill: 0)
        for y in 0..<height {
            for x in 0..<width {
                image[0, y, x] = 0.1 + 0.02 * Float(x)
                image[1, y, x] = 0.9 - 0.015 * Float(y)
                image[2, y, x] = 0.2 + 0.01 * Float(x) + 0.012 * Float(y)
            }
        }
        return image
    }

    func randomImage(width: Int, height: Int, channels: Int = 3, seed: UInt64) -> Image {
        var rng = SplitMix64(seed: seed)
        return Image(width: width, height: height, channels: channels,
                     pixels: (0..<(channels * width * height)).map { _ in rng.nextFloat() })
    }

    @Test("harmonic fill reproduces a linear ramp exactly")
    func harmonicOnARamp() throws {
        let truth = ramp(width: 32, height: 32)
        for kind in ["center", "strokes", "boxes"] {
            var rng = MaskGenerator.generator(seed: 4, index: 0)
            var mask = try MaskGenerator(parsing: kind).mask(width: 32, height: 32, scale: 32, rng: &rng)
            // Keep the border observed: Dirichlet values all round, so the ramp is the solution.
            for i in 0..<32 { for p in [i, 31 * 32 + i, i * 32, i * 32 + 31] { mask.values[p] = 0 } }
            let filled = BaselineFill.harmonic(truth, mask: mask)
            let worst = zip(filled.pixels, truth.pixels).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5, "\(kind): worst error \(worst)")
        }
    }

    @Test func meanFillUsesTheObservedMeanPerChannel() {
        let image = Image(width: 2, height: 2, channels: 1, pixels: [0.2, 0.4, 0.9, 0.6])
        let mask = Mask(width: 2, height: 2, values: [0, 0, 1, 0])
        let filled = BaselineFill.mean(image, mask: mask)
        #expect(abs(filled.pixels[2] - 0.4) < 1e-6)
        #expect(filled.pixels[0] == 0.2 && filled.pixels[3] == 0.6)
    }

    @Test("observed pixels come back bit for bit, at any size, from a conditional model and by imputation")
    func observedPixelsAreExact() throws {
        let device = try Device("cpu", threads: 2)
        let config = ModelConfig(arch: "custom", channels: 3, height: 8, width: 8, widths: [4, 6], latent: 3, likelihood: .gaussian)
        let cvae = try ConditionalVAE(config, task: .inpaint, device: device, maxBatch: 16, seed: 1)
        let vae = try ConvVAE(config, device: device, maxBatch: 16, seed: 2)
        let completers: [TileCompleter] = [cvae, Imputer(model: vae, method: .pseudoGibbs, iterations: 3),
                                           Imputer(model: vae, method: .metropolisWithinGibbs, iterations: 3)]
        for (w, h) in [(19, 11), (8, 8), (5, 3)] {
            let image = randomImage(width: w, height: h, seed: UInt64(w))
            var rng = MaskGenerator.generator(seed: 9, index: w)
            let mask = try MaskGenerator(parsing: "strokes,boxes").mask(width: w, height: h, scale: 8, rng: &rng)
            for completer in completers {
                let out = try Inpainting.complete(image, mask: mask, completer: completer, samples: 2, seed: 3)
                #expect(out.count == 2)
                for result in out {
                    for c in 0..<3 {
                        for p in 0..<(w * h) where mask.values[p] == 0 {
                            #expect(result.pixels[c * w * h + p] == image.pixels[c * w * h + p])
                        }
                    }
                    for v in result.pixels { #expect(v >= 0 && v <= 1) }
                }
            }
        }
    }

    @Test("holes wider than the model's reach are filled coarse to fine, observed pixels still exact")
    func coarseToFine() throws {
        let device = try Device("cpu", threads: 2)
        let config = ModelConfig(arch: "custom", channels: 3, height: 8, width: 8, widths: [4, 6], latent: 3, likelihood: .gaussian)
        let cvae = try ConditionalVAE(config, task: .inpaint, device: device, maxBatch: 32, seed: 1)
        let image = randomImage(width: 64, height: 48, seed: 8)
        var rng = SplitMix64(seed: 1)
        let mask = MaskGenerator(kinds: [.center]).mask(width: 64, height: 48, rng: &rng)
        #expect(Inpainting.distanceToObserved(mask).max()! == 12)
        let out = try Inpainting.complete(image, mask: mask, completer: cvae, samples: 2, seed: 4)
        for result in out {
            for c in 0..<3 {
                for p in 0..<(64 * 48) where mask.values[p] == 0 { #expect(result.pixels[c * 3072 + p] == image.pixels[c * 3072 + p]) }
            }
            for v in result.pixels { #expect(v.isFinite && v >= 0 && v <= 1) }
        }
        // Halving keeps a block observed when any of its pixels is, with their mean.
        let (small, smallMask) = Inpainting.halve(Image(width: 2, height: 2, channels: 1, pixels: [0.2, 0.4, 0.9, 1]),
                                                  mask: Mask(width: 2, height: 2, values: [0, 0, 1, 1]))
        #expect(small.pixels == [Float(0.3)] && smallMask.values == [0])
    }

    @Test func distanceToObserved() {
        let mask = Mask(width: 5, height: 1, values: [0, 1, 1, 1, 1])
        #expect(Inpainting.distanceToObserved(mask) == [0, 1, 2, 3, 4])
        #expect(Inpainting.distanceToObserved(Mask(width: 2, height: 1, values: [1, 1])) == [Int.max, Int.max])
    }

    @Test("Metropolis-within-Gibbs accepts some proposals and rejects others")
    func metropolisAcceptance() throws {
        let device = try Device("cpu", threads: 2)
        let config = ModelConfig(arch: "custom", channels: 1, height: 8, width: 8, widths: [4, 6], latent: 3, likelihood: .bernoulli)
        let vae = try ConvVAE(config, device: device, maxBatch: 16, seed: 2)
        let imputer = Imputer(model: vae, method: .metropolisWithinGibbs, iterations: 20)
        let image = randomImage(width: 8, height: 8, channels: 1, seed: 5)
        var rng = SplitMix64(seed: 1)
        let mask = MaskGenerator(kinds: [.center]).mask(width: 8, height: 8, rng: &rng)
        _ = try Inpainting.complete(image, mask: mask, completer: imputer, samples: 1, seed: 1)
        let rate = try #require(imputer.acceptanceRate)
        #expect(rate > 0 && rate < 1, "acceptance rate \(rate)")
    }

    @Test("a mask of another size is refused with a clear message")
    func maskSizeMismatch() throws {
        let device = try Device("cpu", threads: 1)
        let config = ModelConfig(arch: "custom", channels: 1, height: 8, width: 8, widths: [4], latent: 2, likelihood: .gaussian)
        let cvae = try ConditionalVAE(config, task: .inpaint, device: device, maxBatch: 4, seed: 1)
        let error = #expect(throws: VAEError.self) {
            try Inpainting.complete(Image(width: 8, height: 8, channels: 1), mask: Mask(width: 4, height: 4),
                                    completer: cvae, samples: 1, seed: 1)
        }
        #expect(error?.description.contains("4x4") == true)
    }
}
