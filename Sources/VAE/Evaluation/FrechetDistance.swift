import Foundation
import ImageIO
import NN

/// A directory that holds a `FeatureNetwork` trained on one data set and the moments of its
/// features on that data's real images: what `vae evaluate --fid` compares samples with. Every
/// model evaluated against the same directory is measured with the same network and the same
/// reference statistics, so their Frechet distances are comparable with each other (and with
/// nothing else: this is "FID with our feature network", not Inception-FID).
public struct FeatureNetworkStore {
    public let directory: String
    public let network: FeatureNetwork
    public let info: Info

    /// feature-network.json.
    public struct Info: Codable, Sendable {
        /// The data spec the network was trained on (and whose statistics the directory holds).
        public var data: String
        public var model: ModelConfig
        public var epochs: Int
        public var seed: UInt64
        /// Images trained on (the data's training split) and the accuracy on its test split.
        public var trainImages: Int
        public var testAccuracy: Double
        public var note = "Frechet distances with this directory's feature network (a classifier trained by ConvVAE on the data's labels): comparable between models evaluated with this directory, not with Inception-FID"
    }

    static let infoFile = "feature-network.json"

    func path(_ file: String) -> String { (directory as NSString).appendingPathComponent(file) }

    /// Opens the store in `directory`, or, when it holds none yet, trains a network on the
    /// training split of `data` (labels needed), measures it on the test split and saves it.
    /// - Parameters:
    ///   - geometry: the images' channels, height and width (the models' geometry)
    ///   - epochs, seed: training of a new network (seed also splits the data)
    /// - Throws: `VAEError` when the directory holds a network of other data or geometry.
    public static func open(_ directory: String, data: DataSpec, channels: Int, height: Int, width: Int,
                            epochs: Int = 3, seed: UInt64 = 1, device: Device,
                            log: (String) -> Void = { _ in }) throws -> FeatureNetworkStore {
        let infoPath = (directory as NSString).appendingPathComponent(infoFile)
        if FileIO.exists(infoPath) {
            let info = try Checkpoint.decodeJSON(Info.self, try Checkpoint.readFile(infoPath, limit: Checkpoint.maxJSONBytes),
                                                 path: infoPath)
            guard info.data == data.description else {
                throw VAEError("\(directory): holds a feature network of \(info.data), not of \(data); give another --feature-network")
            }
            let m = info.model
            guard m.classes != nil, m.latent == FeatureNetwork.featureSize else {
                throw VAEError("\(infoPath): not a feature network (it needs classes and \(FeatureNetwork.featureSize) features)")
            }
            do { try m.check(batch: 128) } catch { throw VAEError("\(infoPath): \(error)") }
            guard m.channels == channels, m.height == height, m.width == width else {
                throw VAEError("\(directory): the feature network takes \(m.channels)x\(m.height)x\(m.width) images, the model makes \(channels)x\(height)x\(width)")
            }
            let network = try FeatureNetwork(m, device: device, maxBatch: 128, seed: 0)
            try Checkpoint.load(into: network, optimizer: nil, from: directory)
            return FeatureNetworkStore(directory: directory, network: network, info: info)
        }
        let train = try data.load(split: .train, channels: channels, height: height, width: width, seed: seed)
        let test = try data.load(split: .test, channels: channels, height: height, width: width, seed: seed)
        log("training the feature network on \(train.count) images of \(data) for \(epochs) epochs")
        let network = try FeatureNetwork.train(on: train, epochs: epochs, seed: seed, device: device, log: log)
        let info = Info(data: data.description, model: network.config, epochs: epochs, seed: seed, trainImages: train.count,
                        testAccuracy: try network.accuracy(test))
        log(String(format: "feature network: %.2f%% of %d test images classified correctly", 100 * info.testAccuracy, test.count))
        do { try FileIO.makeDirectory(directory) } catch { throw VAEError("\(error)") }
        let weights = try network.parameters.map { SafeTensors.Entry(name: $0.name, shape: $0.value.shape, values: try $0.value.read()) }
        let store = FeatureNetworkStore(directory: directory, network: network, info: info)
        try FileIO.writeAtomically(SafeTensors.encode(weights, metadata: ["arch": "classifier"]), to: store.path(Checkpoint.modelFile))
        try FileIO.writeAtomically(try Checkpoint.encodeJSON(info), to: infoPath)
        return store
    }

    /// The moments of the features of the first `limit` images of a split of the store's data,
    /// computed once and kept in the directory (statistics-SPLIT-N.safetensors, in float32: what
    /// every evaluation uses, the first one included).
    public func statistics(split: DataSplit, limit: Int) throws -> SampleMoments {
        let m = info.model
        let file = path("statistics-\(split.rawValue)-\(limit).safetensors")
        if !FileIO.exists(file) {
            let spec = try DataSpec(parsing: info.data)
            let images = try spec.load(split: split, channels: m.channels, height: m.height, width: m.width, seed: info.seed)
            let moments = try featureMoments(images.subset(0..<min(limit, images.count)))
            let entries = [SafeTensors.Entry(name: "mean", shape: [m.latent], values: moments.mean.map(Float.init)),
                           SafeTensors.Entry(name: "covariance", shape: [m.latent, m.latent], values: moments.covariance.map(Float.init)),
                           SafeTensors.Entry(name: "count", shape: [1], values: [Float(moments.count)])]
            try FileIO.writeAtomically(SafeTensors.encode(entries, metadata: ["data": info.data, "split": split.rawValue]), to: file)
        }
        let t = try Checkpoint.read(file).tensors
        guard let mean = t["mean"], let cov = t["covariance"], mean.shape == [m.latent], cov.shape == [m.latent, m.latent],
              let count = t["count"]?.values.first
        else { throw VAEError("\(file): not the feature statistics of this network") }
        return SampleMoments(dimension: m.latent, count: Int(count), mean: mean.values.map(Double.init),
                             covariance: cov.values.map(Double.init))
    }

    /// The moments of the network's features of some images.
    public func featureMoments(_ images: ImageSet) throws -> SampleMoments {
        guard images.count >= 2 else { throw VAEError("the Frechet distance needs at least two images per set") }
        return try SampleMoments(samples: try network.evaluate(images).features, dimension: info.model.latent)
    }
}

/// What `vae evaluate --fid` reports: Frechet distances between the feature statistics of the
/// reference images (a real split) and of other image sets, all with one feature network.
public struct FrechetResult: Codable, Sendable {
    public var featureNetwork: String
    public var featureNetworkTestAccuracy: Double
    public var data: String
    /// The real split the others are compared with, its images, and the images of every other set.
    public var reference: String
    public var referenceImages: Int
    public var images: Int
    /// Real training images against the reference: the floor that sample size leaves.
    public var realTrain: Double
    /// Samples of the model, from the prior `vae sample` draws from (the fitted one when the run has it).
    public var model: Double
    public var modelPrior: String
    /// Samples of the model from N(0, I), when its run has a fitted prior as well.
    public var modelNormalPrior: Double?
    /// Samples of the same architecture with the weights it started from (untrained).
    public var untrained: Double
    /// Label-conditional models: per class, the share of samples drawn for that class that the
    /// feature network classifies as it.
    public var sampleLabelAccuracy: [Double]?
    public var note: String
}

extension FeatureNetworkStore {
    /// Frechet distances of `count` samples of `model` (and of real training images, and of the
    /// untrained model) to the features of `count` test images.
    /// - Parameters:
    ///   - config: the model's run configuration (the untrained model starts from its seed)
    ///   - prior: the run's fitted prior, if any
    public func evaluate(_ model: any GenerativeModel, config: RunConfig, prior: FittedPrior?, count: Int,
                         log: (String) -> Void = { _ in }) throws -> FrechetResult {
        if let classes = model.config.classes, classes != info.model.classes {
            throw VAEError("\(directory): the feature network knows \(info.model.classes ?? 0) classes, the model \(classes)")
        }
        let reference = try statistics(split: .test, limit: count)
        let train = try statistics(split: .train, limit: count)
        let seed: UInt64 = 0xF1D
        let labels = model.config.classes.map { k in (0..<count).map { $0 % k } }
        func distance(_ images: [Image]) throws -> Double {
            try LinearAlgebra.frechetDistance(reference, try featureMoments(ImageSet(images: images)))
        }
        /// `count` samples of a model (given the labels, for a label-conditional one).
        func draw(from model: any GenerativeModel, prior: FittedPrior?) throws -> [Image] {
            if let labels, let labelled = model as? ConvVAE {
                return try prior.map { try labelled.sample(count: count, seed: seed, prior: $0, labels: labels) }
                    ?? labelled.sample(count: count, seed: seed, labels: labels)
            }
            return try prior.map { try model.sample(count: count, seed: seed, prior: $0) } ?? model.sample(count: count, seed: seed)
        }
        log("sampling \(count) images and measuring their features")
        let samples = try draw(from: model, prior: prior)
        var result = FrechetResult(
            featureNetwork: directory, featureNetworkTestAccuracy: info.testAccuracy, data: info.data,
            reference: "test", referenceImages: reference.count, images: count, realTrain: try LinearAlgebra.frechetDistance(reference, train),
            model: try distance(samples), modelPrior: prior == nil ? "the model's own" : "fitted Gaussian mixture",
            modelNormalPrior: try prior.map { _ in try distance(try draw(from: model, prior: nil)) },
            untrained: 0, sampleLabelAccuracy: nil, note: info.note)
        let untrained = try makeGenerativeModel(model.config, device: model.device, maxBatch: model.maxBatch,
                                                seed: config.training.seed)
        result.untrained = try distance(try draw(from: untrained, prior: nil))
        if let labels, let classes = model.config.classes {
            let predicted = try network.evaluate(ImageSet(images: samples)).predictions
            result.sampleLabelAccuracy = (0..<classes).map { k in
                let drawn = labels.indices.filter { labels[$0] == k }
                return Double(drawn.filter { predicted[$0] == k }.count) / Double(max(drawn.count, 1))
            }
        }
        return result
    }
}
