/*
 * check_losses.c -- Bernoulli, Gaussian and discretized-logistic negative log-likelihoods
 * against closed forms evaluated directly in double (err <= 1e-5 per image), their
 * gradients against the double derivative formulas (err <= 1e-5; Bernoulli, Gaussian) or
 * against central differences of the double closed form (err <= 1e-4; logistic, whose
 * derivative the kernel takes in a different, log-space form), and the derivative
 * formulas against central differences. Logits reach +-80, logistic scales e^-7..e^0
 * with means near and far from the targets, so the edge bins and the mid-bin fallback
 * are all exercised.
 *
 * Each case also runs with per-value weights in [0, 1] (a quarter exact zeros, some exact
 * ones) against the weighted references, with the weighted gradients also against
 * central differences of the weighted double nll; and weights of all ones must give
 * exactly the bits of weight NULL.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double softplus(double x) { return (x > 0 ? x : 0) + log1p(exp(-fabs(x))); }
static double sigmoid(double x) { return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)); }

static double compare(ckc *c, const ck_buffer *b, const double *ref, size_t n) {
    float *got = ckc_download(c, b, n);
    double e = got ? ckc_err(got, ref, n) : 1;
    free(got);
    return e;
}

/* n weights in [0, 1]: a quarter exactly 0, an eighth exactly 1, the rest uniform. */
static float *random_weights(ckc_rng *r, size_t n) {
    float *w = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        double u = ckc_uniform(r, 0, 1);
        w[i] = (float)(u < 0.25 ? 0 : u < 0.375 ? 1 : ckc_uniform(r, 0, 1));
    }
    return w;
}

/* The weight of value i (1 without weights). */
static double weight_at(const float *w, size_t i) { return w ? w[i] : 1.0; }

/* n floats of two buffers are the same bits. */
static int same_bits(ckc *c, const ck_buffer *a, const ck_buffer *b, size_t n) {
    float *x = ckc_download(c, a, n), *y = ckc_download(c, b, n);
    int same = x && y && memcmp(x, y, n * 4) == 0;
    free(x);
    free(y);
    return same;
}

/* A buffer of n ones. */
static ck_buffer *ones(ckc *c, size_t n) {
    float *one = malloc(n * 4);
    for (size_t i = 0; i < n; i++) one[i] = 1.0f;
    ck_buffer *b = ckc_upload(c, one, n);
    free(one);
    return b;
}

/* A per-channel likelihood op: ck_gaussian_nll and ck_logistic_nll share this signature. */
typedef ck_status (*channel_nll_fn)(int, int, int, const ck_buffer *, const ck_buffer *,
                                    const ck_buffer *, const ck_buffer *, ck_buffer *, ck_buffer *,
                                    ck_buffer *, float);

/* Weights of all ones give the same bits as no weights: values and both gradients. */
static void expect_ones_like_none(ckc *c, channel_nll_fn op, const char *name, int batch, int ch,
                                  int plane, const ck_buffer *mean, const ck_buffer *param,
                                  const ck_buffer *target, float scale) {
    size_t n = (size_t)batch * ch * plane;
    ck_buffer *b1 = ones(c, n), *out[2][3];
    for (int k = 0; k < 2; k++) {
        out[k][0] = ckc_upload(c, NULL, (size_t)batch);
        out[k][1] = ckc_upload(c, NULL, n);
        out[k][2] = ckc_upload(c, NULL, (size_t)ch);
        ckc_ok(c, op(batch, ch, plane, mean, param, target, k ? b1 : NULL, out[k][0], out[k][1], out[k][2],
                     scale), name);
    }
    ckc_expect(c, same_bits(c, out[0][0], out[1][0], (size_t)batch) && same_bits(c, out[0][1], out[1][1], n) &&
                      same_bits(c, out[0][2], out[1][2], (size_t)ch),
               "%s with weights of 1 differs from no weights (batch %d channels %d plane %d)", name, batch, ch, plane);
    ck_buffer_free(b1);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 3; i++) ck_buffer_free(out[k][i]);
}

/* ---------------------------------------------------------------- Bernoulli */

static double bern_term(double l, double x) { return softplus(l) - x * l; }

static void bernoulli_case(ckc *c, int batch, int dim, ckc_rng *r, int weighted) {
    size_t n = (size_t)batch * dim;
    const float scale = 0.37f;
    const char *kind = weighted ? "weighted " : "";
    float *l = malloc(n * 4), *x = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        l[i] = (float)(i % 13 == 0 ? ckc_uniform(r, -80, 80) : ckc_uniform(r, -8, 8));
        x[i] = (float)(i % 2 ? ckc_uniform(r, 0, 1) : (ckc_uniform(r, 0, 1) < 0.5 ? 0 : 1));
    }
    float *w = weighted ? random_weights(r, n) : NULL;
    double *nll = calloc((size_t)batch, 8), *dl = malloc(n * 8);
    for (size_t i = 0; i < n; i++) {
        nll[i / dim] += weight_at(w, i) * bern_term(l[i], x[i]);
        dl[i] = scale * weight_at(w, i) * (sigmoid(l[i]) - x[i]);
    }
    ck_buffer *bl = ckc_upload(c, l, n), *bx = ckc_upload(c, x, n), *bw = w ? ckc_upload(c, w, n) : NULL;
    ck_buffer *bn = ckc_upload(c, NULL, (size_t)batch), *bd = ckc_upload(c, NULL, n);
    ckc_ok(c, ck_bernoulli_nll(batch, dim, bl, bx, bw, bn, bd, scale), "ck_bernoulli_nll");
    double e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "%sbernoulli nll: err %.3g (batch %d dim %d)", kind, e, batch, dim);
    e = compare(c, bd, dl, n);
    ckc_expect(c, e <= 1e-5, "%sbernoulli dlogits: err %.3g (batch %d dim %d)", kind, e, batch, dim);
    if (w) {
        /* the weighted gradient against central differences of the weighted nll */
        float *got = ckc_download(c, bd, n);
        double maxd = 0;
        for (int t = 0; got && t < 20; t++) {
            size_t i = (size_t)ckc_int(r, 0, (int)n - 1);
            double h = 1e-5;
            double num = w[i] * (bern_term(l[i] + h, x[i]) - bern_term(l[i] - h, x[i])) / (2 * h);
            maxd = fmax(maxd, fabs(got[i] - scale * num));
        }
        ckc_expect(c, got && maxd <= 1e-5, "weighted bernoulli dlogits vs finite differences: err %.3g", maxd);
        free(got);
    }
    ckc_ok(c, ck_bernoulli_nll(batch, dim, bl, bx, bw, bn, NULL, scale), "ck_bernoulli_nll");
    e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "%sbernoulli nll without gradient: err %.3g", kind, e);
    if (!w) {
        /* weights of all ones: the same bits as no weights */
        ck_buffer *b1 = ones(c, n), *bn1 = ckc_upload(c, NULL, (size_t)batch), *bd1 = ckc_upload(c, NULL, n);
        ckc_ok(c, ck_bernoulli_nll(batch, dim, bl, bx, NULL, bn, bd, scale), "ck_bernoulli_nll");
        ckc_ok(c, ck_bernoulli_nll(batch, dim, bl, bx, b1, bn1, bd1, scale), "ck_bernoulli_nll");
        ckc_expect(c, same_bits(c, bn, bn1, (size_t)batch) && same_bits(c, bd, bd1, n),
                   "bernoulli with weights of 1 differs from no weights (batch %d dim %d)", batch, dim);
        ck_buffer_free(b1); ck_buffer_free(bn1); ck_buffer_free(bd1);
    }
    /* the derivative formula against central differences */
    for (int t = 0; t < 20; t++) {
        double lv = ckc_uniform(r, -10, 10), xv = ckc_uniform(r, 0, 1), h = 1e-5;
        double num = ((softplus(lv + h) - xv * (lv + h)) - (softplus(lv - h) - xv * (lv - h))) / (2 * h);
        ckc_expect(c, fabs(num - (sigmoid(lv) - xv)) <= 1e-8,
                   "bernoulli derivative at l=%g x=%g: %.10g vs %.10g", lv, xv, sigmoid(lv) - xv, num);
    }
    ck_buffer_free(bl); ck_buffer_free(bx); ck_buffer_free(bw); ck_buffer_free(bn); ck_buffer_free(bd);
    free(l); free(x); free(w); free(nll); free(dl);
}

/* ---------------------------------------------------------------- Gaussian */

static double gauss_term(double m, double lv, double x) {
    return 0.5 * (1.83787706640934548356 + lv + (x - m) * (x - m) * exp(-lv));
}

static void gaussian_case(ckc *c, int batch, int ch, int plane, ckc_rng *r, int weighted) {
    size_t n = (size_t)batch * ch * plane;
    const float scale = 0.29f;
    const char *kind = weighted ? "weighted " : "";
    float *m = malloc(n * 4), *x = malloc(n * 4), *lv = malloc((size_t)ch * 4);
    ckc_fill(r, m, n, -0.2, 1.2);
    ckc_fill(r, x, n, 0, 1);
    ckc_fill(r, lv, (size_t)ch, -4, 1);
    float *w = weighted ? random_weights(r, n) : NULL;
    double *nll = calloc((size_t)batch, 8), *dm = malloc(n * 8), *dlv = calloc((size_t)ch, 8);
    for (size_t i = 0; i < n; i++) {
        int cc = (int)(i / plane % ch);
        double wi = weight_at(w, i);
        nll[i / ((size_t)ch * plane)] += wi * gauss_term(m[i], lv[cc], x[i]);
        dm[i] = scale * wi * (m[i] - (double)x[i]) * exp(-(double)lv[cc]);
        dlv[cc] += scale * wi * 0.5 * (1 - ((double)x[i] - m[i]) * ((double)x[i] - m[i]) * exp(-(double)lv[cc]));
    }
    ck_buffer *bm = ckc_upload(c, m, n), *bx = ckc_upload(c, x, n), *blv = ckc_upload(c, lv, (size_t)ch);
    ck_buffer *bw = w ? ckc_upload(c, w, n) : NULL;
    ck_buffer *bn = ckc_upload(c, NULL, (size_t)batch), *bdm = ckc_upload(c, NULL, n);
    ck_buffer *bdlv = ckc_upload(c, NULL, (size_t)ch);
    ckc_ok(c, ck_gaussian_nll(batch, ch, plane, bm, blv, bx, bw, bn, bdm, bdlv, scale), "ck_gaussian_nll");
    double e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "%sgaussian nll: err %.3g (batch %d channels %d plane %d)", kind, e, batch, ch, plane);
    e = compare(c, bdm, dm, n);
    ckc_expect(c, e <= 1e-5, "%sgaussian dmean: err %.3g (batch %d channels %d plane %d)", kind, e, batch, ch, plane);
    e = compare(c, bdlv, dlv, (size_t)ch);
    ckc_expect(c, e <= 1e-5, "%sgaussian dlogvar: err %.3g (batch %d channels %d plane %d)", kind, e, batch, ch, plane);
    if (w) {
        /* the weighted gradients against central differences of the weighted nll: dmean at
           sampled values, dlogvar over each channel's values */
        float *got = ckc_download(c, bdm, n);
        double maxd = 0, h = 1e-5;
        for (int t = 0; got && t < 20; t++) {
            size_t i = (size_t)ckc_int(r, 0, (int)n - 1);
            int cc = (int)(i / plane % ch);
            double num = w[i] * (gauss_term(m[i] + h, lv[cc], x[i]) - gauss_term(m[i] - h, lv[cc], x[i])) / (2 * h);
            maxd = fmax(maxd, fabs(got[i] - scale * num) / fmax(1, fabs(scale * num)));
        }
        ckc_expect(c, got && maxd <= 1e-5, "weighted gaussian dmean vs finite differences: err %.3g", maxd);
        free(got);
        double *num = calloc((size_t)ch, 8);
        for (size_t i = 0; i < n; i++) {
            int cc = (int)(i / plane % ch);
            num[cc] += scale * w[i] * (gauss_term(m[i], lv[cc] + h, x[i]) - gauss_term(m[i], lv[cc] - h, x[i])) / (2 * h);
        }
        e = compare(c, bdlv, num, (size_t)ch);
        ckc_expect(c, e <= 1e-4, "weighted gaussian dlogvar vs finite differences: err %.3g", e);
        free(num);
    }
    ckc_ok(c, ck_gaussian_nll(batch, ch, plane, bm, blv, bx, bw, bn, NULL, NULL, scale), "ck_gaussian_nll");
    e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "%sgaussian nll without gradients: err %.3g", kind, e);
    if (!w) expect_ones_like_none(c, ck_gaussian_nll, "ck_gaussian_nll", batch, ch, plane, bm, blv, bx, scale);
    for (int t = 0; t < 20; t++) {
        double mv = ckc_uniform(r, -1, 2), lvv = ckc_uniform(r, -4, 2), xv = ckc_uniform(r, 0, 1), h = 1e-5;
        double nm = (gauss_term(mv + h, lvv, xv) - gauss_term(mv - h, lvv, xv)) / (2 * h);
        double nl = (gauss_term(mv, lvv + h, xv) - gauss_term(mv, lvv - h, xv)) / (2 * h);
        double am = (mv - xv) * exp(-lvv), al = 0.5 * (1 - (xv - mv) * (xv - mv) * exp(-lvv));
        ckc_expect(c, fabs(nm - am) <= 1e-6 * fmax(1, fabs(am)) && fabs(nl - al) <= 1e-6,
                   "gaussian derivatives at m=%g lv=%g x=%g: (%.10g, %.10g) vs (%.10g, %.10g)",
                   mv, lvv, xv, am, al, nm, nl);
    }
    ck_buffer_free(bm); ck_buffer_free(bx); ck_buffer_free(blv); ck_buffer_free(bw); ck_buffer_free(bn);
    ck_buffer_free(bdm); ck_buffer_free(bdlv);
    free(m); free(x); free(lv); free(w); free(nll); free(dm); free(dlv);
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

static void logistic_case(ckc *c, int batch, int ch, int plane, ckc_rng *r, int *branches,
                          int weighted) {
    size_t n = (size_t)batch * ch * plane;
    const float scale = 0.43f;
    const char *kind = weighted ? "weighted " : "";
    float *m = malloc(n * 4), *x = malloc(n * 4), *ls = malloc((size_t)ch * 4);
    for (int i = 0; i < ch; i++) ls[i] = (float)(i % 3 == 0 ? -7 : ckc_uniform(r, -5, 0));
    for (size_t i = 0; i < n; i++) {
        int k = i % 11 == 0 ? 0 : i % 11 == 1 ? 255 : ckc_int(r, 0, 255);
        x[i] = (float)(k / 255.0);
        double u = ckc_uniform(r, 0, 1);
        m[i] = (float)(u < 0.1 ? x[i] : u < 0.6 ? x[i] + ckc_uniform(r, -0.02, 0.02)
                                                 : ckc_uniform(r, -0.2, 1.2));
    }
    float *w = weighted ? random_weights(r, n) : NULL;
    /* the gradient references are central differences of the (weighted) double nll */
    double *nll = calloc((size_t)batch, 8), *dm = malloc(n * 8), *dls = calloc((size_t)ch, 8);
    int ls_ok = 1;
    for (size_t i = 0; i < n; i++) {
        int cc = (int)(i / plane % ch);
        double wi = weight_at(w, i);
        branches[logistic_branch(m[i], x[i], ls[cc])]++;
        nll[i / ((size_t)ch * plane)] -= wi * logistic_logp(m[i], x[i], ls[cc]);
        /* a weight of 0 leaves no term: its derivatives are 0 on any branch */
        dm[i] = wi == 0 ? 0 : scale * wi * logistic_fd(m[i], x[i], ls[cc], 0);
        double g = wi == 0 ? 0 : wi * logistic_fd(m[i], x[i], ls[cc], 1);
        if (isnan(g)) ls_ok = 0;
        dls[cc] += scale * g;
    }
    ck_buffer *bm = ckc_upload(c, m, n), *bx = ckc_upload(c, x, n), *bls = ckc_upload(c, ls, (size_t)ch);
    ck_buffer *bw = w ? ckc_upload(c, w, n) : NULL;
    ck_buffer *bn = ckc_upload(c, NULL, (size_t)batch), *bdm = ckc_upload(c, NULL, n);
    ck_buffer *bdls = ckc_upload(c, NULL, (size_t)ch);
    ckc_ok(c, ck_logistic_nll(batch, ch, plane, bm, bls, bx, bw, bn, bdm, bdls, scale), "ck_logistic_nll");
    double e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "%slogistic nll: err %.3g (batch %d channels %d plane %d)", kind, e, batch, ch, plane);
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
        ckc_expect(c, maxd / maxr <= 1e-4, "%slogistic dmean vs finite differences: err %.3g", kind, maxd / maxr);
        free(got);
    }
    if (ls_ok) {
        e = compare(c, bdls, dls, (size_t)ch);
        ckc_expect(c, e <= 1e-4, "%slogistic dlogscale vs finite differences: err %.3g", kind, e);
    }
    ckc_ok(c, ck_logistic_nll(batch, ch, plane, bm, bls, bx, bw, bn, NULL, NULL, scale), "ck_logistic_nll");
    e = compare(c, bn, nll, (size_t)batch);
    ckc_expect(c, e <= 1e-5, "%slogistic nll without gradients: err %.3g", kind, e);
    if (!w) expect_ones_like_none(c, ck_logistic_nll, "ck_logistic_nll", batch, ch, plane, bm, bls, bx, scale);
    ck_buffer_free(bm); ck_buffer_free(bx); ck_buffer_free(bls); ck_buffer_free(bw); ck_buffer_free(bn);
    ck_buffer_free(bdm); ck_buffer_free(bdls);
    free(m); free(x); free(ls); free(w); free(nll); free(dm); free(dls);
}

/* A single value whose mean is hundreds of scales away: the nll must stay finite. */
static void logistic_extremes(ckc *c) {
    float m[4] = {1.0f, 0.0f, 0.9f, 0.5f}, x[4] = {0.0f, 1.0f, 0.1f, 0.5f}, ls = -9.0f;
    ck_buffer *bm = ckc_upload(c, m, 4), *bx = ckc_upload(c, x, 4), *bls = ckc_upload(c, &ls, 1);
    ck_buffer *bn = ckc_upload(c, NULL, 4), *bdm = ckc_upload(c, NULL, 4), *bdls = ckc_upload(c, NULL, 1);
    ckc_ok(c, ck_logistic_nll(4, 1, 1, bm, bls, bx, NULL, bn, bdm, bdls, 1.0f), "ck_logistic_nll");
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
    for (int weighted = 0; weighted <= 1; weighted++) {
        bernoulli_case(c, 1, 1, &r, weighted);
        bernoulli_case(c, 3, 784, &r, weighted);
        bernoulli_case(c, 64, 784, &r, weighted);
        gaussian_case(c, 1, 1, 1, &r, weighted);
        gaussian_case(c, 3, 3, 50, &r, weighted);
        gaussian_case(c, 16, 3, 1024, &r, weighted);
        int branches[4] = {0, 0, 0, 0};
        logistic_case(c, 1, 1, 3, &r, branches, weighted);
        logistic_case(c, 3, 3, 60, &r, branches, weighted);
        logistic_case(c, 16, 3, 1024, &r, branches, weighted);
        for (int i = 0; i < 4; i++)
            ckc_expect(c, branches[i] > 10, "logistic data reached branch %d only %d times", i, branches[i]);
    }
    logistic_extremes(c);
}
