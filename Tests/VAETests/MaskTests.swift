import Foundation
import ImageIO
import Testing
import TestSupport
@testable import VAE

@Suite("Masks: seeded, reproducible, of the right coverage")
struct MaskTests {
    func masks(_ kinds: String, seed: UInt64, count: Int = 20, size: Int = 32) throws -> [Mask] {
        let generator = try MaskGenerator(parsing: kinds)
        return (0..<count).map { i in
            var rng = MaskGenerator.generator(seed: seed, index: i)
            return generator.mask(width: size, height: size, rng: &rng)
        }
    }

    @Test("the same seed gives the same masks; another seed others", arguments: ["center", "boxes", "strokes", "pixels", "mix"])
    func reproducible(kind: String) throws {
        let a = try masks(kind, seed: 7), b = try masks(kind, seed: 7)
        #expect(a == b)
        if kind != "center" { #expect(try masks(kind, seed: 8) != a) }
    }

    @Test func centerIsTheMiddleQuarter() throws {
        let m = try masks("center", seed: 1, count: 1)[0]
        #expect(m.coverage == 0.25)
        #expect(m.isMissing(x: 8, y: 8) && m.isMissing(x: 23, y: 23))
        #expect(!m.isMissing(x: 7, y: 8) && !m.isMissing(x: 24, y: 23))
    }

    @Test func randomPixelsMissHalf() throws {
        let coverage = try masks("pixels", seed: 3, count: 10, size: 64).map(\.coverage)
        for c in coverage { #expect(abs(c - 0.5) < 0.04) }
    }

    @Test("boxes and strokes cover some but not all of the image", arguments: ["boxes", "strokes"])
    func partialCoverage(kind: String) throws {
        let coverage = try masks(kind, seed: 5, count: 50).map(\.coverage)
        for c in coverage { #expect(c > 0 && c < 0.95) }
        let mean = coverage.reduce(0, +) / Double(coverage.count)
        #expect(mean > 0.03 && mean < 0.6, "mean coverage \(mean)")
    }

    @Test("a mix draws every kind")
    func mixDrawsEveryKind() throws {
        let all = try masks("mix", seed: 11, count: 64)
        #expect(all.contains { $0.coverage == 0.25 })              // center
        #expect(all.contains { abs($0.coverage - 0.5) < 0.08 })   // pixels (or a big box)
        #expect(Set(all.map(\.coverage)).count > 10)
    }

    @Test func parsingRejectsUnknownKinds() {
        #expect(throws: VAEError.self) { try MaskGenerator(parsing: "circles") }
        #expect(throws: VAEError.self) { try MaskGenerator(parsing: "") }
        #expect((try? MaskGenerator(parsing: "boxes,strokes"))?.kinds == [.boxes, .strokes])
    }

    @Test("a mask image: white = missing, resized to the input; another aspect ratio is refused")
    func maskImages() throws {
        let temporary = TemporaryDirectory(), dir = temporary.path
        var image = Image(width: 16, height: 8, channels: 1, fill: 0)
        for y in 0..<8 { for x in 8..<16 { image[0, y, x] = 1 } }  // right half white
        try image.writePNG(to: dir + "/m.png")
        let m = try Mask.load(dir + "/m.png", width: 32, height: 16)
        #expect(m.width == 32 && m.height == 16)
        #expect(abs(m.coverage - 0.5) < 0.05)
        #expect(m.isMissing(x: 31, y: 0) && !m.isMissing(x: 0, y: 15))
        #expect(throws: ImageIOError.self) { try Mask.load(dir + "/m.png", width: 32, height: 32) }
    }
}
