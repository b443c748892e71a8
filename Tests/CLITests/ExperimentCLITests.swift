import Foundation
import ImageIO
import Testing
import TestSupport

@Suite("vae experiment, train --condition label, sample --label, evaluate --fid", .serialized)
struct ExperimentCLITests {
    @Test("an experiment prints one JSON object and writes its report; bad betas are refused")
    func betaExperiment() throws {
        let tmp = TemporaryDirectory("convvae-cli"), out = tmp.file("beta")
        let r = try Tool.run(["experiment", "beta", "--data", "shapes:64", "--arch", "mnist", "--epochs", "1", "--batch", "32",
                              "--betas", "1,2", "--eval-images", "8", "--json", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect((json?["rows"] as? [[String: Any]])?.count == 2)
        #expect(FileManager.default.fileExists(atPath: out + "/report.html"))
        #expect(FileManager.default.fileExists(atPath: out + "/beta-2.0/samples.png"))
        let bad = try Tool.run(["experiment", "beta", "--betas", "1,x", "--out", tmp.file("bad")])
        #expect(bad.status != 0 && bad.stderr.contains("--betas"))
    }

    @Test("a label-conditional run samples a chosen class, refuses another, and reports Frechet distances and label accuracy")
    func labelConditional() throws {
        let tmp = TemporaryDirectory("convvae-cli"), run = tmp.file("run")
        let ok = try Tool.run(["train", "--data", "shapes:64", "--arch", "mnist", "--condition", "label", "--epochs", "1",
                               "--batch", "32", "--out", run])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try String(contentsOfFile: run + "/config.json", encoding: .utf8).contains("\"classes\" : 6"))
        let one = try Tool.run(["sample", "--checkpoint", run, "--label", "2", "--count", "4", "--out", tmp.file("two.png")])
        #expect(one.status == 0, "\(one.stderr)")
        let all = try Tool.run(["sample", "--checkpoint", run, "--columns", "3", "--out", tmp.file("all.png")])
        #expect(all.status == 0, "\(all.stderr)")
        // A row per class: 6 rows of 28-pixel cells with 2-pixel gaps.
        #expect(try Image.load(tmp.file("all.png")).height == 6 * 30 + 2)
        expectOneLineError(try Tool.run(["sample", "--checkpoint", run, "--label", "6", "--out", tmp.file("x.png")]), naming: "--label 6")
        // The bounds and reconstructions given each held-out image's label.
        let bounds = try Tool.run(["evaluate", "--checkpoint", run, "--limit", "8", "--iw-samples", "4", "--json"])
        #expect(bounds.status == 0, "\(bounds.stderr)")
        let b = try JSONSerialization.jsonObject(with: Data(bounds.stdout.utf8)) as? [String: Any]
        #expect((b?["reconstructionPSNR"] as? Double)?.isFinite == true && b?["negativeIWBound"] is Double)
        let recon = try Tool.run(["reconstruct", "--checkpoint", run, "--count", "4", "--out", tmp.file("recon.png")])
        #expect(recon.status == 0, "\(recon.stderr)")
        let fid = try Tool.run(["evaluate", "--checkpoint", run, "--fid", "--fid-images", "24", "--feature-epochs", "1", "--json"])
        #expect(fid.status == 0, "\(fid.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(fid.stdout.utf8)) as? [String: Any]
        #expect((json?["sampleLabelAccuracy"] as? [Double])?.count == 6)
        #expect(json?["untrained"] is Double && json?["realTrain"] is Double)
        #expect(FileManager.default.fileExists(atPath: tmp.file("feature-network/feature-network.json")))
    }

    @Test("--condition label needs labels; --label needs a label-conditional model")
    func labelErrors() throws {
        let tmp = TemporaryDirectory("convvae-cli"), dir = tmp.mkdir("pictures")
        for i in 0..<4 { try Image(width: 8, height: 8, channels: 3, fill: Float(i) / 4).writePNG(to: dir + "/p\(i).png") }
        let r = try Tool.run(["train", "--data", "folder:" + dir, "--condition", "label", "--out", tmp.file("run")])
        expectOneLineError(r, naming: "has no labels")
        let plain = tmp.file("plain")
        #expect(try Tool.run(["train", "--data", "shapes:64", "--arch", "mnist", "--latent", "2", "--epochs", "1", "--batch", "32",
                              "--out", plain]).status == 0)
        expectOneLineError(try Tool.run(["sample", "--checkpoint", plain, "--label", "1", "--out", tmp.file("x.png")]),
                           naming: "--label needs a label-conditional model")
    }
}
