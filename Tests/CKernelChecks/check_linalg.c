/*
 * check_linalg.c -- the host linear algebra against double-precision references written out
 * here: the covariance against direct sums, eigenvalues against a cyclic Jacobi iteration
 * (and A v = lambda v, orthonormal vectors), principal angles of subspaces built with known
 * angles (down to 1e-9 rad), the square root of a positive (semi-)definite matrix against
 * the Denman-Beavers iteration, and the Frechet distance against the same iteration applied
 * to the non-symmetric product cov1 cov2 and against the closed form for diagonal
 * covariances; the argument checks. The operations use no backend: the group runs the same
 * on every device.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- references */

/* c = a b for n x n row-major matrices. */
static void matmul(int n, const double *a, const double *b, double *c) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
            c[i * n + j] = s;
        }
}

/* Inverse by Gauss-Jordan elimination with partial pivoting. */
static void inverse(int n, const double *a, double *out) {
    double *m = malloc((size_t)n * 2 * n * sizeof *m);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 2 * n; j++) m[i * 2 * n + j] = j < n ? a[i * n + j] : (j - n == i);
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(m[r * 2 * n + c]) > fabs(m[p * 2 * n + c])) p = r;
        for (int j = 0; j < 2 * n; j++) {
            double t = m[c * 2 * n + j];
            m[c * 2 * n + j] = m[p * 2 * n + j];
            m[p * 2 * n + j] = t;
        }
        double pivot = m[c * 2 * n + c];
        for (int j = 0; j < 2 * n; j++) m[c * 2 * n + j] /= pivot;
        for (int r = 0; r < n; r++) {
            if (r == c) continue;
            double f = m[r * 2 * n + c];
            for (int j = 0; j < 2 * n; j++) m[r * 2 * n + j] -= f * m[c * 2 * n + j];
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) out[i * n + j] = m[i * 2 * n + n + j];
    free(m);
}

/* The principal square root of a matrix with eigenvalues off the closed negative axis, by the
 * Denman-Beavers iteration Y <- (Y + Z^-1) / 2, Z <- (Z + Y^-1) / 2 from Y = A, Z = I. */
static void denman_beavers(int n, const double *a, double *root) {
    size_t nn = (size_t)n * n;
    double *y = malloc(nn * 8), *z = malloc(nn * 8), *yi = malloc(nn * 8), *zi = malloc(nn * 8);
    memcpy(y, a, nn * 8);
    for (size_t i = 0; i < nn; i++) z[i] = (i % (n + 1)) == 0;
    for (int it = 0; it < 100; it++) {
        inverse(n, y, yi);
        inverse(n, z, zi);
        double change = 0;
        for (size_t i = 0; i < nn; i++) {
            double ny = 0.5 * (y[i] + zi[i]);
            change = fmax(change, fabs(ny - y[i]));
            y[i] = ny;
            z[i] = 0.5 * (z[i] + yi[i]);
        }
        if (change < 1e-15) break;
    }
    memcpy(root, y, nn * 8);
    free(y); free(z); free(yi); free(zi);
}

/* Eigenvalues of a symmetric matrix by cyclic Jacobi rotations, sorted ascending. */
static void jacobi_eigenvalues(int n, const double *a, double *values) {
    double *m = malloc((size_t)n * n * 8);
    memcpy(m, a, (size_t)n * n * 8);
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) off += m[p * n + q] * m[p * n + q];
        if (off < 1e-30) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                if (fabs(m[p * n + q]) < 1e-300) continue;
                double theta = (m[q * n + q] - m[p * n + p]) / (2 * m[p * n + q]);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) { /* columns p, q */
                    double kp = m[k * n + p], kq = m[k * n + q];
                    m[k * n + p] = c * kp - s * kq;
                    m[k * n + q] = s * kp + c * kq;
                }
                for (int k = 0; k < n; k++) { /* rows p, q */
                    double pk = m[p * n + k], qk = m[q * n + k];
                    m[p * n + k] = c * pk - s * qk;
                    m[q * n + k] = s * pk + c * qk;
                }
            }
    }
    for (int i = 0; i < n; i++) values[i] = m[i * n + i];
    for (int i = 1; i < n; i++) /* insertion sort */
        for (int j = i; j > 0 && values[j - 1] > values[j]; j--) {
            double t = values[j];
            values[j] = values[j - 1];
            values[j - 1] = t;
        }
    free(m);
}

/* A random symmetric positive definite matrix B B^T / n + shift I. */
static void random_spd(ckc_rng *r, int n, double shift, double *a) {
    double *b = malloc((size_t)n * n * 8);
    for (int i = 0; i < n * n; i++) b[i] = ckc_uniform(r, -1, 1);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += b[i * n + k] * b[j * n + k];
            a[i * n + j] = s / n + (i == j) * shift;
        }
    free(b);
}

static double max_abs_diff(const double *a, const double *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

/* ---------------------------------------------------------------- cases */

static void covariance_case(ckc *c, ckc_rng *r, size_t n, int d) {
    float *x = malloc(n * d * 4);
    for (size_t i = 0; i < n * d; i++) x[i] = (float)ckc_uniform(r, -1, 1) + 3.0f * (float)(i % d);
    double *mean = malloc(d * 8), *cov = malloc((size_t)d * d * 8);
    double *rm = calloc(d, 8), *rc = calloc((size_t)d * d, 8);
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) rm[j] += x[i * d + j] / (double)n;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            for (int k = 0; k < d; k++) rc[j * d + k] += (x[i * d + j] - rm[j]) * (x[i * d + k] - rm[k]) / (double)(n - 1);
    if (ckc_ok(c, ck_host_covariance(n, d, x, mean, cov), "ck_host_covariance")) {
        double em = max_abs_diff(mean, rm, d), ec = max_abs_diff(cov, rc, (size_t)d * d);
        ckc_expect(c, em <= 1e-12 && ec <= 1e-12, "covariance n %zu d %d: mean err %.3g, cov err %.3g", n, d, em, ec);
    }
    free(x); free(mean); free(cov); free(rm); free(rc);
}

static void eigen_case(ckc *c, ckc_rng *r, int n) {
    size_t nn = (size_t)n * n;
    double *a = malloc(nn * 8), *v = malloc(nn * 8), *w = malloc(n * 8), *ref = malloc(n * 8);
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = ckc_uniform(r, -2, 2);
    memcpy(v, a, nn * 8);
    if (!ckc_ok(c, ck_host_symmetric_eigen(n, v, w), "ck_host_symmetric_eigen")) goto done;
    jacobi_eigenvalues(n, a, ref);
    double ev = max_abs_diff(w, ref, n), residual = 0, orth = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < n; k++) {
            double av = 0;
            for (int j = 0; j < n; j++) av += a[k * n + j] * v[i * n + j];
            residual = fmax(residual, fabs(av - w[i] * v[i * n + k]));
        }
        for (int j = 0; j < n; j++) {
            double dot = 0;
            for (int k = 0; k < n; k++) dot += v[i * n + k] * v[j * n + k];
            orth = fmax(orth, fabs(dot - (i == j)));
        }
    }
    ckc_expect(c, ev <= 1e-10 * n && residual <= 1e-10 * n && orth <= 1e-12 * n,
               "eigen n %d: eigenvalues vs Jacobi %.3g, residual |Av - lv| %.3g, orthonormality %.3g", n, ev,
               residual, orth);
done:
    free(a); free(v); free(w); free(ref);
}

/* Subspaces of R^d with chosen angles: a spans e_0..e_{k-1}; b spans cos t_i e_i + sin t_i
 * e_{k+i}; both given through random invertible combinations of their rows. */
static void angles_case(ckc *c, ckc_rng *r, int d, int k, const double *t, int swap) {
    double *a = calloc((size_t)k * d, 8), *b = calloc((size_t)k * d, 8), *got = malloc(k * 8);
    double *basis_a = calloc((size_t)k * d, 8), *basis_b = calloc((size_t)k * d, 8);
    for (int i = 0; i < k; i++) {
        basis_a[i * d + i] = 1;
        basis_b[i * d + i] = cos(t[i]);
        basis_b[i * d + k + i] = sin(t[i]);
    }
    for (int i = 0; i < k; i++) /* row i = basis row i + 0.5 * random combination of the others */
        for (int j = 0; j < k; j++) {
            double fa = i == j ? 1 : 0.5 * ckc_uniform(r, -1, 1), fb = i == j ? 1 : 0.5 * ckc_uniform(r, -1, 1);
            for (int x = 0; x < d; x++) {
                a[i * d + x] += fa * basis_a[j * d + x];
                b[i * d + x] += fb * basis_b[j * d + x];
            }
        }
    double *sorted = malloc(k * 8);
    memcpy(sorted, t, k * 8);
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            double x = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = x;
        }
    ck_status s = swap ? ck_host_principal_angles(d, k, b, k, a, got) : ck_host_principal_angles(d, k, a, k, b, got);
    if (ckc_ok(c, s, "ck_host_principal_angles")) {
        for (int i = 0; i < k; i++) {
            double tol = sorted[i] < 1e-3 ? 1e-12 : 1e-10;  /* small angles: relative accuracy */
            ckc_expect(c, fabs(got[i] - sorted[i]) <= tol + 1e-6 * sorted[i], "angle %d of d %d k %d: %.15g, want %.15g", i,
                       d, k, got[i], sorted[i]);
        }
    }
    free(a); free(b); free(got); free(basis_a); free(basis_b); free(sorted);
}

static void sqrt_case(ckc *c, ckc_rng *r, int n, double shift) {
    size_t nn = (size_t)n * n;
    double *a = malloc(nn * 8), *x = malloc(nn * 8), *xx = malloc(nn * 8), *ref = malloc(nn * 8);
    random_spd(r, n, shift, a);
    if (ckc_ok(c, ck_host_sqrt_psd(n, a, x), "ck_host_sqrt_psd")) {
        denman_beavers(n, a, ref);
        matmul(n, x, x, xx);
        double e = max_abs_diff(x, ref, nn), sq = max_abs_diff(xx, a, nn);
        ckc_expect(c, e <= 1e-10 && sq <= 1e-10, "sqrt n %d: vs Denman-Beavers %.3g, |XX - A| %.3g", n, e, sq);
    }
    free(a); free(x); free(xx); free(ref);
}

/* A singular positive semi-definite matrix (rank n / 2): X X = A, X symmetric, and X in place. */
static void sqrt_singular(ckc *c, ckc_rng *r, int n) {
    size_t nn = (size_t)n * n;
    double *b = malloc(nn * 8), *a = calloc(nn, 8), *x = malloc(nn * 8), *xx = malloc(nn * 8);
    for (size_t i = 0; i < nn; i++) b[i] = ckc_uniform(r, -1, 1);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int k = 0; k < n / 2; k++) a[i * n + j] += b[i * n + k] * b[j * n + k];
    if (ckc_ok(c, ck_host_sqrt_psd(n, a, x), "ck_host_sqrt_psd")) {
        matmul(n, x, x, xx);
        double sym = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) sym = fmax(sym, fabs(x[i * n + j] - x[j * n + i]));
        double sq = max_abs_diff(xx, a, nn);
        ckc_expect(c, sq <= 1e-7 && sym <= 1e-12, "singular sqrt n %d: |XX - A| %.3g, asymmetry %.3g", n, sq, sym);
        memcpy(xx, a, nn * 8);
        ckc_ok(c, ck_host_sqrt_psd(n, xx, xx), "ck_host_sqrt_psd in place");
        ckc_expect(c, max_abs_diff(xx, x, nn) <= 1e-12, "sqrt in place differs");
    }
    free(b); free(a); free(x); free(xx);
}

static void frechet_case(ckc *c, ckc_rng *r, int d) {
    size_t dd = (size_t)d * d;
    double *c1 = malloc(dd * 8), *c2 = malloc(dd * 8), *p = malloc(dd * 8), *root = malloc(dd * 8);
    double *m1 = malloc(d * 8), *m2 = malloc(d * 8), got = -1;
    random_spd(r, d, 0.1, c1);
    random_spd(r, d, 0.05, c2);
    for (int i = 0; i < d; i++) {
        m1[i] = ckc_uniform(r, -1, 1);
        m2[i] = ckc_uniform(r, -1, 1);
    }
    if (ckc_ok(c, ck_host_frechet_distance(d, m1, c1, m2, c2, &got), "ck_host_frechet_distance")) {
        matmul(d, c1, c2, p);
        denman_beavers(d, p, root);
        double ref = 0;
        for (int i = 0; i < d; i++)
            ref += (m1[i] - m2[i]) * (m1[i] - m2[i]) + c1[i * d + i] + c2[i * d + i] - 2 * root[i * d + i];
        ckc_expect(c, fabs(got - ref) <= 1e-9 * fmax(1, fabs(ref)), "frechet d %d: %.15g, reference %.15g", d, got, ref);
        ckc_ok(c, ck_host_frechet_distance(d, m1, c1, m1, c1, &got), "ck_host_frechet_distance");
        ckc_expect(c, fabs(got) <= 1e-9, "frechet of a Gaussian with itself: %.3g", got);
    }
    /* Diagonal covariances: |mu1 - mu2|^2 + sum (sqrt a_i - sqrt b_i)^2. */
    memset(c1, 0, dd * 8);
    memset(c2, 0, dd * 8);
    double closed = 0;
    for (int i = 0; i < d; i++) {
        c1[i * d + i] = ckc_uniform(r, 0, 2);
        c2[i * d + i] = i % 3 == 0 ? 0 : ckc_uniform(r, 0, 2); /* singular too */
        double s = sqrt(c1[i * d + i]) - sqrt(c2[i * d + i]);
        closed += (m1[i] - m2[i]) * (m1[i] - m2[i]) + s * s;
    }
    if (ckc_ok(c, ck_host_frechet_distance(d, m1, c1, m2, c2, &got), "ck_host_frechet_distance"))
        ckc_expect(c, fabs(got - closed) <= 1e-10 * fmax(1, closed), "diagonal frechet d %d: %.15g, closed form %.15g", d,
                   got, closed);
    free(c1); free(c2); free(p); free(root); free(m1); free(m2);
}

static void errors(ckc *c) {
    double a[4] = {1, 0, 0, 1}, w[2], out;
    float x[4] = {1, 2, 3, 4};
    ckc_expect(c, ck_host_covariance(1, 2, x, w, a) == CK_ERR_ARGUMENT, "covariance of one sample accepted");
    ckc_expect(c, ck_host_covariance(2, 2, NULL, w, a) == CK_ERR_ARGUMENT, "NULL samples accepted");
    ckc_expect(c, ck_host_symmetric_eigen(0, a, w) == CK_ERR_ARGUMENT, "order 0 accepted");
    double bad[4] = {1, NAN, NAN, 1};
    ckc_expect(c, ck_host_symmetric_eigen(2, bad, w) == CK_ERR_ARGUMENT, "NaN matrix accepted");
    ckc_expect(c, ck_host_sqrt_psd(2, bad, a) == CK_ERR_ARGUMENT, "NaN sqrt accepted");
    ckc_expect(c, ck_host_frechet_distance(2, w, a, w, bad, &out) == CK_ERR_ARGUMENT, "NaN covariance accepted");
    ckc_expect(c, ck_host_frechet_distance(2, w, a, NULL, a, &out) == CK_ERR_ARGUMENT, "NULL mean accepted");
    double dep[6] = {1, 2, 3, 2, 4, 6}, other[3] = {1, 0, 0};
    ckc_expect(c, ck_host_principal_angles(3, 2, dep, 1, other, w) == CK_ERR_ARGUMENT, "dependent rows accepted");
    ckc_expect(c, ck_host_principal_angles(2, 3, dep, 1, other, w) == CK_ERR_SHAPE, "3 vectors in 2-D accepted");
}

void ckc_check_linalg(ckc *c) {
    ckc_rng r = {0x4C494E414C47};
    covariance_case(c, &r, 2, 1);
    covariance_case(c, &r, 37, 5);
    covariance_case(c, &r, 2500, 9); /* more than one chunk */
    for (int n = 1; n <= 8; n++) eigen_case(c, &r, n);
    eigen_case(c, &r, 40);
    const double t1[3] = {0.3, 1.2, 1e-9}, t2[4] = {1e-5, 0.7, 1.57079632679489661923, 0.2}, t3[1] = {0.6};
    angles_case(c, &r, 8, 3, t1, 0);
    angles_case(c, &r, 9, 4, t2, 1);
    angles_case(c, &r, 2, 1, t3, 0);
    /* Subspaces of different dimensions: the angles of the smaller one. */
    double a[2 * 4] = {1, 0, 0, 0, 0, 1, 0, 0}, b[4] = {0, cos(0.4), sin(0.4), 0}, got[1];
    if (ckc_ok(c, ck_host_principal_angles(4, 2, a, 1, b, got), "ck_host_principal_angles"))
        ckc_expect(c, fabs(got[0] - 0.4) <= 1e-12, "angle between a plane and a line: %.15g, want 0.4", got[0]);
    if (ckc_ok(c, ck_host_principal_angles(4, 1, b, 2, a, got), "ck_host_principal_angles"))
        ckc_expect(c, fabs(got[0] - 0.4) <= 1e-12, "angle between a line and a plane: %.15g, want 0.4", got[0]);
    sqrt_case(c, &r, 1, 0.5);
    sqrt_case(c, &r, 6, 0.2);
    sqrt_case(c, &r, 30, 0.05);
    sqrt_singular(c, &r, 12);
    frechet_case(c, &r, 1);
    frechet_case(c, &r, 7);
    frechet_case(c, &r, 32);
    errors(c);
}
