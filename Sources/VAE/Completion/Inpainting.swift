import ImageIO

/// Fills the missing pixels of a picture of any size with a TileCompleter, and returns the
/// observed pixels exactly as given.
public enum Inpainting {
    /// `samples` completions of `image` where `mask` is 1.
    ///
    /// The picture is covered by model-sized tiles (mirror-padded when smaller); only tiles that
    /// contain missing pixels are computed, all of them in one batch per sample, and blended with
    /// raised-cosine weights (see `Tiling`). Each sample uses its own latent noise, shared by the
    /// tiles of that sample. The result is the input where `mask` is 0 and the blended completion,
    /// clamped to [0, 1], where it is 1.
    ///
    /// Holes wider than the model can see across (a missing pixel more than a quarter tile from
    /// every observed one, as in a centered box on a photo) are filled coarse to fine: the picture
    /// is halved until they fit, completed there, and the answer, enlarged, stands in for the
    /// hole's deep interior while the model fills the band along the hole's edge at full
    /// resolution, in context on both sides.
    /// - Parameters:
    ///   - image: gray or RGB; a gray picture is completed by a color model as RGB with equal channels
    ///   - mask: the same size as `image`
    ///   - samples: completions wanted (>= 1)
    ///   - seed: the latent noise (and the imputation chains') seed
    public static func complete(_ image: Image, mask: Mask, completer: TileCompleter, samples: Int,
                                seed: UInt64) throws -> [Image] {
        precondition(completer.task == .inpaint, "the completer is not an inpainting model")
        precondition(samples >= 1, "at least one sample")
        guard mask.width == image.width, mask.height == image.height else {
            throw VAEError("the mask is \(mask.width)x\(mask.height) but the image is \(image.width)x\(image.height)")
        }
        guard image.channels <= completer.imageChannels else {
            throw VAEError("the model completes gray images; this one is in color")
        }
        let x = image.converted(channels: completer.imageChannels)
        guard mask.hasMissing else { return Array(repeating: x, count: samples) }
        return try coarseToFine(x, mask: mask, completer: completer, samples: samples, seed: seed)
    }

    /// Completes directly when every hole is within reach of the model, else through a half-size
    /// completion (see `complete`).
    static func coarseToFine(_ x: Image, mask: Mask, completer: TileCompleter, samples: Int, seed: UInt64) throws -> [Image] {
        let tile = min(completer.tileWidth, completer.tileHeight)
        let reach = max(1, tile / 4)
        let distance = distanceToObserved(mask)
        let deepest = distance.max() ?? 0
        guard deepest > reach, deepest < Int.max, min(x.width, x.height) > tile / 2 else {
            return try oneScale(x, mask: mask, completer: completer, samples: Array(0..<samples), seed: seed)
        }
        let (smallImage, smallMask) = halve(x, mask: mask)
        let coarse = try coarseToFine(smallImage, mask: smallMask, completer: completer, samples: samples,
                                      seed: seed ^ 0xC0A2_5E00_0000_0001)
        return try coarse.enumerated().map { k, small in
            let prefill = small.resized(width: x.width, height: x.height)
            var guided = x, band = mask
            let plane = x.planeSize
            for p in 0..<plane where distance[p] > reach {
                band.values[p] = 0
                for c in 0..<x.channels { guided.pixels[c * plane + p] = prefill.pixels[c * plane + p] }
            }
            return try oneScale(guided, mask: band, completer: completer, samples: [k], seed: seed)[0]
        }
    }

    /// Completions numbered `samples` of `x` where `mask` is 1, tile by tile at this scale.
    static func oneScale(_ x: Image, mask: Mask, completer: TileCompleter, samples: [Int], seed: UInt64) throws -> [Image] {
        let C = x.channels, W = x.width, H = x.height, plane = W * H
        guard mask.hasMissing else { return samples.map { _ in x } }
        let condition = Condition.inpainting(x, mask: mask)
        let tiling = Tiling(width: W, height: H, tileWidth: completer.tileWidth, tileHeight: completer.tileHeight)
        let selected = tiling.origins.indices.filter { t in tiling.any(in: tiling.origins[t]) { mask.isMissing(x: $0, y: $1) } }
        var tiles: [Float] = []
        tiles.reserveCapacity(selected.count * (C + 1) * completer.tileWidth * completer.tileHeight)
        for t in selected { tiling.extract(condition, channels: C + 1, origin: tiling.origins[t], into: &tiles) }

        return try samples.map { k in
            let out = try completer.complete(conditions: tiles, count: selected.count, sample: k, seed: seed)
            let blended = tiling.blend(out, channels: C, selected: selected)
            var pixels = x.pixels
            for c in 0..<C {
                for p in 0..<plane where mask.values[p] > 0.5 {
                    pixels[c * plane + p] = min(max(blended[c * plane + p], 0), 1)
                }
            }
            return Image(width: W, height: H, channels: C, pixels: pixels)
        }
    }

    /// Per pixel, the chessboard distance to the nearest observed pixel (0 when observed,
    /// Int.max when nothing is observed).
    static func distanceToObserved(_ mask: Mask) -> [Int] {
        let W = mask.width, H = mask.height
        var distance = [Int](repeating: Int.max, count: W * H)
        var frontier: [Int] = []
        for p in 0..<(W * H) where mask.values[p] <= 0.5 {
            distance[p] = 0
            frontier.append(p)
        }
        var d = 0
        while !frontier.isEmpty {
            d += 1
            var next: [Int] = []
            for p in frontier {
                let x = p % W, y = p / W
                for dy in -1...1 {
                    for dx in -1...1 where (dx != 0 || dy != 0) {
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0, nx < W, ny >= 0, ny < H else { continue }
                        let q = ny * W + nx
                        if distance[q] == Int.max {
                            distance[q] = d
                            next.append(q)
                        }
                    }
                }
            }
            frontier = next
        }
        return distance
    }

    /// Half the size (rounded up): each pixel averages the observed pixels of its 2x2 block, and
    /// is missing only when all of them are.
    static func halve(_ x: Image, mask: Mask) -> (Image, Mask) {
        let W = (x.width + 1) / 2, H = (x.height + 1) / 2, C = x.channels
        var image = Image(width: W, height: H, channels: C, fill: 0)
        var missing = [Float](repeating: 1, count: W * H)
        for y in 0..<H {
            for xx in 0..<W {
                var sums = [Float](repeating: 0, count: C), n = 0
                for sy in (2 * y)..<min(2 * y + 2, x.height) {
                    for sx in (2 * xx)..<min(2 * xx + 2, x.width) where !mask.isMissing(x: sx, y: sy) {
                        for c in 0..<C { sums[c] += x[c, sy, sx] }
                        n += 1
                    }
                }
                guard n > 0 else { continue }
                missing[y * W + xx] = 0
                for c in 0..<C { image[c, y, xx] = sums[c] / Float(n) }
            }
        }
        return (image, Mask(width: W, height: H, values: missing))
    }
}
