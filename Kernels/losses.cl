/*
 * losses.cl -- per-image likelihood terms, their gradients, and the Gaussian KL.
 * Per-image sums: one work-group (RED_WG items) per image, a fixed-order tree.
 * Per-channel parameter gradients (log-variance, log-scale): one work-group per channel.
 * The likelihoods take per-value weights w when has_weight (else w = 1, and weight is a
 * stand-in that is not read): each value's term and gradients are multiplied by w last,
 * so that weights of 1 give the unweighted results exactly.
 */

/* nll[i] = sum_j w (softplus(l) - x l); dlogits = w scale (sigmoid(l) - x) when has_grad. */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void bernoulli_nll(int dim, __global const float *logits, __global const float *target,
                   __global const float *weight, int has_weight, __global float *nll,
                   __global float *dlogits, int has_grad, float scale) {
    __local float scratch[RED_WG];
    int image = get_group_id(0);
    ulong base = (ulong)image * dim;
    float sum = 0.0f;
    CK_GROUP_RANGE(j, dim) {
        float l = logits[base + j], x = target[base + j];
        float w = has_weight ? weight[base + j] : 1.0f;
        sum += w * (ck_softplus(l) - x * l);
        if (has_grad) dlogits[base + j] = w * (scale * (ck_sigmoid(l) - x));
    }
    sum = ck_group_sum(sum, scratch);
    if (get_local_id(0) == 0) nll[image] = sum;
}

#define CK_HALF_LOG_2PI 0.91893853320467274178f

/* nll[i] = sum w 0.5 (log 2 pi + lv_c + (x - mean)^2 exp(-lv_c));
   dmean = w scale (mean - x) exp(-lv_c) when has_grad. */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void gaussian_nll(int channels, int plane, __global const float *mean,
                  __global const float *logvar, __global const float *target,
                  __global const float *weight, int has_weight, __global float *nll,
                  __global float *dmean, int has_grad, float scale) {
    __local float scratch[RED_WG];
    int image = get_group_id(0);
    float sum = 0.0f;
    for (int c = 0; c < channels; c++) {
        ulong base = ((ulong)image * channels + c) * plane;
        float lv = logvar[c], inv = exp(-lv);
        CK_GROUP_RANGE(p, plane) {
            float d = target[base + p] - mean[base + p];
            float w = has_weight ? weight[base + p] : 1.0f;
            sum += w * (CK_HALF_LOG_2PI + 0.5f * (lv + d * d * inv));
            if (has_grad) dmean[base + p] = w * (-scale * d * inv);
        }
    }
    sum = ck_group_sum(sum, scratch);
    if (get_local_id(0) == 0) nll[image] = sum;
}

/* dlogvar[c] = scale * sum over images and pixels of w 0.5 (1 - (x - mean)^2 exp(-lv_c)). */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void gaussian_dlogvar(int images, int channels, int plane, __global const float *mean,
                      __global const float *logvar, __global const float *target,
                      __global const float *weight, int has_weight, __global float *dlogvar,
                      float scale) {
    __local float scratch[RED_WG];
    int c = get_group_id(0);
    float inv = exp(-logvar[c]);
    float sum = 0.0f;
    for (int image = 0; image < images; image++) {
        ulong base = ((ulong)image * channels + c) * plane;
        CK_GROUP_RANGE(p, plane) {
            float d = target[base + p] - mean[base + p];
            float w = has_weight ? weight[base + p] : 1.0f;
            sum += w * (0.5f * (1.0f - d * d * inv));
        }
    }
    sum = ck_group_sum(sum, scratch);
    if (get_local_id(0) == 0) dlogvar[c] = scale * sum;
}

/*
 * Discretized logistic log-probability of x in bins of width 1/255 around it, the edge
 * bins open to infinity (the CPU backend's formulas). With a = (x - mean + h) / s and
 * b = (x - mean - h) / s, h = 0.5 / 255, s = exp(logscale), the middle bins use
 *   log(sigmoid(a) - sigmoid(b)) = -softplus(-a) - softplus(b) + log(-expm1(b - a)),
 * which has no cancellation; below a mass of 1e-5 they fall back to log(pdf(x) / 255)
 * as PixelCNN++ does. Returns -log P; gm, gs receive its derivatives by mean and logscale.
 */
#define CK_HALF_BIN (0.5f / 255.0f)
#define CK_LOG_255 5.54126354515842692284f
#define CK_MIN_DELTA 1e-5f

inline float logistic_term(float x, float mu, float ls, float *gm, float *gs) {
    float inv_s = exp(-ls);
    float c = x - mu;
    if (x < CK_HALF_BIN) {               /* k = 0: (-inf, 0.5/255] */
        float a = inv_s * (c + CK_HALF_BIN), da = ck_sigmoid(-a);
        *gm = inv_s * da;
        *gs = a * da;
        return ck_softplus(-a);
    }
    if (x > 1.0f - CK_HALF_BIN) {        /* k = 255: [254.5/255, inf) */
        float b = inv_s * (c - CK_HALF_BIN), db = -ck_sigmoid(b);
        *gm = inv_s * db;
        *gs = b * db;
        return ck_softplus(b);
    }
    float a = inv_s * (c + CK_HALF_BIN), b = inv_s * (c - CK_HALF_BIN), w = a - b;
    float log_delta = -ck_softplus(-a) - ck_softplus(b) + log(-expm1(-w));
    if (log_delta > log(CK_MIN_DELTA)) {
        float g = 1.0f / expm1(w);       /* d log(-expm1(b - a)) / da */
        float da = ck_sigmoid(-a) + g, db = -ck_sigmoid(b) - g;
        *gm = inv_s * (da + db);
        *gs = a * da + b * db;
        return -log_delta;
    }
    float m = inv_s * c, dm = 1.0f - 2.0f * ck_sigmoid(m);
    *gm = inv_s * dm;
    *gs = m * dm + 1.0f;
    return -(m - ls - 2.0f * ck_softplus(m) - CK_LOG_255);
}

__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void logistic_nll(int channels, int plane, __global const float *mean,
                  __global const float *logscale, __global const float *target,
                  __global const float *weight, int has_weight, __global float *nll,
                  __global float *dmean, int has_grad, float scale) {
    __local float scratch[RED_WG];
    int image = get_group_id(0);
    float sum = 0.0f;
    for (int c = 0; c < channels; c++) {
        ulong base = ((ulong)image * channels + c) * plane;
        float ls = logscale[c];
        CK_GROUP_RANGE(p, plane) {
            float gm, gs;
            float w = has_weight ? weight[base + p] : 1.0f;
            sum += w * logistic_term(target[base + p], mean[base + p], ls, &gm, &gs);
            if (has_grad) dmean[base + p] = w * (scale * gm);
        }
    }
    sum = ck_group_sum(sum, scratch);
    if (get_local_id(0) == 0) nll[image] = sum;
}

__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void logistic_dlogscale(int images, int channels, int plane, __global const float *mean,
                        __global const float *logscale, __global const float *target,
                        __global const float *weight, int has_weight, __global float *dlogscale,
                        float scale) {
    __local float scratch[RED_WG];
    int c = get_group_id(0);
    float ls = logscale[c];
    float sum = 0.0f;
    for (int image = 0; image < images; image++) {
        ulong base = ((ulong)image * channels + c) * plane;
        CK_GROUP_RANGE(p, plane) {
            float gm, gs;
            float w = has_weight ? weight[base + p] : 1.0f;
            logistic_term(target[base + p], mean[base + p], ls, &gm, &gs);
            sum += w * gs;
        }
    }
    sum = ck_group_sum(sum, scratch);
    if (get_local_id(0) == 0) dlogscale[c] = scale * sum;
}

/* kl[i] = sum_j 0.5 (mu^2 + exp(lv) - 1 - lv) over the packed row [mu | lv]. */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void kl_normal(int latent, __global const float *stats, __global float *kl) {
    __local float scratch[RED_WG];
    int image = get_group_id(0);
    __global const float *row = stats + (ulong)image * 2 * latent;
    float sum = 0.0f;
    CK_GROUP_RANGE(j, latent) {
        float mu = row[j], lv = row[latent + j];
        sum += 0.5f * (mu * mu + exp(lv) - 1.0f - lv);
    }
    sum = ck_group_sum(sum, scratch);
    if (get_local_id(0) == 0) kl[image] = sum;
}

/*
 * dstats += scale * dKL/dstats, one work-item per latent j; with free_bits > 0 a latent
 * whose batch-mean KL is below free_bits gets nothing.
 */
__kernel void kl_normal_grad(int images, int latent, __global const float *stats,
                             __global float *dstats, float scale, float free_bits) {
    int j = get_global_id(0);
    if (j >= latent) return;
    ulong stride = 2 * (ulong)latent;
    if (free_bits > 0.0f) {
        float sum = 0.0f;
        for (int i = 0; i < images; i++) {
            float mu = stats[i * stride + j], lv = stats[i * stride + latent + j];
            sum += 0.5f * (mu * mu + exp(lv) - 1.0f - lv);
        }
        if (sum / images < free_bits) return;
    }
    for (int i = 0; i < images; i++) {
        float mu = stats[i * stride + j], lv = stats[i * stride + latent + j];
        dstats[i * stride + j] += scale * mu;
        dstats[i * stride + latent + j] += scale * 0.5f * (exp(lv) - 1.0f);
    }
}

/*
 * KL(q || p) between two diagonal Gaussians per image (conditional VAEs: the prior is a
 * network's output), over packed rows [mu | lv]:
 *   kl[i] = 0.5 sum_j (lv_p - lv_q + (exp(lv_q) + (mu_q - mu_p)^2) exp(-lv_p) - 1),
 * and scale * the gradients ADDED to dq / dp where has_dq / has_dp (with free bits, dq
 * comes from kl_normal_pair_dq instead). One group per image; each latent's gradients are
 * written by the one work-item that visits it.
 */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void kl_normal_pair(int latent, __global const float *q, __global const float *p,
                    __global float *kl, __global float *dq, int has_dq, __global float *dp,
                    int has_dp, float scale) {
    __local float scratch[RED_WG];
    int image = get_group_id(0);
    ulong row = (ulong)image * 2 * latent;
    float sum = 0.0f;
    CK_GROUP_RANGE(j, latent) {
        float mu_q = q[row + j], lv_q = q[row + latent + j];
        float mu_p = p[row + j], lv_p = p[row + latent + j];
        float d = mu_q - mu_p, inv_var_p = exp(-lv_p), ratio = exp(lv_q - lv_p);
        float dd = d * d * inv_var_p;
        sum += 0.5f * (lv_p - lv_q + ratio + dd - 1.0f);
        if (has_dq) {
            dq[row + j] += scale * d * inv_var_p;
            dq[row + latent + j] += scale * 0.5f * (ratio - 1.0f);
        }
        if (has_dp) {
            dp[row + j] -= scale * d * inv_var_p;
            dp[row + latent + j] += scale * 0.5f * (1.0f - ratio - dd);
        }
    }
    sum = ck_group_sum(sum, scratch);
    if (get_local_id(0) == 0) kl[image] = sum;
}

/*
 * dq += scale * dKL/dq with free bits (free_bits > 0), one work-item per latent j: nothing
 * when latent j's batch-mean KL is below free_bits. The prior's dp stays kl_normal_pair's.
 */
__kernel void kl_normal_pair_dq(int images, int latent, __global const float *q,
                                __global const float *p, __global float *dq, float scale,
                                float free_bits) {
    int j = get_global_id(0);
    if (j >= latent) return;
    ulong stride = 2 * (ulong)latent;
    float sum = 0.0f;
    for (int i = 0; i < images; i++) {
        ulong m = i * stride + j, l = m + latent;
        float d = q[m] - p[m], inv_var_p = exp(-p[l]), ratio = exp(q[l] - p[l]);
        sum += 0.5f * (p[l] - q[l] + ratio + d * d * inv_var_p - 1.0f);
    }
    if (sum / images < free_bits) return;
    for (int i = 0; i < images; i++) {
        ulong m = i * stride + j, l = m + latent;
        float d = q[m] - p[m], inv_var_p = exp(-p[l]), ratio = exp(q[l] - p[l]);
        dq[m] += scale * d * inv_var_p;
        dq[l] += scale * 0.5f * (ratio - 1.0f);
    }
}

/*
 * Categorical nll under a softmax over the channel axis, per image: one group per image, one
 * work-item per position; nll[i] = sum_p w (logsumexp_k l - l_y); dlogits = scale w (softmax -
 * onehot) when has_grad. A label that is not an integer in [0, classes) gives NaN.
 */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void softmax_nll(int classes, int plane, __global const float *logits, __global const float *labels,
                 __global const float *weight, int has_weight, __global float *nll,
                 __global float *dlogits, int has_grad, float scale) {
    __local float scratch[RED_WG];
    int image = get_group_id(0);
    ulong base = (ulong)image * classes * plane, row = (ulong)image * plane;
    float sum = 0.0f;
    CK_GROUP_RANGE(p, plane) {
        float m = logits[base + p];
        for (int k = 1; k < classes; k++) m = fmax(m, logits[base + (ulong)k * plane + p]);
        float z = 0.0f;
        for (int k = 0; k < classes; k++) z += exp(logits[base + (ulong)k * plane + p] - m);
        float lse = m + log(z), y = labels[row + p];
        float w = has_weight ? weight[row + p] : 1.0f;
        int valid = y >= 0.0f && y < (float)classes && y == (float)(int)y;
        int yi = valid ? (int)y : 0;
        sum += valid ? w * (lse - logits[base + (ulong)yi * plane + p]) : NAN;
        if (has_grad)
            for (int k = 0; k < classes; k++) {
                ulong i = base + (ulong)k * plane + p;
                float q = exp(logits[i] - lse) - (k == yi ? 1.0f : 0.0f);
                dlogits[i] = valid ? scale * w * q : NAN;
            }
    }
    sum = ck_group_sum(sum, scratch);
    if (get_local_id(0) == 0) nll[image] = sum;
}
