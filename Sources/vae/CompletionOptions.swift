import ArgumentParser
import Foundation
import ImageIO
import VAE

/// The latent temperature of conditional completions (`vae inpaint`, `vae colorize`, `vae evaluate --task`).
struct TemperatureOption: ParsableArguments {
    @Option(help: "Scale of the latent noise of a conditional model's completions: 1 samples them, below 1 stays nearer the most likely one (0: its mean) (default: the run's; 1 unless its training recipe chose another).")
    var temperature: Float?

    func validate() throws {
        guard let temperature else { return }
        guard temperature.isFinite, (0...10).contains(temperature) else { throw ValidationError("--temperature must be in 0...10") }
    }
}

/// How vivid a colorization model's colors are (`vae colorize`, `vae evaluate --task colorize`).
struct RebalancingOption: ParsableArguments {
    @Option(help: "Colorization with color bins: how much of the training's rarity rebalancing the colors keep, from 0 (faithful, muted: the best PSNR) to 1 (vivid) (default: the run's; 0.5 for new runs).")
    var rebalancing: Float?

    func validate() throws {
        if let r = rebalancing, !(r >= 0 && r <= 1) { throw ValidationError("--rebalancing must be in 0...1") }
    }
}

/// The image files a FILE|DIR argument names: the file itself, or the PNG/JPEG files directly
/// inside the directory (regular files only), sorted by name.
func imageFiles(_ path: String) throws -> [String] {
    guard FileIO.isDirectory(path) else {
        guard FileIO.exists(path) else { throw VAEError("\(path): no such file or directory") }
        return [path]
    }
    let files = try FileIO.files(in: path, recursive: false).filter { ImageSet.imageExtensions.contains($0.pathExtension) }
    guard !files.isEmpty else { throw VAEError("\(path): no PNG or JPEG images in the directory") }
    // Outputs are named after the inputs, so their names must be text.
    if let odd = files.first(where: { !$0.isUTF8 }) {
        throw VAEError("\(odd): the file name is not valid UTF-8, so no output can be named after it; rename it")
    }
    return files.map(\.description)
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

/// Checks an output name before any work: a known image extension and a directory to write
/// into (or, for a directory run, a path that is not a file), and nothing it would destroy.
func checkOutput(_ out: String, directoryRun: Bool) throws {
    if directoryRun {
        if FileIO.exists(out), !FileIO.isDirectory(out) { throw VAEError("\(out): exists and is not a directory") }
        return
    }
    try checkImageOutput(out)
}

/// Checks a file an image will be written to: a .png, .jpg or .jpeg name (the format written
/// follows it), an existing directory to hold it, and no existing file that is not an image
/// (a checkpoint, a device, a directory), which writing would destroy.
func checkImageOutput(_ out: String) throws {
    guard Image.FileFormat(path: out) != nil else {
        throw VAEError("\(out): the output needs a .png, .jpg or .jpeg name")
    }
    let dir = FileIO.parentDirectory(out)
    if !dir.isEmpty, !FileIO.isDirectory(dir) { throw VAEError("\(dir): no such directory for the output") }
    try checkReplaceable(out)
}

/// Refuses to replace an existing path unless it is a regular file that is empty or holds a
/// PNG or JPEG image (an earlier output).
func checkReplaceable(_ path: String) throws {
    guard FileIO.exists(path) else { return }
    if FileIO.isDirectory(path) { throw VAEError("\(path): is a directory, not an image file") }
    let head: [UInt8]
    do { head = try FileIO.readPrefix(path, count: 8) } catch {
        throw VAEError("\(path): exists and is not a regular file; not replaced")
    }
    guard head.isEmpty || Image.isPNG(head) || Image.isJPEG(head) else {
        throw VAEError("\(path): exists and is not a PNG or JPEG image; not replaced (remove it or choose another output)")
    }
}

/// Checks that `samples` completions of every input fit in memory before any is computed.
func checkResultMemory(_ images: [Image], samples: Int) throws {
    let values = images.reduce(0) { $0 + $1.pixels.count }
    do { try MemoryLimit.check(values, samples + 2, 4, what: "\(samples) sample(s) of \(images.count) image(s)", path: "--samples") } catch {
        throw VAEError("\(error)")
    }
}

/// Checks that generated images hold finite values before they are written.
func checkFinite(_ images: [Image]) throws {
    guard images.allSatisfy({ $0.pixels.allSatisfy(\.isFinite) }) else {
        throw VAEError("the model produced NaN or infinite pixel values; nothing was written")
    }
}

/// Writes every output only after all of them have been computed and checked, so a failure
/// writes nothing.
func writeAll(_ images: [[Image]], to paths: [[String]], directory: String?) throws {
    try checkFinite(images.flatMap { $0 })
    if let directory { do { try FileIO.makeDirectory(directory) } catch { throw VAEError("\(error)") } }
    for path in paths.joined() { try checkReplaceable(path) }
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
