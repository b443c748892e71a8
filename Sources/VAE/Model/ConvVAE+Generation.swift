import Foundation
import ImageIO
import NN

extension ConvVAE: GenerativeModel {
    /// Rebuilds a trained shallow model from a run directory, for what only this family does
    /// (imputation); other commands load any family with `loadGenerativeModel`.
    /// - Parameters:
    ///   - directory: holds config.json and model.safetensors
    ///   - maxBatch: the largest batch the model will process
    ///   - purpose: what needs the shallow family, for the message refusing another one
    public static func load(from directory: String, device: Device, maxBatch: Int = 128,
                            purpose: String = "this command") throws -> (ConvVAE, RunConfig) {
        let (model, config) = try loadGenerativeModel(from: directory, device: device, maxBatch: maxBatch)
        guard let vae = model as? ConvVAE else {
            throw VAEError("\(directory): \(purpose) needs a shallow conv VAE; this run holds a \(config.model.family.rawValue) model")
        }
        return (vae, config)
    }

    /// One latent vector.
    public var latentGroups: [LatentGroupInfo] { [LatentGroupInfo(name: "z", shape: [config.latent])] }

    /// Decodes latent vectors (rows of `latent` values) to images.
    public func decode(latents: [Float]) throws -> [Image] {
        let L = config.latent
        var result: [Image] = []
        for start in stride(from: 0, to: latents.count / L, by: maxBatch) {
            let m = min(maxBatch, latents.count / L - start)
            let z = try latent.set(latents[(start * L)..<((start + m) * L)])
            result += try images(try decoder.forward(z), count: m)
        }
        return result
    }

    /// Draws `count` images from the prior, z ~ N(0, T^2 I), decoded to pixel means.
    public func sample(count: Int, seed: UInt64, temperatures: [Float]) throws -> [Image] {
        let L = config.latent
        var result: [Image] = []
        for start in stride(from: 0, to: count, by: maxBatch) {
            let m = min(maxBatch, count - start)
            let z = try latent.drawStandardNormal(batch: m, seed: seed, counter: UInt64(start * L),
                                                  temperature: temperature(temperatures, group: 0))
            result += try images(try decoder.forward(z), count: m)
        }
        return result
    }

    /// Posterior means mu(x) of images, row after row.
    public func encodeMeans(_ images: [Image]) throws -> [Float] {
        let L = config.latent
        var result: [Float] = []
        for start in stride(from: 0, to: images.count, by: maxBatch) {
            let chunk = images[start..<min(start + maxBatch, images.count)]
            try load(chunk.flatMap { checkedPixels($0) })
            let stats = try encode(batch: chunk.count).read()
            for r in 0..<chunk.count { result += stats[(r * 2 * L)..<(r * 2 * L + L)] }
        }
        return result
    }
}
