/*
 * check_losses.c -- Bernoulli, Gaussian and discretized-logistic negative log-likelihoods
 * against closed forms evaluated directly in double (err <= 1e-5 per image), their
 * gradients against the double derivative formulas (err <= 1e-5; Bernoulli, Gaussian) or
 * against central differences of the double closed form (err <= 1e-4; logistic, whose
 * derivative the kernel takes in a different, log-space form), and the derivative
 * formulas against central differences. Logits reach +-80, logistic scales e^-7..e^0
 * with means near and far from the targets, so the edge bins and the mid-bin fallback
 * are all exercised.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>

static double softplus(double x) { return (x > 0 ? x : 0) + log1p(exp(-fabs(x))); }
static double sigmoid(double x) { return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)); }

static double compare(ckc *c, const ck_buffer *b, const double *ref, size_t n) {
    float *got = ckc_download(c, b, n);
    double e = got ? ckc_err(got, ref, n) : 1;
    free(got);
    return e;
}

/* ---------------------------------------------------------------- Bernoulli */

static void bernoulli_case(ckc *c, int batch, int dim, ckc_rng *r) {
    size_t n = (size_t)batch * dim;
    const float scale = 0.37f;
    float *l = malloc(n * 4), *x = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        l[i] = (float)(i % 13 == 0 ? ckc_uniform(r, -80, 80) : ckc_uniform(r, -8, 8));
        x[i] = (float)(i % 2 ? ckc_uniform(r, 0, 1) : (ckc_uniform(r, 0, 1) < 0.5 ? 0 : 1));
    }
    double *nll = calloc((size_t)batch, 8), *dl = malloc(n * 8);
    for (size_t i = 0; i < n; i++) {
        nll[i / dim] += softplus(l[i]) - (double)x[i] * l[i];
        dl[i] = scale * (sigmoid(l[i]) - x[i]);
    }
    ck_buffer *bl = ckc_upload(c, l, n), *bx = ckc_upload(c, x, n);
    ck_buffer *bn = ckc_upload(c, NULL, (size_t)batch), *bd = ckc_upload(c, NULL, n);
    ckc_ok(c, ck_bernoulli_nll(batch, dim, bl, bx, bn, bd, scale), "ck_bernoulli_nll");
    double e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "bernoulli nll: err %.3g (batch %d dim %d)", e, batch, dim);
    e = compare(c, bd, dl, n);
    ckc_expect(c, e <= 1e-5, "bernoulli dlogits: err %.3g (batch %d dim %d)", e, batch, dim);
    ckc_ok(c, ck_bernoulli_nll(batch, dim, bl, bx, bn, NULL, scale), "ck_bernoulli_nll");
    e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "bernoulli nll without gradient: err %.3g", e);
    /* the derivative formula against central differences */
    for (int t = 0; t < 20; t++) {
        double lv = ckc_uniform(r, -10, 10), xv = ckc_uniform(r, 0, 1), h = 1e-5;
        double num = ((softplus(lv + h) - xv * (lv + h)) - (softplus(lv - h) - xv * (lv - h))) / (2 * h);
        ckc_expect(c, fabs(num - (sigmoid(lv) - xv)) <= 1e-8,
                   "bernoulli derivative at l=%g x=%g: %.10g vs %.10g", lv, xv, sigmoid(lv) - xv, num);
    }
    ck_buffer_free(bl); ck_buffer_free(bx); ck_buffer_free(bn); ck_buffer_free(bd);
    free(l); free(x); free(nll); free(dl);
}

/* ---------------------------------------------------------------- Gaussian */

static double gauss_term(double m, double lv, double x) {
    return 0.5 * (1.83787706640934548356 + lv + (x - m) * (x - m) * exp(-lv));
}

static void gaussian_case(ckc *c, int batch, int ch, int plane, ckc_rng *r) {
    size_t n = (size_t)batch * ch * plane;
    const float scale = 0.29f;
    float *m = malloc(n * 4), *x = malloc(n * 4), *lv = malloc((size_t)ch * 4);
    ckc_fill(r, m, n, -0.2, 1.2);
    ckc_fill(r, x, n, 0, 1);
    ckc_fill(r, lv, (size_t)ch, -4, 1);
    double *nll = calloc((size_t)batch, 8), *dm = malloc(n * 8), *dlv = calloc((size_t)ch, 8);
    for (size_t i = 0; i < n; i++) {
        int cc = (int)(i / plane % ch);
        nll[i / ((size_t)ch * plane)] += gauss_term(m[i], lv[cc], x[i]);
        dm[i] = scale * (m[i] - (double)x[i]) * exp(-(double)lv[cc]);
        dlv[cc] += scale * 0.5 * (1 - ((double)x[i] - m[i]) * ((double)x[i] - m[i]) * exp(-(double)lv[cc]));
    }
    ck_buffer *bm = ckc_upload(c, m, n), *bx = ckc_upload(c, x, n), *blv = ckc_upload(c, lv, (size_t)ch);
    ck_buffer *bn = ckc_upload(c, NULL, (size_t)batch), *bdm = ckc_upload(c, NULL, n);
    ck_buffer *bdlv = ckc_upload(c, NULL, (size_t)ch);
    ckc_ok(c, ck_gaussian_nll(batch, ch, plane, bm, blv, bx, bn, bdm, bdlv, scale), "ck_gaussian_nll");
    double e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "gaussian nll: err %.3g (batch %d channels %d plane %d)", e, batch, ch, plane);
    e = compare(c, bdm, dm, n);
    ckc_expect(c, e <= 1e-5, "gaussian dmean: err %.3g (batch %d channels %d plane %d)", e, batch, ch, plane);
    e = compare(c, bdlv, dlv, (size_t)ch);
    ckc_expect(c, e <= 1e-5, "gaussian dlogvar: err %.3g (batch %d channels %d plane %d)", e, batch, ch, plane);
    ckc_ok(c, ck_gaussian_nll(batch, ch, plane, bm, blv, bx, bn, NULL, NULL, scale), "ck_gaussian_nll");
    e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "gaussian nll without gradients: err %.3g", e);
    for (int t = 0; t < 20; t++) {
        double mv = ckc_uniform(r, -1, 2), lvv = ckc_uniform(r, -4, 2), xv = ckc_uniform(r, 0, 1), h = 1e-5;
        double nm = (gauss_term(mv + h, lvv, xv) - gauss_term(mv - h, lvv, xv)) / (2 * h);
        double nl = (gauss_term(mv, lvv + h, xv) - gauss_term(mv, lvv - h, xv)) / (2 * h);
        double am = (mv - xv) * exp(-lvv), al = 0.5 * (1 - (xv - mv) * (xv - mv) * exp(-lvv));
        ckc_expect(c, fabs(nm - am) <= 1e-6 * fmax(1, fabs(am)) && fabs(nl - al) <= 1e-6,
                   "gaussian derivatives at m=%g lv=%g x=%g: (%.10g, %.10g) vs (%.10g, %.10g)",
                   mv, lvv, xv, am, al, nm, nl);
    }
    ck_buffer_free(bm); ck_buffer_free(bx); ck_buffer_free(blv); ck_buffer_free(bn);
    ck_buffer_free(bdm); ck_buffer_free(bdlv);
    free(m); free(x); free(lv); free(nll); free(dm); free(dlv);
}

/* ---------------------------------------------------------------- discretized logistic */

/* Which formula a value uses: 0 lower edge, 1 upper edge, 2 CDF difference, 3 fallback. */
static int logistic_branch(double mu, double x, double ls) {
    double s = exp(ls), h = 0.5 / 255;
    if (x < h) return 0;
    if (x > 1 - h) return 1;
    double delta = sigmoid((x - mu + h) / s) - sigmoid((x - mu - h) / s);
    return delta > 1e-5 ? 2 : 3;
}

/* log P(bin of x), directly from the logistic CDF (PixelCNN++'s rule). */
static double logistic_logp(double mu, double x, double ls) {
    double s = exp(ls), h = 0.5 / 255, a = (x - mu + h) / s, b = (x - mu - h) / s;
    switch (logistic_branch(mu, x, ls)) {
    case 0: return -softplus(-a);
    case 1: return -softplus(b);
    case 2: return log(sigmoid(a) - sigmoid(b));
    default: {
        double m = (x - mu) / s;
        return m - ls - 2 * softplus(m) - log(255.0);
    }
    }
}

/* Central difference of -logp in mu (which = 0) or ls (1); NAN across a branch change. */
static double logistic_fd(double mu, double x, double ls, int which) {
    double h = which == 0 ? 1e-4 * exp(ls) : 1e-4;
    double mp = mu + (which == 0 ? h : 0), mm = mu - (which == 0 ? h : 0);
    double lp = ls + (which == 1 ? h : 0), lm = ls - (which == 1 ? h : 0);
    int br = logistic_branch(mu, x, ls);
    if (logistic_branch(mp, x, lp) != br || logistic_branch(mm, x, lm) != br) return NAN;
    return -(logistic_logp(mp, x, lp) - logistic_logp(mm, x, lm)) / (2 * h);
}

static void logistic_case(ckc *c, int batch, int ch, int plane, ckc_rng *r, int *branches) {
    size_t n = (size_t)batch * ch * plane;
    const float scale = 0.43f;
    float *m = malloc(n * 4), *x = malloc(n * 4), *ls = malloc((size_t)ch * 4);
    for (int i = 0; i < ch; i++) ls[i] = (float)(i % 3 == 0 ? -7 : ckc_uniform(r, -5, 0));
    for (size_t i = 0; i < n; i++) {
        int k = i % 11 == 0 ? 0 : i % 11 == 1 ? 255 : ckc_int(r, 0, 255);
        x[i] = (float)(k / 255.0);
        double u = ckc_uniform(r, 0, 1);
        m[i] = (float)(u < 0.1 ? x[i] : u < 0.6 ? x[i] + ckc_uniform(r, -0.02, 0.02)
                                                 : ckc_uniform(r, -0.2, 1.2));
    }
    double *nll = calloc((size_t)batch, 8), *dm = malloc(n * 8), *dls = calloc((size_t)ch, 8);
    int ls_ok = 1;
    for (size_t i = 0; i < n; i++) {
        int cc = (int)(i / plane % ch);
        branches[logistic_branch(m[i], x[i], ls[cc])]++;
        nll[i / ((size_t)ch * plane)] -= logistic_logp(m[i], x[i], ls[cc]);
        dm[i] = scale * logistic_fd(m[i], x[i], ls[cc], 0);
        double g = logistic_fd(m[i], x[i], ls[cc], 1);
        if (isnan(g)) ls_ok = 0;
        dls[cc] += scale * g;
    }
    ck_buffer *bm = ckc_upload(c, m, n), *bx = ckc_upload(c, x, n), *bls = ckc_upload(c, ls, (size_t)ch);
    ck_buffer *bn = ckc_upload(c, NULL, (size_t)batch), *bdm = ckc_upload(c, NULL, n);
    ck_buffer *bdls = ckc_upload(c, NULL, (size_t)ch);
    ckc_ok(c, ck_logistic_nll(batch, ch, plane, bm, bls, bx, bn, bdm, bdls, scale), "ck_logistic_nll");
    double e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "logistic nll: err %.3g (batch %d channels %d plane %d)", e, batch, ch, plane);
    float *got = ckc_download(c, bdm, n);
    if (got) {
        /* only where the finite difference stays on one branch */
        double maxd = 0, maxr = 1;
        for (size_t i = 0; i < n; i++) {
            if (isnan(dm[i])) continue;
            maxd = fmax(maxd, fabs(got[i] - dm[i]));
            maxr = fmax(maxr, fabs(dm[i]));
            if (!isfinite(got[i])) maxd = INFINITY;
        }
        ckc_expect(c, maxd / maxr <= 1e-4, "logistic dmean vs finite differences: err %.3g", maxd / maxr);
        free(got);
    }
    if (ls_ok) {
        e = compare(c, bdls, dls, (size_t)ch);
        ckc_expect(c, e <= 1e-4, "logistic dlogscale vs finite differences: err %.3g", e);
    }
    ckc_ok(c, ck_logistic_nll(batch, ch, plane, bm, bls, bx, bn, NULL, NULL, scale), "ck_logistic_nll");
    e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "logistic nll without gradients: err %.3g", e);
    ck_buffer_free(bm); ck_buffer_free(bx); ck_buffer_free(bls); ck_buffer_free(bn);
    ck_buffer_free(bdm); ck_buffer_free(bdls);
    free(m); free(x); free(ls); free(nll); free(dm); free(dls);
}

/* A single value whose mean is hundreds of scales away: the nll must stay finite. */
static void logistic_extremes(ckc *c) {
    float m[4] = {1.0f, 0.0f, 0.9f, 0.5f}, x[4] = {0.0f, 1.0f, 0.1f, 0.5f}, ls = -9.0f;
    ck_buffer *bm = ckc_upload(c, m, 4), *bx = ckc_upload(c, x, 4), *bls = ckc_upload(c, &ls, 1);
    ck_buffer *bn = ckc_upload(c, NULL, 4), *bdm = ckc_upload(c, NULL, 4), *bdls = ckc_upload(c, NULL, 1);
    ckc_ok(c, ck_logistic_nll(4, 1, 1, bm, bls, bx, bn, bdm, bdls, 1.0f), "ck_logistic_nll");
    float *nll = ckc_download(c, bn, 4), *dm = ckc_download(c, bdm, 4);
    for (int i = 0; nll && dm && i < 4; i++) {
        double ref = -logistic_logp(m[i], x[i], ls);
        ckc_expect(c, isfinite(nll[i]) && isfinite(dm[i]) && fabs(nll[i] - ref) <= 1e-5 * fmax(1, fabs(ref)),
                   "logistic extreme %d: nll %g (reference %g), dmean %g", i, nll[i], ref, dm[i]);
    }
    free(nll); free(dm);
    ck_buffer_free(bm); ck_buffer_free(bx); ck_buffer_free(bls); ck_buffer_free(bn);
    ck_buffer_free(bdm); ck_buffer_free(bdls);
}

void ckc_check_losses(ckc *c) {
    ckc_rng r = {61};
    bernoulli_case(c, 1, 1, &r);
    bernoulli_case(c, 3, 784, &r);
    bernoulli_case(c, 64, 784, &r);
    gaussian_case(c, 1, 1, 1, &r);
    gaussian_case(c, 3, 3, 50, &r);
    gaussian_case(c, 16, 3, 1024, &r);
    int branches[4] = {0, 0, 0, 0};
    logistic_case(c, 1, 1, 3, &r, branches);
    logistic_case(c, 3, 3, 60, &r, branches);
    logistic_case(c, 16, 3, 1024, &r, branches);
    for (int i = 0; i < 4; i++)
        ckc_expect(c, branches[i] > 10, "logistic data reached branch %d only %d times", i, branches[i]);
    logistic_extremes(c);
}
