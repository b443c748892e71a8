/// Composes images into one grid image (samples, reconstructions, interpolations).
public enum ImageGrid {
    /// Lays `images` out row by row, `columns` per row, with `padding` pixels between cells and
    /// around the border. If any image is RGB the grid is RGB (gray images are repeated over the
    /// channels); cells take the largest width and height, and smaller images sit at the
    /// cell's top-left corner.
    /// - Parameters:
    ///   - images: At least one image.
    ///   - columns: Cells per row (> 0); the number of rows is `ceil(images.count / columns)`.
    ///   - padding: Pixels between cells and at the border (default 2).
    ///   - background: Value of the padding and of empty cells (default 1, white).
    public static func compose(_ images: [Image], columns: Int, padding: Int = 2, background: Float = 1) -> Image {
        precondition(!images.isEmpty && columns > 0 && padding >= 0, "invalid grid parameters")
        let channels = images.contains { $0.channels == 3 } ? 3 : 1
        let cw = images.map(\.width).max()!, ch = images.map(\.height).max()!
        let cols = min(columns, images.count)
        let rows = (images.count + columns - 1) / columns
        let w = cols * cw + (cols + 1) * padding, h = rows * ch + (rows + 1) * padding
        var grid = Image(width: w, height: h, channels: channels, fill: background)
        for (k, source) in images.enumerated() {
            let image = source.converted(channels: channels)
            let x0 = padding + (k % columns) * (cw + padding), y0 = padding + (k / columns) * (ch + padding)
            for c in 0..<channels {
                for y in 0..<image.height {
                    let src = (c * image.height + y) * image.width
                    let dst = (c * h + y0 + y) * w + x0
                    grid.pixels[dst..<(dst + image.width)] = image.pixels[src..<(src + image.width)]
                }
            }
        }
        return grid
    }

    /// Composes `images` and writes the grid as a PNG, atomically.
    /// - Parameters:
    ///   - images: At least one image.
    ///   - path: Destination `.png` file.
    ///   - columns: Cells per row.
    ///   - padding: Pixels between cells (default 2).
    ///   - background: Padding value (default 1).
    public static func writePNG(_ images: [Image], to path: String, columns: Int, padding: Int = 2,
                                background: Float = 1) throws {
        try compose(images, columns: columns, padding: padding, background: background).writePNG(to: path)
    }

    /// Originals above their counterparts (reconstructions), `columns` per row pair.
    public static func pairedRows(_ originals: [Image], _ counterparts: [Image], columns: Int) -> Image {
        precondition(originals.count == counterparts.count, "as many counterparts as originals")
        var cells: [Image] = []
        for row in stride(from: 0, to: originals.count, by: columns) {
            let r = row..<min(row + columns, originals.count)
            cells += originals[r] + counterparts[r]
        }
        return compose(cells, columns: columns)
    }
}
