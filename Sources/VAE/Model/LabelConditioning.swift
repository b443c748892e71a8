import ImageIO
import NN

/// The label input of a label-conditional `ConvVAE` (p(x | z, y), q(z | x, y)): y as one-hot
/// class planes joined to the image before the encoder's first layer, and as a one-hot vector
/// joined to z before the decoder's dense projection. Both are device fills and copies into
/// preallocated tensors, so a training step stays free of allocations.
///
/// `ModelConfig.classes` records it in config.json, so every command rebuilds the same model.
public final class LabelConditioning {
    /// Classes K.
    public let classes: Int
    let planes: OneHot, vector: OneHot
    let imageJoin: ChannelConcatenation, latentJoin: ChannelConcatenation
    /// Labels set; a batch of up to this many images uses the first of them.
    public private(set) var batch = 0

    init(classes: Int, image: [Int], latent: Int, maxBatch: Int, on device: Device) throws {
        self.classes = classes
        planes = try OneHot(classes: classes, positionShape: Array(image[1...]), maxBatch: maxBatch, on: device)
        vector = try OneHot(classes: classes, positionShape: [1, 1], maxBatch: maxBatch, on: device)
        imageJoin = try ChannelConcatenation(first: image, second: [classes] + image[1...], maxBatch: maxBatch, on: device)
        latentJoin = try ChannelConcatenation(first: [latent, 1, 1], second: [classes, 1, 1], maxBatch: maxBatch, on: device)
    }

    /// Sets the labels of the next batch: item i's is `label(i)`, in 0..<classes.
    func set(count: Int, label: (Int) -> Int) throws {
        try planes.set(count: count, label: label)
        try vector.set(count: count, label: label)
        batch = count
    }

    /// [x; planes(y)] for the encoder.
    func encoderInput(_ images: Tensor) throws -> Tensor {
        precondition(images.batch <= batch, "labels of \(batch) images set for a batch of \(images.batch)")
        planes.output.setBatch(images.batch)
        return try imageJoin.forward(images, planes.output)
    }

    /// [z; onehot(y)] for the decoder.
    func decoderInput(_ z: Tensor) throws -> Tensor {
        precondition(z.batch <= batch, "labels of \(batch) images set for a batch of \(z.batch)")
        vector.output.setBatch(z.batch)
        return try latentJoin.forward(z, vector.output)
    }

    /// dL/dz from the decoder's input gradient dL/d[z; y].
    func latentGradient(_ dInput: Tensor) throws -> Tensor {
        try latentJoin.backwardFirst(dInput)
    }
}

extension ConvVAE {
    /// Sets the class labels of the loaded batch, or of the latents decoded next, item i's
    /// being `label(i)` (a label-conditional model only; see `checkLabels`).
    public func setLabels(count: Int, label: (Int) -> Int) throws {
        guard let conditioning else { preconditionFailure("labels set on a model that is not label-conditional") }
        try conditioning.set(count: count, label: label)
    }

    /// Sets labels when the model is label-conditional: `labels` must then be given, one per
    /// image, each a class of the model; nil otherwise.
    /// - Throws: `VAEError` when labels are missing, out of range or given to an unconditional model.
    func condition(on labels: ArraySlice<Int>?) throws {
        guard let conditioning else {
            if labels != nil { throw VAEError("labels given to a model that is not label-conditional (train with --condition label)") }
            return
        }
        guard let labels else {
            throw VAEError("the model is label-conditional (\(conditioning.classes) classes): it needs a label per image")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= conditioning.classes }) {
            throw VAEError("label \(bad) is not one of the model's \(conditioning.classes) classes")
        }
        try conditioning.set(count: labels.count) { labels[labels.startIndex + $0] }
    }

    /// Checks that a data set carries labels the model can condition on (a label-conditional
    /// model; nothing to check for others).
    /// - Throws: `VAEError` naming `name` when the labels are missing or out of range.
    public func checkLabels(of data: ImageSet, name: String) throws {
        guard let classes = config.classes else { return }
        guard let labels = data.labels else {
            throw VAEError("\(name): has no labels, and the model is label-conditional (\(classes) classes)")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw VAEError("\(name): label \(bad) is not one of the model's \(classes) classes")
        }
    }
}

extension ConvVAE {
    /// The labels of the first `count` images of `data` when the model is label-conditional
    /// (what the generation functions then need); nil for an unconditional model.
    public func conditioningLabels(_ data: ImageSet, count: Int) -> [Int]? {
        guard conditioning != nil, let labels = data.labels else { return nil }
        return Array(labels.prefix(count))
    }

    /// A grid of analogies: per row, one of the first `count` images of `data` and its code
    /// mu(x, y) decoded with every class, so that the code keeps the style and the label sets
    /// the class.
    public func analogies(_ data: ImageSet, count: Int) throws -> Image {
        guard let classes = config.classes else { preconditionFailure("analogies need a label-conditional model") }
        let originals = (0..<count).map { data.image(at: $0) }
        let mu = try encodeMeans(originals, labels: conditioningLabels(data, count: count))
        let L = config.latent
        var latents: [Float] = [], labels: [Int] = []
        for i in 0..<count {
            for y in 0..<classes {
                latents += mu[(i * L)..<((i + 1) * L)]
                labels.append(y)
            }
        }
        let decoded = try decode(latents: latents, labels: labels)
        var cells: [Image] = []
        for i in 0..<count { cells += [originals[i]] + decoded[(i * classes)..<((i + 1) * classes)] }
        return ImageGrid.compose(cells, columns: classes + 1)
    }
}
