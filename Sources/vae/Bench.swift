import ArgumentParser
import Foundation
import ImageIO
import NN
import VAE

/// `vae bench`: training and inference speed of the reference models (or of the conditional
/// models for a task) on random data, timed like ../shared/bench/torch_reference.py (median of
/// per-step times after warm-up), with the work's GFLOP/s; `deep-mnist` and `deep-cifar` are
/// `--arch deep` at 28x28x1 and 32x32x3, timed like bench/torch_deep.py.
///
/// Under `mpirun -np N`, the batch is split among the ranks as `vae train` splits it: each
/// training step is the ranks' shares, the wait for the slowest rank and the all-reduce of the
/// gradient buffer, each timed (scripts/bench-mpi compares N ranks with one process).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmark training and inference of a reference model.")

    @Option(help: "mnist, cifar, tiny64, deep-mnist or deep-cifar (several: comma-separated).")
    var arch: String = "mnist,cifar,tiny64"
    @Option(help: "vae (the default), or inpaint or colorize: the conditional model for that task at the preset's size, its batches prepared on the host as in training (one process).")
    var task: RunTask = .vae
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Warm-up steps (not timed).") var warmup: Int = 5
    @Option(help: "Timed steps.") var steps: Int = 30
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var device: DeviceOptions

    struct Result: Codable {
        var arch: String, task: String, device: String, threads: Int, batch: Int
        var trainImagesPerSecond: Double, trainMedianStepMs: Double, trainMinStepMs: Double, trainMaxStepMs: Double
        /// Convolution and dense work of the training steps, per second: of the median step, or
        /// for a conditional model, whose steps alternate between the ELBO and the prior path
        /// (unequal work), of their mean.
        var trainGFLOPs: Double
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
        guard (1...TrainingOptions.maxBatch).contains(batch), (1...100_000).contains(steps), (0...100_000).contains(warmup) else {
            throw ValidationError("--batch must be in 1...\(TrainingOptions.maxBatch), --steps in 1...100000 and --warmup in 0...100000")
        }
        for a in arch.split(separator: ",") where Self.config(String(a)) == nil || (task != .vae && ModelConfig.presets[String(a)] == nil) {
            throw ValidationError("unknown --arch '\(a)' (mnist, cifar, tiny64\(task == .vae ? ", deep-mnist, deep-cifar" : ""))")
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
        let ranks = try Communicator()
        defer { ranks.close() }
        guard batch % ranks.size == 0 else {
            throw ValidationError("--batch \(batch) does not divide among \(ranks.size) processes; give a multiple of \(ranks.size)")
        }
        guard task == .vae || ranks.size == 1 else { throw ValidationError("vae bench --task runs in one process") }
        let dev = try device.open()
        var results: [Result] = []
        for name in arch.split(separator: ",").map(String.init) {
            results.append(try task.conditional.map { try conditional($0, name, dev) } ?? plain(name, dev, ranks))
        }
        guard ranks.isRoot else { return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
            return
        }
        print("device: \(dev.description), batch \(batch), \(task.rawValue), median of \(steps) steps after \(warmup) warm-up")
        guard ranks.size == 1 else {
            print("\(ranks.size) ranks of \(batch / ranks.size) images (rank 0's figures; the wait is for the slowest rank)")
            print("arch     train img/s  step ms (min-max)        gradient MiB  wait ms  all-reduce ms (share)")
            for r in results {
                print(String(format: "%-8@ %11.0f  %7.1f (%.1f-%.1f)  %12.2f  %7.2f  %7.2f (%.1f%%)", r.arch,
                             r.trainImagesPerSecond, r.trainMedianStepMs, r.trainMinStepMs, r.trainMaxStepMs, r.gradientMiB,
                             r.waitMedianMs, r.allReduceMedianMs, 100 * r.allReduceMedianMs / r.trainMedianStepMs))
            }
            return
        }
        print("arch     train img/s  step ms (min-max)        GFLOP/s  infer img/s  peak MiB  train CPU ms/step (min)")
        for r in results {
            print(String(format: "%-8@ %11.0f  %7.1f (%.1f-%.1f)  %8.1f  %11.0f  %8.0f  %8.1f", r.arch, r.trainImagesPerSecond,
                         r.trainMedianStepMs, r.trainMinStepMs, r.trainMaxStepMs, r.trainGFLOPs, r.inferImagesPerSecond ?? .nan,
                         r.peakMemoryMiB, r.trainMinCPUMs))
        }
    }

    /// A reference preset's plain VAE (or a deep one), its batch shared among the ranks.
    func plain(_ name: String, _ dev: Device, _ ranks: Communicator) throws -> Result {
        var config = Self.config(name)!
        config.likelihood = .bernoulli  // as the PyTorch references: BCE on sigmoid outputs
        let share = batch / ranks.size
        let model = try makeGenerativeModel(config, device: dev, maxBatch: share, seed: 1)
        let gradients = try GradientBuffer(model.parameters)
        let optimizer = Adam(model.parameters)
        optimizer.gradientScale = 1 / Float(ranks.size)
        var rng = SplitMix64(seed: 7)
        let data = (0..<(share * config.dimensions)).map { _ in rng.nextFloat() }
        try data.withUnsafeBufferPointer { try model.loadBatch($0.baseAddress!, batch: share) }
        var wait: [Double] = [], sum: [Double] = []
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
        let train = try time("train \(name)") { i in
            try model.lossAndGradients(StepSettings(), seed: 1, firstRow: UInt64(i * batch + ranks.rank * share))
            try dev.synchronize()
            let t1 = now()
            if ranks.size > 1 { try ranks.barrier() }
            let t2 = now()
            try ranks.sum(gradients.all)
            let t3 = now()
            try optimizer.update()
            try dev.synchronize()
            if i >= warmup {
                wait.append(t2 - t1)
                sum.append(t3 - t2)
            }
        }
        let tm = median(train.wall), gradientMiB = Double(gradients.all.count * 4) / 1048576
        var infer: [Double]?
        if ranks.size == 1 {
            infer = try time("infer \(name)") { i in
                try model.inferBatch(seed: 1, firstRow: UInt64(i * batch))
                try dev.synchronize()
            }.wall
        }
        return Result(arch: name, task: task.rawValue, device: dev.description, threads: dev.threads, batch: batch,
                      trainImagesPerSecond: Double(batch) / tm * 1000, trainMedianStepMs: tm,
                      trainMinStepMs: train.wall.min()!, trainMaxStepMs: train.wall.max()!,
                      trainGFLOPs: Double(model.trainingFLOPs * batch) / (tm * 1e6),
                      inferImagesPerSecond: infer.map { Double(batch) / median($0) * 1000 }, inferMedianStepMs: infer.map(median),
                      trainMinCPUMs: train.cpu.min()!, peakMemoryMiB: peakMemoryMiB(), ranks: ranks.size,
                      gradientMiB: gradientMiB, waitMedianMs: ranks.size > 1 ? median(wait) : 0,
                      allReduceMedianMs: ranks.size > 1 ? median(sum) : 0)
    }

    /// The conditional model of `task` at a preset's size, with its default options.
    func conditional(_ task: ConditionalTask, _ name: String, _ dev: Device) throws -> Result {
        let preset = ModelConfig.presets[name]!
        var request = TrainingRequest()
        request.task = self.task
        request.data = .shapes(count: batch)
        request.architecture = Architecture(rawValue: name)!
        request.batch = batch
        let config = try request.resolve()
        var model = config.model
        model.channels = preset.channels
        let options = config.conditional!
        var chroma = options.chroma
        if let classes = chroma?.classes { chroma?.weights = [Float](repeating: 1, count: classes) }
        let vae = try ConditionalVAE(model, task: task, device: dev, maxBatch: batch, seed: 1, chroma: chroma,
                                     headKernel: options.headKernelSize)
        let optimizer = Adam(vae.parameters)
        let images = ImageSet.shapes(count: batch, channels: model.channels, height: model.height, width: model.width, seed: 3)
        let rows = ConditionalBatch(task: task, channels: model.channels, height: model.height, width: model.width,
                                    capacity: batch, masks: options.masks, chroma: chroma)
        let train = try time("train \(task.rawValue) \(name)") { i in
            rows.fill(from: images, indices: 0..<batch) { p, _ in MaskGenerator.generator(seed: UInt64(i), index: p) }
            try vae.load(rows)
            try vae.trainStep(StepSettings(), priorPath: options.isPriorPathStep(Int64(i)),
                              samples: options.priorPathDraws, seed: 1, optimizer: optimizer)
            try dev.synchronize()
        }
        let conditions = Array(UnsafeBufferPointer(start: rows.conditions, count: batch * vae.conditionItem))
        let infer = try time("infer \(task.rawValue) \(name)") { i in
            _ = try vae.complete(conditions: conditions, count: batch, sample: i, seed: 1)
        }.wall
        let tm = median(train.wall), im = median(infer), mean = train.wall.reduce(0, +) / Double(train.wall.count)
        let flops = vae.trainingFLOPs(priorPathEvery: options.priorPathPeriod, priorPathSamples: options.priorPathDraws)
        return Result(arch: name, task: task.rawValue, device: dev.description, threads: dev.threads, batch: batch,
                      trainImagesPerSecond: Double(batch) / tm * 1000, trainMedianStepMs: tm,
                      trainMinStepMs: train.wall.min()!, trainMaxStepMs: train.wall.max()!,
                      trainGFLOPs: Double(flops * batch) / (mean * 1e6),
                      inferImagesPerSecond: Double(batch) / im * 1000, inferMedianStepMs: im,
                      trainMinCPUMs: train.cpu.min()!, peakMemoryMiB: peakMemoryMiB(), ranks: 1, gradientMiB: 0,
                      waitMedianMs: 0, allReduceMedianMs: 0)
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
