import Foundation
import ImageIO

/// Colorization's output as a distribution over quantized colors rather than one mean color
/// (Zhang et al. 2016): the chroma plane (Cb, Cr) of full-range YCbCr cut into a grid of
/// `perAxis` x `perAxis` bins, predicted at 1/`stride` of the picture's resolution (color is
/// low-frequency) by a softmax per position. A regression to the mean chroma washes colors out
/// toward sepia; a categorical keeps the modes apart, and rebalancing the loss by each bin's
/// rarity (weights ~ 1 / ((1 - lambda) p(bin) + lambda / K)) keeps rare vivid colors from being
/// ignored. A color is read back as the annealed mean (the distribution raised to 1/T and
/// renormalized, T < 1 sharpening it): more vivid than the mean, smoother than the mode.
///
/// A softmax trained with weights w fits w(k) p(k | picture), not p(k | picture): read as it is,
/// it overstates the rare colors, which is what makes it vivid and what costs it PSNR (a
/// picture's expected error is least at the mean of p itself). The read-out keeps `rebalancing`
/// of that (dividing the distribution by w^(1 - rebalancing)), so one number trades vivid colors
/// against faithful ones.
public struct ChromaBins: Codable, Equatable, Sendable {
    /// Bins per chroma axis; K = perAxis^2 classes.
    public var perAxis: Int
    /// The prediction's resolution is the picture's divided by this (a power of two).
    public var stride: Int
    /// The annealed mean's temperature T.
    public var temperature: Float
    /// The loss weight of each bin (K values, mean 1 over the training colors); empty until a
    /// new run estimates them from its training pictures.
    public var weights: [Float]
    /// How much of the rebalancing the read-out keeps, in 0...1: 1 reads the distribution the
    /// loss fitted (vivid), 0 divides the weights back out (the training colors' own distribution:
    /// muted, the best PSNR). Nil reads as 1, what runs before it was recorded used.
    public var rebalancing: Float?

    /// The read-out's rebalancing of new runs. First sample against the gray picture, and
    /// colorfulness against the truth's, at rebalancing 1 / 0.5 / 0: Tiny ImageNet after 10
    /// minutes on a core -1.2 dB, 0.86x / 0.0 dB, 0.52x / +0.36 dB, 0.37x; BSDS500 photos after
    /// 20 minutes on 2 threads -0.36 dB, 0.93x / +0.72 dB, 0.62x / +1.06 dB, 0.49x.
    public static let recipeRebalancing: Float = 0.5

    public init(perAxis: Int = 16, stride: Int = 4, temperature: Float = 0.38, weights: [Float]? = nil,
                rebalancing: Float? = nil) {
        self.perAxis = perAxis
        self.stride = stride
        self.temperature = temperature
        self.weights = weights ?? []
        self.rebalancing = rebalancing
    }

    /// K, the number of bins.
    public var classes: Int { perAxis * perAxis }

    /// The bin of a chroma pair in [0, 1]^2 (clamped).
    @inlinable
    public func bin(cb: Float, cr: Float) -> Int {
        let g = perAxis
        let i = min(g - 1, max(0, Int(cb * Float(g)))), j = min(g - 1, max(0, Int(cr * Float(g))))
        return i * g + j
    }

    /// The chroma pair at the center of bin `k`.
    @inlinable
    public func center(_ k: Int) -> (cb: Float, cr: Float) {
        ((Float(k / perAxis) + 0.5) / Float(perAxis), (Float(k % perAxis) + 0.5) / Float(perAxis))
    }

    /// One picture's labels and loss weights at the prediction's resolution: the bin of each
    /// `stride` x `stride` block's mean chroma, and that bin's weight.
    /// - Parameters:
    ///   - chroma: the Cb and Cr planes of a `width` x `height` picture
    ///   - labels, weights: room for (width / stride) x (height / stride) values each, overwritten
    public func label(chroma: UnsafePointer<Float>, width: Int, height: Int, labels: UnsafeMutablePointer<Float>,
                      weights out: UnsafeMutablePointer<Float>) {
        let s = stride, w = width / s, h = height / s, plane = width * height
        let norm = 1 / Float(s * s)
        for y in 0..<h {
            for x in 0..<w {
                var cb: Float = 0, cr: Float = 0
                for dy in 0..<s {
                    for dx in 0..<s {
                        let p = (y * s + dy) * width + x * s + dx
                        cb += chroma[p]
                        cr += chroma[plane + p]
                    }
                }
                let k = bin(cb: cb * norm, cr: cr * norm)
                labels[y * w + x] = Float(k)
                out[y * w + x] = weights.isEmpty ? 1 : weights[k]
            }
        }
    }

    /// The annealed-mean chroma (Cb plane, then Cr) of one item's logits [K, positions], with
    /// `rebalancing` of the weights kept.
    public func chroma(logits: ArraySlice<Float>, positions: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 2 * positions)
        let K = classes, base = logits.startIndex
        var p = [Double](repeating: 0, count: K)
        // log w^(rebalancing - 1) per bin: what undoes the part of the weights not kept.
        let kept = Double(rebalancing ?? 1)
        let offset = weights.count == K && kept != 1 ? weights.map { (kept - 1) * log(max(Double($0), 1e-6)) }
                                                      : [Double](repeating: 0, count: K)
        for q in 0..<positions {
            var m = -Double.infinity
            for k in 0..<K { m = max(m, Double(logits[base + k * positions + q]) + offset[k]) }
            var z = 0.0
            for k in 0..<K {
                p[k] = exp((Double(logits[base + k * positions + q]) + offset[k] - m) / Double(temperature))
                z += p[k]
            }
            var cb = 0.0, cr = 0.0
            for k in 0..<K {
                let c = center(k)
                cb += p[k] * Double(c.cb)
                cr += p[k] * Double(c.cr)
            }
            out[q] = Float(cb / z)
            out[positions + q] = Float(cr / z)
        }
        return out
    }

    /// Rebalancing weights from the colors of some training pictures: the bins' empirical
    /// distribution, smoothed by a Gaussian of `sigma` bins, mixed with the uniform one by
    /// `lambda`, inverted, and scaled to mean 1 under the empirical distribution.
    /// - Parameter histogram: counts of each bin's labels over the training pictures
    public static func rebalancingWeights(histogram: [Double], perAxis g: Int, lambda: Double = 0.5,
                                          sigma: Double = 1) -> [Float] {
        let K = g * g, total = max(histogram.reduce(0, +), 1)
        let p = histogram.map { $0 / total }
        var smooth = [Double](repeating: 0, count: K)
        let r = Int((3 * sigma).rounded(.up))
        for i in 0..<g {
            for j in 0..<g {
                var s = 0.0, wsum = 0.0
                for di in -r...r {
                    for dj in -r...r {
                        let a = i + di, b = j + dj
                        guard a >= 0, a < g, b >= 0, b < g else { continue }
                        let w = exp(-Double(di * di + dj * dj) / (2 * sigma * sigma))
                        s += w * p[a * g + b]
                        wsum += w
                    }
                }
                smooth[i * g + j] = s / wsum
            }
        }
        let total2 = smooth.reduce(0, +)
        let w = smooth.map { 1 / ((1 - lambda) * $0 / total2 + lambda / Double(K)) }
        let expected = zip(p, w).reduce(0) { $0 + $1.0 * $1.1 }
        return w.map { Float($0 / expected) }
    }
}
