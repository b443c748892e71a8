import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// `vae bench`: training and inference speed of the reference models (or of the conditional
/// models for a task) on random data, timed like ../shared/bench/torch_reference.py (median of
/// per-step times after warm-up), with the work's GFLOP/s.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmark training and inference of a reference model.")

    @Option(help: "mnist, cifar or tiny64 (several: comma-separated).") var arch: String = "mnist,cifar,tiny64"
    @Option(help: "vae (the default), or inpaint or colorize: the conditional model for that task at the preset's size, its batches prepared on the host as in training.")
    var task: RunTask = .vae
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Warm-up steps (not timed).") var warmup: Int = 5
    @Option(help: "Timed steps.") var steps: Int = 30
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var device: DeviceOptions

    struct Result: Codable {
        var arch: String, task: String, device: String, threads: Int, batch: Int
        var trainImagesPerSecond: Double, trainMedianStepMs: Double, trainMinStepMs: Double, trainMaxStepMs: Double
        /// Convolution and dense work of the median training step, per second.
        var trainGFLOPs: Double
        var inferImagesPerSecond: Double, inferMedianStepMs: Double
        /// Process CPU time (all threads) per training step, minimum over the timed steps:
        /// on a busy machine a steadier view of the work than wall-clock time.
        var trainMinCPUMs: Double
        var peakMemoryMiB: Double
    }

    func validate() throws {
        guard (1...TrainingOptions.maxBatch).contains(batch), (1...100_000).contains(steps), (0...100_000).contains(warmup) else {
            throw ValidationError("--batch must be in 1...\(TrainingOptions.maxBatch), --steps in 1...100000 and --warmup in 0...100000")
        }
        for a in arch.split(separator: ",") where ModelConfig.presets[String(a)] == nil {
            throw ValidationError("unknown --arch '\(a)' (mnist, cifar, tiny64)")
        }
        if task == .colorize, arch.split(separator: ",").contains("mnist") {
            throw ValidationError("colorization needs color: --arch cifar or tiny64")
        }
    }

    /// Wall-clock and process CPU milliseconds of each timed step (after `warmup` untimed ones);
    /// CK_PROFILE=1 prints the kernels' table of the timed steps under `title`.
    func time(_ title: String, _ step: (Int) throws -> Void) throws -> (wall: [Double], cpu: [Double]) {
        var wall: [Double] = [], cpu: [Double] = []
        for i in 0..<(warmup + steps) {
            if i == warmup { Profiler.reset() }
            let c0 = processCPUSeconds(), t0 = DispatchTime.now().uptimeNanoseconds
            try step(i)
            let t1 = DispatchTime.now().uptimeNanoseconds
            if i >= warmup {
                wall.append(Double(t1 - t0) / 1e6)
                cpu.append((processCPUSeconds() - c0) * 1000)
            }
        }
        Profiler.report("\(title), batch \(batch), mean step \(String(format: "%.2f", wall.reduce(0, +) / Double(steps))) ms",
                        steps: steps)
        return (wall, cpu)
    }

    func run() throws {
        let dev = try device.open()
        var results: [Result] = []
        for name in arch.split(separator: ",").map(String.init) {
            var rng = SplitMix64(seed: 7)
            let train: (wall: [Double], cpu: [Double]), infer: [Double], flops: Int
            if let conditional = task.conditional {
                let preset = ModelConfig.presets[name]!
                var request = TrainingRequest()
                request.task = task
                request.data = .shapes(count: batch)
                request.architecture = Architecture(rawValue: name)!
                request.training.batch = batch
                let config = try request.resolve()
                var model = config.model
                model.channels = preset.channels
                let options = config.conditional!
                var chroma = options.chroma
                if let classes = chroma?.classes { chroma?.weights = [Float](repeating: 1, count: classes) }
                let vae = try ConditionalVAE(model, task: conditional, device: dev, maxBatch: batch, seed: 1, chroma: chroma)
                let optimizer = Adam(vae.parameters)
                let images = ImageSet.shapes(count: batch, channels: model.channels, height: model.height, width: model.width, seed: 3)
                let rows = ConditionalBatch(task: conditional, channels: model.channels, height: model.height, width: model.width,
                                            capacity: batch, masks: options.masks, chroma: chroma)
                train = try time("train \(task.rawValue) \(name)") { i in
                    rows.fill(from: images, indices: 0..<batch) { p, _ in MaskGenerator.generator(seed: UInt64(i), index: p) }
                    try vae.load(rows)
                    try vae.trainStep(StepSettings(), priorPath: options.isPriorPathStep(Int64(i)), seed: 1, optimizer: optimizer)
                    try dev.synchronize()
                }
                let conditions = Array(UnsafeBufferPointer(start: rows.conditions, count: batch * vae.conditionItem))
                infer = try time("infer \(task.rawValue) \(name)") { i in
                    _ = try vae.complete(conditions: conditions, count: batch, sample: i, seed: 1)
                }.wall
                flops = vae.trainingFLOPs(priorPathEvery: options.priorPathPeriod)
            } else {
                var config = ModelConfig.presets[name]!
                config.likelihood = .bernoulli  // as the PyTorch reference: BCE on sigmoid outputs
                let model = try ConvVAE(config, device: dev, maxBatch: batch, seed: 1)
                let optimizer = Adam(model.parameters)
                let data = (0..<(batch * config.dimensions)).map { _ in rng.nextFloat() }
                try data.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: batch) }
                train = try time("train \(name)") { _ in
                    try model.trainStep(StepSettings(), seed: 1, optimizer: optimizer)
                    try dev.synchronize()
                }
                infer = try time("infer \(name)") { i in
                    let stats = try model.encode(batch: batch)
                    let z = try model.latent.draw(from: stats, seed: 1, counter: UInt64(i))
                    try model.likelihood.means(try model.decode(z))
                    try dev.synchronize()
                }.wall
                flops = model.trainingFLOPs
            }
            let tm = median(train.wall), im = median(infer)
            results.append(Result(arch: name, task: task.rawValue, device: dev.description, threads: dev.threads, batch: batch,
                                  trainImagesPerSecond: Double(batch) / tm * 1000, trainMedianStepMs: tm,
                                  trainMinStepMs: train.wall.min()!, trainMaxStepMs: train.wall.max()!,
                                  trainGFLOPs: Double(flops * batch) / (tm * 1e6),
                                  inferImagesPerSecond: Double(batch) / im * 1000, inferMedianStepMs: im,
                                  trainMinCPUMs: train.cpu.min()!, peakMemoryMiB: peakMemoryMiB()))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
            return
        }
        print("device: \(dev.description), batch \(batch), \(task.rawValue), median of \(steps) steps after \(warmup) warm-up")
        print("arch     train img/s  step ms (min-max)        GFLOP/s  infer img/s  peak MiB  train CPU ms/step (min)")
        for r in results {
            print(String(format: "%-8@ %11.0f  %7.1f (%.1f-%.1f)  %8.1f  %11.0f  %8.0f  %8.1f", r.arch, r.trainImagesPerSecond,
                         r.trainMedianStepMs, r.trainMinStepMs, r.trainMaxStepMs, r.trainGFLOPs, r.inferImagesPerSecond,
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
