import Foundation
import NN

extension PixelCNN {
    /// Rebuilds a trained prior from its directory (RUN_DIR/prior).
    public static func load(from directory: String, device: Device, maxBatch: Int = 128) throws -> (PixelCNN, RunConfig) {
        let config = try Checkpoint.loadConfig(directory)
        try config.expect(.pixelcnn, in: directory)
        let model = try Checkpoint.build(from: directory) { try PixelCNN(config.model, device: device, maxBatch: maxBatch, seed: 0) }
        try Checkpoint.load(into: model, optimizer: nil, from: directory)
        return (model, config)
    }

    /// Draws `count` code maps position by position in raster order: each code from the
    /// softmax of its logits divided by `temperature` (below 1: sharper), given the codes drawn
    /// before it, with the uniform numbers of (seed, map * positions + position).
    /// - Parameter quantizer: the VQ-VAE's, whose codebook embeds the codes drawn so far
    /// - Returns: the maps, row after row (`positions` indices each).
    public func sample(count: Int, temperature: Float, seed: UInt64, quantizer: VectorQuantizer) throws -> [Float] {
        precondition(temperature > 0, "the temperature must be positive")
        let P = positions, K = codes
        let stream = Noise.Stream.codeSamples.seed(seed)
        var result: [Float] = []
        var p = [Double](repeating: 0, count: K)
        for start in stride(from: 0, to: count, by: min(maxBatch, quantizer.indices.capacity / P)) {
            let m = min(maxBatch, quantizer.indices.capacity / P, count - start)
            var maps = [Float](repeating: 0, count: m * P)
            for position in 0..<P {
                try maps.withUnsafeBufferPointer { try loadCodes($0.baseAddress!, batch: m) }
                let logits = try forward(try quantizer.embed(labels)).read()
                let u = Noise.uniform(count: m, seed: stream, counter: UInt64((start * P + position) * 1))
                for r in 0..<m {
                    let row = r * K * P + position
                    var top = -Double.infinity
                    for k in 0..<K { p[k] = Double(logits[row + k * P]) / Double(temperature); top = max(top, p[k]) }
                    var total = 0.0
                    for k in 0..<K { p[k] = exp(p[k] - top); total += p[k] }
                    // Inverse CDF of the draw's uniform number.
                    var target = Double(u[r]) * total, pick = K - 1
                    for k in 0..<K {
                        target -= p[k]
                        if target <= 0 { pick = k; break }
                    }
                    maps[r * P + position] = Float(pick)
                }
            }
            result += maps
        }
        return result
    }

    /// -log p(codes) in nats of each code map (rows of `positions` indices).
    public func negativeLogLikelihood(of maps: [Float], quantizer: VectorQuantizer) throws -> [Double] {
        let P = positions
        let n = maps.count / P, step = min(maxBatch, quantizer.indices.capacity / P)
        var result: [Double] = []
        for start in stride(from: 0, to: n, by: step) {
            let m = min(step, n - start)
            try maps[(start * P)..<((start + m) * P)].withUnsafeBufferPointer { try loadCodes($0.baseAddress!, batch: m) }
            try likelihood.loss(try forward(try quantizer.embed(labels)), labels: labels)
            result += try likelihood.nll.read().map(Double.init)
        }
        return result
    }
}
