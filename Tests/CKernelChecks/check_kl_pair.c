/*
 * check_kl_pair.c -- ck_kl_normal_pair against the closed form in double (err <= 1e-5):
 * the per-image KL, the gradients ADDED to non-zero dq_stats and dp_stats (each one
 * optional), the derivative formulas against central differences of the closed form,
 * KL(q || q) = 0, and the argument checks. With free bits (latents alternately close to
 * the prior and far from it): the latents whose batch-mean KL is below free_bits, and only
 * those, add nothing to dq (all of them, some, or none, by the threshold), while kl and dp
 * are bit for bit those without free bits. A backend that has no implementation yet
 * answers CK_ERR_UNAVAILABLE: the group is marked skipped (ckc_skip), and only the
 * argument checks run.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * One call against the double reference. free_bits > 0 draws even latents close to the
 * prior (batch-mean KL below 0.005) and odd ones far from it, and expects want_frozen
 * latents frozen. Returns 0 when the backend has no implementation (after saying so).
 */
static int pair_case(ckc *c, int batch, int latent, int with_dq, int with_dp, float free_bits,
                     int want_frozen, ckc_rng *r) {
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
            if (free_bits > 0 && i % 2 == 0) { /* quiet: q a small step from p */
                q[m] = p[m] + (float)ckc_uniform(r, -0.02, 0.02);
                q[l] = p[l] + (float)ckc_uniform(r, -0.05, 0.05);
            }
        }
    ckc_fill(r, dq0, n, -1, 1);
    ckc_fill(r, dp0, n, -1, 1);
    double *kl = calloc((size_t)batch, 8), *dq = malloc(n * 8), *dp = malloc(n * 8);
    double *mean = calloc((size_t)latent, 8);
    for (size_t k = 0; k < n; k++) {
        dq[k] = dq0[k];
        dp[k] = dp0[k];
    }
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < latent; i++) {
            size_t m = (size_t)b * 2 * latent + i, l = m + latent;
            mean[i] += pair_term(q[m], q[l], p[m], p[l]) / batch;
        }
    int frozen = 0;
    for (int i = 0; i < latent; i++) frozen += free_bits > 0 && mean[i] < free_bits;
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < latent; i++) {
            size_t m = (size_t)b * 2 * latent + i, l = m + latent;
            int on = !(free_bits > 0 && mean[i] < free_bits); /* dq only: dp is never frozen */
            double g[4];
            kl[b] += pair_term(q[m], q[l], p[m], p[l]);
            pair_grad(q[m], q[l], p[m], p[l], g);
            dq[m] += on ? scale * g[0] : 0;
            dq[l] += on ? scale * g[1] : 0;
            dp[m] += scale * g[2];
            dp[l] += scale * g[3];
        }
    ck_buffer *bq = ckc_upload(c, q, n), *bp = ckc_upload(c, p, n);
    ck_buffer *bk = ckc_upload(c, NULL, (size_t)batch);
    ck_buffer *bdq = ckc_upload(c, dq0, n), *bdp = ckc_upload(c, dp0, n);
    int available = 1;
    ck_status s = ck_kl_normal_pair(batch, latent, bq, bp, bk, with_dq ? bdq : NULL,
                                    with_dp ? bdp : NULL, scale, free_bits);
    if (s == CK_ERR_UNAVAILABLE) {
        ckc_skip(c, "ck_kl_normal_pair is not implemented here (%s)", ck_last_error());
        available = 0;
    } else if (ckc_ok(c, s, "ck_kl_normal_pair")) {
        float *got = ckc_download(c, bk, (size_t)batch);
        double e = got ? ckc_err(got, kl, (size_t)batch) : 1;
        ckc_expect(c, e <= 1e-5, "kl: err %.3g (batch %d latent %d free bits %g)", e, batch,
                   latent, free_bits);
        free(got);
        got = ckc_download(c, bdq, n);
        e = got ? (with_dq ? ckc_err(got, dq, n) : ckc_err_ff(got, dq0, n)) : 1;
        ckc_expect(c, e <= 1e-5, "dq_stats: err %.3g (batch %d latent %d, %s, free bits %g, %d latents frozen)",
                   e, batch, latent, with_dq ? "added" : "untouched when NULL", free_bits, frozen);
        free(got);
        got = ckc_download(c, bdp, n);
        e = got ? (with_dp ? ckc_err(got, dp, n) : ckc_err_ff(got, dp0, n)) : 1;
        ckc_expect(c, e <= 1e-5, "dp_stats: err %.3g (batch %d latent %d, %s, free bits %g)", e,
                   batch, latent, with_dp ? "added" : "untouched when NULL", free_bits);
        free(got);
        if (free_bits > 0) {
            ckc_expect(c, frozen == want_frozen, "free bits %g froze %d of %d latents, the data meant %d",
                       free_bits, frozen, latent, want_frozen);
            if (with_dq && frozen == latent) {
                float *dq1 = ckc_download(c, bdq, n);
                ckc_expect(c, dq1 && memcmp(dq1, dq0, n * 4) == 0,
                           "every latent frozen, but dq_stats changed");
                free(dq1);
            }
            /* kl and dp: the same bits as without free bits */
            float *k1 = ckc_download(c, bk, (size_t)batch), *dp1 = ckc_download(c, bdp, n);
            ck_buffer *bdq0 = ckc_upload(c, dq0, n), *bdp0 = ckc_upload(c, dp0, n);
            ckc_ok(c, ck_kl_normal_pair(batch, latent, bq, bp, bk, with_dq ? bdq0 : NULL,
                                        with_dp ? bdp0 : NULL, scale, 0),
                   "ck_kl_normal_pair");
            float *k0 = ckc_download(c, bk, (size_t)batch), *dp2 = ckc_download(c, bdp0, n);
            ckc_expect(c, k0 && k1 && memcmp(k0, k1, (size_t)batch * 4) == 0,
                       "kl with free bits %g differs from kl without", free_bits);
            ckc_expect(c, dp1 && dp2 && memcmp(dp1, dp2, n * 4) == 0,
                       "dp_stats with free bits %g differs from dp_stats without", free_bits);
            free(k0); free(k1); free(dp1); free(dp2);
            ck_buffer_free(bdq0); ck_buffer_free(bdp0);
        }
        /* KL(q || q) = 0 with zero gradients. */
        ckc_ok(c, ck_fill(bdq, 0, n, 0), "ck_fill");
        ckc_ok(c, ck_kl_normal_pair(batch, latent, bq, bq, bk, bdq, NULL, 1, 0), "ck_kl_normal_pair");
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
    free(q); free(p); free(dq0); free(dp0); free(kl); free(dq); free(dp); free(mean);
    return available;
}

static void pair_errors(ckc *c) {
    ck_buffer *q = ckc_upload(c, NULL, 8), *p = ckc_upload(c, NULL, 8), *k = ckc_upload(c, NULL, 2);
    ck_buffer *small = ckc_upload(c, NULL, 3);
    ckc_expect(c, ck_kl_normal_pair(0, 2, q, p, k, NULL, NULL, 1, 0) == CK_ERR_ARGUMENT, "batch 0 accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, NULL, p, k, NULL, NULL, 1, 0) == CK_ERR_ARGUMENT, "NULL q accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, NULL, NULL, NULL, 1, 0) == CK_ERR_ARGUMENT, "NULL kl accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, small, k, NULL, NULL, 1, 0) == CK_ERR_SHAPE, "short p accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, k, small, NULL, 1, 0) == CK_ERR_SHAPE, "short dq accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, k, q, q, 1, 0) == CK_ERR_ARGUMENT, "dq == dp accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, k, NULL, NULL, NAN, 0) == CK_ERR_ARGUMENT, "NaN scale accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, k, NULL, NULL, 1, -0.5f) == CK_ERR_ARGUMENT, "negative free_bits accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, k, NULL, NULL, 1, NAN) == CK_ERR_ARGUMENT, "NaN free_bits accepted");
    ckc_expect(c, ck_kl_normal_pair(2, 2, q, p, k, NULL, NULL, 1, INFINITY) == CK_ERR_ARGUMENT, "infinite free_bits accepted");
    ck_buffer_free(q); ck_buffer_free(p); ck_buffer_free(k); ck_buffer_free(small);
}

void ckc_check_kl_pair(ckc *c) {
    ckc_rng r = {0x4B4C5041};
    if (!pair_case(c, 1, 1, 1, 1, 0, 0, &r)) {
        pair_errors(c);
        return;
    }
    pair_case(c, 6, 16, 1, 1, 0, 0, &r);
    pair_case(c, 5, 7, 1, 0, 0, 0, &r);
    pair_case(c, 5, 7, 0, 1, 0, 0, &r);
    pair_case(c, 128, 128, 1, 1, 0, 0, &r);
    /* free bits: the even (quiet) latents frozen; all of them; none */
    pair_case(c, 7, 16, 1, 1, 0.05f, 8, &r);
    pair_case(c, 128, 33, 1, 1, 0.05f, 17, &r);
    pair_case(c, 9, 12, 1, 0, 0.05f, 6, &r);
    pair_case(c, 9, 12, 0, 1, 0.05f, 6, &r);
    pair_case(c, 5, 8, 1, 1, 1e30f, 8, &r);
    pair_case(c, 5, 8, 1, 1, 1e-30f, 0, &r);
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
