import ArgumentParser
import Foundation
import NN
import ImageIO
import VAE

/// `vae bench`: training and inference speed of the reference models on random data,
/// timed like ../shared/bench/torch_reference.py (median of per-step times after warm-up);
/// `deep-mnist` and `deep-cifar` are `--arch deep` at 28x28x1 and 32x32x3, timed like
/// bench/torch_deep.py.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmark training and inference of a reference model.")

    @Option(help: "mnist, cifar, tiny64, deep-mnist or deep-cifar (several: comma-separated).")
    var arch: String = "mnist,cifar,tiny64"
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Warm-up steps (not timed).") var warmup: Int = 5
    @Option(help: "Timed steps.") var steps: Int = 30
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var device: DeviceOptions

    struct Result: Codable {
        var arch: String, device: String, threads: Int, batch: Int
        var trainImagesPerSecond: Double, trainMedianStepMs: Double, trainMinStepMs: Double, trainMaxStepMs: Double
        var inferImagesPerSecond: Double, inferMedianStepMs: Double
        /// Process CPU time (all threads) per training step, minimum over the timed steps:
        /// on a busy machine a steadier view of the work than wall-clock time.
        var trainMinCPUMs: Double
        var peakMemoryMiB: Double
    }

    func validate() throws {
        guard batch > 0, steps > 0, warmup >= 0 else { throw ValidationError("--batch and --steps must be positive") }
        for a in arch.split(separator: ",") where Self.config(String(a)) == nil {
            throw ValidationError("unknown --arch '\(a)' (mnist, cifar, tiny64, deep-mnist, deep-cifar)")
        }
    }

    func run() throws {
        let dev = try device.open()
        var results: [Result] = []
        for name in arch.split(separator: ",").map(String.init) {
            var config = Self.config(name)!
            config.likelihood = .bernoulli  // as the PyTorch reference: BCE on sigmoid outputs
            let model = try makeGenerativeModel(config, device: dev, maxBatch: batch, seed: 1)
            let optimizer = Adam(model.parameters)
            var rng = SplitMix64(seed: 7)
            let data = (0..<(batch * config.dimensions)).map { _ in rng.nextFloat() }
            try data.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: batch) }
            var train: [Double] = [], infer: [Double] = [], trainCPU: [Double] = []
            for i in 0..<(warmup + steps) {
                if i == warmup { Profiler.reset() }
                let c0 = processCPUSeconds()
                let t0 = DispatchTime.now().uptimeNanoseconds
                try model.lossAndGradients(StepSettings(), seed: 1, counter: model.noiseCounter(step: optimizer.step))
                try optimizer.update()
                try dev.synchronize()
                let t1 = DispatchTime.now().uptimeNanoseconds
                if i >= warmup {
                    train.append(Double(t1 - t0) / 1e6)
                    trainCPU.append((processCPUSeconds() - c0) * 1000)
                }
            }
            // CK_PROFILE=1: per-operation times of the timed steps (the rest of a step is Swift).
            Profiler.report("train \(name), batch \(batch), mean step \(String(format: "%.2f", train.reduce(0, +) / Double(steps))) ms",
                            steps: steps)
            for i in 0..<(warmup + steps) {
                if i == warmup { Profiler.reset() }
                let t0 = DispatchTime.now().uptimeNanoseconds
                try model.inferBatch(seed: 1, counter: UInt64(i))
                try dev.synchronize()
                let t1 = DispatchTime.now().uptimeNanoseconds
                if i >= warmup { infer.append(Double(t1 - t0) / 1e6) }
            }
            Profiler.report("infer \(name), batch \(batch), mean step \(String(format: "%.2f", infer.reduce(0, +) / Double(steps))) ms",
                            steps: steps)
            let tm = median(train), im = median(infer)
            results.append(Result(arch: name, device: dev.description, threads: dev.threads, batch: batch,
                                  trainImagesPerSecond: Double(batch) / tm * 1000, trainMedianStepMs: tm,
                                  trainMinStepMs: train.min()!, trainMaxStepMs: train.max()!,
                                  inferImagesPerSecond: Double(batch) / im * 1000, inferMedianStepMs: im,
                                  trainMinCPUMs: trainCPU.min()!, peakMemoryMiB: peakMemoryMiB()))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
            return
        }
        print("device: \(dev.description), batch \(batch), median of \(steps) steps after \(warmup) warm-up")
        print("arch     train img/s  step ms (min-max)        infer img/s  peak MiB  train CPU ms/step (min)")
        for r in results {
            print(String(format: "%-8@ %11.0f  %7.1f (%.1f-%.1f)  %11.0f  %8.0f  %8.1f", r.arch, r.trainImagesPerSecond,
                         r.trainMedianStepMs, r.trainMinStepMs, r.trainMaxStepMs, r.inferImagesPerSecond, r.peakMemoryMiB,
                         r.trainMinCPUMs))
        }
    }
}

extension Bench {
    /// The model an --arch name benchmarks.
    static func config(_ name: String) -> ModelConfig? {
        switch name {
        case "deep-mnist": ModelConfig.deep(channels: 1, height: 28, width: 28)
        case "deep-cifar": ModelConfig.deep(channels: 3, height: 32, width: 32)
        default: ModelConfig.presets[name]
        }
    }
}

func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// CPU time of the whole process (every thread) so far, in seconds.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// The process's peak resident memory (VmHWM), in MiB.
func peakMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return .nan }
    return kb / 1024
}
