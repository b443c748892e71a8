import ImageIO

/// How a task's condition is made from a picture, the same in training batches and at inference.
public enum Condition {
    /// The inpainting condition [x with the holes (m = 1) harmonically interpolated; m] of one
    /// image of `channels` planes of the interpolator's size. Missing pixels of `image` are never
    /// read. (The colorization condition is the luminance: `Image.splitYCbCr`.)
    /// - Parameters:
    ///   - image: `channels` planes
    ///   - mask: one plane, 1 = missing
    ///   - interpolator: fills the holes; its size is the image's
    ///   - out: room for `channels + 1` planes, overwritten
    public static func inpainting(image: UnsafePointer<Float>, mask: UnsafePointer<Float>, channels: Int,
                                  interpolator: HarmonicInterpolator, into out: UnsafeMutablePointer<Float>) {
        let plane = interpolator.width * interpolator.height
        for c in 0..<channels {
            for p in 0..<plane { out[c * plane + p] = mask[p] > 0.5 ? 0 : image[c * plane + p] }
        }
        interpolator.fill(out, channels: channels, mask: mask, tolerance: 1e-12)
        (out + channels * plane).update(from: mask, count: plane)
    }

    /// The inpainting condition of a whole picture (see `inpainting(image:mask:...)`).
    public static func inpainting(_ image: Image, mask: Mask) -> [Float] {
        let C = image.channels, plane = image.planeSize
        var condition = [Float](repeating: 0, count: (C + 1) * plane)
        image.pixels.withUnsafeBufferPointer { px in
            mask.values.withUnsafeBufferPointer { m in
                condition.withUnsafeMutableBufferPointer { out in
                    inpainting(image: px.baseAddress!, mask: m.baseAddress!, channels: C,
                               interpolator: HarmonicInterpolator(width: image.width, height: image.height),
                               into: out.baseAddress!)
                }
            }
        }
        return condition
    }
}
