/*
 * check_random.c -- random_normal: mean and variance within 6 standard errors over 2^20
 * values, the same values on 1 and 2 threads and for any split of the stream (counter
 * offsets), and the same as the CPU backend's (err <= 1e-5) on other devices;
 * random_bernoulli: 0/1 only, frequency within 6 standard errors, exact at p = 0 and 1,
 * in place; reparameterize forward and backward against double (err <= 1e-5) and the
 * backward formula against central differences. The host generator: ck_random_bits equals
 * the mix formula (counters that wrap included), ck_host_random_normal equals the CPU
 * backend's ck_random_normal bit for bit (and this device's within 1e-5),
 * ck_host_random_uniform gives exactly ck_random_bernoulli's decisions (u < p, with p at u
 * and just above it), and both have the right mean and variance within 6 standard errors.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N (1u << 20)

static float *normals(ckc *c, ck_backend *be, size_t count, uint64_t seed, uint64_t counter) {
    ck_buffer *b = NULL;
    if (!ckc_ok(c, ck_buffer_new(be, count, &b), "ck_buffer_new")) return NULL;
    ckc_ok(c, ck_random_normal(count, seed, counter, b), "ck_random_normal");
    float *x = ckc_download(c, b, count);
    ck_buffer_free(b);
    return x;
}

static void normal_checks(ckc *c) {
    float *x = normals(c, c->be, N, 1234, 0);
    if (!x) return;
    double s = 0, s2 = 0;
    int finite = 1;
    for (size_t i = 0; i < N; i++) s += x[i], s2 += (double)x[i] * x[i], finite &= isfinite(x[i]);
    double mean = s / N, var = s2 / N - mean * mean;
    ckc_expect(c, finite, "random_normal produced a non-finite value");
    ckc_expect(c, fabs(mean) < 6 / sqrt(N), "random_normal mean %g", mean);
    ckc_expect(c, fabs(var - 1) < 6 * sqrt(2.0 / N), "random_normal variance %g", var);

    /* a later window of the stream equals the same counters of the whole */
    float *part = normals(c, c->be, 1000, 1234, 777);
    if (part) ckc_expect(c, memcmp(part, x + 777, 1000 * 4) == 0, "random_normal depends on the split");
    free(part);

    /* thread counts 1 and 2 on this device give identical values */
    for (int threads = 1; threads <= 2; threads++) {
        ck_backend *be = NULL;
        if (!ckc_ok(c, ck_backend_open(c->device, threads, &be), "ck_backend_open")) continue;
        float *y = normals(c, be, N, 1234, 0);
        if (y) ckc_expect(c, memcmp(x, y, (size_t)N * 4) == 0, "random_normal differs on %d threads", threads);
        free(y);
        ck_backend_close(be);
    }
    /* other devices agree with the CPU up to float rounding */
    if (strcmp(ck_backend_kind(c->be), "cpu") != 0) {
        ck_backend *cpu = NULL;
        if (ckc_ok(c, ck_backend_open("cpu", 2, &cpu), "ck_backend_open(cpu)")) {
            float *y = normals(c, cpu, N, 1234, 0);
            double e = y ? ckc_err_ff(x, y, N) : 1;
            ckc_expect(c, e <= 1e-5, "random_normal differs from the CPU backend: err %.3g", e);
            free(y);
            ck_backend_close(cpu);
        }
    }
    free(x);
}

static void bernoulli_checks(ckc *c, ckc_rng *r) {
    float *p = malloc((size_t)N * 4);
    double expect = 0, var = 0;
    for (size_t i = 0; i < N; i++) {
        p[i] = i % 7 == 0 ? 0.0f : i % 7 == 1 ? 1.0f : (float)ckc_uniform(r, 0, 1);
        expect += p[i];
        var += p[i] * (1.0 - p[i]);
    }
    ck_buffer *bp = ckc_upload(c, p, N), *bo = ckc_upload(c, NULL, N);
    ckc_ok(c, ck_random_bernoulli(N, 99, 5, bp, bo), "ck_random_bernoulli");
    float *o = ckc_download(c, bo, N);
    if (o) {
        double ones = 0;
        int binary = 1, edges = 1;
        for (size_t i = 0; i < N; i++) {
            ones += o[i];
            binary &= o[i] == 0.0f || o[i] == 1.0f;
            if (p[i] == 0.0f) edges &= o[i] == 0.0f;
            if (p[i] == 1.0f) edges &= o[i] == 1.0f;
        }
        ckc_expect(c, binary, "random_bernoulli wrote values other than 0 and 1");
        ckc_expect(c, edges, "random_bernoulli missed p = 0 or p = 1");
        ckc_expect(c, fabs(ones - expect) < 6 * sqrt(var), "random_bernoulli: %g ones, expected %g", ones, expect);
        /* in place */
        ckc_ok(c, ck_random_bernoulli(N, 99, 5, bp, bp), "ck_random_bernoulli in place");
        float *q = ckc_download(c, bp, N);
        if (q) ckc_expect(c, memcmp(q, o, (size_t)N * 4) == 0, "random_bernoulli in place differs");
        free(q);
    }
    free(o); free(p);
    ck_buffer_free(bp); ck_buffer_free(bo);
}

/* The generator's mix (backend_impl.h), restated as the reference for ck_random_bits. */
static uint64_t ref_mix64(uint64_t seed, uint64_t counter) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + counter;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    z = (z + 0x9E3779B97F4A7C15ull) * 0xBF58476D1CE4E5B9ull;
    return z ^ (z >> 29);
}

/* Mean and variance of n floats, in double. */
static void moments(const float *x, size_t n, double *mean, double *var) {
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) s += x[i], s2 += (double)x[i] * x[i];
    *mean = s / n;
    *var = s2 / n - *mean * *mean;
}

static void host_checks(ckc *c) {
    /* ck_random_bits: the formula, at edge and scattered stream positions */
    const uint64_t edges[] = {0, 1, 2, UINT64_MAX - 1, UINT64_MAX};
    int same = 1;
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) same &= ck_random_bits(edges[a], edges[b]) == ref_mix64(edges[a], edges[b]);
    for (uint64_t t = 0; t < 1000; t++) {
        uint64_t seed = ref_mix64(t, 1), counter = ref_mix64(t, 2);
        same &= ck_random_bits(seed, counter) == ref_mix64(seed, counter);
    }
    ckc_expect(c, same, "ck_random_bits differs from the mix formula");

    /* normals: a stream whose counters wrap past 2^64 */
    const uint64_t seed = 0xC0FFEE, counter = UINT64_MAX - 1000;
    float *h = malloc((size_t)N * 4), *u = malloc((size_t)N * 4);
    ck_host_random_normal(N, seed, counter, h);
    ck_host_random_uniform(N, seed, counter, u);
    int wrap = 1; /* positions 1000 and on have wrapped */
    for (size_t i = 0; i < 2000; i++) {
        uint64_t bits = ref_mix64(seed, counter + i);
        wrap &= u[i] == ((float)(bits >> 40) + 0.5f) * (1.0f / 16777216.0f);
    }
    ckc_expect(c, wrap, "ck_host_random_uniform differs from the top 24 bits of the mix");
    double mean, var;
    moments(h, N, &mean, &var);
    ckc_expect(c, fabs(mean) < 6 / sqrt(N) && fabs(var - 1) < 6 * sqrt(2.0 / N),
               "ck_host_random_normal: mean %g variance %g", mean, var);
    moments(u, N, &mean, &var);
    int in_range = 1;
    for (size_t i = 0; i < N; i++) in_range &= u[i] > 0.0f && u[i] <= 1.0f;
    ckc_expect(c, in_range, "ck_host_random_uniform left (0, 1]");
    ckc_expect(c, fabs(mean - 0.5) < 6 * sqrt(1.0 / 12 / N) && fabs(var - 1.0 / 12) < 6 * sqrt(1.0 / 180 / N),
               "ck_host_random_uniform: mean %g variance %g", mean, var);
    float *part = malloc(1000 * 4);
    ck_host_random_normal(1000, seed, counter + 777, part);
    ckc_expect(c, memcmp(part, h + 777, 1000 * 4) == 0, "ck_host_random_normal depends on the split");
    free(part);

    /* bit for bit the CPU backend's stream; this device's up to float rounding */
    int cpu_here = strcmp(ck_backend_kind(c->be), "cpu") == 0;
    ck_backend *cpu = c->be;
    if (cpu_here || ckc_ok(c, ck_backend_open("cpu", 2, &cpu), "ck_backend_open(cpu)")) {
        float *x = normals(c, cpu, N, seed, counter);
        ckc_expect(c, x && memcmp(x, h, (size_t)N * 4) == 0,
                   "ck_host_random_normal differs from the CPU backend's ck_random_normal");
        free(x);
        if (!cpu_here) ck_backend_close(cpu);
    }
    if (!cpu_here) {
        float *x = normals(c, c->be, N, seed, counter);
        double e = x ? ckc_err_ff(h, x, N) : 1;
        ckc_expect(c, e <= 1e-5, "ck_host_random_normal differs from this device's: err %.3g", e);
        free(x);
    }

    /* ck_random_bernoulli decides u < p with u = ck_host_random_uniform: p at u gives 0,
     * p just above u gives 1, and any other p agrees too */
    ckc_rng r = {0x484F5354};
    float *p = malloc((size_t)N * 4);
    for (size_t i = 0; i < N; i++) {
        int kind = (int)(i % 3);
        p[i] = kind == 0 ? u[i] : kind == 1 ? (u[i] < 1.0f ? nextafterf(u[i], 2.0f) : 1.0f)
                                            : (float)ckc_uniform(&r, 0, 1);
    }
    ck_buffer *bp = ckc_upload(c, p, N), *bo = ckc_upload(c, NULL, N);
    if (bp && bo) {
        ckc_ok(c, ck_random_bernoulli(N, seed, counter, bp, bo), "ck_random_bernoulli");
        float *o = ckc_download(c, bo, N);
        size_t wrong = 0, first = N;
        for (size_t i = 0; o && i < N; i++)
            if (o[i] != (u[i] < p[i] ? 1.0f : 0.0f)) {
                if (!wrong) first = i;
                wrong++;
            }
        ckc_expect(c, o && wrong == 0,
                   "ck_random_bernoulli disagrees with u < p for %zu of %u values (first %zu: u %.9g p %.9g)",
                   wrong, N, first, first < N ? u[first] : 0.0, first < N ? p[first] : 0.0);
        free(o);
    }
    ck_buffer_free(bp); ck_buffer_free(bo);
    free(p); free(h); free(u);
}

static void reparameterize_checks(ckc *c, int batch, int latent, ckc_rng *r) {
    size_t n = (size_t)batch * latent;
    float *st = malloc(2 * n * 4), *eps = malloc(n * 4), *dz = malloc(n * 4);
    ckc_fill(r, st, 2 * n, -3, 2);
    ckc_fill(r, eps, n, -2, 2);
    ckc_fill(r, dz, n, -1, 1);
    double *z = malloc(n * 8), *ds = malloc(2 * n * 8);
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < latent; i++) {
            size_t k = (size_t)b * latent + i, m = (size_t)b * 2 * latent + i, l = m + latent;
            z[k] = st[m] + exp(st[l] / 2.0) * eps[k];
            ds[m] = dz[k];
            ds[l] = dz[k] * eps[k] * exp(st[l] / 2.0) / 2;
            /* the formula against central differences of z */
            double h = 1e-5, num = ((exp((st[l] + h) / 2) - exp((st[l] - h) / 2)) * eps[k]) / (2 * h);
            ckc_expect(c, fabs(num * dz[k] - ds[l]) <= 1e-7 * fmax(1, fabs(ds[l])),
                       "reparameterize derivative formula at lv=%g", st[l]);
        }
    ck_buffer *bs = ckc_upload(c, st, 2 * n), *be = ckc_upload(c, eps, n), *bdz = ckc_upload(c, dz, n);
    ck_buffer *bz = ckc_upload(c, NULL, n), *bds = ckc_upload(c, NULL, 2 * n);
    ckc_ok(c, ck_reparameterize(batch, latent, bs, be, bz), "ck_reparameterize");
    ckc_ok(c, ck_reparameterize_backward(batch, latent, bs, be, bdz, bds), "ck_reparameterize_backward");
    float *got = ckc_download(c, bz, n);
    double e = got ? ckc_err(got, z, n) : 1;
    ckc_expect(c, e <= 1e-5, "reparameterize: err %.3g (batch %d latent %d)", e, batch, latent);
    free(got);
    got = ckc_download(c, bds, 2 * n);
    e = got ? ckc_err(got, ds, 2 * n) : 1;
    ckc_expect(c, e <= 1e-5, "reparameterize backward: err %.3g (batch %d latent %d)", e, batch, latent);
    free(got);
    ck_buffer_free(bs); ck_buffer_free(be); ck_buffer_free(bdz); ck_buffer_free(bz); ck_buffer_free(bds);
    free(st); free(eps); free(dz); free(z); free(ds);
}

/* K candidates in turn against a reference that keeps each row's lowest score (ties and NaN
 * scores keep the earlier row). */
static void keep_best_checks(ckc *c, int batch, int width, int K, ckc_rng *r) {
    size_t n = (size_t)batch * width;
    float *score = malloc(batch * 4), *rows = malloc(n * 4), *kept = malloc(n * 4), *best = malloc(batch * 4);
    for (int i = 0; i < batch; i++) best[i] = INFINITY;
    ck_buffer *bs = ckc_upload(c, NULL, batch), *bb = ckc_upload(c, best, batch);
    ck_buffer *bc = ckc_upload(c, NULL, n), *bk = ckc_upload(c, NULL, n);
    for (int k = 0; k < K; k++) {
        ckc_fill(r, score, batch, 0, 4);
        for (int i = 0; i < batch; i += 7) score[i] = k == 1 ? NAN : score[i];
        for (int i = 3; i < batch && k > 0; i += 11) score[i] = best[i]; /* a tie keeps the earlier */
        ckc_fill(r, rows, n, -2, 2);
        for (int i = 0; i < batch; i++)
            if (score[i] < best[i]) {
                best[i] = score[i];
                memcpy(kept + (size_t)i * width, rows + (size_t)i * width, (size_t)width * 4);
            }
        if (bs && bc) {
            ckc_ok(c, ck_buffer_write(bs, 0, batch, score), "write scores");
            ckc_ok(c, ck_buffer_write(bc, 0, n, rows), "write candidates");
        }
        ckc_ok(c, ck_keep_best_rows(batch, width, bs, bb, bc, bk), "ck_keep_best_rows");
    }
    float *gotBest = ckc_download(c, bb, batch), *gotKept = ckc_download(c, bk, n);
    int same = gotBest && gotKept && memcmp(gotBest, best, batch * 4) == 0 && memcmp(gotKept, kept, n * 4) == 0;
    ckc_expect(c, same, "ck_keep_best_rows: kept rows differ from the reference (batch %d width %d, %d candidates)",
               batch, width, K);
    free(gotBest); free(gotKept);
    ck_buffer_free(bs); ck_buffer_free(bb); ck_buffer_free(bc); ck_buffer_free(bk);
    free(score); free(rows); free(kept); free(best);
}

void ckc_check_random(ckc *c) {
    ckc_rng r = {81};
    normal_checks(c);
    bernoulli_checks(c, &r);
    host_checks(c);
    reparameterize_checks(c, 1, 1, &r);
    reparameterize_checks(c, 128, 16, &r);
    reparameterize_checks(c, 300, 128, &r);
    keep_best_checks(c, 1, 1, 3, &r);
    keep_best_checks(c, 64, 128, 8, &r);
}
