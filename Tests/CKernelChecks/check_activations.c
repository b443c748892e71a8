/*
 * check_activations.c -- every activation forward and backward against double formulas
 * (err <= 1e-5), on values from -100 to 100 including exact zeros, out of place and in
 * place, small (one thread) and large (pool) counts; and the double derivative formulas
 * against central differences of the double forward (away from ReLU's kink).
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name[] = {"identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "elu"};

static double ref_f(ck_activation k, double alpha, double x) {
    switch (k) {
    case CK_ACT_IDENTITY: return x;
    case CK_ACT_RELU: return x > 0 ? x : 0;
    case CK_ACT_LEAKY_RELU: return x > 0 ? x : alpha * x;
    case CK_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case CK_ACT_TANH: return tanh(x);
    case CK_ACT_SOFTPLUS: return x > 30 ? x + log1p(exp(-x)) : log1p(exp(x));
    case CK_ACT_ELU: return x > 0 ? x : expm1(x);
    }
    return 0;
}

static double ref_df(ck_activation k, double alpha, double x) {
    double s = 1 / (1 + exp(-x));
    switch (k) {
    case CK_ACT_IDENTITY: return 1;
    case CK_ACT_RELU: return x > 0 ? 1 : 0;
    case CK_ACT_LEAKY_RELU: return x > 0 ? 1 : alpha;
    case CK_ACT_SIGMOID: return s * (1 - s);
    case CK_ACT_TANH: return 1 - tanh(x) * tanh(x);
    case CK_ACT_SOFTPLUS: return s;
    case CK_ACT_ELU: return x > 0 ? 1 : exp(x);
    }
    return 0;
}

static void one_kind(ckc *c, ck_activation k, size_t n, ckc_rng *r) {
    const float alpha = 0.2f;
    float *x = malloc(n * 4), *dy = malloc(n * 4), *y = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        double u = ckc_uniform(r, 0, 1);
        x[i] = i % 17 == 0 ? 0.0f : (float)(u < 0.1 ? ckc_uniform(r, -100, 100) : ckc_uniform(r, -6, 6));
    }
    ckc_fill(r, dy, n, -1, 1);
    double *yr = malloc(n * 8), *dxr = malloc(n * 8);
    for (size_t i = 0; i < n; i++) {
        yr[i] = ref_f(k, alpha, x[i]);
        y[i] = (float)yr[i];
        dxr[i] = dy[i] * ref_df(k, alpha, x[i]);
    }
    ck_buffer *bx = ckc_upload(c, x, n), *by = ckc_upload(c, NULL, n);
    ck_buffer *bdy = ckc_upload(c, dy, n), *bdx = ckc_upload(c, NULL, n);
    ck_buffer *byf = ckc_upload(c, y, n);
    ckc_ok(c, ck_activation_forward(k, alpha, n, bx, by), "ck_activation_forward");
    float *got = ckc_download(c, by, n);
    double e = got ? ckc_err(got, yr, n) : 1;
    ckc_expect(c, e <= 1e-5, "%s forward: err %.3g (count %zu)", kind_name[k], e, n);
    free(got);
    /* backward from the exact forward output */
    ckc_ok(c, ck_activation_backward(k, alpha, n, bx, byf, bdy, bdx), "ck_activation_backward");
    got = ckc_download(c, bdx, n);
    e = got ? ckc_err(got, dxr, n) : 1;
    ckc_expect(c, e <= 1e-5, "%s backward: err %.3g (count %zu)", kind_name[k], e, n);
    free(got);
    /* in place: backward into dy, then forward into x */
    ckc_ok(c, ck_activation_backward(k, alpha, n, bx, byf, bdy, bdy), "ck_activation_backward");
    got = ckc_download(c, bdy, n);
    e = got ? ckc_err(got, dxr, n) : 1;
    ckc_expect(c, e <= 1e-5, "%s backward in place: err %.3g (count %zu)", kind_name[k], e, n);
    free(got);
    ckc_ok(c, ck_activation_forward(k, alpha, n, bx, bx), "ck_activation_forward");
    got = ckc_download(c, bx, n);
    e = got ? ckc_err(got, yr, n) : 1;
    ckc_expect(c, e <= 1e-5, "%s forward in place: err %.3g (count %zu)", kind_name[k], e, n);
    free(got);

    /* the derivative formula against central differences, away from 0 */
    for (int t = 0; t < 50; t++) {
        double v = ckc_uniform(r, -8, 8);
        if (fabs(v) < 0.01) continue;
        double h = 1e-5, num = (ref_f(k, alpha, v + h) - ref_f(k, alpha, v - h)) / (2 * h);
        ckc_expect(c, fabs(num - ref_df(k, alpha, v)) <= 1e-7, "%s derivative at %g: %.10g vs %.10g",
                   kind_name[k], v, ref_df(k, alpha, v), num);
    }
    ck_buffer_free(bx); ck_buffer_free(by); ck_buffer_free(bdy); ck_buffer_free(bdx);
    ck_buffer_free(byf);
    free(x); free(dy); free(y); free(yr); free(dxr);
}

void ckc_check_activations(ckc *c) {
    ckc_rng r = {51};
    for (int k = CK_ACT_IDENTITY; k <= CK_ACT_ELU; k++) {
        one_kind(c, (ck_activation)k, 1, &r);
        one_kind(c, (ck_activation)k, 1001, &r);
        one_kind(c, (ck_activation)k, 100003, &r);
    }
}
