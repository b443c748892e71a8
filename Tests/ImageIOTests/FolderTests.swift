import Testing
import TestSupport
@testable import ImageIO

@Suite("Image folders")
struct FolderTests {
    @Test func nestedFolderSortedAndConverted() throws {
        let dir = TemporaryDirectory()
        _ = dir.mkdir("b/deeper")
        _ = dir.mkdir("a")
        let red = Image(width: 8, height: 4, channels: 3, pixels: [Float](repeating: 1, count: 32)
                        + [Float](repeating: 0, count: 64))
        let gray = Image(width: 6, height: 6, channels: 1, fill: 0.6)
        try red.writePNG(to: dir.file("b/deeper/z.png"))
        try gray.writeJPEG(to: dir.file("a/y.jpg"), quality: 100)
        try patternImage(width: 5, height: 5, channels: 3).writePNG(to: dir.file("b/x.PNG"))
        dir.write(Array("notes".utf8), to: "a/readme.txt")      // skipped: not an image extension

        let set = try ImageSet.loadFolder(dir.path, channels: 3, height: 4, width: 4)
        #expect(set.count == 3 && set.channels == 3 && set.height == 4 && set.width == 4)
        #expect(set.labels == [0, 1, 1])                          // class folders a, b
        // Sorted: a/y.jpg, b/deeper/z.png, b/x.PNG.
        let first = set.image(at: 0)
        #expect(first.pixels.allSatisfy { abs($0 - 0.6) < 0.02 })
        let second = set.image(at: 1)
        #expect(second[0, 1, 1] == 1 && second[1, 1, 1] == 0)

        let gray1 = try ImageSet.loadFolder(dir.path, channels: 1, height: 2, width: 2)
        #expect(gray1.channels == 1 && abs(gray1.image(at: 1).pixels[0] - 0.299) < 1e-5)
    }

    @Test func emptyFolderAndBrokenImageErrors() throws {
        let dir = TemporaryDirectory()
        let empty = dir.mkdir("empty")
        #expect(errorDescription { _ = try ImageSet.loadFolder(empty) } == "\(empty): no PNG or JPEG images found")
        let bad = dir.mkdir("bad")
        try patternImage(width: 4, height: 4, channels: 3).writePNG(to: bad + "/a.png")
        dir.write(Array("not an image".utf8), to: "bad/b.jpg")
        #expect(errorDescription { _ = try ImageSet.loadFolder(bad) } == "\(bad)/b.jpg: not a PNG or JPEG image")
        #expect(errorDescription { _ = try ImageSet.loadFolder(dir.file("none")) } == "\(dir.file("none")): folder not found")
    }

    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.skipReason)))
    func tinyImageNetFolder() throws {
        let set = try DataSpec(parsing: "folder:" + SharedData.path("tiny-imagenet-val/images")).load(channels: 3, height: 32, width: 32)
        #expect(set.count == 8000 && set.channels == 3 && set.height == 32)
        #expect(set.meanPixel > 0.2 && set.meanPixel < 0.7)
    }
}
