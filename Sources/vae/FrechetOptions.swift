import ArgumentParser
import Foundation
import ImageIO
import VAE

/// `vae evaluate --fid`: Frechet distances of samples with the toolkit's own feature network.
struct FrechetOptions: ParsableArguments {
    @Flag(help: "Frechet distances of samples (FID with our feature network, a classifier trained on the data's labels; not Inception-FID) instead of likelihoods.")
    var fid = false
    @Option(help: "--fid: the directory of the feature network and the real images' statistics, trained there on first use (default: feature-network beside the run directory). Models evaluated with one directory are comparable.")
    var featureNetwork: String?
    @Option(help: "--fid: images per set (real test, real train, samples).") var fidImages: Int = 10000
    @Option(help: "--fid: epochs to train a new feature network.") var featureEpochs: Int = 3

    func validate() throws {
        guard fidImages >= 2, featureEpochs >= 1 else { throw ValidationError("--fid-images must be >= 2 and --feature-epochs >= 1") }
    }

    /// Evaluates and prints a table or one JSON object.
    func run(checkpoint: CheckpointOptions, data: DataSpec?, json: Bool) throws {
        let (vae, config) = try checkpoint.load(purpose: "vae evaluate --fid needs a VAE")
        let device = vae.device
        let m = config.model
        let parent = FileIO.parentDirectory(checkpoint.checkpoint)
        let directory = featureNetwork ?? ((parent.isEmpty ? "." : parent) as NSString).appendingPathComponent("feature-network")
        let store = try FeatureNetworkStore.open(directory, data: data ?? DataSpec(parsing: config.training.data), channels: m.channels,
                                                 height: m.height, width: m.width, epochs: featureEpochs, device: device, log: log)
        let prior = try Checkpoint.loadPrior(from: checkpoint.checkpoint, groupSizes: vae.latentGroups.map(\.size))
        let r = try store.evaluate(vae, config: config, prior: prior, count: fidImages, log: json ? { _ in } : log)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(r), as: UTF8.self))
            return
        }
        print("Frechet distances to the features of \(r.referenceImages) \(r.reference) images of \(r.data)")
        print(String(format: "  (FID with our feature network: %@, %.2f%% test accuracy; not Inception-FID)", r.featureNetwork,
                     100 * r.featureNetworkTestAccuracy))
        print(String(format: "real training images   %10.3f", r.realTrain))
        print(String(format: "model samples          %10.3f  (%d, prior: %@)", r.model, r.images, r.modelPrior))
        if let n = r.modelNormalPrior { print(String(format: "model samples, N(0, I) %10.3f", n)) }
        print(String(format: "untrained model        %10.3f", r.untrained))
        if let acc = r.sampleLabelAccuracy {
            let mean = acc.reduce(0, +) / Double(acc.count)
            print(String(format: "samples classified as their label: %.1f%% (per class: %@)", 100 * mean,
                         acc.map { String(format: "%.0f%%", 100 * $0) }.joined(separator: " ")))
        }
    }
}
