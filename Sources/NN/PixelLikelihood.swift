import CKernels
import Foundation

/// How a decoder's output turns into a probability of the pixels.
public enum Likelihood: String, Codable, CaseIterable, Sendable {
    /// Pixels in [0, 1] as Bernoulli probabilities (logits out of the decoder).
    case bernoulli
    /// A Gaussian with the decoder's mean and a learned per-channel variance.
    case gaussian
    /// A discretized logistic over 256 levels with a learned per-channel scale.
    case logistic

    /// Bits per dimension of a per-item negative log-likelihood in nats over `dimensions`
    /// values (for 8-bit data on the [0, 255] scale: a continuous density on [0, 1] is shifted
    /// by log 256 per value).
    public func bitsPerDimension(nats: Double, dimensions: Double) -> Double {
        let shift = self == .gaussian ? dimensions * Foundation.log(256.0) : 0
        return (nats + shift) / (dimensions * Foundation.log(2.0))
    }
}

/// The pixel likelihood p(x | decoder output) of every model: its learned per-channel scale, the
/// negative log-likelihood per image with optional per-value weights, and its gradients.
///
/// Buffers are preallocated for `maxBatch`, so `loss` allocates nothing.
public final class PixelLikelihood {
    public let kind: Likelihood
    /// Channels and values per channel plane of one item.
    public let channels: Int, plane: Int
    /// log sigma^2 (Gaussian) or log s (logistic) per channel, named `likelihood.log_scale`;
    /// nil for Bernoulli.
    public let scale: Parameter?
    /// The per-image negative log-likelihood of the last `loss` [batch], in nats.
    public let nll: Tensor
    /// d(scaled loss)/d(output) of the last `loss` with gradients [batch, channels, plane].
    public let outputGradient: Tensor

    /// - Parameters:
    ///   - kind: the likelihood
    ///   - channels, height, width: one item's shape
    ///   - maxBatch: the largest batch
    public init(_ kind: Likelihood, channels: Int, height: Int, width: Int, maxBatch: Int, on device: Device) throws {
        self.kind = kind
        self.channels = channels
        plane = height * width
        if kind == .bernoulli {
            scale = nil
        } else {
            let p = try Parameter("likelihood.log_scale", [channels], on: device, decays: false)
            // Start near the data's scale: logvar = log(0.1^2); logistic log s = log(0.05).
            try p.value.fill(kind == .gaussian ? -4.6 : -3.0)
            scale = p
        }
        nll = try Tensor([maxBatch], on: device)
        outputGradient = try Tensor([maxBatch, channels, height, width], on: device)
    }

    /// The trainable parameters (the scale, when the likelihood has one).
    public var parameters: [Parameter] { scale.map { [$0] } ?? [] }

    /// The negative log-likelihood of `target` under decoder output `output` (logits for
    /// Bernoulli, means otherwise), per image into `nll`; each value weighted by `weight` (nil:
    /// all count, e.g. inpainting scores the missing pixels alone). With `gradientScale`, that
    /// factor times the gradients goes into `outputGradient` and the scale's gradient.
    @discardableResult
    public func loss(_ output: Tensor, target: Tensor, weight: Tensor? = nil, gradientScale: Float? = nil) throws -> Tensor {
        let b = output.batch
        precondition(target.batch == b && (weight?.batch ?? b) == b && output.itemCount == channels * plane,
                     "likelihood: output \(output.shape), target \(target.shape) do not match")
        nll.setBatch(b)
        outputGradient.setBatch(b)
        let d = gradientScale == nil ? nil : outputGradient.buffer, w = weight?.buffer
        let s = gradientScale ?? 1
        switch kind {
        case .bernoulli:
            try check(ck_bernoulli_nll(Int32(b), Int32(channels * plane), output.buffer, target.buffer, w, nll.buffer, d, s))
        case .gaussian:
            try check(ck_gaussian_nll(Int32(b), Int32(channels), Int32(plane), output.buffer, scale!.value.buffer,
                                      target.buffer, w, nll.buffer, d, gradientScale == nil ? nil : scale!.grad.buffer, s))
        case .logistic:
            try check(ck_logistic_nll(Int32(b), Int32(channels), Int32(plane), output.buffer, scale!.value.buffer,
                                      target.buffer, w, nll.buffer, d, gradientScale == nil ? nil : scale!.grad.buffer, s))
        }
        return nll
    }

    /// Turns decoder output into pixel means in place (a sigmoid for Bernoulli logits).
    @discardableResult
    public func means(_ output: Tensor) throws -> Tensor {
        if kind == .bernoulli { try output.applySigmoid() }
        return output
    }

    /// Per channel, the spread of a draw around the mean: sigma (Gaussian) or s (logistic); 0 for
    /// Bernoulli.
    public func channelSpreads() throws -> [Float] {
        guard let scale else { return [Float](repeating: 0, count: channels) }
        let v = try scale.value.read()
        return kind == .gaussian ? v.map { Foundation.exp($0 / 2) } : v.map { Foundation.exp($0) }
    }

    /// One draw of a pixel with mean `mean` and spread `spread`, clamped to [0, 1], from a
    /// standard normal `normal` (Gaussian) or a uniform `uniform` in (0, 1) (Bernoulli, logistic).
    public func draw(mean: Float, spread: Float, normal: Float, uniform: Float) -> Float {
        switch kind {
        case .bernoulli: return uniform < mean ? 1 : 0
        case .gaussian: return min(max(mean + spread * normal, 0), 1)
        case .logistic: return min(max(mean + spread * Foundation.log(uniform / (1 - uniform)), 0), 1)
        }
    }
}
