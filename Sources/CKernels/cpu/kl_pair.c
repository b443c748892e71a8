/*
 * kl_pair.c -- KL(q || p) between two diagonal Gaussians given as packed statistics
 * (mu then log-variance per row), with gradients to both sides. A conditional VAE's
 * prior is a network of the condition, so both q and p are trained through this term.
 *
 *   kl = 0.5 sum (lv_p - lv_q + (e^lv_q + (mu_q - mu_p)^2) e^-lv_p - 1)
 *   dkl/dmu_q = (mu_q - mu_p) e^-lv_p              dkl/dmu_p = -dkl/dmu_q
 *   dkl/dlv_q = 0.5 (e^(lv_q - lv_p) - 1)          dkl/dlv_p = 0.5 (1 - (e^lv_q + d^2) e^-lv_p)
 *
 * Free bits (as in cpu_kl_normal) act on the posterior only: a latent whose batch-mean KL
 * is below free_bits adds nothing to dq; dp always gets its full gradient.
 *
 * Each image's kl, dp and (without free bits) dq in one thread, in double, in a fixed
 * order, images split over the threads; then with free bits each latent's test and dq, latents
 * split over the threads. So the results do not depend on the thread count.
 */
#include "cpu.h"

typedef struct {
    int batch, latent, per_latent; /* per_latent: dq in the second pass (free bits) */
    const float *qs, *ps;
    float *kl, *dqs, *dps;
    double scale, free_bits;
} kl_pair_job;

static void images_task(void *ctx, int tid, int threads) {
    const kl_pair_job *j = ctx;
    const int latent = j->latent;
    const size_t row = 2 * (size_t)latent;
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b++) {
        const float *q = j->qs + b * row, *p = j->ps + b * row;
        float *dq = j->dqs && !j->per_latent ? j->dqs + b * row : NULL;
        float *dp = j->dps ? j->dps + b * row : NULL;
        double s = 0, scale = j->scale;
        for (int i = 0; i < latent; i++) {
            double mu_q = q[i], lv_q = q[latent + i], mu_p = p[i], lv_p = p[latent + i];
            double d = mu_q - mu_p, inv_var_p = exp(-lv_p), var_q = exp(lv_q);
            s += 0.5 * (lv_p - lv_q + (var_q + d * d) * inv_var_p - 1.0);
            if (dq) {
                dq[i] += (float)(scale * d * inv_var_p);
                dq[latent + i] += (float)(scale * 0.5 * (var_q * inv_var_p - 1.0));
            }
            if (dp) {
                dp[i] += (float)(-scale * d * inv_var_p);
                dp[latent + i] += (float)(scale * 0.5 * (1.0 - (var_q + d * d) * inv_var_p));
            }
        }
        j->kl[b] = (float)s;
    }
}

static void latents_task(void *ctx, int tid, int threads) {
    const kl_pair_job *j = ctx;
    const int latent = j->latent, batch = j->batch;
    const size_t row = 2 * (size_t)latent;
    size_t i0, i1;
    cpu_split((size_t)latent, tid, threads, &i0, &i1);
    for (size_t i = i0; i < i1; i++) {
        double mean = 0;
        for (int b = 0; b < batch; b++) {
            const float *q = j->qs + b * row, *p = j->ps + b * row;
            double mu_q = q[i], lv_q = q[latent + i], mu_p = p[i], lv_p = p[latent + i];
            double d = mu_q - mu_p;
            mean += 0.5 * (lv_p - lv_q + (exp(lv_q) + d * d) * exp(-lv_p) - 1.0);
        }
        if (mean / batch < j->free_bits) continue;
        for (int b = 0; b < batch; b++) {
            const float *q = j->qs + b * row, *p = j->ps + b * row;
            float *dq = j->dqs + b * row;
            double mu_q = q[i], lv_q = q[latent + i], mu_p = p[i], lv_p = p[latent + i];
            double d = mu_q - mu_p, inv_var_p = exp(-lv_p), var_q = exp(lv_q);
            dq[i] += (float)(j->scale * d * inv_var_p);
            dq[latent + i] += (float)(j->scale * 0.5 * (var_q * inv_var_p - 1.0));
        }
    }
}

ck_status cpu_kl_normal_pair(int batch, int latent, const ck_buffer *q_stats,
                             const ck_buffer *p_stats, ck_buffer *kl, ck_buffer *dq_stats,
                             ck_buffer *dp_stats, float scale, float free_bits) {
    kl_pair_job j = {.batch = batch, .latent = latent, .per_latent = dq_stats && free_bits > 0,
                     .qs = q_stats->host, .ps = p_stats->host, .kl = kl->host,
                     .dqs = dq_stats ? dq_stats->host : NULL, .dps = dp_stats ? dp_stats->host : NULL,
                     .scale = scale, .free_bits = free_bits};
    cpu_state *st = cpu_of(kl);
    cpu_pool_run(st->pool, images_task, &j);
    if (j.per_latent) cpu_pool_run(st->pool, latents_task, &j);
    return CK_OK;
}
