/// Which part of a dataset to load.
public enum DataSplit: String, Sendable, CaseIterable {
    /// Everything (for MNIST: the official 60,000 training images).
    case all
    /// The training part: everything except the held-out validation images.
    case train
    /// The held-out validation part: the last `validationFraction` of a seeded permutation.
    case validation = "val"
    /// The official test set where one exists (MNIST `t10k`, CIFAR-10 `test_batch.bin`, which
    /// training never reads); otherwise the validation part.
    case test
}

/// A dataset named on the command line:
/// `mnist:DIR | cifar10:FILE_OR_DIR | folder:DIR | shapes | shapes:N`.
public enum DataSpec: Equatable, Sendable, CustomStringConvertible {
    /// MNIST IDX files (raw or .gz) in a directory.
    case mnist(directory: String)
    /// CIFAR-10 binary: one file or a directory of `*.bin`.
    case cifar10(path: String)
    /// A folder of PNG/JPEG images, searched recursively.
    case folder(directory: String)
    /// The built-in procedural `shapes` dataset with `count` images.
    case shapes(count: Int)

    /// Parses a data spec.
    /// - Parameter text: e.g. `mnist:../shared/data/mnist`, `cifar10:train_4000.bin`,
    ///   `folder:photos/`, `shapes`, `shapes:5000`.
    /// - Throws: `ImageIOError` naming the spec for an unknown kind, a missing path or a bad count.
    public init(parsing text: String) throws {
        let kind: Substring, argument: Substring?
        if let colon = text.firstIndex(of: ":") {
            kind = text[..<colon]
            argument = text[text.index(after: colon)...]
        } else {
            kind = Substring(text)
            argument = nil
        }
        let usage = "expected mnist:DIR, cifar10:FILE_OR_DIR, folder:DIR, shapes or shapes:N"
        func path() throws -> String {
            guard let a = argument, !a.isEmpty else {
                throw ImageIOError(text, "\(kind) needs a path: \(kind):PATH")
            }
            return String(a)
        }
        switch kind.lowercased() {
        case "mnist": self = .mnist(directory: try path())
        case "cifar10", "cifar": self = .cifar10(path: try path())
        case "folder": self = .folder(directory: try path())
        case "shapes":
            guard let a = argument else { self = .shapes(count: ImageSet.defaultShapesCount); return }
            guard let n = Int(a), n > 0 else {
                throw ImageIOError(text, "shapes count must be a positive integer, got '\(a)'")
            }
            self = .shapes(count: n)
        default:
            throw ImageIOError(text, "unknown data kind '\(kind)'; \(usage)")
        }
    }

    /// The spec in the syntax `init(parsing:)` accepts.
    public var description: String {
        switch self {
        case .mnist(let d): return "mnist:\(d)"
        case .cifar10(let p): return "cifar10:\(p)"
        case .folder(let d): return "folder:\(d)"
        case .shapes(let n): return "shapes:\(n)"
        }
    }

    /// The image geometry this data is read at when no model asks otherwise, from the files'
    /// headers alone (nothing is decoded): MNIST's IDX header, CIFAR-10's 3x32x32, 3x64x64 for a
    /// folder of pictures (each is center-cropped and resized to it), 3x32x32 for the shapes.
    /// - Throws: `ImageIOError` for a missing path or a malformed header.
    public func defaultGeometry() throws -> (channels: Int, height: Int, width: Int) {
        switch self {
        case .mnist(let dir):
            let dims = try IDX.readHeader(ImageSet.mnistFile(directory: dir, split: .train, kind: "images"),
                                          magic: IDX.imagesMagic)
            return (1, dims[1], dims[2])
        case .cifar10(let path):
            guard FileIO.exists(path) else { throw ImageIOError(path, "no such file or directory") }
            return (3, 32, 32)
        case .folder(let dir):
            guard FileIO.isDirectory(dir) else { throw ImageIOError(dir, "folder not found") }
            return (3, 64, 64)
        case .shapes:
            return (3, 32, 32)
        }
    }

    /// The geometry the data has on disk when it has one (MNIST's IDX header, CIFAR-10's
    /// 3x32x32), or nil for data made at whatever size is asked (a folder's pictures are
    /// center-cropped and resized, the shapes are drawn at any size). Likelihoods are only
    /// comparable on data of the model's own geometry.
    public func nativeGeometry() throws -> (channels: Int, height: Int, width: Int)? {
        switch self {
        case .mnist, .cifar10: return try defaultGeometry()
        case .folder, .shapes: return nil
        }
    }

    /// Loads the whole dataset (for MNIST the official training set; `split` chooses otherwise)
    /// converted to the requested shape.
    /// - Parameters:
    ///   - split: Which part (default `.all`).
    ///   - channels: 1 or 3; nil keeps the source's (folders default to 3).
    ///   - height: Target height; nil keeps the source's (shapes default to 32).
    ///   - width: Target width; nil keeps the source's (shapes default to 32).
    ///   - validationFraction: Fraction held out for `.validation` (default 0.1).
    ///   - seed: Seed of the train/validation permutation and of the shapes generator. Keep it
    ///     fixed across runs that should see the same data.
    public func load(split: DataSplit = .all, channels: Int? = nil, height: Int? = nil, width: Int? = nil,
                     validationFraction: Double = 0.1, seed: UInt64 = 0) throws -> ImageSet {
        if split == .test {
            switch self {
            case .mnist(let dir):
                return try convert(ImageSet.loadMNIST(directory: dir, split: .test), channels, height, width)
            case .cifar10(let path) where !(try ImageSet.cifar10Files(path, test: true)).isEmpty:
                return try convert(ImageSet.loadCIFAR10(path, test: true), channels, height, width)
            default: break
            }
        }
        let whole = try loadAll(channels: channels, height: height, width: width, seed: seed)
        switch split {
        case .all: return whole
        case .train: return whole.split(validationFraction: validationFraction, seed: seed).train
        case .validation, .test: return whole.split(validationFraction: validationFraction, seed: seed).validation
        }
    }

    /// A split of a folder's pictures at their own sizes (RGB), split by photo as `load` splits
    /// images (`test` is the held-out part).
    /// - Throws: `ImageIOError` when the data is not a folder, or as `PhotoSet.load`.
    public func loadPhotos(split: DataSplit = .all, validationFraction: Double = 0.1, seed: UInt64 = 0) throws -> PhotoSet {
        guard case .folder(let dir) = self else {
            throw ImageIOError(description, "pictures at their own size need a folder of photos (folder:DIR)")
        }
        let all = try PhotoSet.load(folder: dir)
        switch split {
        case .all: return all
        case .train: return all.split(validationFraction: validationFraction, seed: seed).train
        case .validation, .test: return all.split(validationFraction: validationFraction, seed: seed).validation
        }
    }

    /// Loads the training and held-out validation parts in one read.
    /// - Parameters: as in `load(split:channels:height:width:validationFraction:seed:)`.
    public func loadSplits(channels: Int? = nil, height: Int? = nil, width: Int? = nil,
                           validationFraction: Double = 0.1, seed: UInt64 = 0) throws
        -> (train: ImageSet, validation: ImageSet) {
        try loadAll(channels: channels, height: height, width: width, seed: seed)
            .split(validationFraction: validationFraction, seed: seed)
    }

    func loadAll(channels: Int?, height: Int?, width: Int?, seed: UInt64) throws -> ImageSet {
        switch self {
        case .mnist(let dir):
            return try convert(ImageSet.loadMNIST(directory: dir, split: .train), channels, height, width)
        case .cifar10(let path):
            return try convert(ImageSet.loadCIFAR10(path), channels, height, width)
        case .folder(let dir):
            return try ImageSet.loadFolder(dir, channels: channels ?? 3, height: height ?? width,
                                           width: width ?? height)
        case .shapes(let count):
            let c = channels ?? 3, h = height ?? width ?? 32, w = width ?? height ?? 32
            try MemoryLimit.check(count, c, h, w, 4, what: "\(count) shapes of \(c)x\(h)x\(w)", path: description)
            return ImageSet.shapes(count: count, channels: c, height: h, width: w, seed: seed)
        }
    }

    /// `set` converted to the geometry asked for, after checking the result fits `MemoryLimit`.
    func convert(_ set: ImageSet, _ channels: Int?, _ height: Int?, _ width: Int?) throws -> ImageSet {
        let c = channels ?? set.channels, h = height ?? set.height, w = width ?? set.width
        try MemoryLimit.check(set.count, c, h, w, 4, what: "\(set.count) images of \(c)x\(h)x\(w)", path: description)
        return set.converted(channels: c, height: h, width: w)
    }
}
