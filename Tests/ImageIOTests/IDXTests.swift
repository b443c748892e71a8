import Testing
import TestSupport
@testable import ImageIO

@Suite("IDX and MNIST")
struct IDXTests {
    func smallSet() -> ImageSet {
        let bytes = (0..<(3 * 4 * 5)).map { UInt8(($0 * 53) % 256) }
        return ImageSet(count: 3, channels: 1, height: 4, width: 5, pixels: bytes.map { Float($0) / 255 })
    }

    @Test(arguments: ["images.idx", "images.idx.gz"])
    func roundTrip(name: String) throws {
        let dir = TemporaryDirectory()
        let set = smallSet()
        try IDX.writeImages(set, to: dir.file(name))
        try IDX.writeLabels([7, 0, 9], to: dir.file("labels-" + name))
        let back = try IDX.readImages(dir.file(name))
        #expect(back == set)
        #expect(try IDX.readLabels(dir.file("labels-" + name)) == [7, 0, 9])
    }

    @Test func gzippedFileIsReallyCompressed() throws {
        let dir = TemporaryDirectory()
        try IDX.writeImages(smallSet(), to: dir.file("a.gz"))
        let raw = try FileIO.readBytes(dir.file("a.gz"))
        #expect(raw[0] == 0x1f && raw[1] == 0x8b)
    }

    @Test func truncatedAndWrongMagic() throws {
        let dir = TemporaryDirectory()
        try IDX.writeImages(smallSet(), to: dir.file("full.idx"))
        let bytes = try FileIO.readBytes(dir.file("full.idx"))
        dir.write(Array(bytes.prefix(30)), to: "short.idx")
        #expect(errorDescription { _ = try IDX.readImages(dir.file("short.idx")) }
                == "\(dir.file("short.idx")): truncated IDX file: expected 76 bytes, got 30")
        #expect(errorDescription { _ = try IDX.readLabels(dir.file("full.idx")) }
                == "\(dir.file("full.idx")): wrong IDX magic 0x00000803, expected 0x00000801 (labels)")
        try IDX.writeImages(smallSet(), to: dir.file("full.gz"))
        let gz = try FileIO.readBytes(dir.file("full.gz"))
        dir.write(Array(gz.prefix(gz.count / 2)), to: "cut.gz")
        #expect(throws: ImageIOError.self) { _ = try IDX.readImages(dir.file("cut.gz")) }
        #expect(errorDescription { _ = try IDX.readImages(dir.file("nope.gz")) }
                == "\(dir.file("nope.gz")): cannot open: No such file or directory")
    }

    @Test func mnistDirectoryLayout() throws {
        let dir = TemporaryDirectory()
        try IDX.writeImages(smallSet(), to: dir.file("train-images-idx3-ubyte"))
        try IDX.writeLabels([1, 2, 3], to: dir.file("train-labels-idx1-ubyte.gz"))
        let train = try ImageSet.loadMNIST(directory: dir.path, split: .train)
        #expect(train.count == 3 && train.labels == [1, 2, 3])
        #expect(errorDescription { _ = try ImageSet.loadMNIST(directory: dir.path, split: .test) }
                == "\(dir.path): no t10k-images-idx3-ubyte or t10k-images-idx3-ubyte.gz found")
    }

    @Test("the data's geometry comes from the IDX header alone, raw or gzip")
    func geometryFromHeader() throws {
        let dir = TemporaryDirectory()
        let set = ImageSet(count: 2, channels: 1, height: 5, width: 7, pixels: (0..<70).map { Float($0 % 256) / 255 })
        try IDX.writeImages(set, to: dir.file("train-images-idx3-ubyte.gz"))
        #expect(try IDX.readHeader(dir.file("train-images-idx3-ubyte.gz"), magic: IDX.imagesMagic) == [2, 5, 7])
        let g = try DataSpec.mnist(directory: dir.path).defaultGeometry()
        #expect(g.channels == 1 && g.height == 5 && g.width == 7)
        // A header of the wrong kind, or cut short, names the file.
        #expect(errorDescription { _ = try IDX.readHeader(dir.file("train-images-idx3-ubyte.gz"), magic: IDX.labelsMagic) }?
                    .contains("wrong IDX magic") == true)
        dir.write([0, 0, 8, 3, 0, 0], to: "short")
        #expect(errorDescription { _ = try IDX.readHeader(dir.file("short"), magic: IDX.imagesMagic) }?
                    .contains("truncated") == true)
        #expect(try DataSpec.shapes(count: 5).defaultGeometry() == (3, 32, 32))
        #expect(throws: ImageIOError.self) { try DataSpec.folder(directory: dir.file("none")).defaultGeometry() }
    }

    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.skipReason)))
    func realMNIST() throws {
        let train = try DataSpec(parsing: "mnist:" + SharedData.path("mnist")).load()
        #expect(train.count == 60_000 && train.channels == 1 && train.height == 28 && train.width == 28)
        #expect(abs(train.meanPixel - 0.1307) < 0.001)
        #expect(train.labels?.prefix(5) == [5, 0, 4, 1, 9])
        let g = try DataSpec.mnist(directory: SharedData.path("mnist")).defaultGeometry()
        #expect(g.channels == 1 && g.height == 28 && g.width == 28)
        let test = try ImageSet.loadMNIST(directory: SharedData.path("mnist"), split: .test)
        #expect(test.count == 10_000 && test.labels?.first == 7)
    }
}

@Suite("CIFAR-10 binary")
struct CIFARTests {
    @Test func twoSyntheticRecords() throws {
        let dir = TemporaryDirectory()
        var bytes: [UInt8] = []
        for r in 0..<2 {
            bytes.append(UInt8(3 + r))
            for k in 0..<3072 { bytes.append(UInt8((k * 7 + r * 100) % 256)) }
        }
        dir.write(bytes, to: "two.bin")
        let set = try ImageSet.loadCIFAR10(dir.file("two.bin"))
        #expect(set.count == 2 && set.channels == 3 && set.height == 32 && set.width == 32)
        #expect(set.labels == [3, 4])
        // Planes: record 1, green channel (plane 1), row 2, column 5.
        let k = 1024 + 2 * 32 + 5
        #expect(set.image(at: 1)[1, 2, 5] == Float((k * 7 + 100) % 256) / 255)
        #expect(set.pixels == bytes.enumerated().filter { $0.offset % 3073 != 0 }.map { Float($0.element) / 255 })
        // A directory of .bin files loads them in sorted order.
        let sub = dir.mkdir("batches")
        dir.write(Array(bytes[3073...]), to: "batches/b.bin")
        dir.write(Array(bytes[..<3073]), to: "batches/a.bin")
        #expect(try ImageSet.loadCIFAR10(sub) == set)
    }

    @Test func badSizeErrors() throws {
        let dir = TemporaryDirectory()
        dir.write([UInt8](repeating: 0, count: 12345), to: "bad.bin")
        #expect(errorDescription { _ = try ImageSet.loadCIFAR10(dir.file("bad.bin")) }
                == "\(dir.file("bad.bin")): size 12345 is not a multiple of the CIFAR-10 record size 3073")
    }

    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.skipReason)))
    func realSubset() throws {
        let set = try DataSpec(parsing: "cifar10:" + SharedData.path("cifar10-subset")).load()
        #expect(set.count == 4000 && set.channels == 3 && set.height == 32)
        #expect(set.labels?.allSatisfy { (0..<10).contains($0) } == true)
        #expect(set.meanPixel > 0.3 && set.meanPixel < 0.6)
    }
}
