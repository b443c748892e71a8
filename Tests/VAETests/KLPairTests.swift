import CKernels
import Foundation
import ImageIO
import NN
import Testing

@Suite("ck_kl_normal_pair: KL between two diagonal Gaussians, with gradients to both")
struct KLPairTests {
    func klDouble(_ q: [Float], _ p: [Float], _ latent: Int, row: Int) -> Double {
        var s = 0.0
        for j in 0..<latent {
            let mq = Double(q[row * 2 * latent + j]), lq = Double(q[row * 2 * latent + latent + j])
            let mp = Double(p[row * 2 * latent + j]), lp = Double(p[row * 2 * latent + latent + j])
            s += 0.5 * (lp - lq + (exp(lq) + (mq - mp) * (mq - mp)) * exp(-lp) - 1)
        }
        return s
    }

    @Test("against the closed form in double, and the gradients against finite differences")
    func closedFormAndGradients() throws {
        let device = try Device("cpu", threads: 1)
        let batch = 3, latent = 5, n = batch * 2 * latent
        var rng = SplitMix64(seed: 9)
        let qv = (0..<n).map { _ in rng.nextFloat(in: -1.5...1.5) }, pv = (0..<n).map { _ in rng.nextFloat(in: -1.5...1.5) }
        let q = try Tensor([batch, 2 * latent], values: qv, on: device), p = try Tensor([batch, 2 * latent], values: pv, on: device)
        let kl = try Tensor([batch], on: device)
        let dq = try Tensor([batch, 2 * latent], values: [Float](repeating: 0.25, count: n), on: device)
        let dp = try Tensor([batch, 2 * latent], on: device)
        let scale: Float = 0.5
        try check(ck_kl_normal_pair(Int32(batch), Int32(latent), q.buffer, p.buffer, kl.buffer, dq.buffer, dp.buffer, scale))
        let got = try kl.read()
        for b in 0..<batch { #expect(abs(Double(got[b]) - klDouble(qv, pv, latent, row: b)) < 1e-5 * max(1, klDouble(qv, pv, latent, row: b))) }

        // Finite differences of scale * sum_b KL_b in double; dq started at 0.25 (gradients are added).
        let gq = try dq.read(), gp = try dp.read()
        func total(_ q: [Float], _ p: [Float]) -> Double { (0..<batch).reduce(0) { $0 + klDouble(q, p, latent, row: $1) } }
        let h: Float = 1e-3
        for k in 0..<n {
            var qa = qv, qb = qv, pa = pv, pb = pv
            qa[k] += h; qb[k] -= h; pa[k] += h; pb[k] -= h
            let nq = Double(scale) * (total(qa, pv) - total(qb, pv)) / Double(2 * h)
            let np = Double(scale) * (total(qv, pa) - total(qv, pb)) / Double(2 * h)
            #expect(abs(Double(gq[k]) - 0.25 - nq) < 2e-3 * max(1, abs(nq)), "dq[\(k)]: \(gq[k] - 0.25) vs \(nq)")
            #expect(abs(Double(gp[k]) - np) < 2e-3 * max(1, abs(np)), "dp[\(k)]: \(gp[k]) vs \(np)")
        }
    }

    @Test func identicalDistributionsHaveNoKL() throws {
        let device = try Device("cpu", threads: 1)
        let q = try Tensor([2, 4], values: [0.3, -1, 0.2, 0.5, 1, 2, -3, 0], on: device)
        let kl = try Tensor([2], on: device)
        try check(ck_kl_normal_pair(2, 2, q.buffer, q.buffer, kl.buffer, nil, nil, 1))
        for v in try kl.read() { #expect(abs(v) < 1e-6) }
    }
}
