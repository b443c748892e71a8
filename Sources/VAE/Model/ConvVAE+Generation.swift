import Foundation
import ImageIO
import NN

extension ConvVAE {
    /// Rebuilds a trained model from a run directory.
    /// - Parameters:
    ///   - directory: holds config.json and model.safetensors
    ///   - maxBatch: the largest batch the model will process
    public static func load(from directory: String, device: Device, maxBatch: Int = 128) throws -> (ConvVAE, RunConfig) {
        let config = try Checkpoint.loadConfig(directory)
        try config.expect(.vae, in: directory)
        if let task = config.task.conditional {
            throw VAEError("\(directory): a conditional model trained for \(task.rawValue); use vae \(task.rawValue) or vae evaluate --task \(task.rawValue)")
        }
        let model: ConvVAE
        do { model = try ConvVAE(config.model, device: device, maxBatch: maxBatch, seed: 0) } catch {
            throw VAEError("\(Checkpoint.path(directory, Checkpoint.configFile)): cannot build the model it describes: \(error)")
        }
        try Checkpoint.load(into: model, optimizer: nil, from: directory)
        return (model, config)
    }

    /// Images of the first `count` decoded items of `out`, as pixel means clamped to [0, 1].
    func images(_ out: Tensor, count: Int) throws -> [Image] {
        try likelihood.images(out, count: count, config: config)
    }

    /// Decodes latent vectors (rows of `latents`, each of length `latent`) to images; a
    /// label-conditional model needs a label per row.
    public func decode(latents: [Float], labels: [Int]? = nil) throws -> [Image] {
        let L = config.latent
        var result: [Image] = []
        for start in stride(from: 0, to: latents.count / L, by: maxBatch) {
            let m = min(maxBatch, latents.count / L - start)
            try condition(on: labels?[start..<(start + m)])
            let z = try latent.set(latents[(start * L)..<((start + m) * L)])
            result += try images(try decode(z), count: m)
        }
        return result
    }

    /// Draws `count` images from the prior: z ~ N(0, I), decoded to pixel means (given a label
    /// per image for a label-conditional model).
    public func sample(count: Int, seed: UInt64, labels: [Int]? = nil) throws -> [Image] {
        let L = config.latent
        var result: [Image] = []
        for start in stride(from: 0, to: count, by: maxBatch) {
            let m = min(maxBatch, count - start)
            try condition(on: labels?[start..<(start + m)])
            let z = try latent.drawStandardNormal(batch: m, seed: seed, counter: UInt64(start * L))
            result += try images(try decode(z), count: m)
        }
        return result
    }

    /// Posterior means mu(x) (given the labels for a label-conditional model), row after row.
    public func encodeMeans(_ images: [Image], labels: [Int]? = nil) throws -> [Float] {
        let L = config.latent
        var result: [Float] = []
        for start in stride(from: 0, to: images.count, by: maxBatch) {
            let chunk = images[start..<min(start + maxBatch, images.count)]
            try load(chunk.flatMap { checkedPixels($0) })
            try condition(on: labels?[chunk.indices])
            let stats = try encode(batch: chunk.count).read()
            for r in 0..<chunk.count { result += stats[(r * 2 * L)..<(r * 2 * L + L)] }
        }
        return result
    }

    /// Reconstructions: each image decoded from its posterior mean (given its label, for a
    /// label-conditional model).
    public func reconstruct(_ images: [Image], labels: [Int]? = nil) throws -> [Image] {
        try decode(latents: try encodeMeans(images, labels: labels), labels: labels)
    }

    /// Images along the path between two images' posterior means: linear, or spherical
    /// (slerp, which keeps the norm typical of the prior). Unconditional models only.
    public func interpolate(from a: Image, to b: Image, steps: Int, spherical: Bool) throws -> [Image] {
        let mu = try encodeMeans([a, b])
        let L = config.latent
        let za = Array(mu[0..<L]), zb = Array(mu[L..<(2 * L)])
        var path: [Float] = []
        for s in 0..<steps {
            let t = steps == 1 ? 0 : Float(s) / Float(steps - 1)
            path += spherical ? slerp(za, zb, t) : zip(za, zb).map { $0 + t * ($1 - $0) }
        }
        return try decode(latents: path)
    }

    func checkedPixels(_ image: Image) -> [Float] {
        precondition(image.channels == config.channels && image.width == config.width && image.height == config.height,
                     "image is \(image.channels)x\(image.height)x\(image.width), the model needs \(config.channels)x\(config.height)x\(config.width)")
        return image.pixels
    }

    /// Loads whole images (host values, NCHW rows) as the batch.
    func load(_ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try loadBatch($0.baseAddress!, batch: $0.count / config.dimensions) }
    }
}

/// Spherical interpolation between two vectors (linear when they are nearly parallel).
func slerp(_ a: [Float], _ b: [Float], _ t: Float) -> [Float] {
    let na = sqrt(a.reduce(0) { $0 + $1 * $1 }), nb = sqrt(b.reduce(0) { $0 + $1 * $1 })
    guard na > 0, nb > 0 else { return zip(a, b).map { $0 + t * ($1 - $0) } }
    let cosine = max(-1, min(1, zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (na * nb)))
    let omega = acos(cosine)
    guard sin(omega) > 1e-5 else { return zip(a, b).map { $0 + t * ($1 - $0) } }
    let wa = sin((1 - t) * omega) / sin(omega), wb = sin(t * omega) / sin(omega)
    return zip(a, b).map { wa * $0 + wb * $1 }
}

extension PixelLikelihood {
    /// Images of the first `count` items of a decoder's output, as pixel means clamped to [0, 1].
    func images(_ out: Tensor, count: Int, config: ModelConfig) throws -> [Image] {
        let means = try means(out).read()
        let d = config.dimensions
        guard means[0..<(count * d)].allSatisfy(\.isFinite) else {
            throw VAEError("the model produced NaN or infinite pixel values; its weights are unusable")
        }
        return (0..<count).map { i in
            Image(width: config.width, height: config.height, channels: config.channels,
                  pixels: means[(i * d)..<((i + 1) * d)].map { min(max($0, 0), 1) })
        }
    }
}
