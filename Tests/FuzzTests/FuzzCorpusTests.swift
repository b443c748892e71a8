import Foundation
import Testing
import FuzzTargets

/// The fuzzers' inputs replayed through the same entry points: every seed is read as the
/// valid file it is (or refused, for the bad-* ones), and every input a fuzzer found to crash
/// (Fuzz/regressions/TARGET/) now ends in an error.
@Suite("Fuzz corpus and regressions")
struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz").path

    static func files(_ folder: String, _ target: FuzzTarget) -> [String] {
        let dir = root + "/" + folder + "/" + target.rawValue
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
    }

    @Test("every seed reaches its reader", arguments: FuzzTarget.allCases)
    func seeds(target: FuzzTarget) throws {
        let seeds = Self.files("corpus", target)
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
        for file in Self.files("regressions", target) {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            #expect(target.run(bytes) != nil, "\(file) should be refused")
        }
    }
}
