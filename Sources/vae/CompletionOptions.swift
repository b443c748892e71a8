import ArgumentParser
import Foundation
import ImageIO
import VAE

/// The image files a FILE|DIR argument names: the file itself, or the PNG/JPEG files directly
/// inside the directory, sorted by name.
func imageFiles(_ path: String) throws -> [String] {
    guard FileIO.isDirectory(path) else {
        guard FileIO.exists(path) else { throw VAEError("\(path): no such file or directory") }
        return [path]
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { name in
        !name.hasPrefix(".") && ImageSet.imageExtensions.contains((name as NSString).pathExtension.lowercased())
    }.sorted()
    guard !names.isEmpty else { throw VAEError("\(path): no PNG or JPEG images in the directory") }
    return names.map { (path as NSString).appendingPathComponent($0) }
}

/// Where sample k (0-based) of an input goes: OUT/NAME.png (first) and OUT/NAME_s2.png ... for a
/// directory run; OUT and OUT-stem_s2.ext ... for a single file.
func outputPaths(inputs: [String], out: String, directoryRun: Bool, samples: Int) -> [[String]] {
    inputs.map { input in
        let base: String
        let ext: String
        if directoryRun {
            let stem = ((input as NSString).lastPathComponent as NSString).deletingPathExtension
            base = (out as NSString).appendingPathComponent(stem)
            ext = "png"
        } else {
            base = (out as NSString).deletingPathExtension
            ext = (out as NSString).pathExtension.isEmpty ? "png" : (out as NSString).pathExtension
        }
        return (0..<samples).map { k in k == 0 ? (directoryRun ? base + ".png" : out) : "\(base)_s\(k + 1).\(ext)" }
    }
}

/// Checks an output name before any work: a known image extension, and a directory to write into.
func checkOutput(_ out: String, directoryRun: Bool) throws {
    if directoryRun {
        if FileIO.exists(out), !FileIO.isDirectory(out) { throw VAEError("\(out): exists and is not a directory") }
        return
    }
    let ext = (out as NSString).pathExtension.lowercased()
    guard ["png", "jpg", "jpeg"].contains(ext) else {
        throw VAEError("\(out): the output needs a .png, .jpg or .jpeg name (or give a directory input)")
    }
    let dir = (out as NSString).deletingLastPathComponent
    if !dir.isEmpty, !FileIO.isDirectory(dir) { throw VAEError("\(dir): no such directory for the output") }
}

/// Writes every output only after all of them have been computed, so a failure writes nothing.
func writeAll(_ images: [[Image]], to paths: [[String]], directory: String?) throws {
    if let directory { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
    for (set, names) in zip(images, paths) {
        for (image, path) in zip(set, names) { try image.write(to: path) }
    }
}

/// One line per finished picture when there are several or they are larger than a model's
/// window, so a long run shows where it is.
func progress(_ index: Int, of count: Int, _ path: String, _ image: Image, seconds: Double) {
    guard count > 1 || image.width * image.height > 128 * 128 else { return }
    log(String(format: "picture %d/%d %@: %dx%d in %.2f s", index + 1, count, (path as NSString).lastPathComponent,
               image.width, image.height, seconds))
}
