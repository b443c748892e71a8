import Testing
import TestSupport
@testable import ImageIO

@Suite("Shapes, data specs and splits")
struct DatasetTests {
    @Test func shapesAreDeterministicAndVaried() {
        let a = ImageSet.shapes(count: 20, seed: 7)
        let b = ImageSet.shapes(count: 20, seed: 7)
        let c = ImageSet.shapes(count: 20, seed: 8)
        #expect(a == b)
        #expect(a.pixels != c.pixels)
        #expect(a.count == 20 && a.channels == 3 && a.height == 32 && a.width == 32)
        #expect(a.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        for i in 0..<a.count {
            let img = a.image(at: i).pixels
            #expect(img.max()! - img.min()! > 0.1)
        }
        #expect(Set(ImageSet.shapes(count: 200, seed: 1).labels!).count == ShapeKind.allCases.count)
        // Image i does not depend on the count; gray and other sizes work.
        #expect(ImageSet.shapes(count: 5, seed: 7).image(at: 4) == a.image(at: 4))
        let g = ImageSet.shapes(count: 3, channels: 1, height: 64, width: 48, seed: 2)
        #expect(g.channels == 1 && g.height == 64 && g.width == 48)
    }

    @Test func dataSpecParsing() throws {
        #expect(try DataSpec(parsing: "mnist:/d/m") == .mnist(directory: "/d/m"))
        #expect(try DataSpec(parsing: "cifar10:x.bin") == .cifar10(path: "x.bin"))
        #expect(try DataSpec(parsing: "folder:a:b") == .folder(directory: "a:b"))
        #expect(try DataSpec(parsing: "shapes") == .shapes(count: ImageSet.defaultShapesCount))
        #expect(try DataSpec(parsing: "shapes:500") == .shapes(count: 500))
        #expect(errorDescription { _ = try DataSpec(parsing: "imagenet:x") }
                == "imagenet:x: unknown data kind 'imagenet'; expected mnist:DIR, cifar10:FILE_OR_DIR, folder:DIR, shapes or shapes:N")
        #expect(errorDescription { _ = try DataSpec(parsing: "mnist") } == "mnist: mnist needs a path: mnist:PATH")
        #expect(errorDescription { _ = try DataSpec(parsing: "shapes:-3") }
                == "shapes:-3: shapes count must be a positive integer, got '-3'")
        let set = try DataSpec(parsing: "shapes:50").load(channels: 1, height: 16, width: 16)
        #expect(set.count == 50 && set.channels == 1 && set.width == 16)
    }

    @Test func splitsAreDeterministicAndDisjoint() throws {
        let spec = DataSpec.shapes(count: 100)
        let (train, val) = try spec.loadSplits(seed: 3)
        #expect(train.count == 90 && val.count == 10)
        #expect(try spec.load(split: .validation, seed: 3) == val)
        #expect(try spec.load(split: .train, seed: 3) == train)
        let (t, v) = ImageSet.splitIndices(count: 100, validationFraction: 0.1, seed: 3)
        #expect(Set(t).isDisjoint(with: v) && Set(t + v) == Set(0..<100))
        #expect(ImageSet.splitIndices(count: 100, validationFraction: 0.1, seed: 4).validation != v)
        #expect(SplitMix64.permutation(count: 50, seed: 9).sorted() == Array(0..<50))
    }
}
