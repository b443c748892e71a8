import Foundation

/// The shared real data (MNIST, CIFAR-10, Tiny ImageNet, BSDS500): `$CONVVAE_DATA`, else
/// `../shared/data` beside the package root (found from this file's path). Tests that need it
/// skip, saying so, when it is absent.
public enum SharedData {
    public static let directory: String? = {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["CONVVAE_DATA"], !env.isEmpty { candidates.append(env) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        for base in [root, root.resolvingSymlinksInPath()] {
            candidates.append(base.deletingLastPathComponent().appendingPathComponent("shared/data").path)
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/README.md") }
    }()

    public static var available: Bool { directory != nil }

    /// Why a test that needs the data did not run.
    public static let skipReason = "real data not found: set CONVVAE_DATA or place it at ../shared/data; skipping"

    /// A path inside the data directory (only when `available`).
    public static func path(_ relative: String) -> String { directory! + "/" + relative }
}
