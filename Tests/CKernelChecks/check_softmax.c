/*
 * check_softmax.c -- ck_softmax_nll against a double reference (err <= 1e-5): the per-image
 * nll and the gradient, with and without per-position weights, a classifier (plane 1) and
 * code maps (plane > 1); the gradient formula against central differences of the reference;
 * labels that are not classes give NaN; the argument checks.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>

/* -log softmax(l)_y at one position of image b, in double. */
static double term(const float *l, int classes, int plane, int b, int p, int y) {
    const float *row = l + (size_t)b * classes * plane;
    double m = row[p];
    for (int k = 1; k < classes; k++) m = fmax(m, row[(size_t)k * plane + p]);
    double z = 0;
    for (int k = 0; k < classes; k++) z += exp(row[(size_t)k * plane + p] - m);
    return m + log(z) - row[(size_t)y * plane + p];
}

static void softmax_case(ckc *c, int batch, int classes, int plane, int weighted, ckc_rng *r) {
    size_t n = (size_t)batch * classes * plane, m = (size_t)batch * plane;
    float *l = malloc(n * 4), *y = malloc(m * 4), *w = malloc(m * 4);
    ckc_fill(r, l, n, -4, 4);
    for (size_t i = 0; i < m; i++) {
        y[i] = (float)ckc_int(r, 0, classes - 1);
        w[i] = weighted ? (float)ckc_int(r, 0, 2) * 0.5f : 1.0f;
    }
    const float scale = 0.7f;
    double *nll = calloc((size_t)batch, 8), *d = malloc(n * 8);
    for (int b = 0; b < batch; b++)
        for (int p = 0; p < plane; p++) {
            size_t i = (size_t)b * plane + p;
            nll[b] += w[i] * term(l, classes, plane, b, p, (int)y[i]);
            double lse = term(l, classes, plane, b, p, 0) + l[(size_t)b * classes * plane + p];
            for (int k = 0; k < classes; k++) {
                size_t at = ((size_t)b * classes + k) * plane + p;
                d[at] = scale * w[i] * (exp(l[at] - lse) - (k == (int)y[i]));
            }
        }
    ck_buffer *bl = ckc_upload(c, l, n), *by = ckc_upload(c, y, m), *bw = ckc_upload(c, w, m);
    ck_buffer *bn = ckc_upload(c, NULL, (size_t)batch), *bd = ckc_upload(c, NULL, n);
    if (ckc_ok(c, ck_softmax_nll(batch, classes, plane, bl, by, weighted ? bw : NULL, bn, bd, scale),
               "ck_softmax_nll")) {
        float *got = ckc_download(c, bn, (size_t)batch);
        double e = got ? ckc_err(got, nll, (size_t)batch) : 1;
        ckc_expect(c, e <= 1e-5, "nll: err %.3g (batch %d classes %d plane %d weighted %d)", e, batch,
                   classes, plane, weighted);
        free(got);
        got = ckc_download(c, bd, n);
        e = got ? ckc_err(got, d, n) : 1;
        ckc_expect(c, e <= 1e-5, "dlogits: err %.3g (batch %d classes %d plane %d weighted %d)", e,
                   batch, classes, plane, weighted);
        free(got);
        /* Without a gradient buffer the nll is the same. */
        ckc_ok(c, ck_softmax_nll(batch, classes, plane, bl, by, weighted ? bw : NULL, bn, NULL, scale),
               "ck_softmax_nll");
        got = ckc_download(c, bn, (size_t)batch);
        e = got ? ckc_err(got, nll, (size_t)batch) : 1;
        ckc_expect(c, e <= 1e-5, "nll without gradient: err %.3g", e);
        free(got);
    }
    ck_buffer_free(bl); ck_buffer_free(by); ck_buffer_free(bw); ck_buffer_free(bn); ck_buffer_free(bd);
    free(l); free(y); free(w); free(nll); free(d);
}

/* A label outside the classes, or not an integer, makes its image's nll NaN; the others stay finite. */
static void bad_labels(ckc *c) {
    float l[2 * 3 * 2] = {0.1f, -1, 2, 0.5f, -0.3f, 1, 0, 0, 1, 1, 2, 2};
    float y[2 * 2] = {1, 2, 3, 0.5f};
    ck_buffer *bl = ckc_upload(c, l, 12), *by = ckc_upload(c, y, 4), *bn = ckc_upload(c, NULL, 2);
    if (ckc_ok(c, ck_softmax_nll(2, 3, 2, bl, by, NULL, bn, NULL, 1), "ck_softmax_nll")) {
        float *got = ckc_download(c, bn, 2);
        ckc_expect(c, got && isfinite(got[0]) && isnan(got[1]), "bad labels: nll %g, %g (want finite, NaN)",
                   got ? got[0] : 0, got ? got[1] : 0);
        free(got);
    }
    ck_buffer *small = ckc_upload(c, NULL, 3);
    ckc_expect(c, ck_softmax_nll(0, 3, 2, bl, by, NULL, bn, NULL, 1) == CK_ERR_ARGUMENT, "batch 0 accepted");
    ckc_expect(c, ck_softmax_nll(2, 3, 2, NULL, by, NULL, bn, NULL, 1) == CK_ERR_ARGUMENT, "NULL logits accepted");
    ckc_expect(c, ck_softmax_nll(2, 3, 2, bl, small, NULL, bn, NULL, 1) == CK_ERR_SHAPE, "short labels accepted");
    ckc_expect(c, ck_softmax_nll(2, 3, 2, bl, by, NULL, bn, small, 1) == CK_ERR_SHAPE, "short dlogits accepted");
    ckc_expect(c, ck_softmax_nll(2, 3, 2, bl, by, NULL, bn, NULL, NAN) == CK_ERR_ARGUMENT, "NaN scale accepted");
    ck_buffer_free(bl); ck_buffer_free(by); ck_buffer_free(bn); ck_buffer_free(small);
}

void ckc_check_softmax(ckc *c) {
    ckc_rng r = {0x534F46544D4158};
    softmax_case(c, 5, 10, 1, 0, &r);
    softmax_case(c, 4, 7, 9, 1, &r);
    softmax_case(c, 3, 64, 16, 0, &r);
    softmax_case(c, 64, 32, 49, 1, &r);
    softmax_case(c, 2, 256, 150, 1, &r); /* positions in chunks of 64 and a tail */
    bad_labels(c);
    /* The gradient formula (softmax - onehot) against central differences of the reference. */
    float l[6];
    ckc_fill(&r, l, 6, -2, 2);
    for (int k = 0; k < 6; k++) {
        double lse = term(l, 6, 1, 0, 0, 0) + l[0];
        double g = exp(l[k] - lse) - (k == 3), h = 1e-3;
        float a[6], b[6];
        for (int i = 0; i < 6; i++) a[i] = b[i] = l[i];
        a[k] += (float)h;
        b[k] -= (float)h;
        double num = (term(a, 6, 1, 0, 0, 3) - term(b, 6, 1, 0, 0, 3)) / (a[k] - b[k]);
        ckc_expect(c, fabs(num - g) <= 1e-4, "softmax derivative %d: %g vs numeric %g", k, g, num);
    }
}
