/// The tests' seeded generator (a 64-bit LCG with the high bits mixed in): every random test
/// input comes from one, so each run of the suite sees the same numbers.
public struct TestRandom: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        var z = state
        z = (z ^ (z >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        return z ^ (z >> 33)
    }

    /// Uniform in [-1, 1].
    public mutating func signed() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }

    /// `n` values uniform in [-1, 1].
    public mutating func signed(_ n: Int) -> [Float] { (0..<n).map { _ in signed() } }
}
