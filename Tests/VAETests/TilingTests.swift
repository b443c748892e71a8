import Foundation
import ImageIO
import Testing
@testable import VAE

@Suite("Tiling covers any size and blends without seams")
struct TilingTests {
    @Test("an identity model through the tiles gives back the input", arguments: [(100, 70), (32, 32), (33, 65), (20, 10), (1, 1)])
    func identity(size: (Int, Int)) {
        let (w, h) = size
        var rng = SplitMix64(seed: UInt64(w * 1000 + h))
        let planes = (0..<(2 * w * h)).map { _ in rng.nextFloat() }
        let tiling = Tiling(width: w, height: h, tileWidth: 32, tileHeight: 32)
        var tiles: [Float] = []
        for origin in tiling.origins { tiling.extract(planes, channels: 2, origin: origin, into: &tiles) }
        let out = tiling.blend(tiles, channels: 2, selected: Array(tiling.origins.indices))
        let worst = zip(out, planes).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5)
    }

    @Test("tiles cover the image with half overlap, the last one flush with the edge")
    func placement() {
        let t = Tiling(width: 100, height: 32, tileWidth: 32, tileHeight: 32)
        #expect(t.xStarts == [0, 16, 32, 48, 64, 68])
        #expect(t.yStarts == [0])
        #expect(Tiling(width: 20, height: 10, tileWidth: 32, tileHeight: 32).origins.count == 1)
    }

    @Test("tiles that each answer a different constant blend into a smooth ramp: no seams")
    func noSeams() {
        let w = 160, h = 96, T = 32
        let tiling = Tiling(width: w, height: h, tileWidth: T, tileHeight: T)
        // Tile k answers the value k / count everywhere: a worst case of disagreeing tiles.
        let count = tiling.origins.count
        var tiles: [Float] = []
        for k in 0..<count { tiles += [Float](repeating: Float(k % 7) / 7, count: T * T) }
        let out = tiling.blend(tiles, channels: 1, selected: Array(0..<count))
        // Hard tile edges would jump by up to 6/7 between neighbouring pixels; the raised-cosine
        // blend spreads every change over half a tile.
        var worst: Float = 0
        for y in 0..<h {
            for x in 1..<w { worst = max(worst, abs(out[y * w + x] - out[y * w + x - 1])) }
        }
        for y in 1..<h {
            for x in 0..<w { worst = max(worst, abs(out[y * w + x] - out[(y - 1) * w + x])) }
        }
        #expect(worst < 0.12, "largest step between neighbours \(worst)")
    }

    @Test func mirrorPadding() {
        #expect((-3...7).map { Tiling.reflect($0, 4) } == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1])
        #expect(Tiling.reflect(5, 1) == 0)
    }
}
