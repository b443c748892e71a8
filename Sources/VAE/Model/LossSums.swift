/// Per-batch sums of the loss terms, in nats.
public struct LossSums: Sendable {
    public var reconstruction: Double
    public var kl: Double
    public var images: Int
    /// KL per latent group, top first, summing to `kl` (empty for a model with one latent).
    public var groupKL: [Double] = []

    public init(reconstruction: Double = 0, kl: Double = 0, images: Int = 0, groupKL: [Double] = []) {
        self.reconstruction = reconstruction
        self.kl = kl
        self.images = images
        self.groupKL = groupKL
    }

    public static func += (a: inout LossSums, b: LossSums) {
        a.reconstruction += b.reconstruction
        a.kl += b.kl
        a.images += b.images
        a.groupKL = a.groupKL.isEmpty ? b.groupKL : b.groupKL.isEmpty ? a.groupKL : zip(a.groupKL, b.groupKL).map(+)
    }

    /// Mean negative ELBO per image.
    public var negativeELBO: Double { images == 0 ? 0 : (reconstruction + kl) / Double(images) }
}
