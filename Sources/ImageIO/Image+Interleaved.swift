extension Image {
    /// Creates an image from interleaved 8-bit samples (HWC: `R G B R G B ...` or gray).
    /// - Parameters:
    ///   - interleaved: `width * height * channels` bytes, rows top to bottom.
    ///   - width: Width in pixels.
    ///   - height: Height in pixels.
    ///   - channels: 1 or 3.
    public init(interleaved: [UInt8], width: Int, height: Int, channels: Int) {
        precondition(interleaved.count == width * height * channels, "byte count does not match size")
        let n = width * height
        var out = [Float](repeating: 0, count: n * channels)
        interleaved.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    for i in 0..<n { dst[c * n + i] = Float(src[i * channels + c]) / 255 }
                }
            }
        }
        self.init(width: width, height: height, channels: channels, pixels: out)
    }

    /// Interleaved 8-bit samples (HWC), each value clamped to [0, 1] and rounded to the nearest
    /// of 0...255, so 8-bit images round-trip exactly.
    public func toInterleaved() -> [UInt8] {
        let n = planeSize
        var out = [UInt8](repeating: 0, count: n * channels)
        let ch = channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<ch {
                    for i in 0..<n {
                        let v = src[c * n + i]
                        let clamped = v.isNaN ? 0 : min(1, max(0, v))
                        dst[i * ch + c] = UInt8((clamped * 255).rounded())
                    }
                }
            }
        }
        return out
    }
}
