import ImageIO

/// What a plain VAE is conditioned on (`vae train --condition`).
public enum ModelCondition: String, CaseIterable, Sendable {
    /// Nothing: p(x | z).
    case none
    /// The data's class labels: p(x | z, y) and q(z | x, y) (see `LabelConditioning`).
    case label
}

extension DataSpec {
    /// The number of label classes of the data (its largest label + 1), read with the data as
    /// training reads it.
    /// - Throws: `VAEError` when the data has no labels.
    func labelClasses(channels: Int, height: Int, width: Int, seed: UInt64) throws -> Int {
        let data = try load(channels: channels, height: height, width: width, seed: seed)
        guard let labels = data.labels, let top = labels.max() else {
            throw VAEError("\(self): has no labels to condition on (MNIST: a *-labels-idx1-ubyte file beside the images; a folder: images in class subfolders)")
        }
        guard top >= 1 else { throw VAEError("\(self): every label is \(top); conditioning needs at least two classes") }
        return top + 1
    }
}
