/*
 * linalg.c -- double-precision linear algebra on host arrays, with no backend: the mean and
 * covariance of samples, symmetric eigendecompositions, principal angles between subspaces,
 * the square root of a positive semi-definite matrix and the Frechet distance of two
 * Gaussians. LAPACK comes from OpenBLAS (Debian's libopenblas carries it); its Fortran entry
 * points are declared here with gfortran's hidden string lengths, so no LAPACKE is needed.
 *
 * Row-major [r, c] arrays are column-major [c, r] ones for LAPACK: a matrix whose rows are
 * vectors reaches LAPACK as the matrix whose columns are those vectors.
 */
#include "backend_impl.h"
#include "cpu/cpu.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
                    double *w, double *work, const int *lwork, int *iwork, const int *liwork,
                    int *info, size_t jobz_len, size_t uplo_len);
extern void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda,
                    double *s, double *u, const int *ldu, double *vt, const int *ldvt, double *work,
                    const int *lwork, int *iwork, int *info, size_t jobz_len);
extern void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau,
                    double *work, const int *lwork, int *info);
extern void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda,
                    const double *tau, double *work, const int *lwork, int *info);

#define CHECK(cond, status, ...)                                                          \
    do {                                                                                  \
        if (!(cond)) return ck_fail(status, __VA_ARGS__);                                  \
    } while (0)

static int all_finite(const double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* Eigenvalues ascending into w, and with vectors (a overwritten, row i the vector of w[i])
 * unless values_only. */
static ck_status eigen(const char *fn, int n, double *a, double *w, int values_only) {
    cpu_openblas_tune();
    const char jobz = values_only ? 'N' : 'V', uplo = 'U';
    int lwork = -1, liwork = -1, iwq = 0, info = 0;
    double wq = 0;
    dsyevd_(&jobz, &uplo, &n, a, &n, w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
    CHECK(info == 0, CK_ERR_BACKEND, "%s: dsyevd workspace query failed (info %d)", fn, info);
    lwork = (int)wq;
    liwork = iwq;
    double *work = malloc((size_t)lwork * sizeof *work);
    int *iwork = malloc((size_t)liwork * sizeof *iwork);
    if (!work || !iwork) {
        free(work);
        free(iwork);
        return ck_fail(CK_ERR_MEMORY, "%s: no memory for the workspace of order %d", fn, n);
    }
    dsyevd_(&jobz, &uplo, &n, a, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    free(work);
    free(iwork);
    CHECK(info == 0, CK_ERR_BACKEND, "%s: dsyevd did not converge (info %d)", fn, info);
    return CK_OK;
}

/* Singular values, descending, of the column-major m x n matrix a (destroyed). */
static ck_status singular_values(const char *fn, int m, int n, double *a, double *s) {
    const char jobz = 'N';
    int lwork = -1, info = 0, one = 1;
    double wq = 0, dummy = 0;
    int k = m < n ? m : n;
    int *iwork = malloc((size_t)8 * k * sizeof *iwork);
    CHECK(iwork != NULL, CK_ERR_MEMORY, "%s: no memory", fn);
    dgesdd_(&jobz, &m, &n, a, &m, s, &dummy, &one, &dummy, &one, &wq, &lwork, iwork, &info, 1);
    lwork = (int)wq;
    double *work = malloc((size_t)(lwork > 1 ? lwork : 1) * sizeof *work);
    if (!work) {
        free(iwork);
        return ck_fail(CK_ERR_MEMORY, "%s: no memory for the workspace", fn);
    }
    if (info == 0) dgesdd_(&jobz, &m, &n, a, &m, s, &dummy, &one, &dummy, &one, work, &lwork, iwork, &info, 1);
    free(work);
    free(iwork);
    CHECK(info == 0, CK_ERR_BACKEND, "%s: dgesdd failed (info %d)", fn, info);
    return CK_OK;
}

/* Orthonormal columns q (column-major d x k) spanning the rows of v ([k, d] row-major). */
static ck_status orthonormalize(const char *fn, const char *name, int d, int k, const double *v,
                                double *q) {
    memcpy(q, v, (size_t)d * k * sizeof *q);
    double *tau = malloc((size_t)k * sizeof *tau), wq = 0;
    CHECK(tau != NULL, CK_ERR_MEMORY, "%s: no memory", fn);
    int lwork = -1, info = 0;
    dgeqrf_(&d, &k, q, &d, tau, &wq, &lwork, &info);
    lwork = (int)wq;
    int lwork2 = -1;
    dorgqr_(&d, &k, &k, q, &d, tau, &wq, &lwork2, &info);
    if ((int)wq > lwork) lwork = (int)wq;
    double *work = malloc((size_t)(lwork > 1 ? lwork : 1) * sizeof *work);
    if (!work) {
        free(tau);
        return ck_fail(CK_ERR_MEMORY, "%s: no memory", fn);
    }
    dgeqrf_(&d, &k, q, &d, tau, work, &lwork, &info);
    /* R's diagonal tells a rank-deficient set apart. */
    double largest = 0, smallest = INFINITY;
    for (int i = 0; i < k; i++) {
        double r = fabs(q[(size_t)i * d + i]);
        if (r > largest) largest = r;
        if (r < smallest) smallest = r;
    }
    if (info == 0 && !(smallest > 1e-10 * largest)) {
        free(work);
        free(tau);
        return ck_fail(CK_ERR_ARGUMENT, "%s: the rows of %s are linearly dependent", fn, name);
    }
    if (info == 0) dorgqr_(&d, &k, &k, q, &d, tau, work, &lwork, &info);
    free(work);
    free(tau);
    CHECK(info == 0, CK_ERR_BACKEND, "%s: QR factorization failed (info %d)", fn, info);
    return CK_OK;
}

ck_status ck_host_covariance(size_t n, int d, const float *x, double *mean, double *cov) {
    CHECK(n >= 2 && d > 0, CK_ERR_ARGUMENT, "ck_host_covariance: needs n >= 2 samples and d > 0 (n %zu, d %d)", n, d);
    CHECK(x && mean && cov, CK_ERR_ARGUMENT, "ck_host_covariance: NULL argument");
    cpu_openblas_tune();
    for (int j = 0; j < d; j++) mean[j] = 0;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mean[j] += x[i * d + j];
    for (int j = 0; j < d; j++) mean[j] /= (double)n;
    CHECK(all_finite(mean, (size_t)d), CK_ERR_ARGUMENT, "ck_host_covariance: the samples contain NaN or infinity");
    /* Centred rows in double, a chunk at a time, accumulated by dsyrk into the upper triangle. */
    const size_t chunk = 1024;
    double *c = malloc(chunk * (size_t)d * sizeof *c);
    CHECK(c != NULL, CK_ERR_MEMORY, "ck_host_covariance: no memory");
    memset(cov, 0, (size_t)d * d * sizeof *cov);
    for (size_t start = 0; start < n; start += chunk) {
        size_t rows = n - start < chunk ? n - start : chunk;
        for (size_t i = 0; i < rows; i++)
            for (int j = 0; j < d; j++) c[i * d + j] = x[(start + i) * d + j] - mean[j];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, (int)rows, 1.0, c, d, 1.0, cov, d);
    }
    free(c);
    for (int i = 0; i < d; i++)
        for (int j = i; j < d; j++) {
            cov[(size_t)i * d + j] /= (double)(n - 1);
            cov[(size_t)j * d + i] = cov[(size_t)i * d + j];
        }
    return CK_OK;
}

ck_status ck_host_symmetric_eigen(int n, double *a, double *values) {
    CHECK(n > 0, CK_ERR_ARGUMENT, "ck_host_symmetric_eigen: order %d", n);
    CHECK(a && values, CK_ERR_ARGUMENT, "ck_host_symmetric_eigen: NULL argument");
    CHECK(all_finite(a, (size_t)n * n), CK_ERR_ARGUMENT, "ck_host_symmetric_eigen: the matrix contains NaN or infinity");
    return eigen("ck_host_symmetric_eigen", n, a, values, 0);
}

ck_status ck_host_principal_angles(int d, int ka, const double *a, int kb, const double *b,
                                   double *angles) {
    const char *fn = "ck_host_principal_angles";
    CHECK(d > 0 && ka > 0 && kb > 0, CK_ERR_ARGUMENT, "%s: sizes d %d, ka %d, kb %d", fn, d, ka, kb);
    CHECK(ka <= d && kb <= d, CK_ERR_SHAPE, "%s: %d and %d vectors cannot be independent in %d dimensions", fn, ka, kb, d);
    CHECK(a && b && angles, CK_ERR_ARGUMENT, "%s: NULL argument", fn);
    CHECK(all_finite(a, (size_t)ka * d) && all_finite(b, (size_t)kb * d), CK_ERR_ARGUMENT,
          "%s: a vector contains NaN or infinity", fn);
    cpu_openblas_tune();
    /* The angles are symmetric in the two subspaces: let the first be the larger. */
    const char *name_a = "a", *name_b = "b";
    if (kb > ka) {
        const double *t = a; a = b; b = t;
        int tk = ka; ka = kb; kb = tk;
        name_a = "b";
        name_b = "a";
    }
    size_t da = (size_t)d * ka, db = (size_t)d * kb;
    double *qa = malloc(da * sizeof *qa), *qb = malloc(db * sizeof *qb);
    double *m = malloc((size_t)ka * kb * sizeof *m), *r = malloc(db * sizeof *r);
    double *cosines = malloc((size_t)kb * sizeof *cosines), *sines = malloc((size_t)kb * sizeof *sines);
    ck_status s = CK_ERR_MEMORY;
    if (!qa || !qb || !m || !r || !cosines || !sines) {
        ck_fail(s, "%s: no memory", fn);
        goto done;
    }
    if ((s = orthonormalize(fn, name_a, d, ka, a, qa)) != CK_OK) goto done;
    if ((s = orthonormalize(fn, name_b, d, kb, b, qb)) != CK_OK) goto done;
    /* m = Qa^T Qb (column-major ka x kb); r = Qb - Qa m, the part of Qb outside span(Qa). */
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, ka, kb, d, 1.0, qa, d, qb, d, 0.0, m, ka);
    memcpy(r, qb, db * sizeof *r);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, d, kb, ka, -1.0, qa, d, m, ka, 1.0, r, d);
    if ((s = singular_values(fn, ka, kb, m, cosines)) != CK_OK) goto done;
    if ((s = singular_values(fn, d, kb, r, sines)) != CK_OK) goto done;
    /* cosines descend and sines descend: angle i (ascending) has cosines[i] and sines[kb-1-i].
     * Below pi/4 the sine is the well-conditioned one. */
    for (int i = 0; i < kb; i++) {
        double cs = fmin(cosines[i], 1.0), sn = fmin(sines[kb - 1 - i], 1.0);
        angles[i] = sn < 0.70710678118654752440 ? asin(sn) : acos(cs);
    }
done:
    free(qa); free(qb); free(m); free(r); free(cosines); free(sines);
    return s;
}

/* The root of the symmetric positive semi-definite a into out, without validation. */
static ck_status sqrt_psd(const char *fn, int n, const double *a, double *out) {
    size_t nn = (size_t)n * n;
    double *v = malloc(nn * sizeof *v), *w = malloc((size_t)n * sizeof *w), *vs = malloc(nn * sizeof *vs);
    ck_status s = CK_ERR_MEMORY;
    if (!v || !w || !vs) {
        ck_fail(s, "%s: no memory for order %d", fn, n);
        goto done;
    }
    memcpy(v, a, nn * sizeof *v);
    if ((s = eigen(fn, n, v, w, 0)) != CK_OK) goto done;
    /* out = V^T diag(sqrt w) V with row i of v the eigenvector i. */
    for (int i = 0; i < n; i++) {
        double r = sqrt(fmax(w[i], 0.0));
        for (int j = 0; j < n; j++) vs[(size_t)i * n + j] = r * v[(size_t)i * n + j];
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, n, 1.0, v, n, vs, n, 0.0, out, n);
done:
    free(v); free(w); free(vs);
    return s;
}

ck_status ck_host_sqrt_psd(int n, const double *a, double *out) {
    CHECK(n > 0, CK_ERR_ARGUMENT, "ck_host_sqrt_psd: order %d", n);
    CHECK(a && out, CK_ERR_ARGUMENT, "ck_host_sqrt_psd: NULL argument");
    CHECK(all_finite(a, (size_t)n * n), CK_ERR_ARGUMENT, "ck_host_sqrt_psd: the matrix contains NaN or infinity");
    cpu_openblas_tune();
    return sqrt_psd("ck_host_sqrt_psd", n, a, out);
}

ck_status ck_host_frechet_distance(int d, const double *mu1, const double *cov1, const double *mu2,
                                   const double *cov2, double *out) {
    const char *fn = "ck_host_frechet_distance";
    CHECK(d > 0, CK_ERR_ARGUMENT, "%s: dimension %d", fn, d);
    CHECK(mu1 && cov1 && mu2 && cov2 && out, CK_ERR_ARGUMENT, "%s: NULL argument", fn);
    size_t dd = (size_t)d * d;
    CHECK(all_finite(mu1, (size_t)d) && all_finite(mu2, (size_t)d) && all_finite(cov1, dd) && all_finite(cov2, dd),
          CK_ERR_ARGUMENT, "%s: a mean or covariance contains NaN or infinity", fn);
    cpu_openblas_tune();
    double *root = malloc(dd * sizeof *root), *t = malloc(dd * sizeof *t), *m = malloc(dd * sizeof *m);
    double *w = malloc((size_t)d * sizeof *w);
    ck_status s = CK_ERR_MEMORY;
    if (!root || !t || !m || !w) {
        ck_fail(s, "%s: no memory for dimension %d", fn, d);
        goto done;
    }
    /* tr sqrt(cov1 cov2) = tr sqrt(R cov2 R) with R = cov1^1/2: the same eigenvalues, of a
     * symmetric positive semi-definite matrix. */
    if ((s = sqrt_psd(fn, d, cov1, root)) != CK_OK) goto done;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, root, d, cov2, d, 0.0, t, d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, t, d, root, d, 0.0, m, d);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < i; j++) {
            double avg = 0.5 * (m[(size_t)i * d + j] + m[(size_t)j * d + i]);
            m[(size_t)i * d + j] = m[(size_t)j * d + i] = avg;
        }
    if ((s = eigen(fn, d, m, w, 1)) != CK_OK) goto done;
    double dist = 0;
    for (int i = 0; i < d; i++) {
        double diff = mu1[i] - mu2[i];
        dist += diff * diff + cov1[(size_t)i * d + i] + cov2[(size_t)i * d + i] - 2 * sqrt(fmax(w[i], 0.0));
    }
    *out = dist;
done:
    free(root); free(t); free(m); free(w);
    return s;
}
