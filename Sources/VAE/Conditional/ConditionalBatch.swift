import ImageIO

/// Turns images into a conditional task's (target, condition) rows on the host, into buffers
/// allocated once, so a training loop prepares each batch without allocating.
///
/// - inpaint: target x; condition [x with its holes pre-filled by harmonic interpolation; m], with a
///   fresh mask m per image from the mix (the model learns what to add to the smoothest guess,
///   rather than to rebuild the hole's whole surroundings from zeros); the loss weights are m in
///   every channel, so the likelihood counts the missing pixels alone (VAEAC's log p(x_m | x_o))
/// - colorize: target (Cb, Cr); condition Y (full-range YCbCr of the RGB image)
public final class ConditionalBatch {
    public let task: ConditionalTask
    public let channels: Int, height: Int, width: Int
    public let capacity: Int
    /// The masks' mix (inpainting only).
    public let masks: MaskGenerator?
    /// `capacity` rows of targets and of conditions, NCHW.
    public let targets: UnsafeMutablePointer<Float>
    public let conditions: UnsafeMutablePointer<Float>
    /// Inpainting: `capacity` rows of per-value loss weights shaped like the targets: the row's
    /// mask (1 = missing) in each channel; nil for colorization, whose loss counts every value.
    public let weights: UnsafeMutablePointer<Float>?
    /// Colorization by quantized colors: the bins, and `capacity` rows of labels and loss
    /// weights at their resolution; nil otherwise.
    public let chroma: ChromaBins?
    public let labels: UnsafeMutablePointer<Float>?, labelWeights: UnsafeMutablePointer<Float>?
    public private(set) var count = 0
    /// Pre-fills the holes of inpainting conditions.
    let interpolator: HarmonicInterpolator
    /// One picture on its way into a row (copied, cropped or mirrored).
    let picture: UnsafeMutablePointer<Float>
    /// One picture mirrored.
    let mirrored: UnsafeMutablePointer<Float>

    public init(task: ConditionalTask, channels: Int, height: Int, width: Int, capacity: Int, masks: MaskGenerator?,
                chroma: ChromaBins? = nil) {
        precondition(task == .colorize || masks != nil, "inpainting needs a mask mix")
        precondition(task == .inpaint || channels == 3, "colorization needs RGB images")
        self.task = task
        self.channels = channels
        self.height = height
        self.width = width
        self.capacity = capacity
        self.masks = masks
        let plane = height * width
        targets = .allocate(capacity: capacity * task.targetChannels(imageChannels: channels) * plane)
        conditions = .allocate(capacity: capacity * task.conditionChannels(imageChannels: channels) * plane)
        weights = task == .inpaint ? .allocate(capacity: capacity * channels * plane) : nil
        interpolator = HarmonicInterpolator(width: width, height: height)
        self.chroma = chroma
        let positions = chroma.map { (width / $0.stride) * (height / $0.stride) } ?? 0
        labels = chroma == nil ? nil : .allocate(capacity: capacity * positions)
        labelWeights = chroma == nil ? nil : .allocate(capacity: capacity * positions)
        picture = .allocate(capacity: channels * plane)
        mirrored = .allocate(capacity: channels * plane)
    }

    deinit {
        targets.deallocate()
        conditions.deallocate()
        weights?.deallocate()
        picture.deallocate()
        mirrored.deallocate()
        labels?.deallocate()
        labelWeights?.deallocate()
    }

    var plane: Int { height * width }

    /// Values of the current rows that the loss counts: the missing ones when inpainting, all
    /// when colorizing.
    public var countedValues: Int {
        if let chroma { return count * (width / chroma.stride) * (height / chroma.stride) }
        guard let weights else { return count * targetItem }
        return (0..<(count * targetItem)).reduce(0) { $0 + (weights[$1] > 0.5 ? 1 : 0) }
    }
    public var targetItem: Int { task.targetChannels(imageChannels: channels) * plane }
    public var conditionItem: Int { task.conditionChannels(imageChannels: channels) * plane }

    /// Fills the rows from the images at `indices` of `set` (see `fill(from:indices:mirror:maskRNG:)`).
    public func fill(from set: ImageSet, indices: some Collection<Int>, mirror: Bool = false,
                     maskRNG: (_ position: Int, _ index: Int) -> SplitMix64) {
        fill(from: .images(set), indices: indices, mirror: mirror, maskRNG: maskRNG)
    }

    /// Fills the rows from the pictures at `indices` of `source`. Row i's generator comes from
    /// `maskRNG(i, index)`; it draws the row's mask, then the patch (for photos), then with
    /// `mirror` whether the picture is flipped left-right (probability 1/2).
    public func fill(from source: TrainingImages, indices: some Collection<Int>, mirror: Bool = false,
                     maskRNG: (_ position: Int, _ index: Int) -> SplitMix64) {
        precondition(source.channels == channels, "pictures do not match the batch geometry")
        if case .images(let set) = source {
            precondition(set.height == height && set.width == width, "images do not match the batch geometry")
        }
        precondition(indices.count <= capacity, "batch larger than the buffers")
        let n = channels * plane
        for (row, index) in indices.enumerated() {
            var rng = maskRNG(row, index)
            // The mask goes into the row's first weight plane (and is copied to the others below).
            let mask = weights.map { $0 + row * n }
            if let mask {
                masks!.draw(into: UnsafeMutableBufferPointer(start: mask, count: plane), width: width, height: height,
                            rng: &rng)
            }
            let mirrored = source.write(index, rng: &rng, mirror: mirror, into: picture)
            var image = UnsafePointer(picture)
            if mirror, !mirrored, rng.next() & 1 == 1 {
                for r in 0..<(channels * height) {
                    for x in 0..<width { self.mirrored[r * width + x] = picture[r * width + width - 1 - x] }
                }
                image = UnsafePointer(self.mirrored)
            }
            switch task {
            case .inpaint:
                (targets + row * n).update(from: image, count: n)
                for c in 1..<channels { (mask! + c * plane).update(from: mask!, count: plane) }
                Condition.inpainting(image: image, mask: mask!, channels: channels,
                                     interpolator: interpolator, into: conditions + row * conditionItem)
            case .colorize:
                Image.splitYCbCr(rgb: image, plane: plane, luma: conditions + row * conditionItem,
                                 chroma: targets + row * targetItem)
                if let chroma, let labels, let labelWeights {
                    let positions = (width / chroma.stride) * (height / chroma.stride)
                    chroma.label(chroma: targets + row * targetItem, width: width, height: height,
                                 labels: labels + row * positions, weights: labelWeights + row * positions)
                }
            }
        }
        count = indices.count
    }
}
