extension ImageSet {
    /// Bytes per CIFAR-10 record: 1 label byte + 1024 R + 1024 G + 1024 B.
    public static let cifar10RecordSize = 3073
    /// The official test file's name: in a directory it is the test split and never trained on.
    public static let cifar10TestFile = "test_batch.bin"

    /// The CIFAR-10 files of `path` for one part: a file is all of the data; in a directory
    /// (searched recursively) `test_batch.bin` is the test part and every other `*.bin` file
    /// (`data_batch_1.bin` ... `data_batch_5.bin` in the official layout) the training part.
    /// - Parameter test: the test part (empty when a directory has no `test_batch.bin`, or
    ///   `path` is a file).
    static func cifar10Files(_ path: String, test: Bool) throws -> [RawPath] {
        guard FileIO.isDirectory(path) else { return test ? [] : [RawPath(path)] }
        let files = try FileIO.filesRecursively(in: path).filter { $0.pathExtension == "bin" }
        let isTest = { (f: RawPath) in f.lastComponent.elementsEqual(cifar10TestFile.utf8) }
        let chosen = files.filter { isTest($0) == test }
        guard test || !chosen.isEmpty else {
            throw ImageIOError(path, files.isEmpty ? "no CIFAR-10 .bin files found"
                               : "holds only \(cifar10TestFile), the test split; no training files")
        }
        return chosen
    }

    /// Loads CIFAR-10 binary data: one file, or a directory's training files (see
    /// `cifar10Files`; `test: true` for its `test_batch.bin`) in sorted order.
    /// - Parameters:
    ///   - path: A `.bin` file or a directory of them.
    ///   - test: Load the official test file instead of the training files.
    /// - Returns: 3 x 32 x 32 images in [0, 1] with their labels.
    /// - Throws: `ImageIOError` when a file size is not a multiple of 3073 or no file is found.
    public static func loadCIFAR10(_ path: String, test: Bool = false) throws -> ImageSet {
        let files = try cifar10Files(path, test: test)
        guard !files.isEmpty else { throw ImageIOError(path, "has no \(cifar10TestFile) (the CIFAR-10 test split)") }
        var pixels: [Float] = []
        var labels: [Int] = []
        for file in files {
            let part = try decodeCIFAR10(try FileIO.readBytes(file), path: file.description)
            try MemoryLimit.check(labels.count + part.count, 3072, 4,
                                  what: "\(labels.count + part.count) CIFAR-10 images", path: path)
            pixels += part.pixels
            labels += part.labels ?? []
        }
        return ImageSet(count: labels.count, channels: 3, height: 32, width: 32, pixels: pixels, labels: labels)
    }

    /// Decodes the content of one CIFAR-10 binary file.
    /// - Parameter path: Used only in error messages.
    /// - Throws: `ImageIOError` for an empty file or a size that is not a multiple of 3073.
    public static func decodeCIFAR10(_ bytes: [UInt8], path: String = "<memory>") throws -> ImageSet {
        guard !bytes.isEmpty else { throw ImageIOError(path, "empty CIFAR-10 file") }
        guard bytes.count % cifar10RecordSize == 0 else {
            throw ImageIOError(path, "size \(bytes.count) is not a multiple of the CIFAR-10 record size \(cifar10RecordSize)")
        }
        let n = bytes.count / cifar10RecordSize
        var pixels = [Float](repeating: 0, count: n * 3072)
        var labels = [Int](repeating: 0, count: n)
        bytes.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for r in 0..<n {
                    let s = r * cifar10RecordSize
                    labels[r] = Int(src[s])
                    for k in 0..<3072 { dst[r * 3072 + k] = Float(src[s + 1 + k]) / 255 }
                }
            }
        }
        return ImageSet(count: n, channels: 3, height: 32, width: 32, pixels: pixels, labels: labels)
    }
}
