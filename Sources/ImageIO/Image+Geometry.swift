extension Image {
    /// The region `width` x `height` whose top-left corner is at (`x`, `y`).
    /// - Parameters:
    ///   - x: Left column, `0 <= x` and `x + width <= self.width`.
    ///   - y: Top row, `0 <= y` and `y + height <= self.height`.
    ///   - width: Width of the region (> 0).
    ///   - height: Height of the region (> 0).
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> Image {
        precondition(x >= 0 && y >= 0 && width > 0 && height > 0 &&
                     x + width <= self.width && y + height <= self.height, "crop region out of bounds")
        var out = [Float](repeating: 0, count: width * height * channels)
        for c in 0..<channels {
            for row in 0..<height {
                let src = (c * self.height + y + row) * self.width + x
                let dst = (c * height + row) * width
                out[dst..<(dst + width)] = pixels[src..<(src + width)]
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }

    /// The largest centered square (side `min(width, height)`).
    public func centerCroppedSquare() -> Image {
        let side = min(width, height)
        return cropped(x: (width - side) / 2, y: (height - side) / 2, width: side, height: side)
    }

    /// A copy with every pixel repeated `factor` x `factor` times (nearest neighbour): small
    /// pictures shown large with sharp pixels.
    /// - Parameter factor: Repetitions per axis (>= 1).
    public func enlarged(by factor: Int) -> Image {
        precondition(factor >= 1, "factor must be >= 1")
        guard factor > 1 else { return self }
        let W = width * factor, H = height * factor
        var out = [Float](repeating: 0, count: channels * W * H)
        for c in 0..<channels {
            for y in 0..<H {
                for x in 0..<W { out[(c * H + y) * W + x] = pixels[(c * height + y / factor) * width + x / factor] }
            }
        }
        return Image(width: W, height: H, channels: channels, pixels: out)
    }

    /// A resized copy. Along each axis, shrinking averages the covered source pixels weighted by
    /// their overlap (area / box filter: halving equals a 2x2 box average) and enlarging
    /// interpolates bilinearly (pixel centers aligned, edges clamped). Constant images stay constant.
    /// - Parameters:
    ///   - width: New width (> 0).
    ///   - height: New height (> 0).
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "size must be positive")
        if newWidth == width && newHeight == height { return self }
        let wx = Image.resampleWeights(from: width, to: newWidth)
        let wy = Image.resampleWeights(from: height, to: newHeight)
        // Horizontal pass: (C, H, W) -> (C, H, newWidth); vertical pass -> (C, newHeight, newWidth).
        var mid = [Float](repeating: 0, count: channels * height * newWidth)
        var out = [Float](repeating: 0, count: channels * newHeight * newWidth)
        pixels.withUnsafeBufferPointer { src in
            mid.withUnsafeMutableBufferPointer { dst in
                for row in 0..<(channels * height) {
                    let s = row * width, d = row * newWidth
                    for (ox, taps) in wx.enumerated() {
                        var acc: Float = 0
                        for (i, w) in taps { acc += w * src[s + i] }
                        dst[d + ox] = acc
                    }
                }
            }
        }
        mid.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    for (oy, taps) in wy.enumerated() {
                        let d = (c * newHeight + oy) * newWidth
                        for x in 0..<newWidth { dst[d + x] = 0 }
                        for (i, w) in taps {
                            let s = (c * height + i) * newWidth
                            for x in 0..<newWidth { dst[d + x] += w * src[s + x] }
                        }
                    }
                }
            }
        }
        return Image(width: newWidth, height: newHeight, channels: channels, pixels: out)
    }

    /// Center crop to the aspect ratio of `width` x `height`, then resize to exactly that size.
    /// For a square target this is `centerCroppedSquare()` followed by `resized`.
    /// - Parameters:
    ///   - width: Target width.
    ///   - height: Target height.
    public func fitted(width targetWidth: Int, height targetHeight: Int) -> Image {
        if targetWidth == width && targetHeight == height { return self }
        // Crop the largest centered region with aspect targetWidth:targetHeight.
        var cw = width, ch = height
        if width * targetHeight > height * targetWidth {
            cw = max(1, (height * targetWidth + targetHeight / 2) / targetHeight)
        } else if width * targetHeight < height * targetWidth {
            ch = max(1, (width * targetHeight + targetWidth / 2) / targetWidth)
        }
        let base = (cw == width && ch == height) ? self
            : cropped(x: (width - cw) / 2, y: (height - ch) / 2, width: cw, height: ch)
        return base.resized(width: targetWidth, height: targetHeight)
    }

    /// Per output index, the source indices and weights (summing to 1) for resampling one axis.
    static func resampleWeights(from n: Int, to m: Int) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(m)
        var result: [[(Int, Float)]] = []
        result.reserveCapacity(m)
        for o in 0..<m {
            var taps: [(Int, Float)] = []
            if m < n {
                // Area: output pixel covers [o*scale, (o+1)*scale) of the source.
                let lo = Double(o) * scale, hi = Double(o + 1) * scale
                var i = Int(lo.rounded(.down))
                while Double(i) < hi && i < n {
                    let overlap = min(hi, Double(i + 1)) - max(lo, Double(i))
                    if overlap > 1e-12 { taps.append((i, Float(overlap / scale))) }
                    i += 1
                }
            } else {
                let center = (Double(o) + 0.5) * scale - 0.5
                let c = min(max(center, 0), Double(n - 1))
                let i0 = Int(c.rounded(.down))
                let f = c - Double(i0)
                let i1 = min(i0 + 1, n - 1)
                if f < 1e-12 || i1 == i0 { taps.append((i0, 1)) } else {
                    taps.append((i0, Float(1 - f)))
                    taps.append((i1, Float(f)))
                }
            }
            // Normalize so weights sum to exactly 1 in float (constant images stay constant).
            let total = taps.reduce(Float(0)) { $0 + $1.1 }
            result.append(taps.map { ($0.0, $0.1 / total) })
        }
        return result
    }
}
