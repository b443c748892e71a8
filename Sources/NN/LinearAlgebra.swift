import CKernels

/// The mean and covariance of a set of samples (features of images, pixels), in double
/// precision: what PCA and the Frechet distance start from.
public struct SampleMoments: Equatable, Sendable {
    /// Values per sample d.
    public let dimension: Int
    /// Samples they were computed from.
    public let count: Int
    /// [d].
    public let mean: [Double]
    /// [d, d] row-major, unbiased (divided by count - 1).
    public let covariance: [Double]

    public init(dimension: Int, count: Int, mean: [Double], covariance: [Double]) {
        precondition(mean.count == dimension && covariance.count == dimension * dimension, "moments of the wrong size")
        self.dimension = dimension
        self.count = count
        self.mean = mean
        self.covariance = covariance
    }

    /// The moments of `samples`, `dimension` values each, one sample after another (at least two).
    public init(samples: UnsafeBufferPointer<Float>, dimension: Int) throws {
        precondition(dimension > 0 && samples.count % dimension == 0, "samples are not whole rows of \(dimension)")
        let n = samples.count / dimension
        var mean = [Double](repeating: 0, count: dimension), cov = [Double](repeating: 0, count: dimension * dimension)
        try check(ck_host_covariance(n, Int32(dimension), samples.baseAddress, &mean, &cov))
        self.init(dimension: dimension, count: n, mean: mean, covariance: cov)
    }

    /// The moments of `samples`, `dimension` values each.
    public init(samples: [Float], dimension: Int) throws {
        self = try samples.withUnsafeBufferPointer { try SampleMoments(samples: $0, dimension: dimension) }
    }
}

/// Double-precision linear algebra on host arrays (LAPACK through OpenBLAS, in the C kernels):
/// eigendecompositions for PCA, principal angles between subspaces, the square root of a
/// positive semi-definite matrix. Matrices are row-major. For analysis after training, not
/// inside a training step (each call allocates).
public enum LinearAlgebra {
    /// The eigenvalues (ascending) of a symmetric `order` x `order` matrix, with row i of
    /// `vectors` the unit eigenvector of value i.
    public static func symmetricEigen(_ matrix: [Double], order: Int) throws -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == order * order, "a matrix of \(matrix.count) values is not \(order) x \(order)")
        var vectors = matrix, values = [Double](repeating: 0, count: order)
        try check(ck_host_symmetric_eigen(Int32(order), &vectors, &values))
        return (values, vectors)
    }

    /// The principal angles in radians, ascending, between the span of the rows of `a` and
    /// that of the rows of `b` (each row `dimension` values; both sets linearly independent).
    public static func principalAngles(_ a: [Double], _ b: [Double], dimension: Int) throws -> [Double] {
        precondition(a.count % dimension == 0 && b.count % dimension == 0, "rows are not of length \(dimension)")
        let ka = a.count / dimension, kb = b.count / dimension
        var angles = [Double](repeating: 0, count: min(ka, kb))
        try check(ck_host_principal_angles(Int32(dimension), Int32(ka), a, Int32(kb), b, &angles))
        return angles
    }

    /// The symmetric positive semi-definite square root of a symmetric positive semi-definite matrix.
    public static func squareRoot(ofPSD matrix: [Double], order: Int) throws -> [Double] {
        precondition(matrix.count == order * order, "a matrix of \(matrix.count) values is not \(order) x \(order)")
        var out = [Double](repeating: 0, count: matrix.count)
        try check(ck_host_sqrt_psd(Int32(order), matrix, &out))
        return out
    }

    /// |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2): the Frechet (2-Wasserstein)
    /// distance squared between two Gaussians, with a symmetric inner square root.
    public static func frechetDistance(_ a: SampleMoments, _ b: SampleMoments) throws -> Double {
        precondition(a.dimension == b.dimension, "moments of dimension \(a.dimension) and \(b.dimension)")
        var out = 0.0
        try check(ck_host_frechet_distance(Int32(a.dimension), a.mean, a.covariance, b.mean, b.covariance, &out))
        return out
    }
}
