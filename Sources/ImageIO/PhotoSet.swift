/// Pictures at their own sizes (a folder of photos): models train on random patches of them and
/// complete and score them whole.
public struct PhotoSet: Sendable {
    /// The pictures, RGB or gray as loaded.
    public let photos: [Image]
    /// Each picture's file.
    public let names: [String]

    public init(photos: [Image], names: [String]) {
        precondition(photos.count == names.count, "one name per photo")
        self.photos = photos
        self.names = names
    }

    public var count: Int { photos.count }

    /// Every PNG/JPEG under `directory` at its own size, converted to `channels`, in the
    /// folder's sorted order.
    /// - Throws: `ImageIOError` for a missing or empty folder, photos that together exceed
    ///   `MemoryLimit`, or naming a file that does not decode.
    public static func load(folder directory: String, channels: Int = 3) throws -> PhotoSet {
        let files = try ImageSet.imageFiles(in: directory)
        var photos: [Image] = [], values = 0
        for file in files {
            let photo = try Image.load(file).converted(channels: channels)
            values += photo.pixels.count
            try MemoryLimit.check(values, 4, what: "the photos up to \(file)", path: directory)
            photos.append(photo)
        }
        return PhotoSet(photos: photos, names: files.map(\.description))
    }

    /// The photos at `indices`, in that order.
    public func subset(_ indices: some Collection<Int>) -> PhotoSet {
        PhotoSet(photos: indices.map { photos[$0] }, names: indices.map { names[$0] })
    }

    /// Training and held-out photos: a split by photo (never by patch), as `ImageSet.splitIndices`.
    public func split(validationFraction: Double = 0.1, seed: UInt64) -> (train: PhotoSet, validation: PhotoSet) {
        let (t, v) = ImageSet.splitIndices(count: count, validationFraction: validationFraction, seed: seed)
        return (subset(t), subset(v))
    }

    /// How many `size` x `size` patches tile the photos without overlap: an epoch's worth.
    public func patchCount(size: Int) -> Int {
        photos.reduce(0) { $0 + max(1, $1.width / size) * max(1, $1.height / size) }
    }

    /// Writes a `size` x `size` crop of photo `index` into `destination` (its channels' planes),
    /// without allocating: a square of side `size * s` (s uniform in `scales`, as far as the photo
    /// allows) at a uniform position, averaged down to `size` (area resampling), mirrored
    /// left-right with probability 1/2 when `mirror`. Every choice comes from `rng`.
    public func crop(_ index: Int, size: Int, scales: ClosedRange<Float> = 1...1, mirror: Bool = false,
                     rng: inout SplitMix64, into destination: UnsafeMutablePointer<Float>) {
        let photo = photos[index]
        let largest = Float(min(photo.width, photo.height)) / Float(size)
        let s = min(largest, scales.lowerBound == scales.upperBound ? scales.lowerBound : rng.nextFloat(in: scales))
        let side = max(1, min(min(photo.width, photo.height), Int((Float(size) * max(s, 1)).rounded())))
        let x0 = rng.nextInt(below: photo.width - side + 1), y0 = rng.nextInt(below: photo.height - side + 1)
        let flip = mirror && rng.next() & 1 == 1
        let step = Float(side) / Float(size), plane = photo.width * photo.height
        photo.pixels.withUnsafeBufferPointer { src in
            for c in 0..<photo.channels {
                let source = src.baseAddress! + c * plane, out = destination + c * size * size
                for y in 0..<size {
                    let ya = Float(y) * step, yb = ya + step
                    for x in 0..<size {
                        let xa = Float(x) * step, xb = xa + step
                        // The mean of the source over [xa, xb) x [ya, yb), weighted by overlap.
                        var sum: Float = 0, total: Float = 0
                        var sy = Int(ya)
                        while Float(sy) < yb, sy < side {
                            let wy = min(yb, Float(sy + 1)) - max(ya, Float(sy))
                            var sx = Int(xa)
                            while Float(sx) < xb, sx < side {
                                let w = wy * (min(xb, Float(sx + 1)) - max(xa, Float(sx)))
                                sum += w * source[(y0 + sy) * photo.width + x0 + sx]
                                total += w
                                sx += 1
                            }
                            sy += 1
                        }
                        out[y * size + (flip ? size - 1 - x : x)] = sum / total
                    }
                }
            }
        }
    }
}
