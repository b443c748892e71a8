/// Per-batch sums of the loss terms, in nats.
public struct LossSums: Sendable {
    public var reconstruction: Double
    public var kl: Double
    public var images: Int

    public init(reconstruction: Double = 0, kl: Double = 0, images: Int = 0) {
        self.reconstruction = reconstruction
        self.kl = kl
        self.images = images
    }

    public static func += (a: inout LossSums, b: LossSums) {
        a.reconstruction += b.reconstruction
        a.kl += b.kl
        a.images += b.images
    }

    /// Mean negative ELBO per image.
    public var negativeELBO: Double { images == 0 ? 0 : (reconstruction + kl) / Double(images) }
}
