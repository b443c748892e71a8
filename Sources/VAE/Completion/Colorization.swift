import ImageIO

/// Colors a gray picture of any size with a TileCompleter trained for colorization, keeping the
/// picture's luminance exactly.
public enum Colorization {
    /// The luminance plane of a picture: the gray plane itself, the shared value of an RGB picture
    /// with equal channels, or BT.601 luma of a color one.
    public static func luminance(of image: Image) -> Image {
        if image.channels == 1 { return image }
        let n = image.planeSize, p = image.pixels
        let equal = (0..<n).allSatisfy { p[$0] == p[n + $0] && p[$0] == p[2 * n + $0] }
        if equal { return Image(width: image.width, height: image.height, channels: 1, pixels: Array(p[0..<n])) }
        return image.toGray()
    }

    /// Whether a picture has no color at all (one channel, or three equal ones): nothing to learn
    /// from or score a colorization against.
    public static func isGray(_ image: Image) -> Bool {
        guard image.channels == 3 else { return true }
        let n = image.planeSize, p = image.pixels
        return (0..<n).allSatisfy { p[$0] == p[n + $0] && p[$0] == p[2 * n + $0] }
    }

    /// The indices of the images of a set that have color.
    public static func colorImages(in set: ImageSet) -> [Int] {
        (0..<set.count).filter { !isGray(set.image(at: $0)) }
    }

    /// `samples` colorizations of `image`. Color is low-frequency, so the model works where its
    /// window sees enough of the picture: the luminance shrunk until the shorter side spans
    /// `context` windows (pictures already that small stay as they are), covered by tiles (see
    /// `Tiling`) that share each sample's latent noise, so one sample is one coherent coloring.
    /// The chroma is then enlarged to the picture and refined by a guided filter on the
    /// full-resolution luminance (colors follow its edges), and pulled toward gray only where it
    /// would leave the RGB range (`Image.fromLuma`); the luminance is kept exactly.
    public static func colorize(_ image: Image, completer: TileCompleter, samples: Int, seed: UInt64,
                                context: Int = 2) throws -> [Image] {
        precondition(completer.task == .colorize, "the completer is not a colorization model")
        precondition(samples >= 1, "at least one sample")
        let luma = luminance(of: image)
        let tile = min(completer.tileWidth, completer.tileHeight)
        let factor = max(1, Double(min(luma.width, luma.height)) / Double(context * tile))
        let small = factor > 1
            ? luma.resized(width: max(1, Int((Double(luma.width) / factor).rounded())),
                           height: max(1, Int((Double(luma.height) / factor).rounded())))
            : luma
        let tiling = Tiling(width: small.width, height: small.height, tileWidth: completer.tileWidth,
                            tileHeight: completer.tileHeight)
        var tiles: [Float] = []
        tiles.reserveCapacity(tiling.origins.count * completer.tileWidth * completer.tileHeight)
        for origin in tiling.origins { tiling.extract(small.pixels, channels: 1, origin: origin, into: &tiles) }
        let all = Array(tiling.origins.indices)
        return try (0..<samples).map { k in
            let out = try completer.complete(conditions: tiles, count: all.count, sample: k, seed: seed)
            let blended = tiling.blend(out, channels: 2, selected: all), n = small.planeSize
            let radius = max(2, Int((2 * factor).rounded()))
            let planes = (0..<2).map { c -> [Float] in
                var plane = Image(width: small.width, height: small.height, channels: 1,
                                  pixels: Array(blended[(c * n)..<((c + 1) * n)]))
                if factor > 1 { plane = plane.resized(width: luma.width, height: luma.height) }
                return plane.guidedFiltered(by: luma, radius: radius, epsilon: 1e-3).pixels
            }
            return Image.fromLuma(luma, chroma: planes[0] + planes[1])
        }
    }
}
