import Foundation
import Testing
import TestSupport

@Suite("vae train --model vqvae, train-prior and the commands that load a run", .serialized)
struct VQCLITests {
    @Test func vqRunFromTrainingToSamples() throws {
        let tmp = TemporaryDirectory("convvae-cli-vq"), run = tmp.file("vq")
        let train = try Tool.run(["train", "--model", "vqvae", "--data", "shapes:48", "--out", run, "--epochs", "1",
                                  "--batch", "16", "--codes", "8", "--code-dim", "4", "--threads", "2"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("VQ-VAE") && train.stderr.contains("val_codes_used"))
        #expect(FileManager.default.fileExists(atPath: run + "/reconstructions.png"))

        // Without a prior there is nothing to sample from; a VQ-VAE has no latent paths.
        expectOneLineError(try Tool.run(["sample", "--checkpoint", run, "--out", tmp.file("s.png")]), naming: run)
        #expect(!FileManager.default.fileExists(atPath: tmp.file("s.png")))
        let interpolate = try Tool.run(["interpolate", "--checkpoint", run, "--out", tmp.file("i.png")])
        expectOneLineError(interpolate, naming: run)
        #expect(interpolate.stderr.contains("VQ-VAE"))
        let recon = try Tool.run(["reconstruct", "--checkpoint", run, "--out", tmp.file("r.png"), "--count", "4"])
        #expect(recon.status == 0 && FileManager.default.fileExists(atPath: tmp.file("r.png")), "\(recon.stderr)")

        let prior = try Tool.run(["train-prior", "--checkpoint", run, "--epochs", "1", "--batch", "16", "--channels", "8",
                                  "--layers", "1", "--kernel", "3", "--threads", "2"])
        #expect(prior.status == 0, "\(prior.stderr)")
        let sample = try Tool.run(["sample", "--checkpoint", run, "--out", tmp.file("s.png"), "--count", "4",
                                   "--temperature", "0.8"])
        #expect(sample.status == 0 && FileManager.default.fileExists(atPath: tmp.file("s.png")), "\(sample.stderr)")
        let evaluate = try Tool.run(["evaluate", "--checkpoint", run])
        #expect(evaluate.status == 0 && evaluate.stdout.contains("two-stage") && evaluate.stdout.contains("PSNR"),
                "\(evaluate.stdout)\(evaluate.stderr)")

        // The prior's own folder is not a model the commands use, nor a run vae train continues.
        expectOneLineError(try Tool.run(["reconstruct", "--checkpoint", run + "/prior", "--out", tmp.file("x.png")]),
                           naming: run + "/prior")
        expectOneLineError(try Tool.run(["train", "--out", run + "/prior", "--resume"]), naming: run + "/prior")
        expectOneLineError(try Tool.run(["train-prior", "--checkpoint", run, "--epochs", "1"]), naming: run + "/prior")
    }

    @Test func vqOptionsNeedTheVQModel() throws {
        let tmp = TemporaryDirectory("convvae-cli-vq")
        let r = try Tool.run(["train", "--data", "shapes:16", "--out", tmp.file("run"), "--codes", "16"])
        #expect(r.status != 0 && r.stderr.contains("--model vqvae"), "\(r.stderr)")
        let d = try Tool.run(["train", "--model", "vqvae", "--data", "shapes:16", "--out", tmp.file("run"), "--downsample", "3"])
        expectOneLineError(d, naming: "--downsample")
    }
}
