import Testing
@testable import ImageIO

@Suite("Shapes, data specs, splits and the batch loader")
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
        let whole = ImageSet.shapes(count: 30, seed: 1)
        #expect(whole.shuffled(seed: 5) == whole.shuffled(seed: 5))
        #expect(whole.shuffled(seed: 5) != whole.shuffled(seed: 6))
        #expect(SplitMix64.permutation(count: 50, seed: 9).sorted() == Array(0..<50))
    }

    @Test func batchLoaderServesEveryIndexOncePerEpoch() {
        let set = ImageSet.shapes(count: 103, height: 8, width: 8, seed: 4)
        let loader = BatchLoader(dataset: set, batchSize: 10, seed: 11)
        #expect(loader.batchesPerEpoch == 11)
        var orders: [[Int]] = []
        for epoch in 0..<3 {
            loader.startEpoch(epoch)
            var seen: [Int] = []
            while let batch = loader.next() {
                seen += batch.indices
                let copied = Array(UnsafeBufferPointer(start: batch.data, count: batch.count * set.imageSize))
                #expect(copied == set.subset(batch.indices).pixels)
                #expect(batch.labels == batch.indices.map { set.labels![$0] })
            }
            #expect(seen.sorted() == Array(0..<103))
            orders.append(seen)
        }
        #expect(orders[0] != orders[1])
        loader.startEpoch(1)
        var again: [Int] = []
        while let batch = loader.next() { again += batch.indices }
        #expect(again == orders[1])

        let dropping = BatchLoader(dataset: set, batchSize: 10, shuffle: false, dropLast: true)
        var count = 0
        while let batch = dropping.next() { #expect(batch.count == 10); count += 1 }
        #expect(count == 10)
    }
}
