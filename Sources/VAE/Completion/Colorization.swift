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

    /// `samples` colorizations of `image`: Y is kept, (Cb, Cr) come from the model tile by tile
    /// (see `Tiling`), each sample with its own latent noise shared by its tiles, and the chroma
    /// is pulled toward gray only where the color would leave the RGB range (`Image.fromLuma`).
    public static func colorize(_ image: Image, completer: TileCompleter, samples: Int, seed: UInt64) throws -> [Image] {
        precondition(completer.task == .colorize, "the completer is not a colorization model")
        precondition(samples >= 1, "at least one sample")
        let luma = luminance(of: image)
        let tiling = Tiling(width: luma.width, height: luma.height, tileWidth: completer.tileWidth,
                            tileHeight: completer.tileHeight)
        var tiles: [Float] = []
        tiles.reserveCapacity(tiling.origins.count * completer.tileWidth * completer.tileHeight)
        for origin in tiling.origins { tiling.extract(luma.pixels, channels: 1, origin: origin, into: &tiles) }
        let all = Array(tiling.origins.indices)
        return try (0..<samples).map { k in
            let chroma = try completer.complete(conditions: tiles, count: all.count, sample: k, seed: seed)
            return Image.fromLuma(luma, chroma: tiling.blend(chroma, channels: 2, selected: all))
        }
    }
}
