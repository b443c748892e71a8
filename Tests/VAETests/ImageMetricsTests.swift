import Foundation
import ImageIO
import Testing
@testable import VAE

@Suite("PSNR, SSIM, L1, colorfulness and diversity against hand-computed values")
struct ImageMetricsTests {
    @Test func psnrAndL1() {
        let a = Image(width: 2, height: 2, channels: 1, pixels: [0, 0, 0, 0])
        let b = Image(width: 2, height: 2, channels: 1, pixels: [0.1, 0.1, 0.1, 0.1])
        // MSE 0.01 -> 20 dB.
        #expect(abs(ImageMetrics.psnr(a, b) - 20) < 1e-5)
        #expect(abs(ImageMetrics.l1(a, b) - 0.1) < 1e-7)
        // Only the region counts: one pixel off by 0.5 -> MSE 0.25 -> 6.0206 dB.
        let c = Image(width: 2, height: 2, channels: 1, pixels: [0, 0.5, 0, 0])
        let region = Mask(width: 2, height: 2, values: [0, 1, 0, 0])
        #expect(abs(ImageMetrics.psnr(a, c, region: region) - 10 * log10(4)) < 1e-9)
        #expect(abs(ImageMetrics.l1(a, c, region: region) - 0.5) < 1e-7)
        #expect(ImageMetrics.psnr(a, a) == 100)
    }

    @Test func ssimOfConstantsAndOfItself() {
        // Constant images: no variance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1).
        let a = Image(width: 12, height: 12, channels: 1, fill: 0.2), b = Image(width: 12, height: 12, channels: 1, fill: 0.6)
        let c1 = 0.0001, x = 0.2, y = 0.6
        let expected = (2 * x * y + c1) / (x * x + y * y + c1)
        #expect(abs(ImageMetrics.ssim(a, b) - expected) < 1e-6)
        var rng = SplitMix64(seed: 1)
        let r = Image(width: 16, height: 16, channels: 3, pixels: (0..<768).map { _ in rng.nextFloat() })
        #expect(abs(ImageMetrics.ssim(r, r) - 1) < 1e-9)
        // Negated contrast around 0.5: negative structure term.
        let inverted = Image(width: 16, height: 16, channels: 3, pixels: r.pixels.map { 1 - $0 })
        #expect(ImageMetrics.ssim(r, inverted) < 0)
    }

    @Test func colorfulness() {
        #expect(ImageMetrics.colorfulness(Image(width: 4, height: 4, channels: 1, fill: 0.3).toRGB()) == 0)
        // One red and one black pixel: rg = {255, 0}, yb = {127.5, 0}.
        let image = Image(width: 2, height: 1, channels: 3, pixels: [1, 0, 0, 0, 0, 0])
        let sigma = (127.5 * 127.5 + 63.75 * 63.75).squareRoot()
        let mu = (127.5 * 127.5 + 63.75 * 63.75).squareRoot()
        #expect(abs(ImageMetrics.colorfulness(image) - (sigma + 0.3 * mu)) < 1e-6)
    }

    @Test func diversity() {
        let a = Image(width: 1, height: 1, channels: 1, pixels: [0]), b = Image(width: 1, height: 1, channels: 1, pixels: [0.5])
        let c = Image(width: 1, height: 1, channels: 1, pixels: [1])
        // Pairs: 0.5, 1, 0.5 -> mean 2/3.
        #expect(abs(ImageMetrics.diversity([a, b, c]) - 2.0 / 3) < 1e-7)
        #expect(ImageMetrics.diversity([a]) == 0)
    }
}
