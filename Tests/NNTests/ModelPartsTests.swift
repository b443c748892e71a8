import Foundation
import Testing
import TestSupport
@testable import NN

/// The parts every model is made of: the pixel likelihood, the Gaussian latent and the noise.
@Suite("Pixel likelihood, Gaussian latent and noise against double-precision references")
struct ModelPartsTests {
    let device: Device
    init() throws { device = try Device("cpu", threads: 2) }

    /// -log p(x | output) per image in double, each value weighted.
    func referenceNLL(_ kind: Likelihood, output: [Float], target: [Float], weight: [Float]?, logScale: [Float],
                      batch: Int, channels: Int, plane: Int) -> [Double] {
        (0..<batch).map { b in
            var s = 0.0
            for c in 0..<channels {
                for p in 0..<plane {
                    let i = (b * channels + c) * plane + p
                    let o = Double(output[i]), x = Double(target[i]), w = Double(weight?[i] ?? 1)
                    switch kind {
                    case .bernoulli:
                        s += w * (max(o, 0) - o * x + log(1 + exp(-abs(o))))
                    case .gaussian:
                        let lv = Double(logScale[c])
                        s += w * 0.5 * (log(2 * Double.pi) + lv + (x - o) * (x - o) / exp(lv))
                    case .logistic:
                        let ls = Double(logScale[c]), scale = exp(ls)
                        func sigma(_ t: Double) -> Double { 1 / (1 + exp(-t)) }
                        let lo = x <= 0.5 / 255 ? 0 : sigma((x - 0.5 / 255 - o) / scale)
                        let hi = x >= 1 - 0.5 / 255 ? 1 : sigma((x + 0.5 / 255 - o) / scale)
                        s -= w * log(max(hi - lo, 1e-12))
                    }
                }
            }
            return s
        }
    }

    @Test("the likelihood's NLL matches the closed form, its gradients finite differences",
          arguments: Likelihood.allCases)
    func likelihood(kind: Likelihood) throws {
        let batch = 3, channels = 2, h = 2, w = 3, plane = h * w, n = batch * channels * plane
        let like = try PixelLikelihood(kind, channels: channels, height: h, width: w, maxBatch: 4, on: device)
        var rng = TestRandom(seed: UInt64(kind.hashValue & 0xFFFF) ^ 11)
        // 8-bit targets; means inside (0, 1) for the continuous likelihoods, logits for Bernoulli.
        let target = (0..<n).map { _ in Float(Int(rng.next() % 256)) / 255 }
        let outputs = (0..<n).map { _ in kind == .bernoulli ? 2 * rng.signed() : 0.5 + 0.3 * rng.signed() }
        let weight = (0..<n).map { _ in rng.next() % 3 == 0 ? Float(0) : 1 }
        if let scale = like.scale { try scale.value.write(kind == .gaussian ? [-1.5, -2] : [-2.5, -3]) }
        let logScale = try like.scale?.value.read() ?? [0, 0]
        let out = try Tensor([batch, channels, h, w], values: outputs, on: device)
        let x = try Tensor([batch, channels, h, w], values: target, on: device)
        let wt = try Tensor([batch, channels, h, w], values: weight, on: device)
        let got = try like.loss(out, target: x, weight: wt, gradientScale: 1).read()
        let want = referenceNLL(kind, output: outputs, target: target, weight: weight, logScale: logScale, batch: batch,
                                channels: channels, plane: plane)
        for b in 0..<batch { #expect(abs(Double(got[b]) - want[b]) <= 1e-4 * max(1, abs(want[b])), "image \(b): \(got[b]) vs \(want[b])") }

        var targets: [(name: String, tensor: Tensor, analytic: [Float])] = [("output", out, try like.outputGradient.read())]
        if let scale = like.scale { targets.append(("log_scale", scale.value, try scale.grad.read())) }
        var check = GradientCheck(step: 1e-3)
        let report = try check.compare(targets, samples: 16) {
            try like.loss(out, target: x, weight: wt).sum()
        }
        #expect(report.agrees(within: 2e-3), "\(report)")
    }

    @Test("the categorical likelihood matches log-softmax in double, its gradient finite differences")
    func categorical() throws {
        let batch = 3, K = 5, positions = [2, 3], P = 6
        let like = try CategoricalLikelihood(classes: K, positionShape: positions, maxBatch: 4, on: device)
        var rng = TestRandom(seed: 17)
        let logits = rng.signed(batch * K * P).map { 3 * $0 }
        let labels = (0..<(batch * P)).map { _ in Float(Int(rng.next() % UInt64(K))) }
        let l = try Tensor([batch, K] + positions, values: logits, on: device)
        let y = try Tensor([batch] + positions, values: labels, on: device)
        let got = try like.loss(l, labels: y, gradientScale: 1).read()
        for b in 0..<batch {
            var want = 0.0
            for p in 0..<P {
                let row = (0..<K).map { Double(logits[(b * K + $0) * P + p]) }
                let m = row.max()!
                want += m + log(row.reduce(0) { $0 + exp($1 - m) }) - row[Int(labels[b * P + p])]
            }
            #expect(abs(Double(got[b]) - want) < 1e-4 * max(1, want), "image \(b): \(got[b]) vs \(want)")
        }
        var check = GradientCheck(step: 1e-3)
        let report = try check.compare([("logits", l, try like.logitGradient.read())], samples: 30) {
            try like.loss(l, labels: y).sum()
        }
        #expect(report.agrees(within: 1e-3), "\(report)")
        try y.write([Float(K)] + labels.dropFirst())
        #expect(try like.loss(l, labels: y).read()[0].isNaN)
    }

    @Test("pixel means are the sigmoid of Bernoulli logits and the output itself otherwise")
    func means() throws {
        let logits: [Float] = [-3, 0, 0.5, 4]
        let bern = try PixelLikelihood(.bernoulli, channels: 1, height: 2, width: 2, maxBatch: 1, on: device)
        let means = try bern.means(try Tensor([1, 1, 2, 2], values: logits, on: device)).read()
        for (m, l) in zip(means, logits) { #expect(abs(Double(m) - 1 / (1 + exp(-Double(l)))) < 1e-6) }
        let gauss = try PixelLikelihood(.gaussian, channels: 1, height: 2, width: 2, maxBatch: 1, on: device)
        #expect(try gauss.means(try Tensor([1, 1, 2, 2], values: logits, on: device)).read() == logits)
        #expect(abs(Double(try gauss.channelSpreads()[0]) - exp(-4.6 / 2)) < 1e-6)
    }

    /// KL(N(mq, e^lq) || N(mp, e^lp)) for one latent, in double.
    func klTerm(_ mq: Double, _ lq: Double, _ mp: Double, _ lp: Double) -> Double {
        0.5 * (lp - lq + (exp(lq) + (mq - mp) * (mq - mp)) * exp(-lp) - 1)
    }

    @Test("z = mu + sigma eps with the host's noise, and the reparameterization gradient")
    func draw() throws {
        let batch = 3, L = 4
        let latent = try GaussianLatent(size: L, maxBatch: 4, on: device)
        var rng = TestRandom(seed: 21)
        let statsValues = rng.signed(batch * 2 * L)
        let stats = try Tensor([batch, 2 * L], values: statsValues, on: device)
        let z = try latent.draw(from: stats, seed: 77, counter: 1000).read()
        let eps = Noise.normal(count: batch * L, seed: 77, counter: 1000)
        #expect(try latent.noise.read() == eps)
        for b in 0..<batch {
            for j in 0..<L {
                let mu = Double(statsValues[b * 2 * L + j]), lv = Double(statsValues[b * 2 * L + L + j])
                #expect(abs(Double(z[b * L + j]) - (mu + exp(lv / 2) * Double(eps[b * L + j]))) < 1e-5)
            }
        }
        // d(sum r z)/dstats by finite differences, with the noise held.
        let r = rng.signed(batch * L)
        let dz = try Tensor([batch, L], values: r, on: device)
        let analytic = try latent.backward(stats, sampleGradient: dz).read()
        var check = GradientCheck(step: 1e-3)
        let report = try check.compare([("stats", stats, analytic)], samples: 24) {
            try eps.withUnsafeBufferPointer { try latent.draw(from: stats, noise: $0.baseAddress!) }
            return zip(try latent.sample.read(), r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        #expect(report.agrees(within: 1e-3), "\(report)")
        // An autoencoder's latent is the mean itself, with no KL.
        let ae = try GaussianLatent(size: L, maxBatch: 4, deterministic: true, on: device)
        let mean = try ae.draw(from: stats, seed: 77, counter: 0).read()
        for b in 0..<batch { #expect(Array(mean[(b * L)..<(b * L + L)]) == Array(statsValues[(b * 2 * L)..<(b * 2 * L + L)])) }
        #expect(try ae.klToStandardNormal(stats, gradientScale: 1).read() == [0, 0, 0])
    }

    @Test("KL to N(0, I) and to a learned prior: closed forms, gradients, and free bits on the posterior alone")
    func klTerms() throws {
        let batch = 4, L = 5, n = batch * 2 * L
        var rng = TestRandom(seed: 33)
        let qv = rng.signed(n).map { 1.5 * $0 }, pv = rng.signed(n).map { 1.5 * $0 }
        let q = try Tensor([batch, 2 * L], values: qv, on: device), p = try Tensor([batch, 2 * L], values: pv, on: device)
        let latent = try GaussianLatent(size: L, maxBatch: batch, learnedPrior: true, on: device)
        func kl(_ b: Int, _ j: Int, prior: Bool) -> Double {
            klTerm(Double(qv[b * 2 * L + j]), Double(qv[b * 2 * L + L + j]),
                   prior ? Double(pv[b * 2 * L + j]) : 0, prior ? Double(pv[b * 2 * L + L + j]) : 0)
        }
        let standard = try latent.klToStandardNormal(q).read()
        let pair = try latent.klToPrior(posterior: q, prior: p).read()
        for b in 0..<batch {
            var s = 0.0, t = 0.0
            for j in 0..<L {
                s += kl(b, j, prior: false)
                t += kl(b, j, prior: true)
            }
            #expect(abs(Double(standard[b]) - s) < 1e-5 * max(1, s))
            #expect(abs(Double(pair[b]) - t) < 1e-5 * max(1, t))
        }

        // Gradients of 0.5 * sum_b KL(q || p) against finite differences.
        func gradients(freeBits: Float) throws -> ([Float], [Float]) {
            try latent.statsGradient.fill(0)
            try latent.priorGradient!.fill(0)
            try latent.klToPrior(posterior: q, prior: p, gradientScale: 0.5, freeBits: freeBits)
            return (try latent.statsGradient.read(), try latent.priorGradient!.read())
        }
        let (dq, dp) = try gradients(freeBits: 0)
        var check = GradientCheck(step: 1e-3)
        let report = try check.compare([("q", q, dq), ("p", p, dp)], samples: 20) {
            0.5 * (try latent.klToPrior(posterior: q, prior: p).sum())
        }
        #expect(report.agrees(within: 1e-3), "\(report)")

        // Free bits: a latent whose batch-mean KL is below the threshold gives q no gradient; p
        // keeps all of its gradient.
        var means = [Double](repeating: 0, count: L)
        for j in 0..<L {
            for b in 0..<batch { means[j] += kl(b, j, prior: true) / Double(batch) }
        }
        let threshold = Float(means.sorted()[L / 2])
        let (fq, fp) = try gradients(freeBits: threshold)
        #expect(fp == dp)
        for b in 0..<batch {
            for j in 0..<L {
                let frozen = means[j] < Double(threshold)
                for k in [b * 2 * L + j, b * 2 * L + L + j] { #expect(fq[k] == (frozen ? 0 : dq[k]), "latent \(j)") }
            }
        }
        #expect(means.contains { $0 < Double(threshold) } && means.contains { $0 >= Double(threshold) })
    }

    @Test("host noise is the device's stream, and Bernoulli draws use the host's uniforms")
    func noise() throws {
        let t = try Tensor([300], on: device)
        try t.fillNormal(seed: 5, counter: 123)
        #expect(try t.read() == Noise.normal(count: 300, seed: 5, counter: 123))
        let probs = (0..<300).map { Float($0) / 300 }
        let b = try Tensor([300], values: probs, on: device)
        try b.sampleBernoulli(seed: 9, counter: 40)
        let u = Noise.uniform(count: 300, seed: 9, counter: 40)
        #expect(try b.read() == zip(u, probs).map { $0 < $1 ? 1 : 0 })
        let streams = Noise.Stream.allCases.map { $0.seed(7) }
        #expect(Set(streams).count == streams.count)
        #expect(Noise.derive(7, 1) != Noise.derive(7, 2) && Noise.derive(7, 1) == Noise.derive(7, 1))
    }
}
