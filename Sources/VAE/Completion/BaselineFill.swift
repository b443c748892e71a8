import ImageIO

/// The simple inpainting baselines a model must beat, computed on the same masks.
public enum BaselineFill {
    /// Missing pixels set, per channel, to the mean of the image's observed pixels.
    public static func mean(_ image: Image, mask: Mask) -> Image {
        var out = image
        let n = image.planeSize
        for c in 0..<image.channels {
            var sum = 0.0, count = 0
            for p in 0..<n where mask.values[p] <= 0.5 {
                sum += Double(image.pixels[c * n + p])
                count += 1
            }
            let fill = count > 0 ? Float(sum / Double(count)) : 0.5
            for p in 0..<n where mask.values[p] > 0.5 { out.pixels[c * n + p] = fill }
        }
        return out
    }

    /// Harmonic (Laplace) fill: per channel, the missing pixels solve the discrete Laplace equation
    /// with the observed pixels as boundary values (see `HarmonicInterpolator`), the smoothest
    /// completion there is. A linear ramp is harmonic, so it is reproduced exactly.
    public static func harmonic(_ image: Image, mask: Mask) -> Image {
        var out = image
        let solver = HarmonicInterpolator(width: image.width, height: image.height)
        out.pixels.withUnsafeMutableBufferPointer { planes in
            mask.values.withUnsafeBufferPointer { m in
                solver.fill(planes.baseAddress!, channels: image.channels, mask: m.baseAddress!)
            }
        }
        return out
    }
}
