import Foundation
import Testing
import TestSupport
@testable import ImageIO

@Suite("PNG and JPEG")
struct CodecTests {
    @Test(arguments: [1, 3])
    func pngRoundTripIsExact(channels: Int) throws {
        let dir = TemporaryDirectory()
        let image = patternImage(width: 13, height: 7, channels: channels)
        try image.writePNG(to: dir.file("x.png"))
        let back = try Image.load(dir.file("x.png"))
        #expect(back == image)
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.png"])
    }

    @Test("the header gives the size without decoding: PNG, JPEG with segments before its frame, and neither")
    func headerSize() throws {
        let dir = TemporaryDirectory()
        for (w, h, channels) in [(13, 7, 1), (300, 129, 3), (70000 % 997, 2, 3)] {
            let image = patternImage(width: w, height: h, channels: channels)
            try image.writePNG(to: dir.file("x.png"))
            try image.writeJPEG(to: dir.file("x.jpg"))
            for name in ["x.png", "x.jpg"] {
                let size = try Image.headerSize(of: RawPath(dir.file(name)))
                let decoded = try Image.load(dir.file(name))
                #expect(size.width == decoded.width && size.height == decoded.height && size.width == w && size.height == h, "\(name)")
            }
        }
        // An APP segment (EXIF-like, 300 bytes) and fill bytes before the frame header are skipped.
        let jpeg = try FileIO.readBytes(dir.file("x.jpg"))
        let app1: [UInt8] = [0xFF, 0xE1, 0x01, 0x2E] + [UInt8](repeating: 7, count: 300) + [0xFF, 0xFF]
        #expect(Image.headerSize(Array(jpeg[0..<2]) + app1 + Array(jpeg[2...]))! == (70000 % 997, 2))
        #expect(Image.headerSize([UInt8](repeating: 0, count: 40)) == nil)
        #expect(Image.headerSize(Array(jpeg[0..<12])) == nil)
        #expect(throws: ImageIOError.self) { try Image.headerSize(of: RawPath(dir.file("none.png"))) }
    }

    @Test func garbageIsNotAnImage() throws {
        let dir = TemporaryDirectory()
        dir.write(Array("hello".utf8), to: "x.png")
        #expect(errorDescription { _ = try Image.load(dir.file("x.png")) }
                == "\(dir.file("x.png")): not a PNG or JPEG image")
        // A truncated PNG fails with libpng's message instead of crashing.
        let png = try patternImage(width: 16, height: 16, channels: 3).encodePNG()
        let message = errorDescription { _ = try Image.decodePNG(Array(png.prefix(60)), path: "t.png") }
        #expect(message?.hasPrefix("t.png: invalid PNG") == true)
    }

    @Test func failedWriteKeepsExistingFile() throws {
        let dir = TemporaryDirectory()
        let good = patternImage(width: 4, height: 4, channels: 1)
        try good.writePNG(to: dir.file("g.png"))
        #expect(throws: ImageIOError.self) { try good.write(to: dir.file("g.bmp")) }
        #expect(throws: ImageIOError.self) { try good.writePNG(to: dir.file("missing/dir/g.png")) }
        #expect(try Image.load(dir.file("g.png")) == good)
    }

    @Test(arguments: [1, 3])
    func jpegEncodeDecode(channels: Int) throws {
        let dir = TemporaryDirectory()
        // A smooth image compresses with small error.
        var image = Image(width: 24, height: 16, channels: channels)
        for c in 0..<channels { for y in 0..<16 { for x in 0..<24 {
            image[c, y, x] = Float(x + y + 4 * c) / 50
        } } }
        try image.write(to: dir.file("s.jpg"))
        let back = try Image.load(dir.file("s.jpg"))
        #expect(back.width == 24 && back.height == 16 && back.channels == channels)
        let maxError = zip(back.pixels, image.pixels).map { abs($0 - $1) }.max()!
        #expect(maxError < 0.05)
    }

    @Test func corruptJPEGThrows() throws {
        let jpeg = try patternImage(width: 16, height: 16, channels: 3).encodeJPEG()
        var broken = jpeg
        for i in 4..<min(40, broken.count) { broken[i] = 0x55 }
        let message = errorDescription { _ = try Image.decode(broken, path: "b.jpg") }
        #expect(message?.hasPrefix("b.jpg: invalid JPEG") == true, "\(message ?? "no error")")
        #expect(errorDescription { _ = try Image.decodeJPEG([0xFF, 0xD8, 0xFF], path: "c.jpg") }?
            .hasPrefix("c.jpg: invalid JPEG") == true)
    }

    @Test(.enabled(if: SharedData.available, Comment(rawValue: SharedData.skipReason)))
    func decodesTinyImageNetJPEGs() throws {
        let image = try Image.load(SharedData.path("tiny-imagenet-val/images/val_0.JPEG"))
        #expect(image.width == 64 && image.height == 64 && image.channels == 3)
        let mean = image.pixels.reduce(0, +) / Float(image.pixels.count)
        #expect(mean > 0.05 && mean < 0.95)
        // Some Tiny ImageNet files are grayscale JPEGs: find one among the first 300.
        var sawGray = false
        for i in 0..<300 {
            let img = try Image.load(SharedData.path("tiny-imagenet-val/images/val_\(i).JPEG"))
            #expect(img.width == 64 && img.height == 64)
            if img.channels == 1 { sawGray = true; break }
        }
        #expect(sawGray)
    }
}
