import Foundation
import Testing
import FuzzTargets
import TestSupport

/// The fuzzers' inputs replayed through the same entry points: every seed (made by
/// Fuzz/make-corpus, as scripts/fuzz makes them) is read as the valid file it is (or refused, for
/// the bad-* ones), and every input a fuzzer found to crash (Fuzz/regressions/TARGET/) now ends
/// in an error.
@Suite("Fuzz corpus and regressions")
struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz").path

    /// The seed corpus, written once for the suite into a temporary directory.
    static let seedDirectory: TemporaryDirectory = {
        let dir = TemporaryDirectory("convvae-seeds")
        let maker = Process()
        maker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        maker.arguments = ["python3", root + "/make-corpus", dir.path]
        maker.standardOutput = FileHandle.nullDevice
        try! maker.run()
        maker.waitUntilExit()
        precondition(maker.terminationStatus == 0, "Fuzz/make-corpus failed")
        return dir
    }()

    static func files(in dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
    }

    @Test("every seed reaches its reader", arguments: FuzzTarget.allCases)
    func seeds(target: FuzzTarget) throws {
        let seeds = Self.files(in: Self.seedDirectory.file(target.rawValue))
        #expect(!seeds.isEmpty, "no seeds for \(target.rawValue)")
        for file in seeds {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            let error = target.run(bytes)
            if (file as NSString).lastPathComponent.hasPrefix("bad-") {
                #expect(error != nil, "\(file) should be refused")
            } else {
                #expect(error == nil, "\(file): \(error.map { "\($0)" } ?? "")")
            }
        }
    }

    @Test("every input found to crash is now refused with an error", arguments: FuzzTarget.allCases)
    func regressions(target: FuzzTarget) throws {
        for file in Self.files(in: Self.root + "/regressions/" + target.rawValue) {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            #expect(target.run(bytes) != nil, "\(file) should be refused")
        }
    }
}
