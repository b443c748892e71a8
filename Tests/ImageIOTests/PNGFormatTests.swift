import CZlib
import Testing
import TestSupport
@testable import ImageIO

/// Builds a PNG by hand (IHDR, optional PLTE/tRNS, one IDAT, IEND) so that decoding of the
/// formats we never write (16-bit, alpha, palette) is checked against known bytes.
func handmadePNG(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]],
                 palette: [UInt8]? = nil, transparency: [UInt8]? = nil) -> [UInt8] {
    func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
        return be32(data.count) + body + be32(Int(crc))
    }
    var raw: [UInt8] = []
    for row in rows { raw.append(0); raw += row }  // filter type 0 (None)
    var compressedSize = compressBound(UInt(raw.count))
    var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
    _ = compress(&compressed, &compressedSize, raw, UInt(raw.count))
    var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    png += chunk("IHDR", be32(width) + be32(height) + [bitDepth, colorType, 0, 0, 0])
    if let palette { png += chunk("PLTE", palette) }
    if let transparency { png += chunk("tRNS", transparency) }
    png += chunk("IDAT", Array(compressed[0..<Int(compressedSize)]))
    png += chunk("IEND", [])
    return png
}

@Suite("PNG input formats")
struct PNGFormatTests {
    @Test func sixteenBitGray() throws {
        let png = handmadePNG(width: 3, height: 1, bitDepth: 16, colorType: 0,
                              rows: [[0x00, 0x00, 0xFF, 0xFF, 0x80, 0x80]])
        let image = try Image.decodePNG(png)
        #expect(image.channels == 1 && image.toInterleaved() == [0, 255, 128])
    }

    @Test func sixteenBitRGB() throws {
        let png = handmadePNG(width: 1, height: 1, bitDepth: 16, colorType: 2,
                              rows: [[0xFF, 0xFF, 0x40, 0x40, 0x00, 0x00]])
        #expect(try Image.decodePNG(png).toInterleaved() == [255, 64, 0])
    }

    @Test func grayAlphaAndRGBAComposeOnBlack() throws {
        let ga = handmadePNG(width: 2, height: 1, bitDepth: 8, colorType: 4, rows: [[200, 255, 200, 0]])
        let g = try Image.decodePNG(ga)
        #expect(g.channels == 1 && g.toInterleaved() == [200, 0])
        let rgba = handmadePNG(width: 2, height: 1, bitDepth: 8, colorType: 6,
                               rows: [[10, 20, 30, 255, 90, 90, 90, 0]])
        let c = try Image.decodePNG(rgba)
        #expect(c.channels == 3 && c.toInterleaved() == [10, 20, 30, 0, 0, 0])
    }

    @Test func paletteAndLowBitDepth() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 0, 255, 7, 7, 7]
        let png = handmadePNG(width: 3, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 1, 2]], palette: palette)
        let image = try Image.decodePNG(png)
        #expect(image.channels == 3 && image.toInterleaved() == [255, 0, 0, 0, 0, 255, 7, 7, 7])
        // 1-bit gray: 0b10100000 -> 255, 0, 255.
        let bits = handmadePNG(width: 3, height: 1, bitDepth: 1, colorType: 0, rows: [[0b1010_0000]])
        #expect(try Image.decodePNG(bits).toInterleaved() == [255, 0, 255])
    }
}
