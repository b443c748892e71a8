import Foundation
import Testing
@testable import ImageIO

/// A deterministic image whose values are exact multiples of 1/255.
func patternImage(width: Int, height: Int, channels: Int, salt: Int = 0) -> Image {
    var bytes = [UInt8](repeating: 0, count: width * height * channels)
    for i in bytes.indices { bytes[i] = UInt8((i * 37 + salt * 11 + (i / 7) * 5) % 256) }
    return Image(interleaved: bytes, width: width, height: height, channels: channels)
}

func errorDescription(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}
