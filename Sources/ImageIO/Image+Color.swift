extension Image {
    /// ITU-R BT.601 luma weights for R, G and B.
    public static let lumaWeights: (r: Float, g: Float, b: Float) = (0.299, 0.587, 0.114)

    /// BT.601 luma `0.299 R + 0.587 G + 0.114 B` of one pixel (unclamped): the one place the
    /// weights are applied, by gray conversion, YCbCr and the shapes data alike.
    @inlinable
    public static func luma(_ r: Float, _ g: Float, _ b: Float) -> Float {
        lumaWeights.r * r + lumaWeights.g * g + lumaWeights.b * b
    }

    /// A one-channel copy: unchanged when already gray, otherwise BT.601 luma
    /// `0.299 R + 0.587 G + 0.114 B`.
    public func toGray() -> Image {
        if channels == 1 { return self }
        let n = planeSize
        var out = [Float](repeating: 0, count: n)
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<n { out[i] = min(1, max(0, Image.luma(p[i], p[n + i], p[2 * n + i]))) }
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }

    /// A three-channel copy: unchanged when already RGB, otherwise the gray plane repeated.
    public func toRGB() -> Image {
        if channels == 3 { return self }
        return Image(width: width, height: height, channels: 3, pixels: pixels + pixels + pixels)
    }

    /// A copy with the given number of channels (1: `toGray()`, 3: `toRGB()`).
    /// - Parameter channels: 1 or 3.
    public func converted(channels: Int) -> Image {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        return channels == 1 ? toGray() : toRGB()
    }
}
