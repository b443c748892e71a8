import ArgumentParser
import Foundation
import NN
import ImageIO
import VAE

/// `vae bench`: training and inference speed of the reference models on random data,
/// timed like ../shared/bench/torch_reference.py (median of per-step times after warm-up).
///
/// Under `mpirun -np N`, the batch is split among the ranks as `vae train` splits it: each
/// training step is the ranks' shares, the wait for the slowest rank and the all-reduce of the
/// gradient buffer, each timed (scripts/bench-mpi compares N ranks with one process).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmark training and inference of a reference model.")

    @Option(help: "mnist, cifar or tiny64 (several: comma-separated).") var arch: String = "mnist,cifar,tiny64"
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Warm-up steps (not timed).") var warmup: Int = 5
    @Option(help: "Timed steps.") var steps: Int = 30
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var device: DeviceOptions

    struct Result: Codable {
        var arch: String, device: String, threads: Int, batch: Int
        var trainImagesPerSecond: Double, trainMedianStepMs: Double, trainMinStepMs: Double, trainMaxStepMs: Double
        var inferImagesPerSecond: Double?, inferMedianStepMs: Double?
        /// Process CPU time (all threads) per training step, minimum over the timed steps:
        /// on a busy machine a steadier view of the work than wall-clock time.
        var trainMinCPUMs: Double
        var peakMemoryMiB: Double
        /// Ranks sharing each training step (inference is timed with one), the gradient buffer
        /// they sum (MiB), and the medians of each step's wait for the slowest rank and of its
        /// all-reduce (0 for one process).
        var ranks: Int, gradientMiB: Double, waitMedianMs: Double, allReduceMedianMs: Double
    }

    func validate() throws {
        guard batch > 0, steps > 0, warmup >= 0 else { throw ValidationError("--batch and --steps must be positive") }
        for a in arch.split(separator: ",") where ModelConfig.presets[String(a)] == nil {
            throw ValidationError("unknown --arch '\(a)' (mnist, cifar, tiny64)")
        }
    }

    func run() throws {
        let ranks = try Communicator()
        guard batch % ranks.size == 0 else {
            throw ValidationError("--batch \(batch) does not divide among \(ranks.size) processes; give a multiple of \(ranks.size)")
        }
        let dev = try device.open()
        let share = batch / ranks.size
        var results: [Result] = []
        for name in arch.split(separator: ",").map(String.init) {
            var config = ModelConfig.presets[name]!
            config.likelihood = .bernoulli  // as the PyTorch reference: BCE on sigmoid outputs
            let model = try ConvVAE(config, device: dev, maxBatch: share, seed: 1)
            let gradients = try GradientBuffer(model.parameters)
            let optimizer = Adam(model.parameters)
            optimizer.gradientScale = 1 / Float(ranks.size)
            var rng = SplitMix64(seed: 7)
            let data = (0..<(share * config.dimensions)).map { _ in rng.nextFloat() }
            try data.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: share) }
            var train: [Double] = [], infer: [Double] = [], trainCPU: [Double] = [], wait: [Double] = [], sum: [Double] = []
            func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
            for i in 0..<(warmup + steps) {
                if i == warmup { Profiler.reset() }
                let c0 = processCPUSeconds()
                let t0 = now()
                try model.lossAndGradients(StepSettings(), seed: 1, firstRow: UInt64(i * batch + ranks.rank * share))
                try dev.synchronize()
                let t1 = now()
                if ranks.size > 1 { try ranks.barrier() }
                let t2 = now()
                try ranks.sum(gradients.all)
                let t3 = now()
                try optimizer.update()
                try dev.synchronize()
                let t4 = now()
                if i >= warmup {
                    train.append(t4 - t0)
                    wait.append(t2 - t1)
                    sum.append(t3 - t2)
                    trainCPU.append((processCPUSeconds() - c0) * 1000)
                }
            }
            // CK_PROFILE=1: per-operation times of the timed steps (the rest of a step is Swift).
            Profiler.report("train \(name), batch \(batch), mean step \(String(format: "%.2f", train.reduce(0, +) / Double(steps))) ms",
                            steps: steps)
            let tm = median(train), gradientMiB = Double(gradients.all.count * 4) / 1048576
            guard ranks.size == 1 else {
                results.append(Result(arch: name, device: dev.description, threads: dev.threads, batch: batch,
                                      trainImagesPerSecond: Double(batch) / tm * 1000, trainMedianStepMs: tm,
                                      trainMinStepMs: train.min()!, trainMaxStepMs: train.max()!,
                                      inferImagesPerSecond: nil, inferMedianStepMs: nil,
                                      trainMinCPUMs: trainCPU.min()!, peakMemoryMiB: peakMemoryMiB(), ranks: ranks.size,
                                      gradientMiB: gradientMiB, waitMedianMs: median(wait), allReduceMedianMs: median(sum)))
                continue
            }
            for i in 0..<(warmup + steps) {
                if i == warmup { Profiler.reset() }
                let t0 = DispatchTime.now().uptimeNanoseconds
                let stats = try model.encode(batch: batch)
                let z = try model.latent.draw(from: stats, seed: 1, counter: UInt64(i))
                try model.likelihood.means(try model.decode(z))
                try dev.synchronize()
                let t1 = DispatchTime.now().uptimeNanoseconds
                if i >= warmup { infer.append(Double(t1 - t0) / 1e6) }
            }
            Profiler.report("infer \(name), batch \(batch), mean step \(String(format: "%.2f", infer.reduce(0, +) / Double(steps))) ms",
                            steps: steps)
            let im = median(infer)
            results.append(Result(arch: name, device: dev.description, threads: dev.threads, batch: batch,
                                  trainImagesPerSecond: Double(batch) / tm * 1000, trainMedianStepMs: tm,
                                  trainMinStepMs: train.min()!, trainMaxStepMs: train.max()!,
                                  inferImagesPerSecond: Double(batch) / im * 1000, inferMedianStepMs: im,
                                  trainMinCPUMs: trainCPU.min()!, peakMemoryMiB: peakMemoryMiB(), ranks: 1,
                                  gradientMiB: gradientMiB, waitMedianMs: 0, allReduceMedianMs: 0))
        }
        defer { ranks.close() }
        guard ranks.isRoot else { return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
            return
        }
        print("device: \(dev.description), batch \(batch), median of \(steps) steps after \(warmup) warm-up")
        guard ranks.size == 1 else {
            print("\(ranks.size) ranks of \(share) images (rank 0's figures; the wait is for the slowest rank)")
            print("arch     train img/s  step ms (min-max)        gradient MiB  wait ms  all-reduce ms (share)")
            for r in results {
                print(String(format: "%-8@ %11.0f  %7.1f (%.1f-%.1f)  %12.2f  %7.2f  %7.2f (%.1f%%)", r.arch,
                             r.trainImagesPerSecond, r.trainMedianStepMs, r.trainMinStepMs, r.trainMaxStepMs, r.gradientMiB,
                             r.waitMedianMs, r.allReduceMedianMs, 100 * r.allReduceMedianMs / r.trainMedianStepMs))
            }
            return
        }
        print("arch     train img/s  step ms (min-max)        infer img/s  peak MiB  train CPU ms/step (min)")
        for r in results {
            print(String(format: "%-8@ %11.0f  %7.1f (%.1f-%.1f)  %11.0f  %8.0f  %8.1f", r.arch, r.trainImagesPerSecond,
                         r.trainMedianStepMs, r.trainMinStepMs, r.trainMaxStepMs, r.inferImagesPerSecond ?? .nan,
                         r.peakMemoryMiB, r.trainMinCPUMs))
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
