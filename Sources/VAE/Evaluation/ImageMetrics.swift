import Foundation
import ImageIO

/// Quality measures of a completion against the ground truth, on a region (the missing pixels
/// for inpainting) or the whole image (colorization). Pixel values are in [0, 1].
public enum ImageMetrics {
    /// Mean squared error over the region's pixels and every channel.
    public static func meanSquaredError(_ a: Image, _ b: Image, region: Mask? = nil) -> Double {
        var sum = 0.0, n = 0
        forEach(a, b, region) { x, y in
            sum += (Double(x) - Double(y)) * (Double(x) - Double(y))
            n += 1
        }
        return n == 0 ? 0 : sum / Double(n)
    }

    /// Peak signal-to-noise ratio in dB, 10 log10(1 / MSE) (peak 1); capped at 100 dB for identical images.
    public static func psnr(_ a: Image, _ b: Image, region: Mask? = nil) -> Double {
        let mse = meanSquaredError(a, b, region: region)
        return mse <= 1e-10 ? 100 : 10 * log10(1 / mse)
    }

    /// Mean absolute difference over the region's pixels and every channel.
    public static func l1(_ a: Image, _ b: Image, region: Mask? = nil) -> Double {
        var sum = 0.0, n = 0
        forEach(a, b, region) { x, y in
            sum += abs(Double(x) - Double(y))
            n += 1
        }
        return n == 0 ? 0 : sum / Double(n)
    }

    /// SSIM (Wang et al. 2004): local statistics under an 11x11 Gaussian window (sigma 1.5,
    /// renormalized where it leaves the image), C1 = (0.01)^2, C2 = (0.03)^2, the map averaged
    /// over the region's pixels and then over channels.
    public static func ssim(_ a: Image, _ b: Image, region: Mask? = nil) -> Double {
        precondition(a.width == b.width && a.height == b.height && a.channels == b.channels, "images differ in size")
        let W = a.width, H = a.height, n = W * H
        let radius = 5, sigma = 1.5
        let kernel = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        let inRegion = region?.values ?? [Float](repeating: 1, count: n)
        let count = inRegion.reduce(0) { $0 + ($1 > 0.5 ? 1 : 0) }
        guard count > 0 else { return 1 }
        var total = 0.0
        for c in 0..<a.channels {
            let x = a.pixels[(c * n)..<((c + 1) * n)].map(Double.init), y = b.pixels[(c * n)..<((c + 1) * n)].map(Double.init)
            let mx = blur(x, W, H, kernel), my = blur(y, W, H, kernel)
            let sxx = blur(zip(x, x).map(*), W, H, kernel), syy = blur(zip(y, y).map(*), W, H, kernel)
            let sxy = blur(zip(x, y).map(*), W, H, kernel)
            var sum = 0.0
            for p in 0..<n where inRegion[p] > 0.5 {
                let vx = max(0, sxx[p] - mx[p] * mx[p]), vy = max(0, syy[p] - my[p] * my[p]), cov = sxy[p] - mx[p] * my[p]
                sum += (2 * mx[p] * my[p] + c1) * (2 * cov + c2) / ((mx[p] * mx[p] + my[p] * my[p] + c1) * (vx + vy + c2))
            }
            total += sum / Double(count)
        }
        return total / Double(a.channels)
    }

    /// Colorfulness of an RGB image (Hasler and Suesstrunk 2003), on the 0-255 scale:
    /// sqrt(var(rg) + var(yb)) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2), rg = R - G, yb = (R + G) / 2 - B.
    /// 0 for a gray image.
    public static func colorfulness(_ image: Image) -> Double {
        guard image.channels == 3 else { return 0 }
        let n = image.planeSize, p = image.pixels
        var srg = 0.0, syb = 0.0, qrg = 0.0, qyb = 0.0
        for i in 0..<n {
            let r = 255 * Double(p[i]), g = 255 * Double(p[n + i]), b = 255 * Double(p[2 * n + i])
            let rg = r - g, yb = 0.5 * (r + g) - b
            srg += rg
            syb += yb
            qrg += rg * rg
            qyb += yb * yb
        }
        let N = Double(n), mrg = srg / N, myb = syb / N
        let vrg = max(0, qrg / N - mrg * mrg), vyb = max(0, qyb / N - myb * myb)
        return (vrg + vyb).squareRoot() + 0.3 * (mrg * mrg + myb * myb).squareRoot()
    }

    /// Mean over pairs of samples of their mean absolute difference on the region: how different
    /// the answers are (0 when there is one sample).
    public static func diversity(_ samples: [Image], region: Mask? = nil) -> Double {
        guard samples.count > 1 else { return 0 }
        var sum = 0.0, pairs = 0
        for i in 0..<samples.count {
            for j in (i + 1)..<samples.count {
                sum += l1(samples[i], samples[j], region: region)
                pairs += 1
            }
        }
        return sum / Double(pairs)
    }

    static func forEach(_ a: Image, _ b: Image, _ region: Mask?, _ body: (Float, Float) -> Void) {
        precondition(a.width == b.width && a.height == b.height && a.channels == b.channels, "images differ in size")
        let n = a.planeSize
        precondition(region == nil || region!.values.count == n, "the region does not match the images")
        for c in 0..<a.channels {
            for p in 0..<n where region == nil || region!.values[p] > 0.5 { body(a.pixels[c * n + p], b.pixels[c * n + p]) }
        }
    }

    /// Separable Gaussian filter with the window renormalized at the borders.
    static func blur(_ v: [Double], _ W: Int, _ H: Int, _ k: [Double]) -> [Double] {
        let r = k.count / 2
        var mid = [Double](repeating: 0, count: v.count), out = mid
        for y in 0..<H {
            for x in 0..<W {
                var s = 0.0, w = 0.0
                for d in -r...r where x + d >= 0 && x + d < W {
                    s += k[d + r] * v[y * W + x + d]
                    w += k[d + r]
                }
                mid[y * W + x] = s / w
            }
        }
        for y in 0..<H {
            for x in 0..<W {
                var s = 0.0, w = 0.0
                for d in -r...r where y + d >= 0 && y + d < H {
                    s += k[d + r] * mid[(y + d) * W + x]
                    w += k[d + r]
                }
                out[y * W + x] = s / w
            }
        }
        return out
    }
}
