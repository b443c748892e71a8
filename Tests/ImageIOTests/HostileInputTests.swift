import Foundation
import Testing
import TestSupport
@testable import ImageIO

/// Files as a hostile user makes them: link loops, special files, names that are not UTF-8,
/// headers whose numbers claim more than the file holds. Every one ends in an error naming the
/// file (or is skipped), quickly and without a large allocation.
@Suite("Hostile files and folders", .timeLimit(.minutes(1)))
struct HostileInputTests {
    @Test("a folder walk ends in link loops, enters each directory once and skips special files")
    func linkLoopsAndSpecialFiles() throws {
        let tmp = TemporaryDirectory(), d = tmp.mkdir("d"), other = tmp.mkdir("other")
        try patternImage(width: 4, height: 4, channels: 3).writePNG(to: d + "/x.png")
        try patternImage(width: 4, height: 4, channels: 3, salt: 1).writePNG(to: other + "/y.png")
        #expect(symlink(".", d + "/a") == 0 && symlink(".", d + "/b") == 0)   // loops back to d
        #expect(symlink(other, d + "/o1") == 0 && symlink(other, d + "/o2") == 0)  // one folder, two routes
        #expect(mkfifo(d + "/pipe.png", 0o644) == 0)                            // would block an open
        #expect(symlink(d + "/missing.png", d + "/dangling.png") == 0)
        let files = try FileIO.filesRecursively(in: d).map(\.description)
        #expect(files == [d + "/o1/y.png", d + "/x.png"])
        let set = try ImageSet.loadFolder(d, channels: 3, height: 4, width: 4)
        #expect(set.count == 2)
        #expect(try FileIO.files(in: d, recursive: false).map(\.description) == [d + "/x.png"])
    }

    @Test("only regular files are read: a FIFO, a device or a directory is refused at once")
    func specialFilesAreNotRead() throws {
        let tmp = TemporaryDirectory()
        #expect(mkfifo(tmp.file("fifo"), 0o644) == 0)
        for path in [tmp.file("fifo"), "/dev/zero", tmp.path] {
            let message = errorDescription { _ = try FileIO.readBytes(path) }
            #expect(message?.hasPrefix(path + ": is ") == true, "\(message ?? "read \(path)")")
        }
        tmp.write([UInt8](repeating: 1, count: 100), to: "big")
        #expect(errorDescription { _ = try FileIO.readBytes(tmp.file("big"), limit: 99) }
                == "\(tmp.file("big")): is 100 bytes, more than the 99 this reader accepts")
        #expect(try FileIO.readBytes(tmp.file("big"), limit: 100).count == 100)
        // Nor is anything written over one.
        #expect(errorDescription { try FileIO.writeAtomically([1], to: tmp.file("fifo")) }?.contains("not a regular file") == true)
        #expect(errorDescription { try FileIO.writeAtomically([1], to: tmp.path) }?.contains("is a directory") == true)
    }

    @Test("a file name that is not UTF-8 is listed, opened and named with \\xNN escapes")
    func nonUTF8Names() throws {
        let tmp = TemporaryDirectory(), d = tmp.mkdir("d")
        let png = try patternImage(width: 5, height: 3, channels: 1).encodePNG()
        let name: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".png".utf8)
        let raw = RawPath(d).appending(name)
        let fd = raw.withCString { open($0, O_WRONLY | O_CREAT, 0o644) }
        #expect(fd >= 0)
        #expect(png.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == png.count)
        close(fd)
        let files = try FileIO.filesRecursively(in: d)
        #expect(files == [raw] && !raw.isUTF8 && raw.pathExtension == "png")
        #expect(raw.description == d + "/caf\\xE9.png")
        #expect(try Image.load(files[0]).width == 5)
        #expect(try ImageSet.loadFolder(d, channels: 1).count == 1)
        #expect(RawPath(bytes: [0x61, 0xC3, 0xA9, 0xFF, 0xC3]).description == "aé\\xFF\\xC3")
    }

    @Test("directories: one-line errors, paths of one character")
    func directories() throws {
        let tmp = TemporaryDirectory()
        tmp.write([1], to: "file")
        #expect(errorDescription { try FileIO.makeDirectory(tmp.file("file")) }
                == "\(tmp.file("file")): cannot create directory: exists and is not a directory")
        try FileIO.makeDirectory(tmp.file("a/b/c"))
        #expect(FileIO.isDirectory(tmp.file("a/b/c")))
        #expect(FileIO.parentDirectory("r") == "" && FileIO.parentDirectory("r/") == "" && FileIO.parentDirectory("/r") == "/")
        #expect(FileIO.parentDirectory("a/b.png") == "a" && FileIO.parentDirectory("a//b/") == "a" && FileIO.parentDirectory("/") == "/")
    }

    @Test("temporary files of dead processes are removed, those of live ones kept")
    func staleTemporaries() throws {
        let tmp = TemporaryDirectory()
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead += 1 }
        tmp.write([1], to: "model.safetensors.tmp-\(dead)-1a2b")
        tmp.write([1], to: "state.json.tmp-1-ff")          // process 1 lives
        tmp.write([1], to: "notes.tmp-x-1")                // not one of ours
        #expect(FileIO.removeStaleTemporaries(in: tmp.path) == ["model.safetensors.tmp-\(dead)-1a2b"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).sorted() == ["notes.tmp-x-1", "state.json.tmp-1-ff"])
    }

    /// A PNG's chunk with its CRC (CRC-32, bit by bit).
    func chunk(_ kind: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(kind.utf8) + data
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in body {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return be32(UInt32(data.count)) + body + be32(~crc)
    }

    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

    @Test("a PNG header claiming more pixels than allowed, or than its data can hold, is refused before decoding")
    func pngClaims() throws {
        func png(width: UInt32, height: UInt32) -> [UInt8] {
            let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]
            return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr)
                + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
        }
        let huge = errorDescription { _ = try Image.decodePNG(png(width: 100_000, height: 100_000), path: "h.png") }
        #expect(huge == "h.png: PNG of 100000x100000 pixels is larger than the \(Image.maxPixels) pixels accepted")
        let tooMuch = errorDescription { _ = try Image.decodePNG(png(width: 6000, height: 6000), path: "t.png") }
        #expect(tooMuch?.contains("cannot fit in") == true, "\(tooMuch ?? "decoded")")
    }

    @Test("a JPEG that ends early, or claims more pixels than allowed, is refused")
    func jpegClaims() throws {
        let jpeg = try patternImage(width: 48, height: 40, channels: 3).encodeJPEG()
        let cut = errorDescription { _ = try Image.decodeJPEG(Array(jpeg.prefix(jpeg.count * 2 / 3)), path: "c.jpg") }
        #expect(cut == "c.jpg: invalid JPEG: the file ends before its image data (truncated)")
        // The frame header (SOF0: FF C0, length, precision, height, width) claims 60000x60000.
        var big = jpeg
        let sof = (0..<(big.count - 1)).first { big[$0] == 0xFF && big[$0 + 1] == 0xC0 }!
        big[sof + 5] = 0xEA; big[sof + 6] = 0x60; big[sof + 7] = 0xEA; big[sof + 8] = 0x60
        let message = errorDescription { _ = try Image.decodeJPEG(big, path: "b.jpg") }
        #expect(message == "b.jpg: invalid JPEG: 60000x60000 pixels, more than the \(Image.maxPixels) accepted")
    }

    @Test("IDX headers: sizes that overflow or exceed memory, gzip data longer or shorter than declared")
    func idxClaims() throws {
        func header(_ n: UInt32, _ rows: UInt32, _ cols: UInt32) -> [UInt8] { be32(0x803) + be32(n) + be32(rows) + be32(cols) }
        let overflow = errorDescription { _ = try IDX.decodeImages(header(.max, .max, .max), path: "o") }
        #expect(overflow?.hasPrefix("o: an IDX header declaring 4294967295x4294967295x4294967295 values would need more than") == true,
                "\(overflow ?? "decoded")")
        let tmp = TemporaryDirectory()
        func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
            tmp.write(bytes, to: "raw")
            try IDX.write(bytes, to: tmp.file("x.gz"))
            return try FileIO.readBytes(tmp.file("x.gz"))
        }
        let huge = errorDescription { _ = try IDX.decodeImages(try gzip(header(1 << 31, 1000, 1000)), path: "h.gz") }
        #expect(huge?.contains("more than the") == true, "\(huge ?? "decoded")")
        let short = errorDescription { _ = try IDX.decodeImages(try gzip(header(10, 28, 28) + [UInt8](repeating: 0, count: 100)), path: "s.gz") }
        #expect(short == "s.gz: truncated IDX file: expected 7856 bytes, got 116")
        // A bomb: a few hundred bytes that inflate to megabytes, under a header declaring one image.
        let bomb = errorDescription { _ = try IDX.decodeImages(try gzip(header(1, 2, 2) + [UInt8](repeating: 0, count: 1 << 22)), path: "b.gz") }
        #expect(bomb == "b.gz: gzip data holds more than the 20 bytes its IDX header declares")
        let cut = try gzip(header(1, 2, 2) + [1, 2, 3, 4])
        #expect(errorDescription { _ = try IDX.decodeImages(Array(cut.dropLast(9)), path: "c.gz") } == "c.gz: truncated gzip data")
    }

    @Test("CIFAR-10's official test file is the test split and never training data")
    func cifarTestSplit() throws {
        let tmp = TemporaryDirectory(), dir = tmp.mkdir("cifar-10-batches-bin")
        func records(_ labels: [UInt8]) -> [UInt8] { labels.flatMap { [$0] + [UInt8](repeating: $0 * 20, count: 3072) } }
        tmp.write(records([1, 2, 3]), to: "cifar-10-batches-bin/data_batch_1.bin")
        tmp.write(records([4, 5]), to: "cifar-10-batches-bin/data_batch_2.bin")
        tmp.write(records([9]), to: "cifar-10-batches-bin/test_batch.bin")
        tmp.write(Array("labels".utf8), to: "cifar-10-batches-bin/batches.meta.txt")
        let spec = DataSpec.cifar10(path: tmp.path)
        #expect(try spec.load(split: .all).labels == [1, 2, 3, 4, 5])
        let (train, validation) = try spec.loadSplits(seed: 1)
        #expect(Set(train.labels! + validation.labels!) == [1, 2, 3, 4, 5])
        #expect(try spec.load(split: .test).labels == [9])
        // A single file is all data; its test split is the held-out part.
        let file = DataSpec.cifar10(path: dir + "/data_batch_1.bin")
        #expect(try file.load(split: .test, seed: 1).count == 1)
        let onlyTest = tmp.mkdir("only")
        tmp.write(records([9]), to: "only/test_batch.bin")
        #expect(errorDescription { _ = try DataSpec.cifar10(path: onlyTest).load() }?.contains("no training files") == true)
    }

    @Test("data sets larger than the memory limit are refused before they are made")
    func dataSetLimits() throws {
        let message = errorDescription { _ = try DataSpec.shapes(count: 1 << 40).load() }
        #expect(message?.hasPrefix("shapes:1099511627776: 1099511627776 shapes of 3x32x32 would need") == true, "\(message ?? "")")
    }
}
