/*
 * softmax.c -- categorical negative log-likelihood under a softmax over the channel axis (a
 * classifier's classes, or a PixelCNN's codes at each position), and its gradient. Images are
 * split across the pool; each image's sum is taken by one thread, in double, in a fixed order.
 */
#include "cpu.h"

#include <math.h>

typedef struct {
    int batch, classes;
    size_t plane;
    const float *logits, *labels, *weight;
    float *nll, *dlogits, scale;
} softmax_job;

/* Positions are taken CHUNK at a time so that every loop over them runs down contiguous
 * memory in vector lanes (the classes of one position lie a plane apart). */
enum { CHUNK = 64 };

static void softmax_task(void *ctx, int tid, int threads) {
    const softmax_job *j = ctx;
    size_t K = (size_t)j->classes, P = j->plane, b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b++) {
        const float *l = j->logits + b * K * P;
        float *d = j->dlogits ? j->dlogits + b * K * P : NULL;
        double s = 0;
        for (size_t p0 = 0; p0 < P; p0 += CHUNK) {
            size_t n = P - p0 < CHUNK ? P - p0 : CHUNK;
            float m[CHUNK], z[CHUNK], lse[CHUNK], label[CHUNK], sw[CHUNK];
            for (size_t i = 0; i < n; i++) m[i] = l[p0 + i], z[i] = 0;
            for (size_t k = 1; k < K; k++) {
                const float *row = l + k * P + p0;
                for (size_t i = 0; i < n; i++) m[i] = row[i] > m[i] ? row[i] : m[i];
            }
            for (size_t k = 0; k < K; k++) {
                const float *row = l + k * P + p0;
                for (size_t i = 0; i < n; i++) z[i] += cpu_exp_neg(m[i] - row[i]);
            }
            for (size_t i = 0; i < n; i++) {
                size_t p = p0 + i;
                float w = j->weight ? j->weight[b * P + p] : 1.0f, y = j->labels[b * P + p];
                int valid = y >= 0 && y < (float)K && y == (float)(int)y;
                lse[i] = m[i] + logf(z[i]);
                label[i] = valid ? y : -1;
                sw[i] = valid ? j->scale * w : NAN;
                s += valid ? (double)w * ((double)lse[i] - l[(size_t)y * P + p]) : NAN;
            }
            if (!d) continue;
            for (size_t k = 0; k < K; k++) {
                const float *row = l + k * P + p0;
                float *drow = d + k * P + p0, kf = (float)k;
                for (size_t i = 0; i < n; i++)
                    drow[i] = sw[i] * (cpu_exp_neg(lse[i] - row[i]) - (label[i] == kf ? 1.0f : 0.0f));
            }
        }
        j->nll[b] = (float)s;
    }
}

ck_status cpu_softmax_nll(int batch, int classes, int plane, const ck_buffer *logits,
                          const ck_buffer *labels, const ck_buffer *weight, ck_buffer *nll,
                          ck_buffer *dlogits, float scale) {
    cpu_state *st = cpu_of(logits);
    softmax_job j = {.batch = batch, .classes = classes, .plane = (size_t)plane,
                     .logits = logits->host, .labels = labels->host,
                     .weight = weight ? weight->host : NULL, .nll = nll->host,
                     .dlogits = dlogits ? dlogits->host : NULL, .scale = scale};
    size_t total = (size_t)batch * classes * plane;
    if (total >= CPU_PARALLEL_MIN && st->threads > 1 && batch > 1) cpu_pool_run(st->pool, softmax_task, &j);
    else softmax_task(&j, 0, 1);
    return CK_OK;
}
