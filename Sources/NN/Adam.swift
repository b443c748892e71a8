import CKernels

/// Adam (or AdamW with `weightDecay`) with optional clipping of the global gradient norm.
public final class Adam {
    public var learningRate: Float
    public var beta1: Float, beta2: Float, epsilon: Float
    public var weightDecay: Float
    /// Clip the global gradient norm to this value; nil for no clipping.
    public var clipNorm: Float?
    /// A factor on every gradient, applied inside the update (no pass of its own) and to the
    /// norm that clipping compares: 1/N when the gradients are the sum of N ranks' means.
    public var gradientScale: Float = 1
    /// Updates taken so far (the bias correction needs it; checkpoints save it).
    public var step: Int64 = 0
    let parameters: [Parameter]

    public init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, clipNorm: Float? = nil) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.clipNorm = clipNorm
    }

    /// The L2 norm of all gradients together (times `gradientScale`).
    public func gradientNorm() throws -> Double {
        try parameters.reduce(0.0) { $0 + (try $1.grad.sumOfSquares()) }.squareRoot() * Double(gradientScale)
    }

    /// Applies one update from the gradients now held by the parameters.
    /// - Returns: the gradient norm before clipping when clipping is on, else nil.
    @discardableResult
    public func update() throws -> Double? {
        step += 1
        var scale = gradientScale
        var norm: Double?
        if let clip = clipNorm {
            let n = try gradientNorm()
            norm = n
            if n > Double(clip) { scale *= Float(Double(clip) / n) }
        }
        for p in parameters {
            var hp = ck_adam_params(lr: learningRate, beta1: beta1, beta2: beta2, eps: epsilon,
                                    weight_decay: p.decays ? weightDecay : 0, grad_scale: scale, step: step)
            try check(ck_adam_update(p.value.count, &hp, p.value.buffer, p.grad.buffer, p.m.buffer, p.v.buffer))
        }
        return norm
    }
}
