import NN

/// Analytic gradients against central differences of a loss, strict enough to catch a wrong
/// factor: per tensor, over sampled coordinates, the least-squares factor between analytic and
/// numeric gradients must be 1 and the relative residual small. A coordinate whose difference
/// quotient changes with the step (a ReLU kink between x - h and x + h) is left out and counted.
public struct GradientCheck {
    public var rng: TestRandom
    /// The step h (the quotient at h/2 tells kinks apart).
    public var step: Float

    public init(seed: UInt64 = 42, step: Float = 1e-2) {
        rng = TestRandom(seed: seed)
        self.step = step
    }

    /// Compares `samples` coordinates of each named tensor's analytic gradient with central
    /// differences of `loss`; the tensors' values are restored afterwards. A tensor whose sampled
    /// gradient is under a tenth of the typical size is judged by its residual against that size.
    public mutating func compare(_ targets: [(name: String, tensor: Tensor, analytic: [Float])], samples: Int,
                                 loss: () throws -> Double) throws -> GradientReport {
        typealias Pair = (index: Int, analytic: Double, numeric: Double, half: Double)
        var report = GradientReport()
        var sampled: [(String, [Pair])] = []
        for (name, tensor, analytic) in targets {
            var values = try tensor.read()
            precondition(analytic.count == values.count, "\(name): gradient and values differ in size")
            var pairs: [Pair] = []
            for _ in 0..<min(samples, values.count) {
                let i = Int(rng.next() % UInt64(values.count))
                func quotient(_ h: Float) throws -> Double {
                    let saved = values[i]
                    values[i] = saved + h
                    try tensor.write(values)
                    let plus = try loss()
                    values[i] = saved - h
                    try tensor.write(values)
                    let minus = try loss()
                    values[i] = saved
                    try tensor.write(values)
                    return (plus - minus) / Double(2 * h)
                }
                pairs.append((i, Double(analytic[i]), try quotient(step), try quotient(step / 2)))
            }
            sampled.append((name, pairs))
        }
        let all = sampled.flatMap(\.1)
        let typical = max(1e-9, (all.map { $0.numeric * $0.numeric }.reduce(0, +) / Double(max(all.count, 1))).squareRoot())
        for (name, pairs) in sampled {
            // A quotient that moves with the step straddles a kink.
            let smooth = pairs.filter { abs($0.numeric - $0.half) <= 0.05 * (abs($0.numeric) + abs($0.half)) + 1e-3 * typical }
            report.skipped += pairs.count - smooth.count
            report.compared += smooth.count
            guard !smooth.isEmpty else { continue }
            let an = smooth.map { $0.analytic * $0.numeric }.reduce(0, +), nn = smooth.map { $0.numeric * $0.numeric }.reduce(0, +)
            let aa = smooth.map { $0.analytic * $0.analytic }.reduce(0, +)
            let diff = smooth.map { ($0.analytic - $0.numeric) * ($0.analytic - $0.numeric) }.reduce(0, +)
            let floor = 0.1 * typical * Double(smooth.count).squareRoot()
            let residual = diff.squareRoot() / max(nn.squareRoot(), aa.squareRoot(), floor)
            let slope = nn.squareRoot() >= floor ? an / nn : 1
            if residual > report.residual || abs(slope - 1) > abs(report.slope - 1) {
                let worst = smooth.max { abs($0.analytic - $0.numeric) < abs($1.analytic - $1.numeric) }!
                report.worst = "\(name)[\(worst.index)]: analytic \(worst.analytic), numeric \(worst.numeric)"
            }
            report.residual = max(report.residual, residual)
            if abs(slope - 1) > abs(report.slope - 1) { report.slope = slope }
        }
        return report
    }

    /// A layer's input and parameter gradients on the loss sum(r * layer(x)) with random r.
    public mutating func check(_ layer: Layer, input x: Tensor, samples: Int = 12) throws -> GradientReport {
        let y = try layer.forward(x)
        let r = rng.signed(y.count)
        let dy = try Tensor(y.shape, values: r, on: x.device)
        let dx = try layer.backward(dy, inputGradient: true)!.read()
        var targets: [(name: String, tensor: Tensor, analytic: [Float])] = [("input", x, dx)]
        for p in layer.parameters { targets.append((p.name, p.value, try p.grad.read())) }
        return try compare(targets, samples: samples) {
            let out = try layer.forward(x).read()
            return zip(out, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
    }
}

/// The outcome of a gradient check.
public struct GradientReport: CustomStringConvertible, Sendable {
    /// Coordinates compared, and those left out as kinks.
    public var compared = 0, skipped = 0
    /// The least-squares factor between analytic and numeric gradients farthest from 1, over tensors.
    public var slope = 1.0
    /// The largest ||analytic - numeric|| / ||numeric|| over tensors.
    public var residual = 0.0
    /// The coordinate that disagrees most.
    public var worst = ""

    /// Whether the gradients agree: at most a tenth of the coordinates are kinks, the factor is
    /// within `tolerance` of 1 and the residual below `2 tolerance`.
    public func agrees(within tolerance: Double = 1e-2) -> Bool {
        compared > 0 && skipped * 10 <= compared + skipped && abs(slope - 1) <= tolerance && residual <= 2 * tolerance
    }

    public var description: String {
        "compared \(compared) (skipped \(skipped) at kinks), factor \(slope), residual \(residual); worst \(worst)"
    }
}
