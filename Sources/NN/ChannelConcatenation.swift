/// Joins two batches along the channel axis, item by item: out[i] = [a[i]; b[i]], with one
/// device copy of rows per part (no host round trip, no per-element work), and splits an
/// output gradient back into the parts' gradients the same way.
///
/// Buffers are preallocated for `maxBatch`, so neither pass allocates.
public final class ChannelConcatenation {
    /// Per-item shapes [C, H, W] of the two parts; they share H and W.
    public let firstShape: [Int], secondShape: [Int]
    /// The joined batch [batch, Ca + Cb, H, W].
    public let output: Tensor
    /// The parts' gradients [batch, Ca, H, W] and [batch, Cb, H, W], from the backward passes.
    public let firstGradient: Tensor, secondGradient: Tensor

    public init(first: [Int], second: [Int], maxBatch: Int, on device: Device) throws {
        precondition(first.count == 3 && second.count == 3 && first[1...] == second[1...],
                     "concatenated parts must share height and width: \(first) and \(second)")
        firstShape = first
        secondShape = second
        output = try Tensor([maxBatch, first[0] + second[0], first[1], first[2]], on: device)
        firstGradient = try Tensor([maxBatch] + first, on: device)
        secondGradient = try Tensor([maxBatch] + second, on: device)
    }

    /// Floats per item of each part and of the output.
    var firstItem: Int { firstShape.reduce(1, *) }
    var secondItem: Int { secondShape.reduce(1, *) }
    var outputItem: Int { firstItem + secondItem }

    /// out[i] = [a[i]; b[i]] for the batch of `a` (which `b` must match).
    @discardableResult
    public func forward(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        precondition(a.batch == b.batch && a.itemCount == firstItem && b.itemCount == secondItem,
                     "concatenation inputs \(a.shape) and \(b.shape) do not match \(firstShape) and \(secondShape)")
        output.setBatch(a.batch)
        try output.copyRows(from: a, rows: a.batch, count: firstItem, sourceStride: firstItem, stride: outputItem)
        try output.copyRows(from: b, rows: a.batch, count: secondItem, sourceStride: secondItem,
                            offset: firstItem, stride: outputItem)
        return output
    }

    /// The gradient of the first part: the first `Ca` channels of each item of `dout`.
    public func backwardFirst(_ dout: Tensor) throws -> Tensor {
        precondition(dout.itemCount == outputItem, "gradient \(dout.shape) does not match the concatenation")
        firstGradient.setBatch(dout.batch)
        try firstGradient.copyRows(from: dout, rows: dout.batch, count: firstItem, sourceStride: outputItem,
                                   stride: firstItem)
        return firstGradient
    }

    /// The gradient of the second part: the last `Cb` channels of each item of `dout`.
    @discardableResult
    public func backwardSecond(_ dout: Tensor) throws -> Tensor {
        precondition(dout.itemCount == outputItem, "gradient \(dout.shape) does not match the concatenation")
        secondGradient.setBatch(dout.batch)
        try secondGradient.copyRows(from: dout, rows: dout.batch, count: secondItem, sourceOffset: firstItem,
                                    sourceStride: outputItem, stride: secondItem)
        return secondGradient
    }
}
