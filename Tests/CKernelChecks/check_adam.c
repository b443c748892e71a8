/*
 * check_adam.c -- five Adam and AdamW steps (with grad_scale != 1) against a double
 * reference of PyTorch's update (bias-corrected moments; decoupled decay p -= lr wd p),
 * err <= 1e-5 on parameters and moments, for small and pool-sized tensors.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>

static void adam_case(ckc *c, size_t n, float wd, ckc_rng *r) {
    float *p = malloc(n * 4), *g = malloc(n * 4);
    ckc_fill(r, p, n, -1, 1);
    double *pr = ckc_promote(p, n), *mr = calloc(n, 8), *vr = calloc(n, 8);
    ck_buffer *bp = ckc_upload(c, p, n), *bg = ckc_upload(c, NULL, n);
    ck_buffer *bm = ckc_upload(c, NULL, n), *bv = ckc_upload(c, NULL, n);
    ck_adam_params ap = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                         .weight_decay = wd, .grad_scale = 0.5f};
    for (int step = 1; step <= 5; step++) {
        ckc_fill(r, g, n, -1, 1);
        for (size_t i = 0; i < n; i += 11) g[i] = 0; /* zero gradients: v stays tiny */
        ck_buffer_write(bg, 0, n, g);
        ap.step = step;
        ckc_ok(c, ck_adam_update(n, &ap, bp, bg, bm, bv), "ck_adam_update");
        double b1 = ap.beta1, b2 = ap.beta2, bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step);
        for (size_t i = 0; i < n; i++) {
            double gi = (double)ap.grad_scale * g[i];
            mr[i] = b1 * mr[i] + (1 - b1) * gi;
            vr[i] = b2 * vr[i] + (1 - b2) * gi * gi;
            pr[i] -= (double)ap.lr * wd * pr[i];
            pr[i] -= ap.lr * (mr[i] / bc1) / (sqrt(vr[i] / bc2) + ap.eps);
        }
    }
    float *gp = ckc_download(c, bp, n), *gm = ckc_download(c, bm, n), *gv = ckc_download(c, bv, n);
    if (gp && gm && gv) {
        double ep = ckc_err(gp, pr, n), em = ckc_err(gm, mr, n), ev = ckc_err(gv, vr, n);
        ckc_expect(c, ep <= 1e-5 && em <= 1e-5 && ev <= 1e-5,
                   "adam (count %zu, weight decay %g): err param %.3g m %.3g v %.3g", n, wd, ep, em, ev);
    }
    free(gp); free(gm); free(gv);
    ck_buffer_free(bp); ck_buffer_free(bg); ck_buffer_free(bm); ck_buffer_free(bv);
    free(p); free(g); free(pr); free(mr); free(vr);
}

void ckc_check_adam(ckc *c) {
    ckc_rng r = {111};
    const size_t sizes[] = {1, 100, 200003};
    for (int i = 0; i < 3; i++) {
        adam_case(c, sizes[i], 0.0f, &r);
        adam_case(c, sizes[i], 0.05f, &r);
    }
}
