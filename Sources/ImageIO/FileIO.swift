#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Small file helpers shared by the readers and writers: whole-file reads and atomic writes.
public enum FileIO {
    /// Reads the whole file at `path`.
    /// - Parameter path: The file to read.
    /// - Returns: The file's bytes.
    /// - Throws: `ImageIOError` naming the file when it cannot be opened or read.
    public static func readBytes(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw ImageIOError(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var st = stat()
        if fstat(fileno(file), &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw ImageIOError(path, "is a directory, not a file")
        }
        var bytes: [UInt8] = []
        if st.st_size > 0 { bytes.reserveCapacity(Int(st.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count {
                if ferror(file) != 0 { throw ImageIOError(path, "read error") }
                break
            }
        }
        return bytes
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

    /// Replaces `path` atomically: `write` creates a temporary file in the same directory (the
    /// name it is given), which is then renamed into place, so a failed write never clobbers an
    /// existing good file and leaves no temporary file behind.
    /// - Parameters:
    ///   - path: The destination file.
    ///   - write: Writes the complete content to the temporary path it is given.
    /// - Throws: what `write` throws, or `ImageIOError` naming the file when the rename fails.
    public static func replace(_ path: String, with write: (String) throws -> Void) throws {
        let tmp = "\(path).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max) & 0xffffff)"
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

    /// Whether `path` names an existing directory.
    public static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// Whether `path` names an existing file or directory.
    public static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// All regular files under `directory` (recursively, following no hidden entries), as full
    /// paths sorted by byte order for determinism.
    /// - Throws: `ImageIOError` when the directory cannot be listed.
    public static func filesRecursively(in directory: String) throws -> [String] {
        guard isDirectory(directory) else { throw ImageIOError(directory, "not a directory") }
        var result: [String] = []
        var stack = [directory]
        while let dir = stack.popLast() {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
                throw ImageIOError(dir, "cannot list directory")
            }
            for name in names where !name.hasPrefix(".") {
                let full = dir.hasSuffix("/") ? dir + name : dir + "/" + name
                if isDirectory(full) { stack.append(full) } else { result.append(full) }
            }
        }
        return result.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
