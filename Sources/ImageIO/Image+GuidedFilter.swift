extension Image {
    /// The guided filter of He, Sun and Tang (2010): every channel of `self` made locally a linear
    /// function of `guide` (one plane of the same size), q = mean(a) * guide + mean(b) over windows
    /// of side 2 `radius` + 1, with a = cov(guide, p) / (var(guide) + `epsilon`). Where the guide
    /// has an edge the result has it too; where it is flat the result is smoothed. Upsampled
    /// chroma guided by the full-resolution luminance keeps colors inside their objects.
    /// Box means use running sums, so the cost does not grow with the radius.
    /// - Parameters:
    ///   - guide: a one-channel image of the same size
    ///   - radius: the window's half side, in pixels
    ///   - epsilon: the regularization (larger: smoother, less edge-following), in squared units
    public func guidedFiltered(by guide: Image, radius: Int, epsilon: Float) -> Image {
        precondition(guide.channels == 1 && guide.width == width && guide.height == height, "the guide must be one plane of the same size")
        let n = planeSize
        let I = guide.pixels
        let meanI = Image.boxMean(I, width: width, height: height, radius: radius)
        let meanII = Image.boxMean(I.map { $0 * $0 }, width: width, height: height, radius: radius)
        var out = [Float](repeating: 0, count: channels * n)
        for c in 0..<channels {
            let p = Array(pixels[(c * n)..<((c + 1) * n)])
            let meanP = Image.boxMean(p, width: width, height: height, radius: radius)
            let meanIP = Image.boxMean(zip(I, p).map { $0 * $1 }, width: width, height: height, radius: radius)
            var a = [Float](repeating: 0, count: n), b = a
            for i in 0..<n {
                let variance = meanII[i] - meanI[i] * meanI[i], covariance = meanIP[i] - meanI[i] * meanP[i]
                a[i] = covariance / (variance + epsilon)
                b[i] = meanP[i] - a[i] * meanI[i]
            }
            let meanA = Image.boxMean(a, width: width, height: height, radius: radius)
            let meanB = Image.boxMean(b, width: width, height: height, radius: radius)
            for i in 0..<n { out[c * n + i] = meanA[i] * I[i] + meanB[i] }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }

    /// The mean of each pixel's window of side 2 `radius` + 1, clipped to the image, by running
    /// sums in double along rows, then columns.
    static func boxMean(_ x: [Float], width: Int, height: Int, radius: Int) -> [Float] {
        var rows = [Double](repeating: 0, count: width * height)
        var prefix = [Double](repeating: 0, count: max(width, height) + 1)
        for y in 0..<height {
            for i in 0..<width { prefix[i + 1] = prefix[i] + Double(x[y * width + i]) }
            for i in 0..<width {
                let lo = max(0, i - radius), hi = min(width, i + radius + 1)
                rows[y * width + i] = (prefix[hi] - prefix[lo]) / Double(hi - lo)
            }
        }
        var out = [Float](repeating: 0, count: width * height)
        for xx in 0..<width {
            for j in 0..<height { prefix[j + 1] = prefix[j] + rows[j * width + xx] }
            for j in 0..<height {
                let lo = max(0, j - radius), hi = min(height, j + radius + 1)
                out[j * width + xx] = Float((prefix[hi] - prefix[lo]) / Double(hi - lo))
            }
        }
        return out
    }
}
