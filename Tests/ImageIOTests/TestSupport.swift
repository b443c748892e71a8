import Foundation
import Testing
@testable import ImageIO

/// Locates the shared real data: `$CONVVAE_DATA`, else `../shared/data` next to the package root
/// (found from this file's path), else `/work/shared/data`.
enum TestData {
    static let directory: String? = {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["CONVVAE_DATA"], !env.isEmpty { candidates.append(env) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.deletingLastPathComponent().appendingPathComponent("shared/data").path)
        candidates.append(root.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("shared/data").path)
        candidates.append("/work/shared/data")
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/README.md") }
    }()

    static var available: Bool { directory != nil }
    static let skipMessage: Comment = "real data not found: set CONVVAE_DATA or place it at ../shared/data; skipping"

    static func path(_ relative: String) -> String { directory! + "/" + relative }
}

/// A fresh temporary directory, removed when the value is released.
final class TempDir {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("imageio-tests-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    func mkdir(_ name: String) -> String {
        let p = file(name)
        try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
    func write(_ bytes: [UInt8], to name: String) {
        _ = FileManager.default.createFile(atPath: file(name), contents: Data(bytes))
    }
}

/// A deterministic image whose values are exact multiples of 1/255.
func patternImage(width: Int, height: Int, channels: Int, salt: Int = 0) -> Image {
    var bytes = [UInt8](repeating: 0, count: width * height * channels)
    for i in bytes.indices { bytes[i] = UInt8((i * 37 + salt * 11 + (i / 7) * 5) % 256) }
    return Image(interleaved: bytes, width: width, height: height, channels: channels)
}

func errorDescription(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}
