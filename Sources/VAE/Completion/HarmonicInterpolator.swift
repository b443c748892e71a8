/// Harmonic (Laplace) interpolation: each missing pixel becomes the mean of its 4-neighbours
/// inside the image, the observed pixels being the boundary values: the smoothest completion
/// there is, and exact on anything linear.
///
/// Solved per channel by conjugate gradients in double over the missing pixels only (A =
/// degree - adjacency among missing pixels, b = sum of observed neighbours). Large holes start
/// from the solution on a half-size grid (computed the same way, recursively), so CG only has to
/// refine it: a photo's big hole takes tens of iterations instead of thousands. Scratch memory is
/// allocated once for a picture size, so the conditional trainer can pre-fill every training hole
/// without allocating (its holes are small enough never to need the half-size grid).
public final class HarmonicInterpolator {
    public let width: Int, height: Int
    /// Unknowns above which the solve starts from the half-size solution.
    static let coarseStart = 4096
    let unknowns: UnsafeMutablePointer<Int>      // plane index of each missing pixel
    let slot: UnsafeMutablePointer<Int>          // per plane index: its unknown number, or -1
    let neighbours: UnsafeMutablePointer<Int>    // 4 per unknown: the unknown number of a missing neighbour, or -1
    let degree: UnsafeMutablePointer<Double>     // neighbours inside the image, per unknown
    let x: UnsafeMutablePointer<Double>, r: UnsafeMutablePointer<Double>
    let d: UnsafeMutablePointer<Double>, ad: UnsafeMutablePointer<Double>

    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "size must be positive")
        self.width = width
        self.height = height
        let n = width * height
        unknowns = .allocate(capacity: n)
        slot = .allocate(capacity: n)
        neighbours = .allocate(capacity: 4 * n)
        degree = .allocate(capacity: n)
        x = .allocate(capacity: n)
        r = .allocate(capacity: n)
        d = .allocate(capacity: n)
        ad = .allocate(capacity: n)
    }

    deinit {
        unknowns.deallocate()
        slot.deallocate()
        neighbours.deallocate()
        degree.deallocate()
        x.deallocate()
        r.deallocate()
        d.deallocate()
        ad.deallocate()
    }

    /// Replaces the missing pixels of `planes` (`channels` planes of width x height floats) by
    /// their harmonic interpolation, clamped to [0, 1]; observed pixels are not touched. With
    /// nothing observed, the missing pixels become 0.5.
    /// - Parameters:
    ///   - mask: width x height values, > 0.5 = missing
    ///   - tolerance: CG stops when |residual|^2 <= tolerance * max(1, |b|^2)
    public func fill(_ planes: UnsafeMutablePointer<Float>, channels: Int, mask: UnsafePointer<Float>,
                     tolerance: Double = 1e-20) {
        let W = width, H = height, n = W * H
        var m = 0
        for p in 0..<n {
            if mask[p] > 0.5 {
                slot[p] = m
                unknowns[m] = p
                m += 1
            } else {
                slot[p] = -1
            }
        }
        guard m > 0 else { return }
        guard m < n else {
            for c in 0..<channels { for p in 0..<n { planes[c * n + p] = 0.5 } }
            return
        }
        for k in 0..<m {
            let p = unknowns[k], px = p % W, py = p / W
            neighbours[4 * k] = px > 0 ? slot[p - 1] : -1
            neighbours[4 * k + 1] = px + 1 < W ? slot[p + 1] : -1
            neighbours[4 * k + 2] = py > 0 ? slot[p - W] : -1
            neighbours[4 * k + 3] = py + 1 < H ? slot[p + W] : -1
            degree[k] = Double((px > 0 ? 1 : 0) + (px + 1 < W ? 1 : 0) + (py > 0 ? 1 : 0) + (py + 1 < H ? 1 : 0))
        }
        let coarse = m > Self.coarseStart ? halfSizeSolution(planes, channels: channels, mask: mask, tolerance: tolerance) : nil
        for c in 0..<channels {
            let v = planes + c * n
            var bb = 0.0
            for k in 0..<m {
                // b: the observed neighbours' values (kept in r until the residual replaces it).
                let p = unknowns[k], px = p % W, py = p / W
                var b = 0.0
                if px > 0, slot[p - 1] < 0 { b += Double(v[p - 1]) }
                if px + 1 < W, slot[p + 1] < 0 { b += Double(v[p + 1]) }
                if py > 0, slot[p - W] < 0 { b += Double(v[p - W]) }
                if py + 1 < H, slot[p + W] < 0 { b += Double(v[p + W]) }
                r[k] = b
                bb += b * b
            }
            if let coarse {
                let cw = (W + 1) / 2, ch = (H + 1) / 2
                for k in 0..<m {
                    let p = unknowns[k]
                    x[k] = Double(coarse[(c * ch + (p / W) / 2) * cw + (p % W) / 2])
                }
            } else {
                var observedSum = 0.0
                for p in 0..<n where slot[p] < 0 { observedSum += Double(v[p]) }
                let start = observedSum / Double(n - m)
                for k in 0..<m { x[k] = start }
            }
            solve(count: m, stop: tolerance * max(1, bb))
            for k in 0..<m { v[unknowns[k]] = Float(min(max(x[k], 0), 1)) }
        }
    }

    /// Conjugate gradients on A x = b from the start in `x`, with b in `r`.
    func solve(count m: Int, stop: Double) {
        apply(x, into: ad, count: m)
        var rr = 0.0
        for k in 0..<m {
            r[k] -= ad[k]
            d[k] = r[k]
            rr += r[k] * r[k]
        }
        var iteration = 0
        while rr > stop && iteration < 4 * m + 100 {
            apply(d, into: ad, count: m)
            var dad = 0.0
            for k in 0..<m { dad += d[k] * ad[k] }
            guard dad > 0 else { break }
            let alpha = rr / dad
            var next = 0.0
            for k in 0..<m {
                x[k] += alpha * d[k]
                r[k] -= alpha * ad[k]
                next += r[k] * r[k]
            }
            let beta = next / rr
            rr = next
            for k in 0..<m { d[k] = r[k] + beta * d[k] }
            iteration += 1
        }
    }

    /// out = A v: degree times v minus the missing neighbours' values.
    func apply(_ v: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>, count m: Int) {
        for k in 0..<m {
            var s = degree[k] * v[k]
            for j in 0..<4 {
                let q = neighbours[4 * k + j]
                if q >= 0 { s -= v[q] }
            }
            out[k] = s
        }
    }

    /// The harmonic fill of the half-size picture (each pixel the mean of the observed pixels of
    /// its 2x2 block, missing when none is), as planes of ((W + 1) / 2) x ((H + 1) / 2).
    func halfSizeSolution(_ planes: UnsafeMutablePointer<Float>, channels: Int, mask: UnsafePointer<Float>,
                          tolerance: Double) -> [Float] {
        let W = width, H = height, cw = (W + 1) / 2, ch = (H + 1) / 2
        var small = [Float](repeating: 0, count: channels * cw * ch)
        var smallMask = [Float](repeating: 1, count: cw * ch)
        for y in 0..<ch {
            for x in 0..<cw {
                var count = 0
                for sy in (2 * y)..<min(2 * y + 2, H) {
                    for sx in (2 * x)..<min(2 * x + 2, W) where mask[sy * W + sx] <= 0.5 {
                        for c in 0..<channels { small[(c * ch + y) * cw + x] += planes[(c * H + sy) * W + sx] }
                        count += 1
                    }
                }
                guard count > 0 else { continue }
                smallMask[y * cw + x] = 0
                for c in 0..<channels { small[(c * ch + y) * cw + x] /= Float(count) }
            }
        }
        let solver = HarmonicInterpolator(width: cw, height: ch)
        small.withUnsafeMutableBufferPointer { s in
            smallMask.withUnsafeBufferPointer { solver.fill(s.baseAddress!, channels: channels, mask: $0.baseAddress!, tolerance: tolerance) }
        }
        return small
    }
}
