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
 * Small (batch x latent), so one thread, in double, in a fixed order: per image for kl,
 * dp and (without free bits) dq, then with free bits per latent for its test and dq.
 */
#include "cpu.h"

ck_status cpu_kl_normal_pair(int batch, int latent, const ck_buffer *q_stats,
                             const ck_buffer *p_stats, ck_buffer *kl, ck_buffer *dq_stats,
                             ck_buffer *dp_stats, float scale, float free_bits) {
    size_t row = 2 * (size_t)latent;
    int per_latent = dq_stats && free_bits > 0; /* dq in the second pass */
    for (int b = 0; b < batch; b++) {
        const float *q = q_stats->host + b * row, *p = p_stats->host + b * row;
        float *dq = dq_stats && !per_latent ? dq_stats->host + b * row : NULL;
        float *dp = dp_stats ? dp_stats->host + b * row : NULL;
        double s = 0;
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
        kl->host[b] = (float)s;
    }
    if (!per_latent) return CK_OK;
    const float *qs = q_stats->host, *ps = p_stats->host;
    float *dqs = dq_stats->host;
    for (int i = 0; i < latent; i++) {
        double mean = 0;
        for (int b = 0; b < batch; b++) {
            const float *q = qs + b * row, *p = ps + b * row;
            double mu_q = q[i], lv_q = q[latent + i], mu_p = p[i], lv_p = p[latent + i];
            double d = mu_q - mu_p;
            mean += 0.5 * (lv_p - lv_q + (exp(lv_q) + d * d) * exp(-lv_p) - 1.0);
        }
        if (mean / batch < free_bits) continue;
        for (int b = 0; b < batch; b++) {
            const float *q = qs + b * row, *p = ps + b * row;
            float *dq = dqs + b * row;
            double mu_q = q[i], lv_q = q[latent + i], mu_p = p[i], lv_p = p[latent + i];
            double d = mu_q - mu_p, inv_var_p = exp(-lv_p), var_q = exp(lv_q);
            dq[i] += (float)(scale * d * inv_var_p);
            dq[latent + i] += (float)(scale * 0.5 * (var_q * inv_var_p - 1.0));
        }
    }
    return CK_OK;
}
