import CKernels

/// A float32 tensor in NCHW order whose storage belongs to a device.
///
/// Storage is allocated once with a fixed capacity; `shape` may shrink or regrow within it
/// (a smaller last batch), so a training step never allocates.
public final class Tensor {
    /// The device that owns the storage.
    public let device: Device
    /// The C buffer (NN alone calls the C API).
    let buffer: OpaquePointer
    /// Floats of storage.
    public let capacity: Int
    /// The tensor whose storage a view shares (kept alive while the view lives).
    let parent: Tensor?
    /// The current shape; its product never exceeds `capacity`.
    public var shape: [Int] {
        didSet { precondition(count <= capacity, "shape \(shape) exceeds capacity \(capacity)") }
    }

    /// A zero-filled tensor.
    public init(_ shape: [Int], on device: Device) throws {
        let n = shape.reduce(1, *)
        precondition(n > 0 && shape.allSatisfy { $0 > 0 }, "invalid shape \(shape)")
        var out: OpaquePointer?
        try check(ck_buffer_new(device.handle, n, &out))
        self.device = device
        self.buffer = out!
        self.capacity = n
        self.shape = shape
        parent = nil
    }

    /// A tensor that shares `shape`'s count of `parent`'s floats from element `offset` (a
    /// multiple of `Device.viewAlignment`): what either writes, both see.
    public init(viewing parent: Tensor, offset: Int, shape: [Int]) throws {
        let n = shape.reduce(1, *)
        precondition(n > 0 && shape.allSatisfy { $0 > 0 }, "invalid shape \(shape)")
        var out: OpaquePointer?
        try check(ck_buffer_view(parent.buffer, offset, n, &out))
        device = parent.device
        buffer = out!
        capacity = n
        self.shape = shape
        self.parent = parent
    }

    /// A tensor holding the given values.
    public convenience init(_ shape: [Int], values: [Float], on device: Device) throws {
        try self.init(shape, on: device)
        try write(values)
    }

    deinit { ck_buffer_free(buffer) }

    /// Elements in the current shape.
    public var count: Int { shape.reduce(1, *) }

    /// The first dimension (the batch).
    public var batch: Int { shape[0] }

    /// Elements per item of the batch.
    public var itemCount: Int { count / shape[0] }

    /// Host address of the floats on the CPU backend; nil on a device.
    public var host: UnsafeMutablePointer<Float>? { ck_buffer_host(buffer) }

    /// Copies the current contents to the host.
    public func read() throws -> [Float] {
        var out = [Float](repeating: 0, count: count)
        try check(ck_buffer_read(buffer, 0, count, &out))
        return out
    }

    /// Copies host values in, starting at element `offset`.
    public func write(_ values: [Float], at offset: Int = 0) throws {
        try values.withUnsafeBufferPointer {
            try check(ck_buffer_write(buffer, offset, $0.count, $0.baseAddress))
        }
    }

    /// Copies `count` host floats from a pointer, starting at element `offset`.
    public func write(from source: UnsafePointer<Float>, count: Int, at offset: Int = 0) throws {
        try check(ck_buffer_write(buffer, offset, count, source))
    }

    /// Copies elements from another tensor of the same device.
    public func copy(from source: Tensor, count: Int? = nil, sourceOffset: Int = 0, offset: Int = 0) throws {
        try check(ck_copy(buffer, offset, source.buffer, sourceOffset, count ?? source.count))
    }

    /// Copies `rows` blocks of `count` elements from another tensor of the same device in one
    /// call: block i from `sourceOffset + i * sourceStride` to `offset + i * stride`.
    public func copyRows(from source: Tensor, rows: Int, count: Int, sourceOffset: Int = 0, sourceStride: Int,
                         offset: Int = 0, stride: Int) throws {
        try check(ck_copy_rows(buffer, offset, stride, source.buffer, sourceOffset, sourceStride, rows, count))
    }

    /// Sets every element of the current shape to a value.
    public func fill(_ value: Float) throws {
        try check(ck_fill(buffer, 0, count, value))
    }

    /// Sum of the current elements, in double precision.
    public func sum() throws -> Double {
        var s = 0.0
        try check(ck_sum(buffer, 0, count, &s))
        return s
    }

    /// Sum of squares of the current elements.
    public func sumOfSquares() throws -> Double {
        var s = 0.0
        try check(ck_sum_squares(buffer, 0, count, &s))
        return s
    }

    /// self = alpha * x + beta * self.
    public func axpby(_ alpha: Float, _ x: Tensor, _ beta: Float) throws {
        try check(ck_axpby(count, alpha, x.buffer, beta, buffer))
    }

    /// Multiplies every element of the current shape by a factor, in place.
    public func scale(by factor: Float) throws {
        try check(ck_axpby(count, factor, buffer, 0, buffer))
    }

    /// Best-of-K selection on the device: each row of `candidate` (rows of this tensor's
    /// item size) whose `score` is below `best` (one value per row, lowered to it) becomes this
    /// tensor's row; the other rows stay.
    public func keepRows(of candidate: Tensor, scoring score: Tensor, below best: Tensor) throws {
        precondition(candidate.count == count && score.count == batch && best.count == batch,
                     "keepRows: \(candidate.shape), \(score.shape) and \(best.shape) do not fit \(shape)")
        try check(ck_keep_best_rows(Int32(batch), Int32(itemCount), score.buffer, best.buffer, candidate.buffer, buffer))
    }

    /// Sets the batch dimension, keeping the others.
    public func setBatch(_ n: Int) {
        shape[0] = n
    }

    /// Replaces every element of the current shape by 1 / (1 + e^-x), in place (Bernoulli
    /// logits to probabilities).
    public func applySigmoid() throws {
        try check(ck_activation_forward(CK_ACT_SIGMOID, 0, count, buffer, buffer))
    }
}
