extension ImageSet {
    /// Indices of a held-out validation split: a seeded permutation of `0..<count` whose last
    /// `round(count * validationFraction)` entries (at least 1 when the fraction is > 0 and
    /// count >= 2) are validation and the rest training. Both lists are sorted ascending.
    /// - Parameters:
    ///   - count: Dataset size.
    ///   - validationFraction: Fraction held out, in [0, 1).
    ///   - seed: The split seed.
    public static func splitIndices(count: Int, validationFraction: Double, seed: UInt64)
        -> (train: [Int], validation: [Int]) {
        precondition(validationFraction >= 0 && validationFraction < 1, "validation fraction must be in [0, 1)")
        var nVal = Int((Double(count) * validationFraction).rounded())
        if validationFraction > 0 && nVal == 0 && count >= 2 { nVal = 1 }
        let order = SplitMix64.permutation(count: count, seed: seed)
        let train = order[0..<(count - nVal)].sorted()
        let validation = order[(count - nVal)...].sorted()
        return (train, validation)
    }

    /// Splits into training and held-out validation sets (see `splitIndices`), keeping the
    /// original order inside each part.
    /// - Parameters:
    ///   - validationFraction: Fraction held out (default 0.1).
    ///   - seed: The split seed.
    public func split(validationFraction: Double = 0.1, seed: UInt64) -> (train: ImageSet, validation: ImageSet) {
        let (t, v) = ImageSet.splitIndices(count: count, validationFraction: validationFraction, seed: seed)
        return (subset(t), subset(v))
    }
}
