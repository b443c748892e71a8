import Foundation
import ImageIO
import VAE
import Testing
import TestSupport

/// Trains the tiny conditional runs the tests below share (once per test process).
enum ConditionalRuns {
    /// Removed when the test process exits.
    static let scratch: TemporaryDirectory = {
        atexit { try? FileManager.default.removeItem(atPath: ConditionalRuns.scratch.path) }
        return TemporaryDirectory("convvae-cli")
    }()
    static let root = scratch.path
    static let inpaint: String = train("inpaint")
    static let colorize: String = train("colorize")

    static func train(_ task: String) -> String {
        let run = root + "/" + task
        let r = try? Tool.run(["train", "--task", task, "--data", "shapes:64", "--epochs", "1", "--batch", "32",
                               "--widths", "8,16", "--latent", "4", "--out", run])
        precondition(r?.status == 0, "training a tiny \(task) model failed: \(r?.stderr ?? "")")
        return run
    }
}

@Suite("vae inpaint, colorize and evaluate --task", .serialized)
struct ConditionalCLITests {
    func picture(_ width: Int, _ height: Int, gray: Bool = false) -> Image {
        var rng = SplitMix64(seed: UInt64(width * height))
        let image = Image(width: width, height: height, channels: 3,
                          pixels: (0..<(3 * width * height)).map { _ in rng.nextFloat() })
        return gray ? image.toGray() : image
    }

    @Test("inpaint and colorize write every sample; observed pixels and luminance are kept")
    func commandsWork() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.path
        try picture(70, 45).writePNG(to: dir + "/in.png")
        let r = try Tool.run(["inpaint", "--checkpoint", ConditionalRuns.inpaint, "--input", dir + "/in.png", "--mask-kind", "strokes",
                              "--samples", "2", "--out", dir + "/out.png", "--save-mask"])
        #expect(r.status == 0, "\(r.stderr)")
        let input = try Image.load(dir + "/in.png"), out = try Image.load(dir + "/out.png")
        let mask = try Mask.load(dir + "/out_mask.png", width: 70, height: 45)
        #expect(FileManager.default.fileExists(atPath: dir + "/out_s2.png"))
        #expect(mask.hasMissing)
        for c in 0..<3 { for p in 0..<(70 * 45) where !(mask.values[p] > 0.5) { #expect(out.pixels[c * 3150 + p] == input.pixels[c * 3150 + p]) } }

        // A directory of inputs with a directory of masks matched by name.
        try FileManager.default.createDirectory(atPath: dir + "/ins", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/masks", withIntermediateDirectories: true)
        try picture(40, 40).writePNG(to: dir + "/ins/a.png")
        try picture(20, 30).writePNG(to: dir + "/ins/b.png")
        try Mask(width: 40, height: 40, values: (0..<1600).map { $0 % 7 == 0 ? 1 : 0 }).image.writePNG(to: dir + "/masks/a.png")
        try Mask(width: 20, height: 30, values: (0..<600).map { $0 < 100 ? 1 : 0 }).image.writePNG(to: dir + "/masks/b.png")
        let d = try Tool.run(["inpaint", "--checkpoint", ConditionalRuns.inpaint, "--input", dir + "/ins", "--mask", dir + "/masks",
                              "--samples", "2", "--out", dir + "/outs"])
        #expect(d.status == 0, "\(d.stderr)")
        for name in ["a.png", "a_s2.png", "b.png", "b_s2.png"] { #expect(FileManager.default.fileExists(atPath: dir + "/outs/" + name)) }

        try picture(90, 50, gray: true).writePNG(to: dir + "/gray.png")
        let c = try Tool.run(["colorize", "--checkpoint", ConditionalRuns.colorize, "--input", dir + "/gray.png", "--samples", "2",
                              "--out", dir + "/color.png"])
        #expect(c.status == 0, "\(c.stderr)")
        let gray = try Image.load(dir + "/gray.png"), color = try Image.load(dir + "/color.png")
        #expect(color.channels == 3 && FileManager.default.fileExists(atPath: dir + "/color_s2.png"))
        let luma = color.toYCbCr()
        let worst = (0..<gray.planeSize).map { abs(luma.pixels[$0] - gray.pixels[$0]) }.max()!
        #expect(worst <= 1.0 / 255, "luminance moved by \(worst)")   // 8-bit rounding of R, G and B only
    }

    @Test("--rebalancing overrides the run's read-out of color bins; out of range or without color bins: refused")
    func rebalancing() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.path
        try picture(40, 24, gray: true).writePNG(to: dir + "/gray.png")
        func colorize(_ run: String, _ extra: [String], _ out: String) throws -> Image {
            let r = try Tool.run(["colorize", "--checkpoint", run, "--input", dir + "/gray.png", "--out", dir + "/" + out] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try Image.load(dir + "/" + out)
        }
        // The same run with rebalancing 1 written in its config.json.
        let copy = dir + "/vivid"
        try FileManager.default.copyItem(atPath: ConditionalRuns.colorize, toPath: copy)
        let configURL = URL(fileURLWithPath: copy + "/config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        var conditional = config["conditional"] as! [String: Any], chroma = conditional["chroma"] as! [String: Any]
        #expect(chroma["rebalancing"] as? Double == 0.5)
        chroma["rebalancing"] = 1
        conditional["chroma"] = chroma
        config["conditional"] = conditional
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let flagged = try colorize(ConditionalRuns.colorize, ["--rebalancing", "1"], "flag.png")
        #expect(flagged.pixels == (try colorize(copy, [], "config.png")).pixels)
        #expect(flagged.pixels != (try colorize(ConditionalRuns.colorize, ["--rebalancing", "0"], "muted.png")).pixels)
        // Out of range: refused by the argument parser (its line and the usage), nothing written.
        let bad = try Tool.run(["colorize", "--checkpoint", ConditionalRuns.colorize, "--input", dir + "/gray.png",
                                "--out", dir + "/bad.png", "--rebalancing", "2"])
        #expect(bad.status != 0 && bad.stderr.contains("--rebalancing must be in 0...1"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.png"))
        expectOneLineError(try Tool.run(["evaluate", "--task", "inpaint", "--checkpoint", ConditionalRuns.inpaint, "--limit", "4",
                                         "--rebalancing", "0.5"]), naming: "color bins")
    }

    @Test("evaluate --task prints the model and the baselines on the same masks")
    func evaluateJSON() throws {
        let r = try Tool.run(["evaluate", "--task", "inpaint", "--checkpoint", ConditionalRuns.inpaint, "--data", "shapes:64",
                              "--mask-kind", "center", "--samples", "3", "--limit", "8", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let baselines = json?["baselines"] as? [String: Any]
        #expect(baselines?["harmonic fill"] != nil && baselines?["mean fill"] != nil)
        #expect((json?["maskCoverage"] as? Double) == 0.25)
        let c = try Tool.run(["evaluate", "--task", "colorize", "--checkpoint", ConditionalRuns.colorize, "--data", "shapes:64",
                              "--samples", "2", "--limit", "8"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.contains("gray") && c.stdout.contains("colorfulness"))
    }

    @Test("a mask whose size cannot be matched: one line, nothing written")
    func maskOfAnotherShape() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.path
        try picture(32, 32).writePNG(to: dir + "/in.png")
        try Mask(width: 30, height: 10).image.writePNG(to: dir + "/mask.png")
        try picture(8, 8).writePNG(to: dir + "/out.png")  // an earlier output, which a good run may replace
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/out.png"))
        let r = try Tool.run(["inpaint", "--checkpoint", ConditionalRuns.inpaint, "--input", dir + "/in.png", "--mask", dir + "/mask.png",
                              "--out", dir + "/out.png"])
        expectOneLineError(r, naming: "mask.png")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/out.png")) == before)
    }

    @Test("an empty or non-image input: one line naming it, nothing written", arguments: [[UInt8](), Array("not an image".utf8)])
    func notAnImage(bytes: [UInt8]) throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.path
        write(bytes, to: dir + "/in.png")
        for args in [["inpaint", "--checkpoint", ConditionalRuns.inpaint, "--mask-kind", "center"],
                     ["colorize", "--checkpoint", ConditionalRuns.colorize]] {
            let r = try Tool.run(args + ["--input", dir + "/in.png", "--out", dir + "/out.png"])
            expectOneLineError(r, naming: "in.png")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out.png"))
        }
    }

    @Test("a checkpoint trained for another task: one line, nothing written")
    func wrongTask() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.path
        try picture(32, 32, gray: true).writePNG(to: dir + "/in.png")
        let plain = dir + "/plain"
        let t = try Tool.run(["train", "--data", "shapes:64", "--arch", "mnist", "--epochs", "1", "--batch", "32", "--out", plain])
        #expect(t.status == 0, "\(t.stderr)")
        let cases: [([String], String)] = [
            (["colorize", "--checkpoint", ConditionalRuns.inpaint], "trained for inpaint"),
            (["inpaint", "--checkpoint", ConditionalRuns.colorize, "--mask-kind", "center"], "trained for colorize"),
            (["colorize", "--checkpoint", plain], "plain VAE"),
            (["inpaint", "--checkpoint", plain, "--mask-kind", "center", "--method", "conditional"], "plain VAE"),
            (["inpaint", "--checkpoint", ConditionalRuns.inpaint, "--mask-kind", "center", "--method", "mwg"], "conditional model"),
        ]
        for (args, subject) in cases {
            let r = try Tool.run(args + ["--input", dir + "/in.png", "--out", dir + "/out.png"])
            expectOneLineError(r, naming: subject)
            #expect(!FileManager.default.fileExists(atPath: dir + "/out.png"))
        }
        let e = try Tool.run(["evaluate", "--task", "colorize", "--checkpoint", ConditionalRuns.inpaint, "--limit", "4"])
        expectOneLineError(e, naming: "trained for inpaint")
        // The plain-VAE commands name the task instead of a missing tensor.
        for args in [["sample", "--out", dir + "/out.png"], ["evaluate", "--limit", "4"]] {
            let r = try Tool.run(args + ["--checkpoint", ConditionalRuns.colorize])
            expectOneLineError(r, naming: "trained for colorize")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out.png"))
        }
        // A plain VAE imputes (mwg by default).
        let ok = try Tool.run(["inpaint", "--checkpoint", plain, "--input", dir + "/in.png", "--mask-kind", "center",
                               "--iterations", "5", "--out", dir + "/out.png"])
        #expect(ok.status == 0, "\(ok.stderr)")
    }
}
