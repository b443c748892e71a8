/// Which part of an official dataset to load.
public enum MNISTSplit: String, Sendable, CaseIterable {
    /// The 60,000 training images (`train-*`).
    case train
    /// The 10,000 test images (`t10k-*`).
    case test
}

extension ImageSet {
    /// Loads MNIST (or any dataset in the same file layout, e.g. Fashion-MNIST) from a directory
    /// holding `train-images-idx3-ubyte[.gz]` / `t10k-images-idx3-ubyte[.gz]` and, optionally,
    /// the matching `*-labels-idx1-ubyte[.gz]` files.
    /// - Parameters:
    ///   - directory: The directory with the IDX files.
    ///   - split: `.train` or `.test`.
    /// - Returns: 1 x 28 x 28 images in [0, 1], with labels when the label file is present.
    public static func loadMNIST(directory: String, split: MNISTSplit) throws -> ImageSet {
        let imagesPath = try mnistFile(directory: directory, split: split, kind: "images")
        var set = try IDX.readImages(imagesPath)
        if let labelsPath = try? mnistFile(directory: directory, split: split, kind: "labels") {
            let labels = try IDX.readLabels(labelsPath)
            guard labels.count == set.count else {
                throw ImageIOError(labelsPath, "has \(labels.count) labels for \(set.count) images")
            }
            set = ImageSet(count: set.count, channels: 1, height: set.height, width: set.width,
                           pixels: set.pixels, labels: labels)
        }
        return set
    }

    /// The path of an MNIST-layout file: `PREFIX-KIND-idxN-ubyte`, raw or `.gz`.
    /// - Parameters:
    ///   - directory: The directory with the IDX files.
    ///   - split: `train` or `t10k` files.
    ///   - kind: "images" or "labels".
    static func mnistFile(directory: String, split: MNISTSplit, kind: String) throws -> String {
        guard FileIO.isDirectory(directory) else { throw ImageIOError(directory, "MNIST directory not found") }
        let base = "\(split == .train ? "train" : "t10k")-\(kind)-idx\(kind == "images" ? 3 : 1)-ubyte"
        for name in [base, base + ".gz"] {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            if FileIO.exists(path) { return path }
        }
        throw ImageIOError(directory, "no \(base) or \(base).gz found")
    }
}
