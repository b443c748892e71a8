import NN

/// Finite-difference checks of a layer's backward pass on the loss L = sum(r * layer(x)).
struct GradientCheck {
    var rng = LCG(seed: 42)

    /// Random values in [-1, 1].
    mutating func randoms(_ n: Int) -> [Float] { (0..<n).map { _ in rng.nextSigned() } }

    /// Max over sampled coordinates of |analytic - numeric| / max(1, |numeric|), for the input
    /// and every parameter.
    mutating func maxError(_ layer: Layer, input x: Tensor, samples: Int = 12, h: Float = 1e-2) throws -> Float {
        let y = try layer.forward(x)
        let r = randoms(y.count)
        func loss() throws -> Double {
            let out = try layer.forward(x).read()
            return zip(out, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let dy = try Tensor(y.shape, values: r, on: x.device)
        let dx = try layer.backward(dy, inputGradient: true)!.read()
        var worst: Float = 0
        var targets: [(Tensor, [Float])] = [(x, dx)]
        for p in layer.parameters { targets.append((p.value, try p.grad.read())) }
        for (tensor, analytic) in targets {
            var values = try tensor.read()
            for _ in 0..<samples {
                let i = Int(rng.next() % UInt64(values.count))
                let saved = values[i]
                values[i] = saved + h
                try tensor.write(values)
                let plus = try loss()
                values[i] = saved - h
                try tensor.write(values)
                let minus = try loss()
                values[i] = saved
                try tensor.write(values)
                let numeric = Float((plus - minus) / Double(2 * h))
                worst = max(worst, abs(analytic[i] - numeric) / max(1, abs(numeric)))
            }
        }
        return worst
    }
}

/// A tiny deterministic generator for tests.
struct LCG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }
    mutating func nextSigned() -> Float { Float(next() % 2_000_001) / 1_000_000 - 1 }
}
