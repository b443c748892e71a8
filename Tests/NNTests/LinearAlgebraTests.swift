import Foundation
import Testing
import TestSupport
@testable import NN

/// The Swift face of the host linear algebra (the C checks compare the operations with
/// double-precision references): row-major layouts, row conventions and sizes.
@Suite("Linear algebra and one-hot codes")
struct LinearAlgebraTests {
    @Test("sample moments match direct sums; the Frechet distance of a shifted copy is the shift squared")
    func moments() throws {
        var rng = TestRandom(seed: 0x4D4F4D)
        let n = 200, d = 3
        let x = (0..<(n * d)).map { i in rng.signed() * Float(1 + i % d) }
        let m = try SampleMoments(samples: x, dimension: d)
        for j in 0..<d {
            let mean = (0..<n).map { Double(x[$0 * d + j]) }.reduce(0, +) / Double(n)
            #expect(abs(m.mean[j] - mean) < 1e-12)
            for k in 0..<d {
                let meanK = (0..<n).map { Double(x[$0 * d + k]) }.reduce(0, +) / Double(n)
                let c = (0..<n).map { (Double(x[$0 * d + j]) - mean) * (Double(x[$0 * d + k]) - meanK) }.reduce(0, +) / Double(n - 1)
                #expect(abs(m.covariance[j * d + k] - c) < 1e-12)
            }
        }
        let shift: [Float] = [0.5, -1, 2]
        let shifted = try SampleMoments(samples: x.enumerated().map { $0.element + shift[$0.offset % d] }, dimension: d)
        #expect(abs(try LinearAlgebra.frechetDistance(m, shifted) - 5.25) < 1e-5)
        #expect(abs(try LinearAlgebra.frechetDistance(m, m)) < 1e-9)
    }

    @Test("eigenvectors are rows; square roots and principal angles of simple matrices")
    func conventions() throws {
        let (values, vectors) = try LinearAlgebra.symmetricEigen([2, 1, 1, 2], order: 2)
        #expect(abs(values[0] - 1) < 1e-12 && abs(values[1] - 3) < 1e-12)
        #expect(abs(abs(vectors[2] + vectors[3]) - 2.0.squareRoot()) < 1e-12, "row 1 is (1, 1)/sqrt 2: \(vectors)")
        #expect(abs(vectors[0] + vectors[1]) < 1e-12, "row 0 is (1, -1)/sqrt 2: \(vectors)")
        let root = try LinearAlgebra.squareRoot(ofPSD: [4, 0, 0, 9], order: 2)
        #expect(zip(root, [2.0, 0, 0, 3]).allSatisfy { abs($0 - $1) < 1e-12 })
        let t = 0.25
        let angles = try LinearAlgebra.principalAngles([1, 0, 0, 0, 1, 0], [cos(t), 0, sin(t), 0, 1, 0], dimension: 3)
        #expect(angles.count == 2 && abs(angles[0]) < 1e-12 && abs(angles[1] - t) < 1e-12)
        #expect(throws: KernelError.self) { try LinearAlgebra.principalAngles([1, 0, 2, 0], [0, 1], dimension: 2) }
    }

    @Test("one-hot codes: plane y of each item is ones")
    func oneHot() throws {
        let device = try Device("cpu", threads: 1)
        let code = try OneHot(classes: 3, positionShape: [2, 2], maxBatch: 4, on: device)
        let v = try code.set([2, 0]).read()
        #expect(code.output.shape == [2, 3, 2, 2])
        let want: [Float] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(v == want)
        #expect(try code.set([1]).read() == [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
    }
}
