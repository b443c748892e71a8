import ImageIO

/// Where a step's training pictures come from: whole images of the model's size, or patches of
/// photos of any size (random crops, at random scales and mirrored, drawn afresh every step from
/// the step's generator, so a few hundred photos give an unbounded stream and resume stays exact).
public enum TrainingImages: Sendable {
    case images(ImageSet)
    /// Patches of `size` x `size`; `slots[i]` is the photo of epoch slot i (each photo holds as
    /// many slots as non-overlapping patches fit in it).
    case patches(PhotoSet, size: Int, scales: ClosedRange<Float>, slots: [Int])

    /// Patches of `photos`, zoomed out by a factor drawn from `scales`.
    public static func patches(of photos: PhotoSet, size: Int, scales: ClosedRange<Float>) -> TrainingImages {
        var slots: [Int] = []
        for (i, photo) in photos.photos.enumerated() {
            slots += repeatElement(i, count: max(1, photo.width / size) * max(1, photo.height / size))
        }
        return .patches(photos, size: size, scales: scales, slots: slots)
    }

    /// Pictures in an epoch.
    public var count: Int {
        switch self {
        case .images(let set): set.count
        case .patches(_, _, _, let slots): slots.count
        }
    }

    /// Channels of the pictures.
    public var channels: Int {
        switch self {
        case .images(let set): set.channels
        case .patches(let photos, _, _, _): photos.photos.first?.channels ?? 3
        }
    }

    /// Writes picture `index` of an epoch into `destination` (channels planes of the model's
    /// size); a patch's crop comes from `rng`. Whole images are copied and use no randomness.
    /// - Returns: whether the picture was already mirrored at random (patches are).
    @discardableResult
    public func write(_ index: Int, rng: inout SplitMix64, mirror: Bool, into destination: UnsafeMutablePointer<Float>) -> Bool {
        switch self {
        case .images(let set):
            set.copyBatch(indices: CollectionOfOne(index), into: destination)
            return false
        case .patches(let photos, let size, let scales, let slots):
            photos.crop(slots[index], size: size, scales: scales, mirror: mirror, rng: &rng, into: destination)
            return true
        }
    }

    /// The pictures (model-sized images, or the photos) at `indices` that have color.
    public func colored() -> TrainingImages {
        switch self {
        case .images(let set):
            return .images(set.subset(Colorization.colorImages(in: set)))
        case .patches(let photos, let size, let scales, _):
            let kept = photos.subset(photos.photos.indices.filter { !Colorization.isGray(photos.photos[$0]) })
            return .patches(of: kept, size: size, scales: scales)
        }
    }
}
