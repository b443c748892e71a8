import Dispatch
import Foundation

extension ImageSet {
    /// File extensions (lower case) that `loadFolder` treats as images.
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Loads every PNG/JPEG under `directory` (recursively; paths sorted by byte order so the
    /// order is deterministic), converting each to `channels` and to `width` x `height` by a
    /// center crop to that aspect ratio and an area/bilinear resize. Files with other extensions
    /// and hidden entries are skipped; the format is recognized from the content, not the name.
    /// The walk is `FileIO.files(in:recursive:)`'s: special files are skipped, link loops end,
    /// and names that are not UTF-8 are read as they are.
    ///
    /// When every image lies in a subdirectory of `directory`, labels are the index of its
    /// top-level subdirectory among the sorted subdirectory names (class folders); otherwise nil.
    /// - Parameters:
    ///   - directory: The root folder.
    ///   - channels: 1 or 3 (default 3).
    ///   - height: Target height (nil: the first image's height).
    ///   - width: Target width (nil: the first image's width).
    /// - Throws: `ImageIOError` for a missing or empty folder, a set larger than `MemoryLimit`,
    ///   or naming the first image that cannot be decoded.
    public static func loadFolder(_ directory: String, channels: Int = 3, height: Int? = nil,
                                  width: Int? = nil) throws -> ImageSet {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        let files = try imageFiles(in: directory)

        let first = try Image.load(files[0])
        let h = height ?? first.height, w = width ?? first.width
        let n = channels * h * w
        try MemoryLimit.check(files.count, n, 4, what: "\(files.count) images of \(channels)x\(h)x\(w)", path: directory)
        var pixels = [Float](repeating: 0, count: files.count * n)
        let failures = FailureList()
        pixels.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(base: buffer.baseAddress!)
            let workers = min(files.count, max(1, ProcessInfo.processInfo.activeProcessorCount))
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var i = worker
                while i < files.count {
                    do {
                        let image = try (i == 0 ? first : Image.load(files[i]))
                            .converted(channels: channels).fitted(width: w, height: h)
                        image.pixels.withUnsafeBufferPointer {
                            (out.base + i * n).update(from: $0.baseAddress!, count: n)
                        }
                    } catch {
                        failures.add(index: i, error: error)
                    }
                    i += workers
                }
            }
        }
        if let error = failures.first() { throw error }

        // Class-folder labels: the first component below the root, compared as bytes.
        let root = RawPath(directory).bytes.count + (directory.hasSuffix("/") ? 0 : 1)
        let classNames = files.map { path -> [UInt8]? in
            let rest = path.bytes.dropFirst(root)
            guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return nil }
            return Array(rest[..<slash])
        }
        var labels: [Int]? = nil
        if classNames.allSatisfy({ $0 != nil }) {
            let sortedNames = Array(Set(classNames.map { $0! })).sorted { $0.lexicographicallyPrecedes($1) }
            let index = Dictionary(uniqueKeysWithValues: sortedNames.enumerated().map { ($1, $0) })
            labels = classNames.map { index[$0!]! }
        }
        return ImageSet(count: files.count, channels: channels, height: h, width: w, pixels: pixels, labels: labels)
    }
}

extension ImageSet {
    /// The PNG/JPEG files under `directory` (recursively, hidden entries skipped; the walk of
    /// `FileIO.files(in:recursive:)`), sorted by byte order so the order is deterministic.
    /// - Throws: `ImageIOError` for a missing folder or one without images.
    public static func imageFiles(in directory: String) throws -> [RawPath] {
        guard FileIO.isDirectory(directory) else { throw ImageIOError(directory, "folder not found") }
        let files = try FileIO.filesRecursively(in: directory).filter { imageExtensions.contains($0.pathExtension) }
        guard !files.isEmpty else { throw ImageIOError(directory, "no PNG or JPEG images found") }
        return files
    }
}

/// Thread-safe collection of per-item errors; `first()` gives the one with the lowest index.
final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(Int, Error)] = []

    func add(index: Int, error: Error) {
        lock.lock()
        items.append((index, error))
        lock.unlock()
    }

    func first() -> Error? {
        lock.lock()
        defer { lock.unlock() }
        return items.min { $0.0 < $1.0 }?.1
    }
}
