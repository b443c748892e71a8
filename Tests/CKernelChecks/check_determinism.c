/*
 * check_determinism.c -- a sequence of operations with reductions that cross threads
 * (conv weights partials, bias sums, dense, per-channel loss gradients, sums) gives
 * bit-identical results twice on one backend and on a second backend with the same
 * thread count, and agrees (err <= 1e-5) with a 1-thread backend.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUTS 15

typedef struct {
    float *data[OUTPUTS];
    size_t count[OUTPUTS];
    int n;
} results;

static void keep(ckc *c, results *res, const ck_buffer *b) {
    size_t n = ck_buffer_count(b);
    res->data[res->n] = ckc_download(c, b, n);
    res->count[res->n++] = n;
}

static void pipeline(ckc *c, ck_backend *be, results *res) {
    memset(res, 0, sizeof *res);
    ckc c2 = *c;
    c2.be = be;
    ckc_rng r = {121};
    ck_conv_shape s = ck_conv_shape_make(10, 32, 16, 16, 64, 4, 4);
    s.stride_h = s.stride_w = 2;
    s.pad_h = s.pad_w = 1;
    ck_conv_shape t = ck_conv_shape_make(10, 64, 8, 8, 32, 4, 4); /* its transpose */
    t.stride_h = t.stride_w = 2;
    t.pad_h = t.pad_w = 1;
    size_t nx = 10 * 32 * 16 * 16, ny = 10 * 64 * 8 * 8, nw = 64 * 32 * 16, ws1, ws2;
    ck_conv_workspace(be, &s, 0, &ws1);
    ck_conv_workspace(be, &t, 1, &ws2);
    size_t nws = (ws1 > ws2 ? ws1 : ws2) + 1;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *dy = malloc(ny * 4);
    ckc_fill(&r, x, nx, -1, 1); ckc_fill(&r, w, nw, -1, 1); ckc_fill(&r, dy, ny, -1, 1);
    ck_buffer *bx = ckc_upload(&c2, x, nx), *bw = ckc_upload(&c2, w, nw), *bdy = ckc_upload(&c2, dy, ny);
    ck_buffer *by = ckc_upload(&c2, NULL, ny), *bdx = ckc_upload(&c2, NULL, nx), *bdw = ckc_upload(&c2, NULL, nw);
    ck_buffer *bdb = ckc_upload(&c2, NULL, 64), *bdb2 = ckc_upload(&c2, NULL, 32);
    ck_buffer *bws = ckc_upload(&c2, NULL, nws);
    ckc_ok(c, ck_conv2d_forward(&s, bx, bw, NULL, by, bws), "ck_conv2d_forward");
    keep(c, res, by);
    ckc_ok(c, ck_conv2d_backward_data(&s, bdy, bw, bdx, bws), "ck_conv2d_backward_data");
    keep(c, res, bdx);
    ckc_ok(c, ck_conv2d_backward_weights(&s, bx, bdy, bdw, bdb, bws), "ck_conv2d_backward_weights");
    keep(c, res, bdw);
    keep(c, res, bdb);
    ckc_ok(c, ck_deconv2d_forward(&t, bdy, bw, NULL, bdx, bws), "ck_deconv2d_forward");
    keep(c, res, bdx);
    ckc_ok(c, ck_deconv2d_backward_weights(&t, bdy, bx, bdw, bdb2, bws), "ck_deconv2d_backward_weights");
    keep(c, res, bdw);
    /* dense on the conv output seen as [10, 4096] -> 16, x's first floats as weights */
    ck_buffer *bd = ckc_upload(&c2, NULL, 10 * 16), *bdw2 = ckc_upload(&c2, NULL, 16 * 4096);
    ckc_ok(c, ck_dense_forward(10, 4096, 16, by, bx, NULL, bd), "ck_dense_forward");
    keep(c, res, bd);
    ckc_ok(c, ck_dense_backward_weights(10, 4096, 16, by, bd, bdw2, bdb), "ck_dense_backward_weights");
    keep(c, res, bdw2);
    /* per-channel loss gradients: x as means of 32 channels against sigmoid(x), unweighted
       and with sigmoid(x) also as the per-value weights */
    ck_buffer *tgt = ckc_upload(&c2, NULL, nx), *nll = ckc_upload(&c2, NULL, 10);
    ck_buffer *lv = ckc_upload(&c2, NULL, 32), *dlv = ckc_upload(&c2, NULL, 32);
    ckc_ok(c, ck_activation_forward(CK_ACT_SIGMOID, 0, nx, bx, tgt), "ck_activation_forward");
    ckc_ok(c, ck_gaussian_nll(10, 32, 256, bx, lv, tgt, NULL, nll, bdx, dlv, 0.1f), "ck_gaussian_nll");
    keep(c, res, dlv);
    ckc_ok(c, ck_logistic_nll(10, 32, 256, bx, lv, tgt, NULL, nll, bdx, dlv, 0.1f), "ck_logistic_nll");
    keep(c, res, dlv);
    keep(c, res, nll);
    ckc_ok(c, ck_gaussian_nll(10, 32, 256, bx, lv, tgt, tgt, nll, bdx, dlv, 0.1f), "ck_gaussian_nll weighted");
    keep(c, res, dlv);
    ckc_ok(c, ck_logistic_nll(10, 32, 256, bx, lv, tgt, tgt, nll, bdx, dlv, 0.1f), "ck_logistic_nll weighted");
    keep(c, res, dlv);
    keep(c, res, nll);
    double sum = 0;
    ckc_ok(c, ck_sum_squares(bdw2, 0, 16 * 4096, &sum), "ck_sum_squares");
    res->data[res->n] = malloc(4);
    res->data[res->n][0] = (float)sum;
    res->count[res->n++] = 1;
    ck_buffer *all[] = {bx, bw, bdy, by, bdx, bdw, bdb, bdb2, bws, bd, bdw2, tgt, nll, lv, dlv};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ck_buffer_free(all[i]);
    free(x); free(w); free(dy);
}

static void release(results *r) {
    for (int i = 0; i < r->n; i++) free(r->data[i]);
}

void ckc_check_determinism(ckc *c) {
    int threads = ck_backend_threads(c->be);
    results a, b, d, one;
    pipeline(c, c->be, &a);
    pipeline(c, c->be, &b);
    ck_backend *other = NULL, *single = NULL;
    if (ckc_ok(c, ck_backend_open(c->device, threads, &other), "ck_backend_open")) {
        pipeline(c, other, &d);
        for (int i = 0; i < a.n; i++) {
            ckc_expect(c, a.data[i] && b.data[i] && memcmp(a.data[i], b.data[i], a.count[i] * 4) == 0,
                       "output %d differs between two runs on %d threads", i, threads);
            ckc_expect(c, a.data[i] && d.data[i] && memcmp(a.data[i], d.data[i], a.count[i] * 4) == 0,
                       "output %d differs between two backends of %d threads", i, threads);
        }
        release(&d);
        ck_backend_close(other);
    }
    if (ckc_ok(c, ck_backend_open(c->device, 1, &single), "ck_backend_open")) {
        pipeline(c, single, &one);
        for (int i = 0; i < a.n; i++) {
            double e = a.data[i] && one.data[i] ? ckc_err_ff(a.data[i], one.data[i], a.count[i]) : 1;
            ckc_expect(c, e <= 1e-5, "output %d: %d threads vs 1 thread err %.3g", i, threads, e);
        }
        release(&one);
        ck_backend_close(single);
    }
    release(&a);
    release(&b);
}
