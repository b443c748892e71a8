import CKernels

/// One-hot codes of class labels as a tensor [batch, classes, positions...]: every position of
/// plane y of an item is 1, the others 0. With positions [H, W] they are class planes to join
/// to images (a label-conditional encoder's input); with [1, 1], vectors to join to a latent.
///
/// The tensor is preallocated for `maxBatch` and set by fills on the device (one for the
/// batch, one per item), so setting labels allocates nothing and copies nothing from the host.
public final class OneHot {
    /// Classes K.
    public let classes: Int
    /// The codes of the last `set` [batch, classes, positions...].
    public let output: Tensor
    private let positions: Int

    /// - Parameters:
    ///   - classes: K
    ///   - positionShape: the shape of one class plane, e.g. [H, W] or [1, 1]
    ///   - maxBatch: the largest batch
    public init(classes: Int, positionShape: [Int], maxBatch: Int, on device: Device) throws {
        precondition(classes > 0, "one-hot codes need at least one class")
        self.classes = classes
        positions = positionShape.reduce(1, *)
        output = try Tensor([maxBatch, classes] + positionShape, on: device)
    }

    /// Sets the batch to the codes of `count` labels, item i's label being `label(i)` (in
    /// 0..<classes).
    @discardableResult
    public func set(count: Int, label: (Int) -> Int) throws -> Tensor {
        output.setBatch(count)
        try output.fill(0)
        for i in 0..<count {
            let y = label(i)
            precondition(y >= 0 && y < classes, "label \(y) is not one of \(classes) classes")
            try check(ck_fill(output.buffer, (i * classes + y) * positions, positions, 1))
        }
        return output
    }

    /// Sets the batch to the codes of `labels`.
    @discardableResult
    public func set(_ labels: [Int]) throws -> Tensor {
        try set(count: labels.count) { labels[$0] }
    }
}
