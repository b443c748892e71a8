import Testing
import TestSupport
@testable import ImageIO

@Suite("Image conversions and geometry")
struct ImageTests {
    @Test func interleavedRoundTripIsExact() {
        let bytes = (0..<(5 * 4 * 3)).map { UInt8(($0 * 29) % 256) }
        let image = Image(interleaved: bytes, width: 5, height: 4, channels: 3)
        #expect(image.toInterleaved() == bytes)
        // Planar layout: channel 1 at (y 0, x 1) is interleaved byte 1*3+1.
        #expect(image[1, 0, 1] == Float(bytes[4]) / 255)
    }

    @Test func grayUsesBT601() {
        let rgb = Image(width: 1, height: 1, channels: 3, pixels: [1, 0.5, 0.25])
        let gray = rgb.toGray()
        #expect(gray.channels == 1)
        #expect(abs(gray.pixels[0] - (0.299 + 0.587 * 0.5 + 0.114 * 0.25)) < 1e-6)
        #expect(gray.toRGB().pixels == [gray.pixels[0], gray.pixels[0], gray.pixels[0]])
    }

    @Test func resizingConstantImageStaysConstant() {
        let image = Image(width: 37, height: 23, channels: 3, fill: 0.4)
        for (w, h) in [(16, 16), (64, 50), (37, 7), (5, 90)] {
            let r = image.resized(width: w, height: h)
            #expect(r.width == w && r.height == h)
            #expect(r.pixels.allSatisfy { abs($0 - 0.4) < 1e-6 })
        }
    }

    @Test func halvingEqualsTwoByTwoBoxAverage() {
        let image = patternImage(width: 8, height: 6, channels: 3)
        let half = image.resized(width: 4, height: 3)
        for c in 0..<3 {
            for y in 0..<3 {
                for x in 0..<4 {
                    let expected = (image[c, 2 * y, 2 * x] + image[c, 2 * y, 2 * x + 1]
                                    + image[c, 2 * y + 1, 2 * x] + image[c, 2 * y + 1, 2 * x + 1]) / 4
                    #expect(abs(half[c, y, x] - expected) < 1e-5)
                }
            }
        }
    }

    @Test func upscaleByTwoInterpolatesBilinearly() {
        let image = Image(width: 2, height: 1, channels: 1, pixels: [0, 1])
        let up = image.resized(width: 4, height: 1)
        // Centers at -0.25, 0.25, 0.75, 1.25 in source coordinates, clamped at the edges.
        #expect(up.pixels.enumerated().allSatisfy { abs($0.element - [0, 0.25, 0.75, 1][$0.offset]) < 1e-6 })
    }

    @Test func cropAndCenterSquare() {
        let image = patternImage(width: 6, height: 4, channels: 3)
        let crop = image.cropped(x: 2, y: 1, width: 3, height: 2)
        #expect(crop[2, 1, 2] == image[2, 2, 4])
        let square = image.centerCroppedSquare()
        #expect(square.width == 4 && square.height == 4 && square[0, 0, 0] == image[0, 0, 1])
        let fitted = image.fitted(width: 2, height: 2)
        #expect(fitted == square.resized(width: 2, height: 2))
    }

    @Test("enlarging repeats each pixel factor x factor times")
    func enlargedRepeatsPixels() {
        let image = patternImage(width: 3, height: 2, channels: 3)
        let big = image.enlarged(by: 3)
        #expect(big.width == 9 && big.height == 6)
        for c in 0..<3 {
            for y in 0..<6 { for x in 0..<9 { #expect(big[c, y, x] == image[c, y / 3, x / 3]) } }
        }
        #expect(image.enlarged(by: 1) == image)
    }

    @Test func gridLaysOutCellsWithPadding() throws {
        let a = Image(width: 2, height: 2, channels: 1, fill: 0)
        let b = Image(width: 2, height: 2, channels: 3, fill: 128 / 255)
        let grid = ImageGrid.compose([a, b, a], columns: 2, padding: 1, background: 1)
        #expect(grid.channels == 3 && grid.width == 7 && grid.height == 7)
        #expect(grid[0, 0, 0] == 1 && grid[0, 1, 1] == 0 && grid[2, 1, 4] == 128 / 255 && grid[1, 4, 1] == 0)
        #expect(grid[0, 5, 5] == 1)  // empty fourth cell
        let dir = TemporaryDirectory()
        try ImageGrid.writePNG([a, b, a], to: dir.file("grid.png"), columns: 2, padding: 1)
        let back = try Image.load(dir.file("grid.png"))
        #expect(back == grid)
    }
}
