import ImageIO
import NN

/// A trained model of any family that encodes and decodes images, loaded through one door so
/// that every command says plainly when a run holds a family it cannot use.
public enum TrainedModel {
    /// A VAE of either family (shallow `ConvVAE` or deep `HierarchicalVAE`).
    case vae(any GenerativeModel)
    case vqvae(VQVAE)

    /// Loads the model of a run directory, whatever its family.
    public static func load(from directory: String, device: Device, maxBatch: Int = 128) throws -> (TrainedModel, RunConfig) {
        let config = try Checkpoint.loadConfig(directory)
        switch config.model.modelFamily {
        case .vae, .deep:
            let (model, config) = try loadGenerativeModel(from: directory, device: device, maxBatch: maxBatch)
            return (.vae(model), config)
        case .vqvae:
            let (model, config) = try VQVAE.load(from: directory, device: device, maxBatch: maxBatch)
            return (.vqvae(model), config)
        case .pixelcnn:
            try config.expect(.vqvae, in: directory)
            fatalError("unreachable")
        }
    }

    /// Reconstructions of images: from the posterior mean (VAE, given the images' labels when
    /// it is label-conditional) or the nearest codes (VQ-VAE).
    public func reconstruct(_ images: [Image], labels: [Int]? = nil) throws -> [Image] {
        switch self {
        case .vae(let m):
            if let labels, let m = m as? ConvVAE { try m.reconstruct(images, labels: labels) } else { try m.reconstruct(images) }
        case .vqvae(let m): try m.reconstruct(images)
        }
    }
}

extension RunConfig {
    /// Throws one line naming the run and what it holds when it is not of `family`.
    /// - Parameter purpose: what needs that family, e.g. "vae interpolate needs a VAE"
    public func expect(_ family: ModelFamily, in directory: String, purpose: String? = nil) throws {
        let held = model.modelFamily
        guard held != family else { return }
        let what: String
        switch held {
        case .vae: what = "a VAE (vae train)"
        case .deep: what = "a deep VAE (vae train --arch deep)"
        case .vqvae: what = "a VQ-VAE (vae train --model vqvae)"
        case .pixelcnn: what = "a PixelCNN prior (vae train-prior); give its VQ-VAE's run directory"
        }
        throw VAEError("\(directory): holds \(what); \(purpose ?? "this needs \(family.title)")")
    }
}
