#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Small file helpers shared by the readers and writers: bounded whole-file reads of regular
/// files, atomic writes, directory walks that end and list only what can be read.
public enum FileIO {
    /// The most bytes `readBytes` reads when its caller names no smaller limit (4 GiB).
    public static let defaultReadLimit = 1 << 32

    /// Reads the whole file at `path`.
    /// - Parameters:
    ///   - path: The file to read.
    ///   - limit: The most bytes the caller accepts; a larger file is refused before it is read.
    /// - Returns: The file's bytes.
    /// - Throws: `ImageIOError` naming the file when it cannot be opened or read, is not a
    ///   regular file (a directory, FIFO, socket or device, which could block or never end) or
    ///   is larger than `limit`.
    public static func readBytes(_ path: String, limit: Int = defaultReadLimit) throws -> [UInt8] {
        try readBytes(RawPath(path), limit: limit)
    }

    /// Reads the whole file at `path` (see `readBytes(_:limit:)` for a `String` path).
    public static func readBytes(_ path: RawPath, limit: Int = defaultReadLimit) throws -> [UInt8] {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        let fd = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else { throw ImageIOError(path.description, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw ImageIOError(path.description, "cannot read: \(String(cString: strerror(errno)))")
        }
        let kind = st.st_mode & S_IFMT
        if kind == S_IFDIR { throw ImageIOError(path.description, "is a directory, not a file") }
        guard kind == S_IFREG else {
            throw ImageIOError(path.description, "is not a regular file (a FIFO, socket or device), so it is not read")
        }
        guard Int(st.st_size) <= limit else {
            throw ImageIOError(path.description, "is \(st.st_size) bytes, more than the \(limit) this reader accepts")
        }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while true {
            if done == bytes.count {
                // The file may have grown since fstat: read on, one byte past the limit at most.
                guard bytes.count <= limit else {
                    throw ImageIOError(path.description, "is more than the \(limit) bytes this reader accepts")
                }
                bytes.append(contentsOf: repeatElement(0, count: min(1 << 16, limit + 1 - bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageIOError(path.description, "read error: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            done += n
        }
        bytes.removeSubrange(done...)
        return bytes
    }

    /// Reads at most the first `count` bytes of the file at `path` (a header), with the checks
    /// of `readBytes`.
    public static func readPrefix(_ path: String, count: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ImageIOError(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw ImageIOError(path, "is not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: max(0, min(count, Int(st.st_size))))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw ImageIOError(path, "read error: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            done += n
        }
        return Array(bytes[0..<done])
    }

    /// Writes new files into `directory` and makes them durable together: all are written
    /// first and synced after (the first sync's journal commit usually carries the others'
    /// data, so this costs about one sync, not one per file), then the directory's entries.
    public static func writeDurably(_ files: [(name: String, bytes: [UInt8])], into directory: String) throws {
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        for (name, bytes) in files {
            let path = (directory as NSString).appendingPathComponent(name)
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ImageIOError(path, "cannot create: \(String(cString: strerror(errno)))") }
            descriptors.append(fd)
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw ImageIOError(path, "write failed: \(String(cString: strerror(errno)))") }
                done += n
            }
        }
        for (fd, file) in zip(descriptors, files) where fsync(fd) != 0 {
            throw ImageIOError((directory as NSString).appendingPathComponent(file.name),
                               "cannot sync to disk: \(String(cString: strerror(errno)))")
        }
        try syncDirectory(directory)
    }

    /// Flushes a directory's entries (new names, renames) to disk, so that they survive a crash.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 || errno == EINVAL else {
            let message = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw ImageIOError(path, "cannot sync directory: \(message)")
        }
        close(fd)
    }

    /// Writes `bytes` to `path` atomically (see `replace`).
    /// - Throws: `ImageIOError` naming the file when the write or rename fails.
    public static func writeAtomically<C: Collection>(_ bytes: C, to path: String) throws where C.Element == UInt8 {
        try replace(path) { tmp in
            guard let file = fopen(tmp, "wb") else {
                throw ImageIOError(path, "cannot create temporary file: \(String(cString: strerror(errno)))")
            }
            let array = Array(bytes)
            let written = array.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
            let closed = fclose(file) == 0
            guard written == array.count, flushed, closed else {
                throw ImageIOError(path, "write failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The suffix of `replace`'s temporary files: `NAME.tmp-PID-RANDOM`.
    static let temporaryMarker = ".tmp-"

    /// Replaces `path` atomically: `write` creates a temporary file in the same directory (the
    /// name it is given), which is then renamed into place, so a failed write never clobbers an
    /// existing good file and leaves no temporary file behind. An existing `path` must be a
    /// regular file (or a link): a directory, device, FIFO or socket is never replaced.
    /// - Parameters:
    ///   - path: The destination file.
    ///   - write: Writes the complete content to the temporary path it is given.
    /// - Throws: what `write` throws, or `ImageIOError` naming the file when the destination is
    ///   not a file or the rename fails.
    public static func replace(_ path: String, with write: (String) throws -> Void) throws {
        var st = stat()
        if lstat(path, &st) == 0 {
            let kind = st.st_mode & S_IFMT
            if kind == S_IFDIR { throw ImageIOError(path, "is a directory; cannot write a file there") }
            guard kind == S_IFREG || kind == S_IFLNK else {
                throw ImageIOError(path, "exists and is not a regular file (a FIFO, socket or device); not replaced")
            }
        }
        let tmp = "\(path)\(temporaryMarker)\(getpid())-\(String(UInt64.random(in: 0...UInt64.max) & 0xffffff, radix: 16))"
        do { try write(tmp) } catch {
            unlink(tmp)
            throw error
        }
        if rename(tmp, path) != 0 {
            let message = String(cString: strerror(errno))
            unlink(tmp)
            throw ImageIOError(path, "cannot rename temporary file into place: \(message)")
        }
    }

    /// Removes the temporary files `replace` left in `directory` when its process died (those
    /// of processes still running are kept).
    /// - Returns: the names removed.
    @discardableResult
    public static func removeStaleTemporaries(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names {
            guard let marker = name.range(of: temporaryMarker, options: .backwards) else { continue }
            let parts = name[marker.upperBound...].split(separator: "-")
            guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, pid != getpid(),
                  UInt64(parts[1], radix: 16) != nil, kill(pid, 0) != 0, errno == ESRCH else { continue }
            if unlink((directory as NSString).appendingPathComponent(name)) == 0 { removed.append(name) }
        }
        return removed.sorted()
    }

    /// Creates `path` and its missing parents.
    /// - Throws: `ImageIOError` naming the path and the system's reason (an existing file, a
    ///   read-only file system, no permission).
    public static func makeDirectory(_ path: String) throws {
        if isDirectory(path) { return }
        let parent = parentDirectory(path)
        if !parent.isEmpty, parent != path, !FileIO.exists(parent) { try makeDirectory(parent) }
        if mkdir(path, 0o777) != 0, errno != EEXIST || !isDirectory(path) {
            let reason = errno == EEXIST ? "exists and is not a directory" : String(cString: strerror(errno))
            throw ImageIOError(path, "cannot create directory: \(reason)")
        }
    }

    /// The directory part of `path` ("" for a bare name, "/" for a name at the root). NSString's
    /// `deletingLastPathComponent` traps on one-character paths on Linux (Swift 6.3), so paths
    /// from the command line go through this instead.
    public static func parentDirectory(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        var parent = p[..<slash]
        while parent.count > 1, parent.hasSuffix("/") { parent = parent.dropLast() }
        return parent.isEmpty ? "/" : String(parent)
    }

    /// Whether `path` names an existing directory.
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    /// Whether `path` names an existing file or directory.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// All regular files under `directory`, recursively, as full paths sorted by their bytes
    /// (see `files(in:recursive:)`).
    public static func filesRecursively(in directory: String) throws -> [RawPath] {
        try files(in: directory, recursive: true)
    }

    /// The regular files in `directory` (and its subdirectories when `recursive`), as full paths
    /// sorted by their bytes for determinism. Hidden entries are skipped, and so are FIFOs,
    /// sockets, devices and broken links, which are not files to read. Links are followed, but
    /// each directory is entered once (by device and inode), so link loops end and no file is
    /// listed twice through two routes. Names are kept as bytes (see `RawPath`).
    /// - Throws: `ImageIOError` when `directory` or one below it cannot be listed.
    public static func files(in directory: String, recursive: Bool) throws -> [RawPath] {
        var st = stat()
        guard stat(directory, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw ImageIOError(directory, "not a directory")
        }
        struct Identity: Hashable { var device: UInt64, inode: UInt64 }
        var visited: Set<Identity> = [Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))]
        var result: [RawPath] = []
        var stack = [RawPath(directory)]
        while let dir = stack.popLast() {
            var subdirectories: [(RawPath, Identity)] = []
            for full in try entries(of: dir) {
                var s = stat()
                guard full.withCString({ stat($0, &s) }) == 0 else { continue }
                switch s.st_mode & S_IFMT {
                case S_IFREG: result.append(full)
                case S_IFDIR where recursive:
                    subdirectories.append((full, Identity(device: UInt64(s.st_dev), inode: UInt64(s.st_ino))))
                default: continue
                }
            }
            // Sorted, so that which route into a directory is taken does not depend on readdir.
            subdirectories.sort { RawPath.byteOrder($0.0, $1.0) }
            let entered = subdirectories.filter { visited.insert($0.1).inserted }
            stack += entered.reversed().map(\.0)
        }
        return result.sorted(by: RawPath.byteOrder)
    }

    /// The non-hidden entries of one directory, as full paths.
    static func entries(of dir: RawPath) throws -> [RawPath] {
        guard let handle = dir.withCString({ opendir($0) }) else {
            throw ImageIOError(dir.description, "cannot list directory: \(String(cString: strerror(errno)))")
        }
        defer { closedir(handle) }
        var out: [RawPath] = []
        while let entry = readdir(handle) {
            let name: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            guard let first = name.first, first != UInt8(ascii: ".") else { continue }
            out.append(dir.appending(name))
        }
        return out
    }
}
