/*
 * losses.c -- per-image negative log-likelihoods (Bernoulli with logits, Gaussian and
 * discretized logistic with per-channel learned scales) and their gradients.
 *
 * Images are split across the pool; each image's sum is taken by one thread in a fixed
 * order (so nll does not depend on the thread count). Per-channel scale gradients are
 * summed per thread in double in the backend's scratch, then in thread order.
 *
 * Per-value weights (masked likelihoods, e.g. inpainting) take separate loops or passes, so
 * that the unweighted ones stay as they are; the weighted loops follow them operation for
 * operation with one extra multiply, so all-ones weights give the same bits.
 */
#include "cpu.h"

#include <string.h>

#define HALF_LOG_2PI 0.91893853320467274178
#define LOG_255 5.54126354515842692284f
#define HALF_BIN (0.5f / 255.0f)
/* Below this probability mass the logistic bin falls back to pdf * width (PixelCNN++). */
#define MIN_DELTA 1e-5f

typedef struct loss_job loss_job;
/* One image b over channels [c0, c1): returns its nll there; adds dparam terms to acc[c - c0]. */
typedef double (*image_fn)(const loss_job *, size_t b, int c0, int c1, double *acc);

struct loss_job {
    image_fn image;
    cpu_state *st;
    int batch, channels;
    size_t plane;
    const float *mean, *param, *target, *weight; /* weight: NULL for the unweighted fns */
    float *nll, *dmean, *dparam, scale;
    int c0, c1;        /* channel block of this run */
    int accumulate;    /* add to nll instead of overwriting (later channel blocks) */
};

/* ---------------------------------------------------------------- driver */

static void loss_task(void *ctx, int tid, int threads) {
    const loss_job *j = ctx;
    double *acc = j->dparam ? j->st->scratch + (size_t)tid * CPU_SCRATCH : NULL;
    if (acc) memset(acc, 0, (size_t)(j->c1 - j->c0) * sizeof *acc);
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b++) {
        double s = j->image(j, b, j->c0, j->c1, acc);
        j->nll[b] = (float)(j->accumulate ? j->nll[b] + s : s);
    }
}

/* Runs one loss over images in parallel, in channel blocks that fit the scratch. */
static void loss_run(loss_job *j) {
    cpu_state *st = j->st;
    size_t total = (size_t)j->batch * j->channels * j->plane;
    int parallel = total >= CPU_PARALLEL_MIN && st->threads > 1;
    int threads = parallel ? st->threads : 1;
    for (int c0 = 0; c0 < j->channels; c0 += CPU_SCRATCH) {
        j->c0 = c0;
        j->c1 = j->channels - c0 < CPU_SCRATCH ? j->channels : c0 + CPU_SCRATCH;
        j->accumulate = c0 > 0;
        if (parallel) cpu_pool_run(st->pool, loss_task, j);
        else loss_task(j, 0, 1);
        if (!j->dparam) continue;
        for (int c = j->c0; c < j->c1; c++) {
            double s = 0;
            for (int t = 0; t < threads; t++) s += st->scratch[(size_t)t * CPU_SCRATCH + (c - j->c0)];
            j->dparam[c] = (float)(j->scale * s);
        }
    }
}

/* ---------------------------------------------------------------- Bernoulli */

typedef struct {
    int batch, dim;
    const float *logits, *target, *weight;
    float *nll, *dlogits, scale;
} bern_job;

/*
 * One block of at most BERN_BLOCK values: returns the sum of softplus(l) - x l and, when d
 * is set, stores scale (sigmoid(l) - x), each times its weight when w is set (a pass of its
 * own, so the unweighted loops stay as they were). softplus and sigmoid share e = exp(-|l|); both
 * come from the vectorisable cpu_exp_neg / cpu_log1p_unit (simple loops over the block,
 * no branches), and the sum runs in 16 float lanes (at most 16 terms each) added in a
 * fixed order, so it is deterministic.
 */
#define BERN_BLOCK 256
#define BERN_LANES 16

static double bern_block(const float *restrict l, const float *restrict x,
                         const float *restrict w, float *restrict d, float scale, int n) {
    float e[BERN_BLOCK], v[BERN_BLOCK];
    for (int i = 0; i < n; i++) e[i] = cpu_exp_neg(__builtin_fabsf(l[i]));
    for (int i = 0; i < n; i++)
        v[i] = (l[i] > 0 ? l[i] : 0.0f) + cpu_log1p_unit(e[i]) - x[i] * l[i];
    if (w)
        for (int i = 0; i < n; i++) v[i] *= w[i];
    if (d) {
        for (int i = 0; i < n; i++) {
            float inv = 1.0f / (1.0f + e[i]);
            d[i] = scale * ((l[i] >= 0 ? inv : e[i] * inv) - x[i]);
        }
        if (w)
            for (int i = 0; i < n; i++) d[i] *= w[i];
    }
    for (int i = n; i < BERN_BLOCK && (i & (BERN_LANES - 1)); i++) v[i] = 0;
    float lane[BERN_LANES] = {0};
    for (int i = 0; i < n; i += BERN_LANES)
        for (int k = 0; k < BERN_LANES; k++) lane[k] += v[i + k];
    double s = 0;
    for (int k = 0; k < BERN_LANES; k++) s += lane[k];
    return s;
}

static void bernoulli_task(void *ctx, int tid, int threads) {
    const bern_job *j = ctx;
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b++) {
        const float *l = j->logits + b * j->dim, *x = j->target + b * j->dim;
        const float *w = j->weight ? j->weight + b * j->dim : NULL;
        float *d = j->dlogits ? j->dlogits + b * j->dim : NULL;
        double s = 0;
        for (int i = 0; i < j->dim; i += BERN_BLOCK) {
            int n = j->dim - i < BERN_BLOCK ? j->dim - i : BERN_BLOCK;
            s += bern_block(l + i, x + i, w ? w + i : NULL, d ? d + i : NULL, j->scale, n);
        }
        j->nll[b] = (float)s;
    }
}

ck_status cpu_bernoulli_nll(int batch, int dim, const ck_buffer *logits, const ck_buffer *target,
                            const ck_buffer *weight, ck_buffer *nll, ck_buffer *dlogits,
                            float scale) {
    bern_job j = {batch, dim, logits->host, target->host, weight ? weight->host : NULL,
                  nll->host, dlogits ? dlogits->host : NULL, scale};
    cpu_state *st = cpu_of(logits);
    if ((size_t)batch * dim >= CPU_PARALLEL_MIN && st->threads > 1)
        cpu_pool_run(st->pool, bernoulli_task, &j);
    else
        bernoulli_task(&j, 0, 1);
    return CK_OK;
}

/* ---------------------------------------------------------------- Gaussian */

static double gaussian_image(const loss_job *j, size_t b, int c0, int c1, double *acc) {
    double s = 0;
    for (int c = c0; c < c1; c++) {
        size_t off = ((size_t)b * j->channels + c) * j->plane;
        const float *mu = j->mean + off, *x = j->target + off;
        float lv = j->param[c], iv = expf(-lv);
        /* squared differences in blocks of 256 summed in 16 float lanes (vectorised, at most
         * 16 terms a lane), the blocks added in double: deterministic and accurate */
        double sq = 0;
        for (size_t p0 = 0; p0 < j->plane; p0 += 256) {
            size_t n = j->plane - p0 < 256 ? j->plane - p0 : 256;
            float lane[16] = {0};
            size_t p = 0;
            for (; p + 16 <= n; p += 16)
                for (int l = 0; l < 16; l++) {
                    float d = mu[p0 + p + l] - x[p0 + p + l];
                    lane[l] += d * d;
                }
            for (int l = 0; p < n; p++, l++) {
                float d = mu[p0 + p] - x[p0 + p];
                lane[l] += d * d;
            }
            for (int l = 0; l < 16; l++) sq += lane[l];
        }
        s += j->plane * (HALF_LOG_2PI + 0.5 * lv) + 0.5 * iv * sq;
        if (j->dmean) {
            float *dm = j->dmean + off, f = j->scale * iv;
            for (size_t p = 0; p < j->plane; p++) dm[p] = f * (mu[p] - x[p]);
        }
        if (acc) acc[c - c0] += 0.5 * ((double)j->plane - iv * sq);
    }
    return s;
}

/* The sum of n weights, in gaussian_image's blocks and lanes (exact for integer sums). */
static double weight_sum(const float *w, size_t n) {
    double s = 0;
    for (size_t p0 = 0; p0 < n; p0 += 256) {
        size_t m = n - p0 < 256 ? n - p0 : 256;
        float lane[16] = {0};
        size_t p = 0;
        for (; p + 16 <= m; p += 16)
            for (int l = 0; l < 16; l++) lane[l] += w[p0 + p + l];
        for (int l = 0; p < m; p++, l++) lane[l] += w[p0 + p];
        for (int l = 0; l < 16; l++) s += lane[l];
    }
    return s;
}

/*
 * gaussian_image with weights: the same blocked lane sums of w (mu - x)^2, the weight sum
 * (taken first, like the pixel count it replaces, so that the compiler combines the terms
 * alike) and w on each dmean.
 */
static double gaussian_image_weighted(const loss_job *j, size_t b, int c0, int c1, double *acc) {
    double s = 0;
    for (int c = c0; c < c1; c++) {
        size_t off = ((size_t)b * j->channels + c) * j->plane;
        const float *mu = j->mean + off, *x = j->target + off, *w = j->weight + off;
        float lv = j->param[c], iv = expf(-lv);
        double ws = weight_sum(w, j->plane), sq = 0;
        for (size_t p0 = 0; p0 < j->plane; p0 += 256) {
            size_t n = j->plane - p0 < 256 ? j->plane - p0 : 256;
            float lane[16] = {0};
            size_t p = 0;
            for (; p + 16 <= n; p += 16)
                for (int l = 0; l < 16; l++) {
                    float d = mu[p0 + p + l] - x[p0 + p + l];
                    lane[l] += w[p0 + p + l] * d * d;
                }
            for (int l = 0; p < n; p++, l++) {
                float d = mu[p0 + p] - x[p0 + p];
                lane[l] += w[p0 + p] * d * d;
            }
            for (int l = 0; l < 16; l++) sq += lane[l];
        }
        s += ws * (HALF_LOG_2PI + 0.5 * lv) + 0.5 * iv * sq;
        if (j->dmean) {
            float *dm = j->dmean + off, f = j->scale * iv;
            for (size_t p = 0; p < j->plane; p++) dm[p] = w[p] * (f * (mu[p] - x[p]));
        }
        if (acc) acc[c - c0] += 0.5 * (ws - iv * sq);
    }
    return s;
}

ck_status cpu_gaussian_nll(int batch, int channels, int plane, const ck_buffer *mean,
                           const ck_buffer *logvar, const ck_buffer *target,
                           const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                           ck_buffer *dlogvar, float scale) {
    loss_job j = {.image = weight ? gaussian_image_weighted : gaussian_image, .st = cpu_of(mean),
                  .batch = batch, .channels = channels, .plane = (size_t)plane,
                  .mean = mean->host, .param = logvar->host, .target = target->host,
                  .weight = weight ? weight->host : NULL, .nll = nll->host,
                  .dmean = dmean ? dmean->host : NULL, .dparam = dlogvar ? dlogvar->host : NULL,
                  .scale = scale};
    loss_run(&j);
    return CK_OK;
}

/* ---------------------------------------------------------------- discretized logistic */

/*
 * Log-probability of the 8-bit bin of x under a logistic(mu, s = exp(ls)), with its
 * derivatives in mu and ls. a and b are the bin edges in standard units; the middle bins
 * use log(sigmoid(a) - sigmoid(b)) = log sigmoid(a) + log sigmoid(-b) + log(1 - e^(b - a)),
 * which has no cancellation.
 */
static float logistic_logp(float mu, float x, float ls, float inv_s, float *g_mu, float *g_ls) {
    float c = x - mu;
    if (x < HALF_BIN) { /* k = 0: (-inf, 0.5/255] */
        float a = inv_s * (c + HALF_BIN), da = cpu_sigmoid(-a);
        *g_mu = -inv_s * da;
        *g_ls = -a * da;
        return -cpu_softplus(-a);
    }
    if (x > 1.0f - HALF_BIN) { /* k = 255: [254.5/255, inf) */
        float b = inv_s * (c - HALF_BIN), db = -cpu_sigmoid(b);
        *g_mu = -inv_s * db;
        *g_ls = -b * db;
        return -cpu_softplus(b);
    }
    float a = inv_s * (c + HALF_BIN), b = inv_s * (c - HALF_BIN), w = a - b;
    float log_delta = -cpu_softplus(-a) - cpu_softplus(b) + logf(-expm1f(-w));
    if (log_delta > logf(MIN_DELTA)) {
        float g = 1.0f / expm1f(w);
        float da = cpu_sigmoid(-a) + g, db = -cpu_sigmoid(b) - g;
        *g_mu = -inv_s * (da + db);
        *g_ls = -a * da - b * db;
        return log_delta;
    }
    /* mid-bin fallback: log(pdf(x) * 1/255) */
    float m = inv_s * c, dm = 1.0f - 2.0f * cpu_sigmoid(m);
    *g_mu = -inv_s * dm;
    *g_ls = -m * dm - 1.0f;
    return m - ls - 2.0f * cpu_softplus(m) - LOG_255;
}

static double logistic_image(const loss_job *j, size_t b, int c0, int c1, double *acc) {
    double s = 0;
    for (int c = c0; c < c1; c++) {
        size_t off = ((size_t)b * j->channels + c) * j->plane;
        const float *mu = j->mean + off, *x = j->target + off;
        float ls = j->param[c], inv_s = expf(-ls);
        float *dm = j->dmean ? j->dmean + off : NULL;
        double gs = 0;
        for (size_t p = 0; p < j->plane; p++) {
            float g_mu, g_ls;
            s -= logistic_logp(mu[p], x[p], ls, inv_s, &g_mu, &g_ls);
            if (dm) dm[p] = -j->scale * g_mu;
            gs -= g_ls;
        }
        if (acc) acc[c - c0] += gs;
    }
    return s;
}

/*
 * logistic_image with each value's -log P and its derivatives multiplied by its weight.
 * flatten inlines logistic_logp here, which leaves logistic_image its one caller: the
 * compilers then inline it there as before, rather than call it per pixel from both.
 */
__attribute__((flatten))
static double logistic_image_weighted(const loss_job *j, size_t b, int c0, int c1, double *acc) {
    double s = 0;
    for (int c = c0; c < c1; c++) {
        size_t off = ((size_t)b * j->channels + c) * j->plane;
        const float *mu = j->mean + off, *x = j->target + off, *w = j->weight + off;
        float ls = j->param[c], inv_s = expf(-ls);
        float *dm = j->dmean ? j->dmean + off : NULL;
        double gs = 0;
        for (size_t p = 0; p < j->plane; p++) {
            float g_mu, g_ls;
            s -= w[p] * logistic_logp(mu[p], x[p], ls, inv_s, &g_mu, &g_ls);
            if (dm) dm[p] = w[p] * (-j->scale * g_mu);
            gs -= w[p] * g_ls;
        }
        if (acc) acc[c - c0] += gs;
    }
    return s;
}

ck_status cpu_logistic_nll(int batch, int channels, int plane, const ck_buffer *mean,
                           const ck_buffer *logscale, const ck_buffer *target,
                           const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                           ck_buffer *dlogscale, float scale) {
    loss_job j = {.image = weight ? logistic_image_weighted : logistic_image, .st = cpu_of(mean),
                  .batch = batch, .channels = channels, .plane = (size_t)plane,
                  .mean = mean->host, .param = logscale->host, .target = target->host,
                  .weight = weight ? weight->host : NULL, .nll = nll->host,
                  .dmean = dmean ? dmean->host : NULL,
                  .dparam = dlogscale ? dlogscale->host : NULL, .scale = scale};
    loss_run(&j);
    return CK_OK;
}

/* ---------------------------------------------------------------- KL */

/*
 * KL(N(mu, e^lv) || N(0, 1)) = 0.5 sum (mu^2 + e^lv - 1 - lv). Small (batch x latent), so
 * one thread: per image for kl, then per latent for the free-bits test and the gradient.
 */
ck_status cpu_kl_normal(int batch, int latent, const ck_buffer *stats, ck_buffer *kl,
                        ck_buffer *dstats, float scale, float free_bits) {
    const float *st = stats->host;
    size_t row = 2 * (size_t)latent;
    for (int b = 0; b < batch; b++) {
        const float *mu = st + b * row, *lv = mu + latent;
        double s = 0;
        for (int i = 0; i < latent; i++)
            s += 0.5 * ((double)mu[i] * mu[i] + exp((double)lv[i]) - 1.0 - lv[i]);
        kl->host[b] = (float)s;
    }
    if (!dstats) return CK_OK;
    float *d = dstats->host;
    for (int i = 0; i < latent; i++) {
        if (free_bits > 0) {
            double mean = 0;
            for (int b = 0; b < batch; b++) {
                float mu = st[b * row + i], lv = st[b * row + latent + i];
                mean += 0.5 * ((double)mu * mu + exp((double)lv) - 1.0 - lv);
            }
            if (mean / batch < free_bits) continue;
        }
        for (int b = 0; b < batch; b++) {
            float mu = st[b * row + i], lv = st[b * row + latent + i];
            d[b * row + i] += scale * mu;
            d[b * row + latent + i] += scale * 0.5f * (expf(lv) - 1.0f);
        }
    }
    return CK_OK;
}
