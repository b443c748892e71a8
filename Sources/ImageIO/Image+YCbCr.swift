/// Full-range YCbCr (JPEG / BT.601): luminance Y and two chroma planes centered on 0.5, all in
/// [0, 1] for RGB in [0, 1]. Colorization predicts Cb and Cr from Y; keeping Y and changing only
/// the chroma changes the colors and never the brightness.
extension Image {
    /// Chroma scale factors: Cb = 0.5 + (B - Y) / 1.772, Cr = 0.5 + (R - Y) / 1.402.
    public static let chromaScales: (cb: Float, cr: Float) = (1.772, 1.402)

    /// A three-channel YCbCr copy (planes Y, Cb, Cr) of an RGB or gray image.
    public func toYCbCr() -> Image {
        let rgb = toRGB()
        let n = planeSize
        var out = [Float](repeating: 0, count: 3 * n)
        rgb.pixels.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                Image.splitYCbCr(rgb: p.baseAddress!, plane: n, luma: o.baseAddress!, chroma: o.baseAddress! + n)
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// Y of planar RGB into `luma` (one plane) and (Cb, Cr) into `chroma` (two planes), without
    /// allocating: the conversion itself, shared by `toYCbCr` and the colorization batches.
    /// - Parameters:
    ///   - rgb: three planes of `plane` floats
    ///   - luma: room for one plane, overwritten
    ///   - chroma: room for two planes (Cb then Cr), overwritten
    public static func splitYCbCr(rgb: UnsafePointer<Float>, plane: Int, luma: UnsafeMutablePointer<Float>,
                                  chroma: UnsafeMutablePointer<Float>) {
        let (sb, sr) = chromaScales
        for p in 0..<plane {
            let r = rgb[p], g = rgb[plane + p], b = rgb[2 * plane + p]
            let y = Image.luma(r, g, b)
            luma[p] = y
            chroma[p] = 0.5 + (b - y) / sb
            chroma[plane + p] = 0.5 + (r - y) / sr
        }
    }

    /// The RGB image of a YCbCr one (planes Y, Cb, Cr), without clamping.
    public func fromYCbCr() -> Image {
        precondition(channels == 3, "a YCbCr image has three planes")
        let n = planeSize
        var out = [Float](repeating: 0, count: 3 * n)
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<n {
                let (r, g, b) = Image.rgb(y: p[i], cb: p[n + i], cr: p[2 * n + i])
                out[i] = r
                out[n + i] = g
                out[2 * n + i] = b
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// RGB of one YCbCr pixel (unclamped).
    @inlinable
    public static func rgb(y: Float, cb: Float, cr: Float) -> (Float, Float, Float) {
        let (wr, wg, wb) = lumaWeights, (sb, sr) = chromaScales
        let r = y + sr * (cr - 0.5)
        let b = y + sb * (cb - 0.5)
        let g = (y - wr * r - wb * b) / wg
        return (r, g, b)
    }

    /// An RGB image with luminance `luma` (one plane) and the chroma (Cb, Cr planes) pulled toward
    /// gray just as far as needed to keep every channel in [0, 1]. Each pixel's RGB is linear in its
    /// chroma for a fixed Y, and gray (chroma 0.5) is always in range, so the largest in-range
    /// fraction of the chroma exists and Y stays exactly as given.
    /// - Parameters:
    ///   - luma: a one-channel image of Y values in [0, 1]
    ///   - chroma: Cb and Cr planes (width x height x 2 floats, Cb first)
    public static func fromLuma(_ luma: Image, chroma: [Float]) -> Image {
        precondition(luma.channels == 1 && chroma.count == 2 * luma.planeSize, "luma must be one plane, chroma two")
        let n = luma.planeSize
        var out = [Float](repeating: 0, count: 3 * n)
        luma.pixels.withUnsafeBufferPointer { yp in
            chroma.withUnsafeBufferPointer { cp in
                for i in 0..<n {
                    let y = min(max(yp[i], 0), 1)
                    let (r, g, b) = rgb(y: y, cb: cp[i], cr: cp[n + i])
                    // Largest t in [0, 1] with y + t * (v - y) in [0, 1] for each channel.
                    let t = min(gamutFraction(y, r), gamutFraction(y, g), gamutFraction(y, b))
                    out[i] = min(max(y + t * (r - y), 0), 1)
                    out[n + i] = min(max(y + t * (g - y), 0), 1)
                    out[2 * n + i] = min(max(y + t * (b - y), 0), 1)
                }
            }
        }
        return Image(width: luma.width, height: luma.height, channels: 3, pixels: out)
    }

    /// The largest t in [0, 1] with y + t * (v - y) inside [0, 1] (y itself inside).
    @usableFromInline
    static func gamutFraction(_ y: Float, _ v: Float) -> Float {
        if v > 1 { return min(1, (1 - y) / (v - y)) }
        if v < 0 { return min(1, y / (y - v)) }
        return 1
    }
}
