import Foundation
import ImageIO
import NN

extension ConvVAE: GenerativeModel {
    /// Rebuilds a trained shallow model from a run directory, for what only this family does
    /// (imputation, label conditioning); other commands load any family with
    /// `loadGenerativeModel`.
    /// - Parameters:
    ///   - directory: holds config.json and model.safetensors
    ///   - maxBatch: the largest batch the model will process
    ///   - purpose: what needs the shallow family, for the message refusing another one
    public static func load(from directory: String, device: Device, maxBatch: Int = 128,
                            purpose: String? = nil) throws -> (ConvVAE, RunConfig) {
        let (model, config) = try loadGenerativeModel(from: directory, device: device, maxBatch: maxBatch, shallowOnly: true,
                                                      purpose: purpose)
        return (model as! ConvVAE, config)
    }

    /// One latent vector.
    public var latentGroups: [LatentGroupInfo] { [LatentGroupInfo(name: "z", shape: [config.latent])] }

    /// Decodes latent vectors (rows of `latent` values) to images.
    public func decode(latents: [Float]) throws -> [Image] {
        try decode(latents: latents, labels: nil)
    }

    /// Decodes latent vectors (rows of `latents`, each of length `latent`) to images; a
    /// label-conditional model needs a label per row.
    public func decode(latents: [Float], labels: [Int]?) throws -> [Image] {
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

    /// Draws `count` images from the prior, z ~ N(0, T^2 I), decoded to pixel means.
    public func sample(count: Int, seed: UInt64, temperatures: [Float]) throws -> [Image] {
        try sample(count: count, seed: seed, temperatures: temperatures, labels: nil)
    }

    /// Draws `count` images from the prior, z ~ N(0, T^2 I), decoded to pixel means (given a
    /// label per image for a label-conditional model).
    public func sample(count: Int, seed: UInt64, temperatures: [Float] = [1], labels: [Int]?) throws -> [Image] {
        let L = config.latent
        var result: [Image] = []
        for start in stride(from: 0, to: count, by: maxBatch) {
            let m = min(maxBatch, count - start)
            try condition(on: labels?[start..<(start + m)])
            let z = try latent.drawStandardNormal(batch: m, seed: seed, counter: UInt64(start * L),
                                                  temperature: temperature(temperatures, group: 0))
            result += try images(try decode(z), count: m)
        }
        return result
    }

    /// Posterior means mu(x) of images, row after row.
    public func encodeMeans(_ images: [Image]) throws -> [Float] {
        try encodeMeans(images, labels: nil)
    }

    /// Posterior means mu(x) (given the labels for a label-conditional model), row after row.
    public func encodeMeans(_ images: [Image], labels: [Int]?) throws -> [Float] {
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

    /// Reconstructions: each image decoded from its posterior mean, given its label (a
    /// label-conditional model).
    public func reconstruct(_ images: [Image], labels: [Int]?) throws -> [Image] {
        try decode(latents: try encodeMeans(images, labels: labels), labels: labels)
    }
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
