/*
 * check_dense.c -- dense forward and backward against naive double loops (err <= 1e-5),
 * the naive backward against central differences of the naive forward (exact up to
 * rounding: 1e-8), small layers (one thread) and large ones (split over the pool).
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>

static void ref_forward(int batch, int in, int out, const double *x, const double *w,
                        const double *bias, double *y) {
    for (int b = 0; b < batch; b++)
        for (int o = 0; o < out; o++) {
            double s = bias ? bias[o] : 0;
            for (int i = 0; i < in; i++) s += x[(size_t)b * in + i] * w[(size_t)o * in + i];
            y[(size_t)b * out + o] = s;
        }
}

static void ref_backward(int batch, int in, int out, const double *x, const double *w,
                         const double *dy, double *dx, double *dw, double *db) {
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < in; i++) {
            double s = 0;
            for (int o = 0; o < out; o++) s += dy[(size_t)b * out + o] * w[(size_t)o * in + i];
            dx[(size_t)b * in + i] = s;
        }
    for (int o = 0; o < out; o++) {
        db[o] = 0;
        for (int b = 0; b < batch; b++) db[o] += dy[(size_t)b * out + o];
        for (int i = 0; i < in; i++) {
            double s = 0;
            for (int b = 0; b < batch; b++) s += dy[(size_t)b * out + o] * x[(size_t)b * in + i];
            dw[(size_t)o * in + i] = s;
        }
    }
}

/* Compares with tolerance 1e-5 * scale (scale 1: the plain error measure of ckc.h). */
static void compare_scaled(ckc *c, const char *what, const ck_buffer *b, const double *ref,
                           size_t n, int batch, int in, int out, double scale) {
    float *got = ckc_download(c, b, n);
    if (!got) return;
    double e = ckc_err(got, ref, n);
    ckc_expect(c, e <= 1e-5 * scale, "dense %s: err %.3g (batch %d in %d out %d)", what, e, batch,
               in, out);
    free(got);
}

static void compare(ckc *c, const char *what, const ck_buffer *b, const double *ref, size_t n,
                    int batch, int in, int out) {
    compare_scaled(c, what, b, ref, n, batch, in, out, 1.0);
}

/* max(1, max |v|): the scale of the error measure of ckc.h. */
static double magnitude(const double *v, size_t n) {
    double m = 1;
    for (size_t i = 0; i < n; i++) m = fabs(v[i]) > m ? fabs(v[i]) : m;
    return m;
}

static void one_case(ckc *c, int batch, int in, int out, ckc_rng *r) {
    size_t nx = (size_t)batch * in, ny = (size_t)batch * out, nw = (size_t)out * in;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *bias = malloc((size_t)out * 4), *dy = malloc(ny * 4);
    ckc_fill(r, x, nx, -1, 1); ckc_fill(r, w, nw, -1, 1);
    ckc_fill(r, bias, (size_t)out, -1, 1); ckc_fill(r, dy, ny, -1, 1);
    double *xd = ckc_promote(x, nx), *wd = ckc_promote(w, nw), *bd = ckc_promote(bias, (size_t)out);
    double *dyd = ckc_promote(dy, ny), *y = malloc(ny * 8), *y0 = malloc(ny * 8);
    double *dx = malloc(nx * 8), *dw = malloc(nw * 8), *db = malloc((size_t)out * 8);
    ref_forward(batch, in, out, xd, wd, bd, y);
    ref_forward(batch, in, out, xd, wd, NULL, y0);
    ref_backward(batch, in, out, xd, wd, dyd, dx, dw, db);

    ck_buffer *bx = ckc_upload(c, x, nx), *bw = ckc_upload(c, w, nw);
    ck_buffer *bb = ckc_upload(c, bias, (size_t)out), *bdy = ckc_upload(c, dy, ny);
    ck_buffer *by = ckc_upload(c, NULL, ny), *bdx = ckc_upload(c, NULL, nx);
    ck_buffer *bdw = ckc_upload(c, NULL, nw), *bdb = ckc_upload(c, NULL, (size_t)out);
    ckc_ok(c, ck_dense_forward(batch, in, out, bx, bw, bb, by), "ck_dense_forward");
    compare(c, "forward", by, y, ny, batch, in, out);
    ckc_ok(c, ck_dense_forward(batch, in, out, bx, bw, NULL, by), "ck_dense_forward");
    compare(c, "forward without bias", by, y0, ny, batch, in, out);
    ckc_ok(c, ck_dense_backward_data(batch, in, out, bdy, bw, bdx), "ck_dense_backward_data");
    compare(c, "backward-data", bdx, dx, nx, batch, in, out);
    ckc_ok(c, ck_dense_backward_weights(batch, in, out, bx, bdy, bdw, bdb),
           "ck_dense_backward_weights");
    compare(c, "backward-weights", bdw, dw, nw, batch, in, out);
    compare(c, "backward-bias", bdb, db, (size_t)out, batch, in, out);
    ckc_ok(c, ck_dense_backward_weights(batch, in, out, bx, bdy, bdw, NULL),
           "ck_dense_backward_weights");
    compare(c, "backward-weights without dbias", bdw, dw, nw, batch, in, out);

    /* fused activations (relu, leaky relu, sigmoid, tanh, elu by shape): f(forward) and
     * f'(from the input x, as the activation output) * backward-data */
    {
        static const ck_activation kinds[5] = {CK_ACT_RELU, CK_ACT_LEAKY_RELU, CK_ACT_SIGMOID,
                                               CK_ACT_TANH, CK_ACT_ELU};
        ck_activation act = kinds[(batch + in + out) % 5];
        double *fy = malloc(ny * 8), *fdx = malloc(nx * 8);
        for (size_t i = 0; i < ny; i++) fy[i] = y[i];
        for (size_t i = 0; i < nx; i++) fdx[i] = dx[i];
        /* slopes <= 1: the pre-activation's rounding error bounds the error after them */
        double ys = magnitude(fy, ny), dxs = magnitude(fdx, nx);
        ckc_ref_activation(act, 0.1, fy, ny);
        ckc_ref_activation_gate(act, 0.1, xd, fdx, nx);
        ckc_ok(c, ck_dense_forward_act(batch, in, out, bx, bw, bb, act, 0.1f, by),
               "ck_dense_forward_act");
        compare_scaled(c, "forward + activation", by, fy, ny, batch, in, out,
                       ys / magnitude(fy, ny));
        ckc_ok(c, ck_dense_backward_data_act(batch, in, out, bdy, bw, act, 0.1f, bx, bdx),
               "ck_dense_backward_data_act");
        compare_scaled(c, "backward-data + activation", bdx, fdx, nx, batch, in, out,
                       dxs / magnitude(fdx, nx));
        free(fy);
        free(fdx);
    }

    /* the naive backward against finite differences of L = <dy, forward> */
    if (nx * out < 200000) {
        for (int t = 0; t < 6; t++) {
            double *vals[3] = {xd, wd, bd}, *grads[3] = {dx, dw, db};
            size_t sizes[3] = {nx, nw, (size_t)out};
            for (int k = 0; k < 3; k++) {
                size_t i = (size_t)ckc_int(r, 0, (int)sizes[k] - 1);
                double keep = vals[k][i], l[2];
                for (int sgn = 0; sgn < 2; sgn++) {
                    vals[k][i] = keep + (sgn ? -1e-3 : 1e-3);
                    ref_forward(batch, in, out, xd, wd, bd, y);
                    l[sgn] = 0;
                    for (size_t j = 0; j < ny; j++) l[sgn] += dyd[j] * y[j];
                }
                vals[k][i] = keep;
                double num = (l[0] - l[1]) / 2e-3;
                ckc_expect(c, fabs(num - grads[k][i]) <= 1e-8 * (fabs(num) > 1 ? fabs(num) : 1),
                           "dense naive backward (%d)[%zu] %.12g vs finite difference %.12g", k,
                           i, grads[k][i], num);
            }
        }
    }
    ck_buffer *bufs[] = {bx, bw, bb, bdy, by, bdx, bdw, bdb};
    for (int i = 0; i < 8; i++) ck_buffer_free(bufs[i]);
    free(x); free(w); free(bias); free(dy); free(xd); free(wd); free(bd); free(dyd);
    free(y); free(y0); free(dx); free(dw); free(db);
}

void ckc_check_dense(ckc *c) {
    ckc_rng r = {41};
    for (int i = 0; i < 20; i++) {
        const int lo[3] = {1, 1, 1}, hi[3] = {9, 40, 40};
        int v[3];
        ckc_ints(&r, 3, lo, hi, v);
        one_case(c, v[0], v[1], v[2], &r);
    }
    /* the reference models' dense layers at batch 2 and one at batch 128 (pool split) */
    one_case(c, 2, 3136, 32, &r);
    one_case(c, 2, 16, 3136, &r);
    one_case(c, 2, 4096, 256, &r);
    one_case(c, 128, 2048, 64, &r);
    one_case(c, 128, 64, 2048, &r);
    one_case(c, 3, 1, 1, &r);
}
