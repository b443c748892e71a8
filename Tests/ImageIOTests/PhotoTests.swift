import Testing
import TestSupport
@testable import ImageIO

@Suite("Photos at their own size: patches and the guided filter")
struct PhotoTests {
    @Test("a patch at zoom 1 is a crop; at zoom 2 the crop's 2x2 means; mirrored it is flipped")
    func patches() {
        let photo = patternImage(width: 40, height: 30, channels: 3)
        let set = PhotoSet(photos: [photo], names: ["p"])
        var out = [Float](repeating: 0, count: 3 * 8 * 8)
        var rng = SplitMix64(seed: 4), replay = rng
        out.withUnsafeMutableBufferPointer { set.crop(0, size: 8, rng: &rng, into: $0.baseAddress!) }
        let x0 = replay.nextInt(below: 40 - 8 + 1), y0 = replay.nextInt(below: 30 - 8 + 1)
        #expect(out == photo.cropped(x: x0, y: y0, width: 8, height: 8).pixels)

        rng = SplitMix64(seed: 9)
        replay = rng
        out.withUnsafeMutableBufferPointer { set.crop(0, size: 8, scales: 2...2, rng: &rng, into: $0.baseAddress!) }
        let a = replay.nextInt(below: 40 - 16 + 1), b = replay.nextInt(below: 30 - 16 + 1)
        let want = photo.cropped(x: a, y: b, width: 16, height: 16).resized(width: 8, height: 8).pixels
        #expect(zip(out, want).allSatisfy { abs($0 - $1) < 1e-5 })

        var plain = out, flipped = out
        var r1 = SplitMix64(seed: 13), r2 = SplitMix64(seed: 13)
        var sawFlip = false
        for _ in 0..<8 {
            plain.withUnsafeMutableBufferPointer { set.crop(0, size: 8, rng: &r1, into: $0.baseAddress!) }
            _ = r1.next()
            flipped.withUnsafeMutableBufferPointer { set.crop(0, size: 8, mirror: true, rng: &r2, into: $0.baseAddress!) }
            var mirror = plain
            for i in 0..<plain.count {
                let column = i % 8
                mirror[i] = plain[i - column + 7 - column]
            }
            #expect(flipped == plain || flipped == mirror)
            sawFlip = sawFlip || (flipped == mirror && flipped != plain)
        }
        #expect(sawFlip)
        #expect(set.patchCount(size: 8) == 5 * 3)
    }

    @Test("the guided filter keeps what is linear in the guide, smooths what is not, and keeps edges")
    func guidedFilter() {
        var rng = TestRandom(seed: 3)
        let w = 24, h = 16
        let guide = Image(width: w, height: h, channels: 1, pixels: (0..<(w * h)).map { _ in 0.5 + 0.4 * rng.signed() })
        // A plane that is 0.3 guide + 0.2 everywhere comes back (nearly) unchanged.
        let linear = Image(width: w, height: h, channels: 1, pixels: guide.pixels.map { 0.3 * $0 + 0.2 })
        let kept = linear.guidedFiltered(by: guide, radius: 3, epsilon: 1e-6)
        #expect(zip(kept.pixels, linear.pixels).allSatisfy { abs($0 - $1) < 1e-3 })
        // A step edge in both guide and input survives; noise without a guide edge is smoothed.
        let step = Image(width: w, height: h, channels: 1, pixels: (0..<(w * h)).map { $0 % w < w / 2 ? 0.2 : 0.8 })
        let noisy = Image(width: w, height: h, channels: 1, pixels: (0..<(w * h)).map { ($0 % w < w / 2 ? 0.3 : 0.6) + 0.05 * rng.signed() })
        let out = noisy.guidedFiltered(by: step, radius: 3, epsilon: 1e-3)
        let left = (0..<h).map { out.pixels[$0 * w + w / 2 - 1] }, right = (0..<h).map { out.pixels[$0 * w + w / 2] }
        #expect(zip(left, right).allSatisfy { $1 - $0 > 0.2 })
        let spread = (0..<h).map { out.pixels[$0 * w + 2] }
        #expect((spread.max()! - spread.min()!) < 0.05)
    }
}
