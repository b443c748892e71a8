extension ImageSet {
    /// Bytes per CIFAR-10 record: 1 label byte + 1024 R + 1024 G + 1024 B.
    public static let cifar10RecordSize = 3073

    /// Loads CIFAR-10 binary data: one file, or every `*.bin` file of a directory in sorted order
    /// (e.g. `data_batch_1.bin` ... `data_batch_5.bin`).
    /// - Parameter path: A `.bin` file or a directory of them.
    /// - Returns: 3 x 32 x 32 images in [0, 1] with their labels.
    /// - Throws: `ImageIOError` when a file size is not a multiple of 3073 or no file is found.
    public static func loadCIFAR10(_ path: String) throws -> ImageSet {
        var files = [path]
        if FileIO.isDirectory(path) {
            files = try FileIO.filesRecursively(in: path).filter { $0.hasSuffix(".bin") }
            guard !files.isEmpty else { throw ImageIOError(path, "no CIFAR-10 .bin files found") }
        }
        var pixels: [Float] = []
        var labels: [Int] = []
        for file in files {
            let bytes = try FileIO.readBytes(file)
            guard !bytes.isEmpty else { throw ImageIOError(file, "empty CIFAR-10 file") }
            guard bytes.count % cifar10RecordSize == 0 else {
                throw ImageIOError(file, "size \(bytes.count) is not a multiple of the CIFAR-10 record size \(cifar10RecordSize)")
            }
            let n = bytes.count / cifar10RecordSize
            let base = pixels.count
            pixels.append(contentsOf: repeatElement(0, count: n * 3072))
            labels.reserveCapacity(labels.count + n)
            bytes.withUnsafeBufferPointer { src in
                pixels.withUnsafeMutableBufferPointer { dst in
                    for r in 0..<n {
                        let s = r * cifar10RecordSize
                        let label = Int(src[s])
                        labels.append(label)
                        let d = base + r * 3072
                        for k in 0..<3072 { dst[d + k] = Float(src[s + 1 + k]) / 255 }
                    }
                }
            }
        }
        return ImageSet(count: labels.count, channels: 3, height: 32, width: 32, pixels: pixels, labels: labels)
    }
}
