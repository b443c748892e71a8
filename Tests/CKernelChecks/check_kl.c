/*
 * check_kl.c -- closed-form KL per image against double (err <= 1e-5); the gradient is
 * ADDED to dstats (which starts non-zero) and matches the derivative formulas, which in
 * turn match central differences; with free bits, latents whose batch-mean KL is below
 * the threshold get no gradient while the reported KL stays the plain KL.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>

static double kl_term(double mu, double lv) { return 0.5 * (mu * mu + exp(lv) - 1 - lv); }

static void kl_case(ckc *c, int batch, int latent, float free_bits, ckc_rng *r) {
    size_t n = (size_t)batch * 2 * latent;
    const float scale = 0.7f;
    float *st = malloc(n * 4), *d0 = malloc(n * 4);
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < latent; i++) {
            /* even latents near the prior (small KL), odd ones far from it */
            int quiet = i % 2 == 0;
            st[(size_t)b * 2 * latent + i] = (float)(quiet ? ckc_uniform(r, -0.1, 0.1) : ckc_uniform(r, -2, 2));
            st[(size_t)b * 2 * latent + latent + i] = (float)(quiet ? ckc_uniform(r, -0.1, 0.1) : ckc_uniform(r, -3, 1));
        }
    ckc_fill(r, d0, n, -1, 1);
    double *kl = calloc((size_t)batch, 8), *d = malloc(n * 8), *mean = calloc((size_t)latent, 8);
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < latent; i++) {
            double t = kl_term(st[(size_t)b * 2 * latent + i], st[(size_t)b * 2 * latent + latent + i]);
            kl[b] += t;
            mean[i] += t / batch;
        }
    int frozen = 0;
    for (int i = 0; i < latent; i++) frozen += free_bits > 0 && mean[i] < free_bits;
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < latent; i++) {
            size_t mi = (size_t)b * 2 * latent + i, li = mi + latent;
            int on = !(free_bits > 0 && mean[i] < free_bits);
            d[mi] = d0[mi] + (on ? scale * (double)st[mi] : 0);
            d[li] = d0[li] + (on ? scale * 0.5 * (exp((double)st[li]) - 1) : 0);
        }
    ck_buffer *bs = ckc_upload(c, st, n), *bk = ckc_upload(c, NULL, (size_t)batch), *bd = ckc_upload(c, d0, n);
    ckc_ok(c, ck_kl_normal(batch, latent, bs, bk, bd, scale, free_bits), "ck_kl_normal");
    float *got = ckc_download(c, bk, (size_t)batch);
    double e = got ? ckc_err(got, kl, (size_t)batch) : 1;
    ckc_expect(c, e <= 1e-5, "kl: err %.3g (batch %d latent %d free bits %g)", e, batch, latent, free_bits);
    free(got);
    got = ckc_download(c, bd, n);
    e = got ? ckc_err(got, d, n) : 1;
    ckc_expect(c, e <= 1e-5, "kl dstats: err %.3g (batch %d latent %d free bits %g, %d latents frozen)",
               e, batch, latent, free_bits, frozen);
    free(got);
    if (free_bits > 0) ckc_expect(c, frozen > 0 && frozen < latent, "free-bits data froze %d of %d latents", frozen, latent);
    ckc_ok(c, ck_kl_normal(batch, latent, bs, bk, NULL, scale, free_bits), "ck_kl_normal");
    got = ckc_download(c, bk, (size_t)batch);
    e = got ? ckc_err(got, kl, (size_t)batch) : 1;
    ckc_expect(c, e <= 1e-5, "kl without gradient: err %.3g", e);
    free(got);
    ck_buffer_free(bs); ck_buffer_free(bk); ck_buffer_free(bd);
    free(st); free(d0); free(kl); free(d); free(mean);
}

void ckc_check_kl(ckc *c) {
    ckc_rng r = {71};
    kl_case(c, 1, 1, 0, &r);
    kl_case(c, 5, 16, 0, &r);
    kl_case(c, 128, 128, 0, &r);
    kl_case(c, 7, 16, 0.05f, &r);
    kl_case(c, 128, 32, 0.05f, &r);
    for (int t = 0; t < 20; t++) {
        double mu = ckc_uniform(&r, -3, 3), lv = ckc_uniform(&r, -4, 2), h = 1e-5;
        double nm = (kl_term(mu + h, lv) - kl_term(mu - h, lv)) / (2 * h);
        double nl = (kl_term(mu, lv + h) - kl_term(mu, lv - h)) / (2 * h);
        ckc_expect(c, fabs(nm - mu) <= 1e-7 && fabs(nl - 0.5 * (exp(lv) - 1)) <= 1e-7,
                   "kl derivatives at mu=%g lv=%g: (%g, %g) vs (%g, %g)", mu, lv, mu,
                   0.5 * (exp(lv) - 1), nm, nl);
    }
}
