import Dispatch

/// Serves an `ImageSet` in batches, copying the next batch on a background queue while the
/// caller trains on the current one (double buffering).
///
/// Usage:
/// ```
/// let loader = BatchLoader(dataset: train, batchSize: 128, seed: 1)
/// for epoch in 0..<epochs {
///     loader.startEpoch(epoch)
///     while let batch = loader.next() { step(batch.data, batch.count) }
/// }
/// ```
/// A batch's `data` stays valid until the following `next()` or `startEpoch(_:)` call.
/// The loader itself is meant to be driven from one thread at a time.
public final class BatchLoader: @unchecked Sendable {
    /// One batch: `count` images in NCHW floats at `data`, their dataset indices and labels.
    public struct Batch {
        /// `count * channels * height * width` floats, valid until the next `next()` call.
        public let data: UnsafeMutablePointer<Float>
        /// Number of images in this batch (the last batch of an epoch may be smaller).
        public let count: Int
        /// Dataset indices of the images, in order.
        public let indices: [Int]
        /// Labels of the images when the dataset has labels.
        public let labels: [Int]?
        /// Position of this batch within the epoch (0-based).
        public let number: Int
    }

    /// The dataset served.
    public let dataset: ImageSet
    /// Maximum images per batch.
    public let batchSize: Int
    /// Whether each epoch uses a fresh seeded permutation (otherwise dataset order).
    public let shuffle: Bool
    /// Base seed; epoch `e` is shuffled with a seed derived from `seed` and `e`.
    public let seed: UInt64
    /// Whether an incomplete last batch is dropped.
    public let dropLast: Bool

    private let buffers: [UnsafeMutablePointer<Float>]
    private let queue = DispatchQueue(label: "ImageIO.BatchLoader")
    private let ready = DispatchSemaphore(value: 0)
    private var pending = false        // a copy job is in flight (touched only by the caller thread)
    private var batches: [[Int]] = []
    private var position = 0

    /// Creates a loader. Call `startEpoch(_:)` before the first `next()` (or `next()` starts epoch 0).
    /// - Parameters:
    ///   - dataset: Images to serve.
    ///   - batchSize: Images per batch (> 0).
    ///   - shuffle: Shuffle every epoch (default true).
    ///   - seed: Base shuffle seed (default 0).
    ///   - dropLast: Drop the last incomplete batch (default false).
    public init(dataset: ImageSet, batchSize: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false) {
        precondition(batchSize > 0, "batch size must be positive")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        let floats = batchSize * dataset.imageSize
        buffers = (0..<2).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, floats))
            p.initialize(repeating: 0, count: max(1, floats))
            return p
        }
        batches = []
        position = -1
    }

    deinit {
        waitPending()
        for b in buffers { b.deallocate() }
    }

    /// Batches per epoch with these settings.
    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The order of dataset indices for `epoch` (a seeded permutation, or `0..<count`).
    public func order(forEpoch epoch: Int) -> [Int] {
        shuffle ? SplitMix64.permutation(count: dataset.count,
                                         seed: seed ^ (UInt64(truncatingIfNeeded: epoch) &* 0x9E37_79B9_7F4A_7C15))
            : Array(0..<dataset.count)
    }

    /// Begins `epoch`: computes its order and starts copying its first batch in the background.
    /// - Parameter epoch: Epoch number; the same epoch and seed always give the same batches.
    public func startEpoch(_ epoch: Int) {
        waitPending()
        let order = self.order(forEpoch: epoch)
        batches = stride(from: 0, to: order.count, by: batchSize).map {
            Array(order[$0..<min($0 + batchSize, order.count)])
        }
        if dropLast, let last = batches.last, last.count < batchSize { batches.removeLast() }
        position = 0
        schedule(0)
    }

    /// The next batch of the current epoch, or nil when the epoch is over. Starts copying the
    /// batch after it before returning.
    public func next() -> Batch? {
        if position < 0 { startEpoch(0) }
        guard position < batches.count else { return nil }
        waitPending()
        let number = position
        position += 1
        schedule(position)  // fills the other buffer, which the caller no longer uses
        let indices = batches[number]
        return Batch(data: buffers[number % 2], count: indices.count, indices: indices,
                     labels: dataset.labels.map { l in indices.map { l[$0] } }, number: number)
    }

    private func schedule(_ k: Int) {
        guard k < batches.count else { return }
        let indices = batches[k]
        let target = SendablePointer(base: buffers[k % 2])
        let data = dataset
        pending = true
        queue.async { [ready] in
            data.copyBatch(indices: indices, into: target.base)
            ready.signal()
        }
    }

    private func waitPending() {
        if pending {
            ready.wait()
            pending = false
        }
    }
}
