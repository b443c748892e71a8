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

static void softmax_task(void *ctx, int tid, int threads) {
    const softmax_job *j = ctx;
    size_t K = (size_t)j->classes, P = j->plane, b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b++) {
        const float *l = j->logits + b * K * P;
        float *d = j->dlogits ? j->dlogits + b * K * P : NULL;
        double s = 0;
        for (size_t p = 0; p < P; p++) {
            float w = j->weight ? j->weight[b * P + p] : 1.0f, y = j->labels[b * P + p];
            float m = l[p];
            for (size_t k = 1; k < K; k++) m = l[k * P + p] > m ? l[k * P + p] : m;
            double z = 0;
            for (size_t k = 0; k < K; k++) z += exp((double)l[k * P + p] - m);
            double lse = m + log(z);
            int valid = y >= 0 && y < (float)K && y == (float)(int)y;
            size_t yi = valid ? (size_t)y : 0;
            s += valid ? w * (lse - l[yi * P + p]) : NAN;
            if (!d) continue;
            for (size_t k = 0; k < K; k++) {
                float q = (float)exp((double)l[k * P + p] - lse) - (k == yi ? 1.0f : 0.0f);
                d[k * P + p] = valid ? j->scale * w * q : NAN;
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
