/*
 * check_kl_pair.c -- ck_kl_normal_pair against the closed form in double (err <= 1e-5):
 * the per-image KL, the gradients ADDED to non-zero dq_stats and dp_stats (each one
 * optional), the derivative formulas against central differences of the closed form,
 * KL(q || q) = 0, and the argument checks. A backend that has no implementation yet
 * answers CK_ERR_UNAVAILABLE: the check says so and skips.
 */
#include "ckc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double pair_term(double mq, double lq, double mp, double lp) {
    double d = mq - mp;
    return 0.5 * (lp - lq + (exp(lq) + d * d) * exp(-lp) - 1);
}

/* The four partial derivatives of pair_term, in double. */
static void pair_grad(double mq, double lq, double mp, double lp, double g[4]) {
    double d = mq - mp, ip = exp(-lp);
    g[0] = d * ip;
    g[1] = 0.5 * (exp(lq) * ip - 1);
    g[2] = -d * ip;
    g[3] = 0.5 * (1 - (exp(lq) + d * d) * ip);
}

/* Returns 0 when the backend has no implementation (after saying so). */
static int pair_case(ckc *c, int batch, int latent, int with_dq, int with_dp, ckc_rng *r) {
    size_t n = (size_t)batch * 2 * latent;
    const float scale = 0.6f;
    float *q = malloc(n * 4), *p = malloc(n * 4), *dq0 = malloc(n * 4), *dp0 = malloc(n * 4);
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < latent; i++) {
            size_t m = (size_t)b * 2 * latent + i, l = m + latent;
            q[m] = (float)ckc_uniform(r, -2, 2);
            q[l] = (float)ckc_uniform(r, -4, 1.5);
            p[m] = (float)ckc_uniform(r, -2, 2);
            p[l] = (float)ckc_uniform(r, -3, 1.5);
        }
    ckc_fill(r, dq0, n, -1, 1);
    ckc_fill(r, dp0, n, -1, 1);
    double *kl = calloc((size_t)batch, 8), *dq = malloc(n * 8), *dp = malloc(n * 8);
    for (size_t k = 0; k < n; k++) {
        dq[k] = dq0[k];
        dp[k] = dp0[k];
    }
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < latent; i++) {
            size_t m = (size_t)b * 2 * latent + i, l = m + latent;
            double g[4];
            kl[b] += pair_term(q[m], q[l], p[m], p[l]);
            pair_grad(q[m], q[l], p[m], p[l], g);
            dq[m] += scale * g[0];
            dq[l] += scale * g[1];
            dp[m] += scale * g[2];
            dp[l] += scale * g[3];
        }
    ck_buffer *bq = ckc_upload(c, q, n), *bp = ckc_upload(c, p, n);
    ck_buffer *bk = ckc_upload(c, NULL, (size_t)batch);
    ck_buffer *bdq = ckc_upload(c, dq0, n), *bdp = ckc_upload(c, dp0, n);
    int available = 1;
    ck_status s = ck_kl_normal_pair(batch, latent, bq, bp, bk, with_dq ? bdq : NULL,
                                    with_dp ? bdp : NULL, scale);
    if (s == CK_ERR_UNAVAILABLE) {
        fprintf(stderr, "kl_pair/%s: ck_kl_normal_pair is not implemented here (%s); skipped\n",
                c->device, ck_last_error());
        available = 0;
    } else if (ckc_ok(c, s, "ck_kl_normal_pair")) {
        float *got = ckc_download(c, bk, (size_t)batch);
        double e = got ? ckc_err(got, kl, (size_t)batch) : 1;
        ckc_expect(c, e <= 1e-5, "kl: err %.3g (batch %d latent %d)", e, batch, latent);
        free(got);
        got = ckc_download(c, bdq, n);
        e = got ? (with_dq ? ckc_err(got, dq, n) : ckc_err_ff(got, dq0, n)) : 1;
        ckc_expect(c, e <= 1e-5, "dq_stats: err %.3g (batch %d latent %d, %s)", e, batch, latent,
                   with_dq ? "added" : "untouched when NULL");
        free(got);
        got = ckc_download(c, bdp, n);
        e = got ? (with_dp ? ckc_err(got, dp, n) : ckc_err_ff(got, dp0, n)) : 1;
        ckc_expect(c, e <= 1e-5, "dp_stats: err %.3g (batch %d latent %d, %s)", e, batch, latent,
                   with_dp ? "added" : "untouched when NULL");
        free(got);
        /* KL(q || q) = 0 with zero gradients. */
        ckc_ok(c, ck_fill(bdq, 0, n, 0), "ck_fill");
        ckc_ok(c, ck_kl_normal_pair(batch, latent, bq, bq, bk, bdq, NULL, 1), "ck_kl_normal_pair");
        got = ckc_download(c, bk, (size_t)batch);
        double zero[1] = {0}, worst = 0;
        for (int b = 0; got && b < batch; b++) {
            double eb = ckc_err(got + b, zero, 1);
            if (!(eb <= worst)) worst = eb;
        }
        ckc_expect(c, got && worst <= 1e-5, "KL(q || q): %.3g, not 0", worst);
        free(got);
    }
    ck_buffer_free(bq); ck_buffer_free(bp); ck_buffer_free(bk);
    ck_buffer_free(bdq); ck_buffer_free(bdp);
    free(q); free(p); free(dq0); free(dp0); free(kl); free(dq); free(dp);
    return available;
}

static void pair_errors(ckc *c) {
    ck_buffer *q = ckc_upload(c, NULL, 8), *p = ckc_upload(c, NULL, 8), *k = ckc_upload(c, NULL, 2);
    ck_buffer *small = ckc_upload(c, NULL, 3);
    ckc_expect(c, ck_kl_normal_pair(0, 2, q, p, k, NULL, NULL, 1) == CK_ERR_ARGUMENT, "batch 0 accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, NULL, p, k, NULL, NULL, 1) == CK_ERR_ARGUMENT, "NULL q accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, NULL, NULL, NULL, 1) == CK_ERR_ARGUMENT, "NULL kl accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, small, k, NULL, NULL, 1) == CK_ERR_SHAPE, "short p accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, k, small, NULL, 1) == CK_ERR_SHAPE, "short dq accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, k, q, q, 1) == CK_ERR_ARGUMENT, "dq == dp accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, k, NULL, NULL, NAN) == CK_ERR_ARGUMENT, "NaN scale accepted");
    ck_buffer_free(q); ck_buffer_free(p); ck_buffer_free(k); ck_buffer_free(small);
}

void ckc_check_kl_pair(ckc *c) {
    ckc_rng r = {0x4B4C5041};
    if (!pair_case(c, 1, 1, 1, 1, &r)) {
        pair_errors(c);
        return;
    }
    pair_case(c, 6, 16, 1, 1, &r);
    pair_case(c, 5, 7, 1, 0, &r);
    pair_case(c, 5, 7, 0, 1, &r);
    pair_case(c, 128, 128, 1, 1, &r);
    pair_errors(c);
    for (int t = 0; t < 20; t++) {
        double v[4] = {ckc_uniform(&r, -3, 3), ckc_uniform(&r, -4, 2), ckc_uniform(&r, -3, 3),
                       ckc_uniform(&r, -3, 2)};
        double g[4], h = 1e-5;
        pair_grad(v[0], v[1], v[2], v[3], g);
        for (int k = 0; k < 4; k++) {
            double a[4] = {v[0], v[1], v[2], v[3]}, b[4] = {v[0], v[1], v[2], v[3]};
            a[k] += h;
            b[k] -= h;
            double num = (pair_term(a[0], a[1], a[2], a[3]) - pair_term(b[0], b[1], b[2], b[3])) / (2 * h);
            ckc_expect(c, fabs(num - g[k]) <= 1e-6 * (1 + fabs(g[k])),
                       "kl pair derivative %d at (%g, %g, %g, %g): %g vs numeric %g", k, v[0], v[1],
                       v[2], v[3], g[k], num);
        }
    }
}
