/*
 * check_vq.c -- vector quantization against double references: nearest codes (the chosen
 * code is a nearest one up to float rounding of the distances, exact where codes are well
 * apart), the quantized map, per-image squared distances (err <= 1e-5), code vectors of a
 * code map, per-code counts and sums, the moving-average codebook with Laplace smoothing
 * over several steps, the plain codebook loss's gradient (and that against central
 * differences of the loss), dead-code restarts from the stream ck_random_bits names; the
 * argument checks. Also the gated activation (forward, and backward against the formula and
 * central differences) and the elementwise product.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>

/* z[b, :, p] as a double vector into v. */
static void vec(const float *z, int dim, int plane, int b, int p, double *v) {
    for (int d = 0; d < dim; d++) v[d] = z[((size_t)b * dim + d) * plane + p];
}

static double dist2(const double *v, const float *c, int dim) {
    double s = 0;
    for (int d = 0; d < dim; d++) s += (v[d] - c[d]) * (v[d] - c[d]);
    return s;
}

/* Nearest codes: separated = codes far apart and z near one of them (indices exact). */
static void assign_case(ckc *c, int batch, int dim, int plane, int codes, int separated, ckc_rng *r) {
    size_t n = (size_t)batch * dim * plane, m = (size_t)batch * plane, ws = 0;
    float *z = malloc(n * 4), *cb = malloc((size_t)codes * dim * 4);
    int *truth = malloc(m * sizeof(int));
    ckc_fill(r, cb, (size_t)codes * dim, separated ? -10 : -1, separated ? 10 : 1);
    ckc_fill(r, z, n, -1, 1);
    if (separated)
        for (int b = 0; b < batch; b++)
            for (int p = 0; p < plane; p++) {
                int k = ckc_int(r, 0, codes - 1);
                truth[(size_t)b * plane + p] = k;
                for (int d = 0; d < dim; d++)
                    z[((size_t)b * dim + d) * plane + p] = cb[(size_t)k * dim + d] + 0.01f * z[((size_t)b * dim + d) * plane + p];
            }
    ckc_ok(c, ck_vq_workspace(batch, dim, plane, codes, &ws), "ck_vq_workspace");
    ck_buffer *bz = ckc_upload(c, z, n), *bc = ckc_upload(c, cb, (size_t)codes * dim);
    ck_buffer *bi = ckc_upload(c, NULL, m), *bq = ckc_upload(c, NULL, n), *bd = ckc_upload(c, NULL, batch);
    ck_buffer *bw = ckc_upload(c, NULL, ws);
    if (ckc_ok(c, ck_vq_assign(batch, dim, plane, codes, bz, bc, bi, bq, bd, bw), "ck_vq_assign")) {
        float *idx = ckc_download(c, bi, m), *zq = ckc_download(c, bq, n), *sd = ckc_download(c, bd, batch);
        double *v = malloc((size_t)dim * 8), *ref = calloc((size_t)batch, 8);
        int bad_index = 0, bad_q = 0, not_nearest = 0, wrong = 0;
        for (int b = 0; idx && zq && b < batch; b++)
            for (int p = 0; p < plane; p++) {
                float y = idx[(size_t)b * plane + p];
                int k = (int)y;
                if (!(y >= 0 && y < codes && y == (float)k)) { bad_index++; continue; }
                vec(z, dim, plane, b, p, v);
                double best = INFINITY, got = dist2(v, cb + (size_t)k * dim, dim), scale = 0;
                for (int j = 0; j < codes; j++) best = fmin(best, dist2(v, cb + (size_t)j * dim, dim));
                for (int d = 0; d < dim; d++) scale += v[d] * v[d];
                not_nearest += got - best > 1e-5 * (1 + scale + got);
                if (separated) wrong += k != truth[(size_t)b * plane + p];
                ref[b] += got;
                for (int d = 0; d < dim; d++) bad_q += zq[((size_t)b * dim + d) * plane + p] != cb[(size_t)k * dim + d];
            }
        ckc_expect(c, bad_index == 0 && bad_q == 0, "%d indices not codes, %d quantized values not the code's (b%d d%d p%d k%d)",
                   bad_index, bad_q, batch, dim, plane, codes);
        ckc_expect(c, not_nearest == 0 && wrong == 0, "%d positions not at a nearest code, %d not at the planted one (b%d d%d p%d k%d)",
                   not_nearest, wrong, batch, dim, plane, codes);
        double e = sd ? ckc_err(sd, ref, (size_t)batch) : 1;
        ckc_expect(c, e <= 1e-5, "sqdist: err %.3g (b%d d%d p%d k%d)", e, batch, dim, plane, codes);
        /* Without zq and sqdist the indices are the same. */
        ck_buffer *bi2 = ckc_upload(c, NULL, m);
        if (ckc_ok(c, ck_vq_assign(batch, dim, plane, codes, bz, bc, bi2, NULL, NULL, bw), "ck_vq_assign")) {
            float *idx2 = ckc_download(c, bi2, m);
            int same = idx2 != NULL;
            for (size_t i = 0; same && i < m; i++) same = idx2[i] == idx[i];
            ckc_expect(c, same, "indices differ without zq and sqdist");
            free(idx2);
        }
        ck_buffer_free(bi2);
        /* The code vectors of these indices are the quantized map. */
        ck_buffer *be = ckc_upload(c, NULL, n);
        if (ckc_ok(c, ck_vq_embed(batch, dim, plane, codes, bi, bc, be), "ck_vq_embed")) {
            float *emb = ckc_download(c, be, n);
            int same = emb && zq;
            for (size_t i = 0; same && i < n; i++) same = emb[i] == zq[i];
            ckc_expect(c, same, "ck_vq_embed differs from the quantized map");
            free(emb);
        }
        ck_buffer_free(be);
        free(idx); free(zq); free(sd); free(v); free(ref);
    }
    ck_buffer_free(bz); ck_buffer_free(bc); ck_buffer_free(bi); ck_buffer_free(bq); ck_buffer_free(bd);
    ck_buffer_free(bw);
    free(z); free(cb); free(truth);
}

/* Per-code statistics, then EMA steps and the codebook gradient, against double references. */
static void statistics_case(ckc *c, int batch, int dim, int plane, int codes, ckc_rng *r) {
    size_t n = (size_t)batch * dim * plane, m = (size_t)batch * plane, kd = (size_t)codes * dim;
    float *z = malloc(n * 4), *idx = malloc(m * 4), *cb = malloc(kd * 4);
    ckc_fill(r, z, n, -2, 2);
    ckc_fill(r, cb, kd, -1, 1);
    double *cnt = malloc((size_t)codes * 8), *sum = malloc(kd * 8);
    double *N = malloc((size_t)codes * 8), *M = malloc(kd * 8), *C = malloc(kd * 8), *G = malloc(kd * 8);
    float *N0 = malloc((size_t)codes * 4), *M0 = malloc(kd * 4);
    ckc_fill(r, N0, (size_t)codes, 0, 5);
    ckc_fill(r, M0, kd, -3, 3);
    for (int k = 0; k < codes; k++) N[k] = N0[k];
    for (size_t i = 0; i < kd; i++) M[i] = M0[i];
    ck_buffer *bz = ckc_upload(c, z, n), *bi = ckc_upload(c, NULL, m), *bcnt = ckc_upload(c, NULL, codes);
    ck_buffer *bsum = ckc_upload(c, NULL, kd), *bN = ckc_upload(c, N0, codes), *bM = ckc_upload(c, M0, kd);
    ck_buffer *bc = ckc_upload(c, cb, kd), *bg = ckc_upload(c, NULL, kd);
    const float decay = 0.9f, eps = 1e-3f, scale = 0.3f;
    for (int step = 0; step < 3; step++) {
        /* codes used unevenly, some not at all */
        for (size_t i = 0; i < m; i++) idx[i] = (float)ckc_int(r, 0, codes > 3 ? codes - 3 : codes - 1);
        ckc_ok(c, ck_buffer_write(bi, 0, m, idx), "ck_buffer_write");
        for (int k = 0; k < codes; k++) cnt[k] = 0;
        for (size_t i = 0; i < kd; i++) sum[i] = 0;
        for (int b = 0; b < batch; b++)
            for (int p = 0; p < plane; p++) {
                int k = (int)idx[(size_t)b * plane + p];
                cnt[k] += 1;
                for (int d = 0; d < dim; d++) sum[(size_t)k * dim + d] += z[((size_t)b * dim + d) * plane + p];
            }
        if (!ckc_ok(c, ck_vq_statistics(batch, dim, plane, codes, bz, bi, bcnt, bsum), "ck_vq_statistics")) break;
        float *gc = ckc_download(c, bcnt, codes), *gs = ckc_download(c, bsum, kd);
        double e1 = gc ? ckc_err(gc, cnt, codes) : 1, e2 = gs ? ckc_err(gs, sum, kd) : 1;
        ckc_expect(c, e1 == 0 && e2 <= 1e-5, "statistics: counts err %.3g, sums err %.3g (b%d d%d p%d k%d)",
                   e1, e2, batch, dim, plane, codes);
        free(gc); free(gs);
        /* the plain codebook loss's gradient at the current codebook */
        float *cur = ckc_download(c, bc, kd);
        for (size_t i = 0; cur && i < kd; i++) G[i] = 2.0 * scale * (cnt[i / dim] * cur[i] - sum[i]);
        if (cur && ckc_ok(c, ck_vq_codebook_grad(codes, dim, scale, bcnt, bsum, bc, bg), "ck_vq_codebook_grad")) {
            float *gg = ckc_download(c, bg, kd);
            double e = gg ? ckc_err(gg, G, kd) : 1;
            ckc_expect(c, e <= 1e-5, "codebook gradient: err %.3g", e);
            free(gg);
        }
        free(cur);
        /* one EMA step */
        double total = 0;
        for (int k = 0; k < codes; k++) {
            N[k] = decay * N[k] + (1 - decay) * cnt[k];
            total += N[k];
        }
        for (size_t i = 0; i < kd; i++) {
            M[i] = decay * M[i] + (1 - decay) * sum[i];
            int k = (int)(i / dim);
            C[i] = M[i] / ((N[k] + eps) / (total + codes * (double)eps) * total);
        }
        if (!ckc_ok(c, ck_vq_ema_update(codes, dim, decay, eps, bcnt, bsum, bN, bM, bc), "ck_vq_ema_update")) break;
        float *gN = ckc_download(c, bN, codes), *gM = ckc_download(c, bM, kd), *gC = ckc_download(c, bc, kd);
        double eN = gN ? ckc_err(gN, N, codes) : 1, eM = gM ? ckc_err(gM, M, kd) : 1, eC = gC ? ckc_err(gC, C, kd) : 1;
        ckc_expect(c, eN <= 1e-5 && eM <= 1e-5 && eC <= 1e-5,
                   "EMA step %d: counts err %.3g, sums err %.3g, codebook err %.3g (k%d d%d)", step, eN, eM, eC, codes, dim);
        free(gN); free(gM); free(gC);
    }
    ck_buffer_free(bz); ck_buffer_free(bi); ck_buffer_free(bcnt); ck_buffer_free(bsum); ck_buffer_free(bN);
    ck_buffer_free(bM); ck_buffer_free(bc); ck_buffer_free(bg);
    free(z); free(idx); free(cb); free(cnt); free(sum); free(N); free(M); free(C); free(G); free(N0); free(M0);
}

/* The codebook gradient is the derivative of the loss (central differences, in double). */
static void codebook_loss_derivative(ckc *c) {
    const int dim = 3, codes = 2, vectors = 4;
    const double z[4][3] = {{0.1, -0.4, 0.7}, {1.2, 0.3, -0.2}, {-0.5, 0.5, 0.0}, {0.9, -1.0, 0.4}};
    const int idx[4] = {0, 1, 0, 1};
    double cb[6] = {0.2, 0.1, -0.3, 0.8, -0.6, 0.5}, cnt[2] = {2, 2}, sum[6] = {0};
    for (int i = 0; i < vectors; i++)
        for (int d = 0; d < dim; d++) sum[idx[i] * dim + d] += z[i][d];
    const double scale = 0.3, h = 1e-5;
    for (int j = 0; j < codes * dim; j++) {
        double loss[2];
        for (int s = 0; s < 2; s++) {
            double w[6];
            for (int i = 0; i < 6; i++) w[i] = cb[i];
            w[j] += s ? -h : h;
            loss[s] = 0;
            for (int i = 0; i < vectors; i++)
                for (int d = 0; d < dim; d++) loss[s] += scale * (z[i][d] - w[idx[i] * dim + d]) * (z[i][d] - w[idx[i] * dim + d]);
        }
        double numeric = (loss[0] - loss[1]) / (2 * h), formula = 2 * scale * (cnt[j / dim] * cb[j] - sum[j]);
        ckc_expect(c, fabs(numeric - formula) <= 1e-6, "codebook loss derivative %d: %g vs numeric %g", j, formula, numeric);
    }
}

static void restart_case(ckc *c, int batch, int dim, int plane, int codes, int ema, ckc_rng *r) {
    size_t n = (size_t)batch * dim * plane, kd = (size_t)codes * dim;
    float *z = malloc(n * 4), *cb = malloc(kd * 4), *usage = malloc((size_t)codes * 4);
    float *N = malloc((size_t)codes * 4), *M = malloc(kd * 4);
    ckc_fill(r, z, n, -1, 1);
    ckc_fill(r, cb, kd, -1, 1);
    ckc_fill(r, N, codes, 1, 4);
    ckc_fill(r, M, kd, -1, 1);
    for (int k = 0; k < codes; k++) usage[k] = ckc_int(r, 0, 2) == 0 ? 0.0f : (float)ckc_int(r, 1, 50);
    const uint64_t seed = 0xDEADC0DE, counter = 77;
    double *rc = malloc(kd * 8), *rN = malloc((size_t)codes * 8), *rM = malloc(kd * 8);
    for (size_t i = 0; i < kd; i++) { rc[i] = cb[i]; rM[i] = M[i]; }
    for (int k = 0; k < codes; k++) {
        rN[k] = N[k];
        if (usage[k] != 0) continue;
        uint64_t pick = ck_random_bits(seed, counter + (uint64_t)k) % ((uint64_t)batch * plane);
        int b = (int)(pick / plane), p = (int)(pick % plane);
        for (int d = 0; d < dim; d++) rc[(size_t)k * dim + d] = rM[(size_t)k * dim + d] = z[((size_t)b * dim + d) * plane + p];
        rN[k] = 1;
    }
    ck_buffer *bz = ckc_upload(c, z, n), *bu = ckc_upload(c, usage, codes), *bc = ckc_upload(c, cb, kd);
    ck_buffer *bN = ema ? ckc_upload(c, N, codes) : NULL, *bM = ema ? ckc_upload(c, M, kd) : NULL;
    if (ckc_ok(c, ck_vq_restart(batch, dim, plane, codes, bz, bu, seed, counter, bc, bN, bM), "ck_vq_restart")) {
        float *gc = ckc_download(c, bc, kd);
        double e = gc ? ckc_err(gc, rc, kd) : 1;
        ckc_expect(c, e == 0, "restart: codebook err %.3g (ema %d)", e, ema);
        free(gc);
        if (ema) {
            float *gN = ckc_download(c, bN, codes), *gM = ckc_download(c, bM, kd);
            double eN = gN ? ckc_err(gN, rN, codes) : 1, eM = gM ? ckc_err(gM, rM, kd) : 1;
            ckc_expect(c, eN == 0 && eM == 0, "restart: moving averages err %.3g, %.3g", eN, eM);
            free(gN); free(gM);
        }
    }
    ck_buffer_free(bz); ck_buffer_free(bu); ck_buffer_free(bc); ck_buffer_free(bN); ck_buffer_free(bM);
    free(z); free(cb); free(usage); free(N); free(M); free(rc); free(rN); free(rM);
}

static double gate_ref(double a, double b) { return tanh(a) / (1 + exp(-b)); }

static void gate_case(ckc *c, int batch, int channels, int plane, ckc_rng *r) {
    size_t half = (size_t)channels * plane, n = (size_t)batch * half;
    float *x = malloc(2 * n * 4), *dy = malloc(n * 4);
    ckc_fill(r, x, 2 * n, -4, 4);
    ckc_fill(r, dy, n, -1, 1);
    double *y = malloc(n * 8), *dx = malloc(2 * n * 8);
    for (size_t b = 0; b < (size_t)batch; b++)
        for (size_t j = 0; j < half; j++) {
            size_t i = b * half + j, a = 2 * b * half + j;
            double t = tanh(x[a]), s = 1 / (1 + exp(-(double)x[a + half]));
            y[i] = t * s;
            dx[a] = dy[i] * s * (1 - t * t);
            dx[a + half] = dy[i] * t * s * (1 - s);
            /* the formula against central differences */
            if (i < 16) {
                double h = 1e-5;
                double na = (gate_ref(x[a] + h, x[a + half]) - gate_ref(x[a] - h, x[a + half])) / (2 * h);
                double nb = (gate_ref(x[a], x[a + half] + h) - gate_ref(x[a], x[a + half] - h)) / (2 * h);
                ckc_expect(c, fabs(na * dy[i] - dx[a]) <= 1e-6 && fabs(nb * dy[i] - dx[a + half]) <= 1e-6,
                           "gate derivative at %zu: %g, %g vs numeric %g, %g", i, dx[a], dx[a + half], na * dy[i], nb * dy[i]);
            }
        }
    ck_buffer *bx = ckc_upload(c, x, 2 * n), *by = ckc_upload(c, NULL, n), *bdy = ckc_upload(c, dy, n);
    ck_buffer *bdx = ckc_upload(c, NULL, 2 * n);
    if (ckc_ok(c, ck_gate_forward(batch, channels, plane, bx, by), "ck_gate_forward")) {
        float *got = ckc_download(c, by, n);
        double e = got ? ckc_err(got, y, n) : 1;
        ckc_expect(c, e <= 1e-6, "gate forward: err %.3g (b%d c%d p%d)", e, batch, channels, plane);
        free(got);
    }
    if (ckc_ok(c, ck_gate_backward(batch, channels, plane, bx, bdy, bdx), "ck_gate_backward")) {
        float *got = ckc_download(c, bdx, 2 * n);
        double e = got ? ckc_err(got, dx, 2 * n) : 1;
        ckc_expect(c, e <= 1e-6, "gate backward: err %.3g (b%d c%d p%d)", e, batch, channels, plane);
        free(got);
    }
    /* the elementwise product, in place on dy */
    double *prod = malloc(n * 8);
    for (size_t i = 0; i < n; i++) prod[i] = (double)x[i] * dy[i];
    if (ckc_ok(c, ck_multiply(n, bx, bdy), "ck_multiply")) {
        float *got = ckc_download(c, bdy, n);
        double e = got ? ckc_err(got, prod, n) : 1;
        ckc_expect(c, e <= 1e-7, "multiply: err %.3g", e);
        free(got);
    }
    ck_buffer_free(bx); ck_buffer_free(by); ck_buffer_free(bdy); ck_buffer_free(bdx);
    free(x); free(dy); free(y); free(dx); free(prod);
}

static void argument_checks(ckc *c) {
    ck_buffer *a = ckc_upload(c, NULL, 64), *small = ckc_upload(c, NULL, 2);
    size_t ws = 0;
    ckc_expect(c, ck_vq_workspace(0, 2, 2, 2, &ws) == CK_ERR_ARGUMENT, "workspace of batch 0 accepted");
    ckc_expect(c, ck_vq_assign(2, 2, 2, 2, a, a, small, NULL, NULL, a) == CK_ERR_SHAPE, "short indices accepted");
    ckc_expect(c, ck_vq_assign(2, 2, 2, 2, a, a, a, NULL, NULL, small) == CK_ERR_SHAPE, "short workspace accepted");
    ckc_expect(c, ck_vq_assign(2, 2, 2, 2, NULL, a, a, NULL, NULL, a) == CK_ERR_ARGUMENT, "NULL z accepted");
    ckc_expect(c, ck_vq_ema_update(2, 2, 1.0f, 1e-5f, a, a, a, a, a) == CK_ERR_ARGUMENT, "decay 1 accepted");
    ckc_expect(c, ck_vq_ema_update(2, 2, 0.9f, 0, a, a, a, a, a) == CK_ERR_ARGUMENT, "epsilon 0 accepted");
    ckc_expect(c, ck_vq_restart(2, 2, 2, 2, a, a, 1, 0, a, a, NULL) == CK_ERR_ARGUMENT, "ema counts without sums accepted");
    ckc_expect(c, ck_vq_statistics(2, 2, 2, 40, a, a, a, a) == CK_ERR_SHAPE, "short sums accepted");
    ckc_expect(c, ck_vq_codebook_grad(2, 2, NAN, a, a, a, a) == CK_ERR_ARGUMENT, "NaN scale accepted");
    ckc_expect(c, ck_gate_forward(2, 8, 4, a, a) == CK_ERR_SHAPE, "short gate input accepted");
    ckc_expect(c, ck_multiply(0, a, a) == CK_ERR_ARGUMENT, "multiply of 0 accepted");
    /* an index that is not a code embeds as NaN */
    float idx[2] = {1, 7}, cb[4] = {1, 2, 3, 4};
    ck_buffer *bi = ckc_upload(c, idx, 2), *bc = ckc_upload(c, cb, 4), *bq = ckc_upload(c, NULL, 4);
    if (ckc_ok(c, ck_vq_embed(1, 2, 2, 2, bi, bc, bq), "ck_vq_embed")) {
        float *q = ckc_download(c, bq, 4);
        ckc_expect(c, q && q[0] == 3 && q[2] == 4 && isnan(q[1]) && isnan(q[3]),
                   "embed of codes 1 and 7 (of 2): %g %g %g %g", q ? q[0] : 0, q ? q[1] : 0, q ? q[2] : 0, q ? q[3] : 0);
        free(q);
    }
    ck_buffer_free(a); ck_buffer_free(small); ck_buffer_free(bi); ck_buffer_free(bc); ck_buffer_free(bq);
}

void ckc_check_vq(ckc *c) {
    ckc_rng r = {0x5651564145};
    assign_case(c, 3, 4, 5, 7, 0, &r);
    assign_case(c, 4, 16, 49, 64, 0, &r);
    assign_case(c, 2, 8, 9, 300, 1, &r);
    assign_case(c, 16, 32, 64, 128, 1, &r);
    statistics_case(c, 3, 4, 5, 6, &r);
    statistics_case(c, 8, 16, 16, 40, &r);
    codebook_loss_derivative(c);
    restart_case(c, 3, 4, 6, 9, 1, &r);
    restart_case(c, 5, 8, 16, 64, 0, &r);
    gate_case(c, 3, 2, 5, &r);
    gate_case(c, 8, 16, 49, &r);
    argument_checks(c);
}
