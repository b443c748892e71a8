import CKernels

/// A categorical likelihood of class labels under a softmax over the channel axis of logits
/// [batch, classes, positions]: a classifier's classes (one position), or a prior's
/// distribution over K codes at every position of a code map (PixelCNN). Labels are class
/// indices stored as floats; one that is not a class makes its image's loss NaN.
///
/// Buffers are preallocated for `maxBatch`, so `loss` allocates nothing.
public final class CategoricalLikelihood {
    /// Classes K, and positions per item.
    public let classes: Int, positions: Int
    /// The per-item negative log-likelihood of the last `loss` [batch], in nats.
    public let nll: Tensor
    /// d(scaled loss)/d(logits) of the last `loss` with gradients [batch, classes, positions...].
    public let logitGradient: Tensor

    /// - Parameters:
    ///   - classes: K
    ///   - positionShape: the shape of one item's positions, e.g. [] for a classifier or [h, w] for a code map
    ///   - maxBatch: the largest batch
    public init(classes: Int, positionShape: [Int] = [], maxBatch: Int, on device: Device) throws {
        self.classes = classes
        positions = positionShape.reduce(1, *)
        nll = try Tensor([maxBatch], on: device)
        logitGradient = try Tensor([maxBatch, classes] + positionShape, on: device)
    }

    /// The negative log-likelihood of `labels` [batch, positions] under softmax(`logits`), per
    /// item into `nll`, each position weighted by `weight` (nil: all count). With
    /// `gradientScale`, that factor times the gradient goes into `logitGradient`.
    @discardableResult
    public func loss(_ logits: Tensor, labels: Tensor, weight: Tensor? = nil, gradientScale: Float? = nil) throws -> Tensor {
        let b = logits.batch
        precondition(logits.itemCount == classes * positions && labels.count == b * positions
                     && (weight?.count ?? b * positions) == b * positions,
                     "categorical: logits \(logits.shape), labels \(labels.shape) do not match")
        nll.setBatch(b)
        logitGradient.setBatch(b)
        try check(ck_softmax_nll(Int32(b), Int32(classes), Int32(positions), logits.buffer, labels.buffer, weight?.buffer,
                                 nll.buffer, gradientScale == nil ? nil : logitGradient.buffer, gradientScale ?? 1))
        return nll
    }
}
