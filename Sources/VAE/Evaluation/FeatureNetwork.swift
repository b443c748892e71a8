import Foundation
import ImageIO
import NN

/// A small classifier that the toolkit trains on a data set's labels: stride-2 convolutions
/// (the widths of the data's automatic VAE architecture) and a dense layer to `featureSize`
/// ReLU features, then a dense layer to the classes. Its features are what the Frechet
/// distance compares ("FID with our feature network": no Inception weights exist offline, so
/// figures are comparable between evaluations that share one saved network, not with
/// published Inception-FIDs); its predictions judge label-conditional samples.
///
/// Buffers are preallocated for `maxBatch`, so a training step allocates nothing.
public final class FeatureNetwork: CheckpointableModel {
    /// The geometry, convolution widths and classes (`latent` holds the feature size).
    public let config: ModelConfig
    public let maxBatch: Int
    /// Images to features [batch, featureSize] (after a ReLU).
    let features: Sequential
    /// Features to class logits.
    let head: Dense
    let likelihood: CategoricalLikelihood
    let input: Tensor, labels: Tensor
    /// Host memory a batch passes through (images, then labels as floats).
    let staging: UnsafeMutablePointer<Float>, labelStaging: UnsafeMutablePointer<Float>

    /// Features per image.
    public static let featureSize = 128

    /// The architecture for images of this geometry with `classes` classes.
    public static func architecture(channels: Int, height: Int, width: Int, classes: Int) -> ModelConfig {
        var config = ModelConfig.automatic(channels: channels, height: height, width: width)
        config.arch = "classifier"
        config.latent = featureSize
        config.classes = classes
        return config
    }

    /// Builds the network with weights initialized from `seed`.
    public init(_ config: ModelConfig, device: Device, maxBatch: Int, seed: UInt64) throws {
        guard let classes = config.classes else { preconditionFailure("a classifier needs classes") }
        self.config = config
        self.maxBatch = maxBatch
        var rng = SplitMix64(seed: seed)
        let workspace = Workspace(device: device)
        var layers: [Layer] = []
        var shape = [config.channels, config.height, config.width]
        for (i, w) in config.widths.enumerated() {
            let conv = try Conv2D(input: shape, outChannels: w, kernel: 4, stride: 2, padding: 1, maxBatch: maxBatch,
                                  workspace: workspace, rng: &rng)
            conv.nameParameters("features.conv\(i)")
            shape = conv.outputShape
            layers += [conv, try Activation(.relu, shape: shape, maxBatch: maxBatch, on: device)]
        }
        let dense = try Dense(shape.reduce(1, *), config.latent, maxBatch: maxBatch, on: device, rng: &rng)
        dense.nameParameters("features.dense")
        features = Sequential(layers + [dense, try Activation(.relu, shape: [config.latent], maxBatch: maxBatch, on: device)])
        head = try Dense(config.latent, classes, maxBatch: maxBatch, on: device, rng: &rng)
        head.nameParameters("head")
        likelihood = try CategoricalLikelihood(classes: classes, maxBatch: maxBatch, on: device)
        input = try Tensor([maxBatch, config.channels, config.height, config.width], on: device)
        labels = try Tensor([maxBatch], on: device)
        staging = .allocate(capacity: maxBatch * config.dimensions)
        labelStaging = .allocate(capacity: maxBatch)
    }

    deinit {
        staging.deallocate()
        labelStaging.deallocate()
    }

    public var parameters: [Parameter] { features.parameters + head.parameters }

    /// Copies the images `indices` of `data` into the input.
    func load(_ data: ImageSet, _ indices: some Collection<Int>) throws {
        try data.load(indices, into: input, staging: staging)
    }

    /// The gradients of the mean cross-entropy of the loaded batch with the labels `indices` of
    /// `data`, into every parameter's `grad`.
    /// - Returns: the summed cross-entropy in nats.
    func lossAndGradients(_ data: ImageSet, _ indices: some Collection<Int>) throws -> Double {
        let all = data.labels!
        for (row, i) in indices.enumerated() { labelStaging[row] = Float(all[i]) }
        labels.setBatch(indices.count)
        try labels.write(from: labelStaging, count: indices.count)
        let logits = try head.forward(try features.forward(input))
        try likelihood.loss(logits, labels: labels, gradientScale: 1 / Float(indices.count))
        let dFeatures = try head.backward(likelihood.logitGradient, inputGradient: true)!
        _ = try features.backward(dFeatures, inputGradient: false)
        return try likelihood.nll.sum()
    }

    /// Features [n, featureSize] and predicted classes of the images of `data`, row after row.
    public func evaluate(_ data: ImageSet) throws -> (features: [Float], predictions: [Int]) {
        precondition(data.channels == config.channels && data.height == config.height && data.width == config.width,
                     "images of \(data.channels)x\(data.height)x\(data.width) for a network of \(config.channels)x\(config.height)x\(config.width)")
        var out: [Float] = [], predictions: [Int] = []
        out.reserveCapacity(data.count * config.latent)
        let classes = config.classes!
        for start in stride(from: 0, to: data.count, by: maxBatch) {
            try load(data, start..<min(start + maxBatch, data.count))
            let f = try features.forward(input)
            out += try f.read()
            let logits = try head.forward(f).read()
            for r in 0..<f.batch {
                let row = logits[(r * classes)..<((r + 1) * classes)]
                predictions.append(row.indices.max { row[$0] < row[$1] }! - r * classes)
            }
        }
        return (out, predictions)
    }

    /// The share of images of `data` whose predicted class is their label.
    public func accuracy(_ data: ImageSet) throws -> Double {
        guard let labels = data.labels, data.count > 0 else { return .nan }
        let predicted = try evaluate(data).predictions
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(data.count)
    }

    /// Trains a network on the labeled images `train` with Adam (learning rate 1e-3, batches of
    /// 128 in an order seeded by (seed, epoch)).
    /// - Parameter log: receives one line per epoch
    public static func train(on train: ImageSet, epochs: Int, seed: UInt64, device: Device,
                             log: (String) -> Void = { _ in }) throws -> FeatureNetwork {
        guard let labels = train.labels, let top = labels.max(), top >= 1, labels.min()! >= 0 else {
            throw VAEError("the feature network needs labeled images of at least two classes")
        }
        let config = architecture(channels: train.channels, height: train.height, width: train.width, classes: top + 1)
        let net = try FeatureNetwork(config, device: device, maxBatch: min(128, train.count), seed: seed)
        let optimizer = Adam(net.parameters)
        let B = net.maxBatch, steps = max(1, train.count / B)
        for epoch in 0..<epochs {
            let order = SplitMix64.permutation(count: train.count, seed: Noise.derive(seed, epoch))
            var loss = 0.0
            for s in 0..<steps {
                let batch = order[(s * B)..<((s + 1) * B)]
                try net.load(train, batch)
                loss += try net.lossAndGradients(train, batch)
                try optimizer.update()
            }
            log(String(format: "feature network: epoch %d, cross-entropy %.4f nats", epoch + 1, loss / Double(steps * B)))
        }
        return net
    }
}
