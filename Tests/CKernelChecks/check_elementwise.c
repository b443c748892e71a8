/*
 * check_elementwise.c -- buffers (zeroed on creation, write/read round trips at offsets,
 * copy, fill, host pointers on the CPU), sums and sums of squares against double
 * (relative error <= 1e-12: the kernels sum floats in double) and axpby (beta = 0
 * overwrites NaN; beta = 1; general), err <= 1e-6.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void buffer_checks(ckc *c, size_t n, ckc_rng *r) {
    ck_buffer *b = ckc_upload(c, NULL, n), *d = ckc_upload(c, NULL, n);
    if (!b || !d) return;
    ckc_expect(c, ck_buffer_count(b) == n, "ck_buffer_count %zu, expected %zu", ck_buffer_count(b), n);
    float *x = ckc_download(c, b, n);
    int zero = 1;
    for (size_t i = 0; x && i < n; i++) zero &= x[i] == 0.0f;
    ckc_expect(c, zero, "a new buffer of %zu floats is not zeroed", n);
    if (strcmp(ck_backend_kind(c->be), "cpu") == 0) {
        float *h = ck_buffer_host(b);
        ckc_expect(c, h != NULL && ((uintptr_t)h & 63) == 0, "CPU buffer host %p is not 64-byte aligned", (void *)h);
    }
    float *src = malloc(n * 4), *ref = calloc(n, 4);
    ckc_fill(r, src, n, -5, 5);
    size_t off = n / 3, cnt = n - off - n / 5;
    ckc_ok(c, ck_buffer_write(b, off, cnt, src), "ck_buffer_write");
    memcpy(ref + off, src, cnt * 4);
    free(x);
    x = ckc_download(c, b, n);
    ckc_expect(c, x && memcmp(x, ref, n * 4) == 0, "write at offset %zu count %zu did not round-trip", off, cnt);
    float part[8];
    if (cnt >= 8) {
        ckc_ok(c, ck_buffer_read(b, off + 1, 7, part), "ck_buffer_read");
        ckc_expect(c, memcmp(part, src + 1, 28) == 0, "read at an offset differs");
    }
    /* copy a window, then fill another */
    ckc_ok(c, ck_copy(d, 0, b, off, cnt), "ck_copy");
    free(x);
    x = ckc_download(c, d, n);
    ckc_expect(c, x && memcmp(x, src, cnt * 4) == 0, "ck_copy differs");
    ckc_ok(c, ck_fill(d, n / 2, n - n / 2, -2.5f), "ck_fill");
    free(x);
    x = ckc_download(c, d, n);
    int filled = 1;
    for (size_t i = 0; x && i < n; i++) filled &= x[i] == (i >= n / 2 ? -2.5f : (i < cnt ? src[i] : 0.0f));
    ckc_expect(c, filled, "ck_fill of [%zu, %zu) wrong", n / 2, n);
    ckc_ok(c, ck_backend_synchronize(c->be), "ck_backend_synchronize");
    free(x); free(src); free(ref);
    ck_buffer_free(b);
    ck_buffer_free(d);
}

static void sum_checks(ckc *c, size_t n, ckc_rng *r) {
    float *x = malloc(n * 4);
    ckc_fill(r, x, n, -1, 3);
    ck_buffer *b = ckc_upload(c, x, n);
    size_t off = n > 10 ? 3 : 0, cnt = n - off;
    double s = 0, s2 = 0, got = NAN, got2 = NAN;
    for (size_t i = off; i < n; i++) s += x[i], s2 += (double)x[i] * x[i];
    ckc_ok(c, ck_sum(b, off, cnt, &got), "ck_sum");
    ckc_ok(c, ck_sum_squares(b, off, cnt, &got2), "ck_sum_squares");
    ckc_expect(c, fabs(got - s) <= 1e-12 * fmax(1, fabs(s)), "sum of %zu: %.17g, expected %.17g", cnt, got, s);
    ckc_expect(c, fabs(got2 - s2) <= 1e-12 * fmax(1, s2), "sum of squares of %zu: %.17g, expected %.17g", cnt, got2, s2);
    ckc_ok(c, ck_sum(b, 0, 0, &got), "ck_sum of nothing");
    ckc_expect(c, got == 0, "sum of nothing is %g", got);
    ck_buffer_free(b);
    free(x);
}

static void axpby_checks(ckc *c, size_t n, ckc_rng *r) {
    float *x = malloc(n * 4), *y = malloc(n * 4);
    ckc_fill(r, x, n, -2, 2);
    ckc_fill(r, y, n, -2, 2);
    for (size_t i = 0; i < n; i += 5) y[i] = NAN;
    double *ref = malloc(n * 8);
    const float betas[] = {0.0f, 1.0f, -0.75f};
    for (int k = 0; k < 3; k++) {
        float alpha = 1.5f, beta = betas[k];
        if (beta != 0) for (size_t i = 0; i < n; i += 5) y[i] = 0.5f; /* NaN only for beta 0 */
        for (size_t i = 0; i < n; i++) ref[i] = beta == 0 ? alpha * (double)x[i] : alpha * (double)x[i] + beta * (double)y[i];
        ck_buffer *bx = ckc_upload(c, x, n), *by = ckc_upload(c, y, n);
        ckc_ok(c, ck_axpby(n, alpha, bx, beta, by), "ck_axpby");
        float *got = ckc_download(c, by, n);
        double e = got ? ckc_err(got, ref, n) : 1;
        ckc_expect(c, e <= 1e-6, "axpby beta %g: err %.3g (count %zu)", beta, e, n);
        free(got);
        ck_buffer_free(bx); ck_buffer_free(by);
    }
    free(x); free(y); free(ref);
}

void ckc_check_elementwise(ckc *c) {
    ckc_rng r = {91};
    const size_t sizes[] = {1, 7, 1000, 65537, 1000003};
    for (int i = 0; i < 5; i++) {
        buffer_checks(c, sizes[i], &r);
        sum_checks(c, sizes[i], &r);
        axpby_checks(c, sizes[i], &r);
    }
}
