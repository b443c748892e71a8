import Dispatch

/// The kind of the figure in a `shapes` image, used as its label.
public enum ShapeKind: Int, Sendable, CaseIterable {
    case circle = 0, square, triangle, ellipse, ring, cross
}

extension ImageSet {
    /// Default number of images of the built-in `shapes` dataset.
    public static let defaultShapesCount = 10_000

    /// A procedural dataset, no files needed: one figure (circle, square, triangle, ellipse, ring
    /// or cross; random position, size, rotation) in one of 8 bright colors per image, on a plain
    /// background in one of 4 dark colors, antialiased with 4x4 supersampling.
    ///
    /// Deliberately simple: a few factors a small VAE learns in minutes, so the demo's samples
    /// are recognisable figures (varied backgrounds made them colored blobs).
    ///
    /// Image `i` depends only on `seed` and `i` (SplitMix64 per image), so it is the same whatever
    /// `count` is and on every platform. Labels are `ShapeKind.rawValue`.
    /// - Parameters:
    ///   - count: Number of images (default 10,000).
    ///   - channels: 3 (default) or 1 (BT.601 luma of the RGB rendering).
    ///   - height: Image height (default 32).
    ///   - width: Image width (default 32).
    ///   - seed: Generator seed (default 0).
    public static func shapes(count: Int = defaultShapesCount, channels: Int = 3, height: Int = 32,
                              width: Int = 32, seed: UInt64 = 0) -> ImageSet {
        precondition(count >= 0 && height > 0 && width > 0 && (channels == 1 || channels == 3),
                     "invalid shapes dataset parameters")
        let n = channels * height * width
        var pixels = [Float](repeating: 0, count: count * n)
        var labels = [Int](repeating: 0, count: count)
        pixels.withUnsafeMutableBufferPointer { pbuf in
            labels.withUnsafeMutableBufferPointer { lbuf in
                guard let pbase = pbuf.baseAddress, let lbase = lbuf.baseAddress else { return }
                let p = SendablePointer(base: pbase), l = SendablePointer(base: lbase)
                let chunks = min(count, 64)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    var i = chunk
                    while i < count {
                        l.base[i] = renderShape(index: i, seed: seed, channels: channels, height: height,
                                                width: width, into: p.base + i * n)
                        i += chunks
                    }
                }
            }
        }
        return ImageSet(count: count, channels: channels, height: height, width: width,
                        pixels: pixels, labels: labels)
    }

    /// Renders image `index` into `out` (CHW) and returns its label.
    static func renderShape(index: Int, seed: UInt64, channels: Int, height: Int, width: Int,
                            into out: UnsafeMutablePointer<Float>) -> Int {
        var rng = SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03))
        _ = rng.next()

        let bg = shapeBackgrounds[rng.nextInt(below: shapeBackgrounds.count)]
        let fg = shapeColors[rng.nextInt(below: shapeColors.count)]
        let kind = ShapeKind(rawValue: rng.nextInt(below: ShapeKind.allCases.count))!
        let size = rng.nextFloat(in: 0.15...0.32)           // half-extent, fraction of the image
        let cx = rng.nextFloat(in: (size * 0.8)...(1 - size * 0.8))
        let cy = rng.nextFloat(in: (size * 0.8)...(1 - size * 0.8))
        let rot = rng.nextFloat(in: 0...(2 * Float.pi))
        let (cr, sr) = (cosf(rot), sinf(rot))
        let aspect = rng.nextFloat(in: 0.45...0.8)

        func inside(_ px: Float, _ py: Float) -> Bool {
            let dx = px - cx, dy = py - cy
            let u = (dx * cr + dy * sr) / size, v = (-dx * sr + dy * cr) / size
            switch kind {
            case .circle: return dx * dx + dy * dy <= size * size
            case .square: return abs(u) <= 0.8 && abs(v) <= 0.8
            case .ellipse: return u * u + (v / aspect) * (v / aspect) <= 1
            case .ring:
                let r2 = (dx * dx + dy * dy) / (size * size)
                return r2 <= 1 && r2 >= 0.4
            case .cross: return (abs(u) <= 1 && abs(v) <= 0.3) || (abs(v) <= 1 && abs(u) <= 0.3)
            case .triangle:
                // Equilateral triangle with circumradius 1 in (u, v): vertices at 90, 210, 330 degrees.
                let s3: Float = 0.866_025_4
                let a = (Float(0), Float(-1)), b = (-s3, Float(0.5)), c = (s3, Float(0.5))
                func edge(_ p: (Float, Float), _ q: (Float, Float)) -> Float {
                    (q.0 - p.0) * (v - p.1) - (q.1 - p.1) * (u - p.0)
                }
                let e1 = edge(a, b), e2 = edge(b, c), e3 = edge(c, a)
                return (e1 >= 0 && e2 >= 0 && e3 >= 0) || (e1 <= 0 && e2 <= 0 && e3 <= 0)
            }
        }

        let plane = height * width
        let ss = 4
        let inv = 1 / Float(ss * ss)
        for y in 0..<height {
            for x in 0..<width {
                let nx = (Float(x) + 0.5) / Float(width), ny = (Float(y) + 0.5) / Float(height)
                var hits = 0
                for sy in 0..<ss {
                    for sx in 0..<ss {
                        let px = (Float(x) + (Float(sx) + 0.5) / Float(ss)) / Float(width)
                        let py = (Float(y) + (Float(sy) + 0.5) / Float(ss)) / Float(height)
                        if inside(px, py) { hits += 1 }
                    }
                }
                let cov = Float(hits) * inv
                let r = mix(bg.0, fg.0, cov), g = mix(bg.1, fg.1, cov), b = mix(bg.2, fg.2, cov)
                let i = y * width + x
                if channels == 3 {
                    out[i] = r; out[plane + i] = g; out[2 * plane + i] = b
                } else {
                    out[i] = min(1, max(0, Image.luma(r, g, b)))
                }
            }
        }
        return kind.rawValue
    }
}

/// Background colors of `shapes`: dark, so every figure color stands out.
private let shapeBackgrounds: [(Float, Float, Float)] = [(0.12, 0.12, 0.30), (0.20, 0.20, 0.20), (0.10, 0.28, 0.18),
                                                         (0.32, 0.12, 0.12)]
/// Figure colors of `shapes`: red, green, blue, yellow, cyan, magenta, orange, white.
private let shapeColors: [(Float, Float, Float)] = [(0.95, 0.20, 0.20), (0.20, 0.85, 0.25), (0.25, 0.45, 1.00),
                                                    (1.00, 0.90, 0.20), (0.20, 0.90, 0.90), (0.95, 0.30, 0.90),
                                                    (1.00, 0.60, 0.10), (0.95, 0.95, 0.95)]

@inline(__always) private func mix(_ a: Float, _ b: Float, _ t: Float) -> Float { a + (b - a) * t }

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
