import Foundation

/// Covers an image of any size with model-sized tiles and blends per-tile results back smoothly.
///
/// Along each axis, tiles of side T start every T/2 pixels and the last one ends at the image's
/// edge; an axis shorter than T gets one tile, mirror-padded. Each tile's result is weighted by a
/// raised cosine (Hann) window, sin^2(pi (i + 1/2) / T), which is near zero at the tile's edges and
/// sums to one over half-overlapping tiles, so neighbouring tiles fade into each other without
/// seams; on the sides where a tile touches the image border its weight stays 1 up to the border.
/// Weighted results are divided by the summed weights.
public struct Tiling: Sendable {
    public let width: Int, height: Int
    public let tileWidth: Int, tileHeight: Int
    /// Top-left corners of the tiles, row by row.
    public let origins: [(x: Int, y: Int)]
    let xWeights: [[Float]], yWeights: [[Float]]
    let xStarts: [Int], yStarts: [Int]

    public init(width: Int, height: Int, tileWidth: Int, tileHeight: Int) {
        precondition(width > 0 && height > 0 && tileWidth > 0 && tileHeight > 0, "sizes must be positive")
        self.width = width
        self.height = height
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        xStarts = Self.starts(length: width, tile: tileWidth)
        yStarts = Self.starts(length: height, tile: tileHeight)
        xWeights = xStarts.map { Self.window(start: $0, length: width, tile: tileWidth) }
        yWeights = yStarts.map { Self.window(start: $0, length: height, tile: tileHeight) }
        var origins: [(x: Int, y: Int)] = []
        for y in yStarts { for x in xStarts { origins.append((x, y)) } }
        self.origins = origins
    }

    /// Tile starts along an axis: every tile/2, the last one flush with the end.
    static func starts(length: Int, tile: Int) -> [Int] {
        guard length > tile else { return [0] }
        let stride = max(1, tile / 2)
        var s = Array(Swift.stride(from: 0, to: length - tile, by: stride))
        s.append(length - tile)
        return s
    }

    /// The blending weights of a tile starting at `start` along an axis.
    static func window(start: Int, length: Int, tile: Int) -> [Float] {
        (0..<tile).map { i in
            if length <= tile { return 1 }
            if start == 0 && i < tile / 2 { return 1 }
            if start + tile == length && i >= tile / 2 { return 1 }
            let s = sin(Double.pi * (Double(i) + 0.5) / Double(tile))
            return Float(s * s)
        }
    }

    /// Mirror index (no edge repeat) of i into 0..<n, for any i.
    static func reflect(_ i: Int, _ n: Int) -> Int {
        guard n > 1 else { return 0 }
        let period = 2 * (n - 1)
        var k = i % period
        if k < 0 { k += period }
        return k < n ? k : period - k
    }

    /// The tile at `origin` of planar data (channels x height x width), mirror-padded where the
    /// image is smaller than the tile, appended to `out`.
    public func extract(_ planes: [Float], channels: Int, origin: (x: Int, y: Int), into out: inout [Float]) {
        precondition(planes.count == channels * width * height, "planes do not match the tiling")
        planes.withUnsafeBufferPointer { p in
            for c in 0..<channels {
                for ty in 0..<tileHeight {
                    let y = Self.reflect(origin.y + ty, height)
                    let row = (c * height + y) * width
                    for tx in 0..<tileWidth { out.append(p[row + Self.reflect(origin.x + tx, width)]) }
                }
            }
        }
    }

    /// Whether any pixel of the tile at `origin` (inside the image) satisfies `test`.
    public func any(in origin: (x: Int, y: Int), _ test: (_ x: Int, _ y: Int) -> Bool) -> Bool {
        for y in origin.y..<min(origin.y + tileHeight, height) {
            for x in origin.x..<min(origin.x + tileWidth, width) where test(x, y) { return true }
        }
        return false
    }

    /// Blends per-tile results (channels x tileHeight x tileWidth each, in the order of `selected`,
    /// indices into `origins`) into planes of the image's size. Pixels that no selected tile covers
    /// are 0.
    public func blend(_ results: [Float], channels: Int, selected: [Int]) -> [Float] {
        let tileItem = channels * tileWidth * tileHeight
        precondition(results.count == selected.count * tileItem, "results do not match the selected tiles")
        var sum = [Float](repeating: 0, count: channels * width * height)
        var weight = [Float](repeating: 0, count: width * height)
        let columns = xStarts.count
        results.withUnsafeBufferPointer { r in
            for (k, t) in selected.enumerated() {
                let (ox, oy) = origins[t]
                let wx = xWeights[t % columns], wy = yWeights[t / columns]
                for ty in 0..<min(tileHeight, height - oy) {
                    for tx in 0..<min(tileWidth, width - ox) {
                        let w = wy[ty] * wx[tx], p = (oy + ty) * width + ox + tx
                        weight[p] += w
                        for c in 0..<channels {
                            sum[c * width * height + p] += w * r[k * tileItem + (c * tileHeight + ty) * tileWidth + tx]
                        }
                    }
                }
            }
        }
        for p in 0..<(width * height) where weight[p] > 0 {
            for c in 0..<channels { sum[c * width * height + p] /= weight[p] }
        }
        return sum
    }
}
