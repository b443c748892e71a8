/// An in-memory dataset: `count` images of `channels x height x width`, stored contiguously as
/// NCHW floats in [0, 1], with optional integer labels.
public struct ImageSet: Equatable, Sendable {
    /// Number of images.
    public private(set) var count: Int
    /// Channels per image (1 or 3).
    public let channels: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// All pixels, NCHW: image `i` occupies `pixels[i * imageSize ..< (i + 1) * imageSize]`.
    public private(set) var pixels: [Float]
    /// One label per image, or nil when the source has none.
    public private(set) var labels: [Int]?

    /// Creates a dataset from contiguous NCHW pixels.
    /// - Parameters:
    ///   - count: Number of images.
    ///   - channels: 1 or 3.
    ///   - height: Image height.
    ///   - width: Image width.
    ///   - pixels: `count * channels * height * width` floats in [0, 1].
    ///   - labels: Optional labels, `count` of them.
    public init(count: Int, channels: Int, height: Int, width: Int, pixels: [Float], labels: [Int]? = nil) {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        precondition(height > 0 && width > 0 && count >= 0, "invalid dataset shape")
        precondition(pixels.count == count * channels * height * width, "pixel count does not match shape")
        precondition(labels == nil || labels!.count == count, "label count does not match image count")
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
    }

    /// Creates a dataset from images that all have the same size and channel count.
    /// - Parameters:
    ///   - images: At least one image.
    ///   - labels: Optional labels, one per image.
    public init(images: [Image], labels: [Int]? = nil) {
        precondition(!images.isEmpty, "need at least one image")
        let first = images[0]
        var pixels: [Float] = []
        pixels.reserveCapacity(images.count * first.pixels.count)
        for image in images {
            precondition(image.width == first.width && image.height == first.height &&
                         image.channels == first.channels, "images differ in size")
            pixels.append(contentsOf: image.pixels)
        }
        self.init(count: images.count, channels: first.channels, height: first.height,
                  width: first.width, pixels: pixels, labels: labels)
    }

    /// Floats per image: `channels * height * width`.
    public var imageSize: Int { channels * height * width }

    /// Image `index` as an `Image`.
    public func image(at index: Int) -> Image {
        precondition(index >= 0 && index < count, "image index out of range")
        let n = imageSize
        return Image(width: width, height: height, channels: channels,
                     pixels: Array(pixels[(index * n)..<((index + 1) * n)]))
    }

    /// Copies the images at `indices` into `destination` (NCHW), one `memcpy`-like copy per image.
    public func copyBatch(indices: some Collection<Int>, into destination: UnsafeMutablePointer<Float>) {
        let n = imageSize
        pixels.withUnsafeBufferPointer { src in
            var dst = destination
            for i in indices {
                precondition(i >= 0 && i < count, "image index \(i) out of range 0..<\(count)")
                dst.update(from: src.baseAddress! + i * n, count: n)
                dst += n
            }
        }
    }

    /// A new dataset holding the images (and labels) at `indices`, in that order.
    public func subset(_ indices: some Collection<Int>) -> ImageSet {
        var out = [Float](repeating: 0, count: indices.count * imageSize)
        out.withUnsafeMutableBufferPointer { copyBatch(indices: indices, into: $0.baseAddress!) }
        let newLabels = labels.map { l in indices.map { l[$0] } }
        return ImageSet(count: indices.count, channels: channels, height: height, width: width,
                        pixels: out, labels: newLabels)
    }

    /// A copy converted to `channels` and to `width` x `height` (center crop to the aspect ratio,
    /// then area/bilinear resize); returns `self` when nothing changes.
    /// - Parameters:
    ///   - channels: 1 or 3 (nil keeps the current count).
    ///   - height: Target height (nil keeps the current one).
    ///   - width: Target width (nil keeps the current one).
    public func converted(channels newChannels: Int? = nil, height newHeight: Int? = nil,
                          width newWidth: Int? = nil) -> ImageSet {
        let c = newChannels ?? channels, h = newHeight ?? height, w = newWidth ?? width
        if c == channels && h == height && w == width { return self }
        var out: [Float] = []
        out.reserveCapacity(count * c * h * w)
        for i in 0..<count {
            out.append(contentsOf: image(at: i).converted(channels: c).fitted(width: w, height: h).pixels)
        }
        return ImageSet(count: count, channels: c, height: h, width: w, pixels: out, labels: labels)
    }

    /// Mean of all pixel values (0 for an empty set).
    public var meanPixel: Double {
        guard !pixels.isEmpty else { return 0 }
        var total = 0.0
        pixels.withUnsafeBufferPointer { p in
            var chunk: Float = 0
            for (k, v) in p.enumerated() {
                chunk += v
                if k & 4095 == 4095 { total += Double(chunk); chunk = 0 }
            }
            total += Double(chunk)
        }
        return total / Double(pixels.count)
    }
}
