import ArgumentParser
import ImageIO
import VAE

/// `vae interpolate`: decoded images along a latent path between two images.
struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Interpolate between two images (files, or items of --data) in latent space into a PNG row.")

    @OptionGroup var model: CheckpointOptions
    @Option(help: "First image file.") var from: String?
    @Option(help: "Second image file.") var to: String?
    @Option(help: "Data to take two items from (with --items; default: the training run's).") var data: DataSpec?
    @Option(help: "Two dataset indices, e.g. 3,17.") var items: String = "0,1"
    @Option(help: "test, val or train.") var split: DataSplit = .test
    @Option(help: "Images along the path, ends included.") var steps: Int = 10
    @Flag(help: "Spherical interpolation (slerp) instead of linear.") var spherical = false
    @Option(help: "Output image (.png, or .jpg / .jpeg).") var out: String

    func validate() throws {
        guard (2...1000).contains(steps) else { throw ValidationError("--steps must be in 2...1000") }
        try checkImageOutput(out)
        guard (from == nil) == (to == nil) else { throw ValidationError("give both --from and --to") }
    }

    func run() throws {
        let (vae, config) = try model.load(purpose: "vae interpolate needs a VAE, whose latent space has paths between images")
        let a: Image, b: Image
        if let from, let to {
            a = try loadImage(from, model: config.model)
            b = try loadImage(to, model: config.model)
        } else {
            let idx = items.split(separator: ",").compactMap { Int($0) }
            let set = try loadImages(data, split: split, model: config.model, run: config)
            guard idx.count == 2, idx.allSatisfy({ $0 >= 0 && $0 < set.count }) else {
                throw VAEError("--items needs two indices below \(set.count), e.g. 0,1")
            }
            a = set.image(at: idx[0])
            b = set.image(at: idx[1])
        }
        let path = try vae.interpolate(from: a, to: b, steps: steps, spherical: spherical)
        try writeGrid([a] + path + [b], columns: steps + 2, to: out)
    }
}
