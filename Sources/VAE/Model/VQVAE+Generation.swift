import Foundation
import ImageIO
import NN

extension VQVAE {
    /// Rebuilds a trained VQ-VAE from a run directory (config.json and model.safetensors).
    public static func load(from directory: String, device: Device, maxBatch: Int = 128) throws -> (VQVAE, RunConfig) {
        let config = try Checkpoint.loadConfig(directory)
        try config.expect(.vqvae, in: directory)
        let model = try Checkpoint.build(from: directory) { try VQVAE(config.model, device: device, maxBatch: maxBatch, seed: 0) }
        try Checkpoint.load(into: model, optimizer: nil, from: directory)
        return (model, config)
    }

    /// Images of the first `count` decoded items of `out`, as pixel means clamped to [0, 1].
    func images(_ out: Tensor, count: Int) throws -> [Image] {
        try likelihood.images(out, count: count, config: config)
    }

    /// Loads images `indices` of a set as the batch; with `binarize`, each image is binarized
    /// once by a stream that depends on its index alone (how MNIST runs evaluate and encode).
    func load(_ set: ImageSet, _ indices: ArraySlice<Int>, binarize: Bool, seed: UInt64) throws {
        var pixels = [Float](repeating: 0, count: indices.count * config.dimensions)
        pixels.withUnsafeMutableBufferPointer { set.copyBatch(indices: indices, into: $0.baseAddress!) }
        if binarize {
            let d = config.dimensions
            for (row, i) in indices.enumerated() {
                let u = Noise.uniform(count: d, seed: Noise.Stream.binarize.seed(seed), counter: UInt64(i) &* UInt64(d))
                for k in 0..<d { pixels[row * d + k] = u[k] < pixels[row * d + k] ? 1 : 0 }
            }
        }
        try load(pixels)
    }

    /// The code maps of images `0..<count` of a set, row after row (`positions` floats each).
    public func codes(of set: ImageSet, count: Int? = nil, binarize: Bool, seed: UInt64) throws -> [Float] {
        let n = min(count ?? set.count, set.count)
        var result: [Float] = []
        result.reserveCapacity(n * positions)
        for start in stride(from: 0, to: n, by: maxBatch) {
            try load(set, Array(start..<min(start + maxBatch, n))[...], binarize: binarize, seed: seed)
            try quantizer.quantize(try encoder.forward(target))
            result += try quantizer.indices.read()
        }
        return result
    }

    /// Decodes code maps (rows of `positions` code indices) to images.
    public func decode(codes: [Float]) throws -> [Image] {
        let p = positions, n = codes.count / p
        let map = try Tensor([maxBatch] + quantizer.indices.shape.dropFirst(), on: device)
        var result: [Image] = []
        for start in stride(from: 0, to: n, by: maxBatch) {
            let m = min(maxBatch, n - start)
            map.setBatch(m)
            try map.write(Array(codes[(start * p)..<((start + m) * p)]))
            result += try images(try decoder.forward(try quantizer.embed(map)), count: m)
        }
        return result
    }

    /// Reconstructions: each image decoded from its nearest codes.
    public func reconstruct(_ originals: [Image]) throws -> [Image] {
        var result: [Image] = []
        for start in stride(from: 0, to: originals.count, by: maxBatch) {
            let chunk = originals[start..<min(start + maxBatch, originals.count)]
            try load(chunk.flatMap { image -> [Float] in
                precondition(image.channels == config.channels && image.width == config.width && image.height == config.height,
                             "image is \(image.channels)x\(image.height)x\(image.width), the model needs \(config.channels)x\(config.height)x\(config.width)")
                return image.pixels
            })
            result += try images(try evaluateBatch(), count: chunk.count)
        }
        return result
    }
}
