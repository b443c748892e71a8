/*
 * vq.c -- vector quantization (a VQ-VAE's bottleneck) on the CPU: nearest codes through one
 * sgemm per thread's share of images (the cross terms z.c of all its positions at once),
 * code statistics, the moving-average codebook and dead-code restarts. Every loop has a
 * fixed order, so results depend on the thread count at most.
 */
#include "cpu.h"

#include <cblas.h>
#include <math.h>

typedef struct {
    int batch, dim, plane, codes;
    const float *z, *codebook, *norms;
    float *indices, *zq, *sqdist, *ws;
} assign_job;

/*
 * Images [b0, b1): their positions as rows [n, dim] in the workspace, the cross terms
 * rows x codebook^T [n, codes] by one sgemm, then per row the code with the least
 * |c|^2 - 2 z.c (the row's |z|^2 is common to every code).
 */
static void assign_task(void *ctx, int tid, int threads) {
    const assign_job *j = ctx;
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    if (b1 == b0) return;
    const size_t D = (size_t)j->dim, P = (size_t)j->plane, K = (size_t)j->codes;
    const size_t total = (size_t)j->batch * P, r0 = b0 * P, rows = (b1 - b0) * P;
    float *zt = j->ws + r0 * D, *cross = j->ws + total * D + r0 * K;
    for (size_t b = b0; b < b1; b++)
        for (size_t d = 0; d < D; d++) {
            const float *src = j->z + (b * D + d) * P;
            float *dst = zt + (b - b0) * P * D + d;
            for (size_t p = 0; p < P; p++) dst[p * D] = src[p];
        }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)K, (int)D, 1.0f, zt,
                (int)D, j->codebook, (int)D, 0.0f, cross, (int)K);
    for (size_t b = b0; b < b1; b++) {
        double dist = 0;
        for (size_t p = 0; p < P; p++) {
            const size_t r = (b - b0) * P + p;
            const float *row = cross + r * K;
            size_t best = 0;
            float score = j->norms[0] - 2 * row[0];
            for (size_t k = 1; k < K; k++) {
                float v = j->norms[k] - 2 * row[k];
                if (v < score) { score = v; best = k; }
            }
            j->indices[b * P + p] = (float)best;
            const float *c = j->codebook + best * D, *v = zt + r * D;
            for (size_t d = 0; d < D; d++) {
                double e = (double)v[d] - c[d];
                dist += e * e;
                if (j->zq) j->zq[(b * D + d) * P + p] = c[d];
            }
        }
        if (j->sqdist) j->sqdist[b] = (float)dist;
    }
}

ck_status cpu_vq_assign(int batch, int dim, int plane, int codes, const ck_buffer *z,
                        const ck_buffer *codebook, ck_buffer *indices, ck_buffer *zq,
                        ck_buffer *sqdist, ck_buffer *ws) {
    cpu_state *st = cpu_of(z);
    const size_t D = (size_t)dim, K = (size_t)codes, total = (size_t)batch * plane;
    float *norms = ws->host + total * (D + K);
    for (size_t k = 0; k < K; k++) {
        const float *c = codebook->host + k * D;
        double s = 0;
        for (size_t d = 0; d < D; d++) s += (double)c[d] * c[d];
        norms[k] = (float)s;
    }
    assign_job j = {batch, dim, plane, codes, z->host, codebook->host, norms, indices->host,
                    zq ? zq->host : NULL, sqdist ? sqdist->host : NULL, ws->host};
    if (st->threads > 1 && batch > 1 && total * K * D >= 65536) cpu_pool_run(st->pool, assign_task, &j);
    else assign_task(&j, 0, 1);
    return CK_OK;
}

/* The index stored at i as a code, or -1 when it is not one. */
static inline long code_at(const float *indices, size_t i, int codes) {
    float y = indices[i];
    return y >= 0 && y < (float)codes && y == (float)(long)y ? (long)y : -1;
}

ck_status cpu_vq_embed(int batch, int dim, int plane, int codes, const ck_buffer *indices,
                       const ck_buffer *codebook, ck_buffer *zq) {
    const size_t D = (size_t)dim, P = (size_t)plane;
    for (size_t b = 0; b < (size_t)batch; b++)
        for (size_t p = 0; p < P; p++) {
            long k = code_at(indices->host, b * P + p, codes);
            for (size_t d = 0; d < D; d++)
                zq->host[(b * D + d) * P + p] = k < 0 ? NAN : codebook->host[(size_t)k * D + d];
        }
    return CK_OK;
}

typedef struct {
    int batch, dim, plane, codes;
    const float *z, *indices;
    float *counts, *sums;
} stats_job;

/* Codes [k0, k1): one pass over every position in order, adding those that chose them. */
static void stats_task(void *ctx, int tid, int threads) {
    const stats_job *j = ctx;
    size_t k0, k1;
    cpu_split((size_t)j->codes, tid, threads, &k0, &k1);
    const size_t D = (size_t)j->dim, P = (size_t)j->plane;
    for (size_t k = k0; k < k1; k++) j->counts[k] = 0;
    for (size_t i = k0 * D; i < k1 * D; i++) j->sums[i] = 0;
    for (size_t b = 0; b < (size_t)j->batch; b++)
        for (size_t p = 0; p < P; p++) {
            long k = code_at(j->indices, b * P + p, j->codes);
            if (k < (long)k0 || k >= (long)k1) continue;
            j->counts[k] += 1;
            float *s = j->sums + (size_t)k * D;
            const float *v = j->z + b * D * P + p;
            for (size_t d = 0; d < D; d++) s[d] += v[d * P];
        }
}

ck_status cpu_vq_statistics(int batch, int dim, int plane, int codes, const ck_buffer *z,
                            const ck_buffer *indices, ck_buffer *counts, ck_buffer *sums) {
    cpu_state *st = cpu_of(z);
    stats_job j = {batch, dim, plane, codes, z->host, indices->host, counts->host, sums->host};
    if (st->threads > 1 && codes > 1 && (size_t)batch * plane * dim >= CPU_PARALLEL_MIN)
        cpu_pool_run(st->pool, stats_task, &j);
    else stats_task(&j, 0, 1);
    return CK_OK;
}

ck_status cpu_vq_ema_update(int codes, int dim, float decay, float epsilon,
                            const ck_buffer *counts, const ck_buffer *sums,
                            ck_buffer *ema_counts, ck_buffer *ema_sums, ck_buffer *codebook) {
    const size_t K = (size_t)codes, D = (size_t)dim;
    float *N = ema_counts->host, *m = ema_sums->host, *c = codebook->host;
    double n = 0;
    for (size_t k = 0; k < K; k++) {
        N[k] = decay * N[k] + (1 - decay) * counts->host[k];
        n += N[k];
    }
    for (size_t i = 0; i < K * D; i++) m[i] = decay * m[i] + (1 - decay) * sums->host[i];
    for (size_t k = 0; k < K; k++) {
        float smoothed = (float)((N[k] + epsilon) / (n + K * (double)epsilon) * n);
        for (size_t d = 0; d < D; d++) c[k * D + d] = m[k * D + d] / smoothed;
    }
    return CK_OK;
}

ck_status cpu_vq_codebook_grad(int codes, int dim, float scale, const ck_buffer *counts,
                               const ck_buffer *sums, const ck_buffer *codebook,
                               ck_buffer *dcodebook) {
    const size_t D = (size_t)dim;
    for (size_t k = 0; k < (size_t)codes; k++)
        for (size_t d = 0; d < D; d++) {
            size_t i = k * D + d;
            dcodebook->host[i] = 2 * scale * (counts->host[k] * codebook->host[i] - sums->host[i]);
        }
    return CK_OK;
}

ck_status cpu_vq_restart(int batch, int dim, int plane, int codes, const ck_buffer *z,
                         const ck_buffer *usage, uint64_t seed, uint64_t counter,
                         ck_buffer *codebook, ck_buffer *ema_counts, ck_buffer *ema_sums) {
    const size_t D = (size_t)dim, P = (size_t)plane, N = (size_t)batch * P;
    for (size_t k = 0; k < (size_t)codes; k++) {
        if (usage->host[k] != 0) continue;
        size_t r = (size_t)(ck_mix64(seed, counter + k) % N), b = r / P, p = r % P;
        for (size_t d = 0; d < D; d++) {
            float v = z->host[(b * D + d) * P + p];
            codebook->host[k * D + d] = v;
            if (ema_sums) ema_sums->host[k * D + d] = v;
        }
        if (ema_counts) ema_counts->host[k] = 1;
    }
    return CK_OK;
}
