import Foundation
import ImageIO
import NN
import Testing
@testable import VAE

@Suite("Color conversion and colorization")
struct ColorizationTests {
    func randomImage(width: Int, height: Int, seed: UInt64) -> Image {
        var rng = SplitMix64(seed: seed)
        return Image(width: width, height: height, channels: 3, pixels: (0..<(3 * width * height)).map { _ in rng.nextFloat() })
    }

    @Test func yCbCrRoundTrip() {
        let rgb = randomImage(width: 17, height: 9, seed: 1)
        let ycc = rgb.toYCbCr()
        for v in ycc.pixels { #expect(v >= -1e-6 && v <= 1 + 1e-6) }
        let back = ycc.fromYCbCr()
        let worst = zip(rgb.pixels, back.pixels).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5)
        // Gray has neutral chroma.
        let gray = Image(width: 3, height: 1, channels: 1, pixels: [0, 0.4, 1]).toYCbCr()
        for v in gray.pixels[3...] { #expect(abs(v - 0.5) < 1e-6) }
    }

    @Test("fromLuma keeps Y exactly and stays in [0, 1] even for wild chroma")
    func lumaIsKept() {
        var rng = SplitMix64(seed: 2)
        let n = 500
        let luma = Image(width: n, height: 1, channels: 1, pixels: (0..<n).map { _ in rng.nextFloat() })
        let chroma = (0..<(2 * n)).map { _ in rng.nextFloat(in: -0.5...1.5) }
        let rgb = Image.fromLuma(luma, chroma: chroma)
        for v in rgb.pixels { #expect(v >= 0 && v <= 1) }
        let y = rgb.toYCbCr()
        for i in 0..<n { #expect(abs(y.pixels[i] - luma.pixels[i]) < 2e-6) }
    }

    @Test func luminanceOfEqualChannelsIsExact() {
        let gray = Image(width: 2, height: 2, channels: 1, pixels: [0.1, 0.2, 0.7, 1])
        #expect(Colorization.luminance(of: gray.toRGB()) == gray)
        #expect(Colorization.luminance(of: gray) == gray)
    }

    @Test("pictures without color are recognized (and left out of colorization scores)")
    func grayPictures() {
        let gray = Image(width: 2, height: 2, channels: 1, pixels: [0.1, 0.2, 0.7, 1])
        #expect(Colorization.isGray(gray) && Colorization.isGray(gray.toRGB()))
        let color = randomImage(width: 2, height: 2, seed: 3)
        #expect(!Colorization.isGray(color))
        let set = ImageSet(images: [gray.toRGB(), color, gray.toRGB()])
        #expect(Colorization.colorImages(in: set) == [1])
    }

    @Test("colorizing a picture larger than the model keeps its luminance; samples differ")
    func colorizeKeepsLuminance() throws {
        let device = try Device("cpu", threads: 2)
        let config = ModelConfig(arch: "custom", channels: 3, height: 8, width: 8, widths: [4, 6], latent: 3, likelihood: .gaussian)
        let model = try ConditionalVAE(config, task: .colorize, device: device, maxBatch: 16, seed: 3)
        let picture = randomImage(width: 21, height: 13, seed: 4).toGray()
        let out = try Colorization.colorize(picture, completer: model, samples: 2, seed: 5)
        #expect(out.count == 2 && out[0].width == 21 && out[0].height == 13 && out[0].channels == 3)
        for image in out {
            let y = image.toYCbCr()
            for i in 0..<picture.planeSize { #expect(abs(y.pixels[i] - picture.pixels[i]) < 2e-6) }
        }
        #expect(out[0] != out[1])
    }
}
