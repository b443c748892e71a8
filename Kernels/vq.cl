/*
 * vq.cl -- vector quantization (a VQ-VAE's bottleneck): code norms, the nearest code of each
 * position from the GEMM's cross terms, code vectors of a code map, per-code statistics, the
 * moving-average codebook, the plain codebook loss's gradient and dead-code restarts. Code
 * indices are floats; z and zq are NCHW [images, dim, plane].
 */

/* ws[norms + k] = |c_k|^2 */
__kernel void vq_norms(int codes, int dim, __global const float *codebook, __global float *ws,
                       ulong norms) {
    int k = get_global_id(0);
    if (k >= codes) return;
    float s = 0.0f;
    for (int d = 0; d < dim; d++) {
        float v = codebook[(ulong)k * dim + d];
        s += v * v;
    }
    ws[norms + k] = s;
}

/*
 * Position n (image n / plane): the code with the least |c|^2 - 2 z.c, from the cross terms
 * ws[cross + k * total + n] and the norms ws[norms + k].
 */
__kernel void vq_argmin(int total, int codes, int dim, int plane, __global const float *ws,
                        ulong cross, ulong norms, __global const float *codebook,
                        __global float *indices, __global float *zq, int has_zq) {
    int n = get_global_id(0);
    if (n >= total) return;
    int best = 0;
    float score = ws[norms] - 2.0f * ws[cross + n];
    for (int k = 1; k < codes; k++) {
        float v = ws[norms + k] - 2.0f * ws[cross + (ulong)k * total + n];
        if (v < score) { score = v; best = k; }
    }
    indices[n] = (float)best;
    if (!has_zq) return;
    int image = n / plane, p = n - image * plane;
    for (int d = 0; d < dim; d++)
        zq[((ulong)image * dim + d) * plane + p] = codebook[(ulong)best * dim + d];
}

/* The index stored at i as a code, or -1 when it is not one. */
inline int vq_code(__global const float *indices, ulong i, int codes) {
    float y = indices[i];
    return y >= 0.0f && y < (float)codes && y == (float)(int)y ? (int)y : -1;
}

/* One group per image: sqdist[i] = sum over positions of |z - c_idx|^2. */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void vq_sqdist(int dim, int plane, int codes, __global const float *z, __global const float *indices,
               __global const float *codebook, __global float *sqdist) {
    __local float scratch[RED_WG];
    int image = get_group_id(0);
    float sum = 0.0f;
    CK_GROUP_RANGE(j, (ulong)dim * plane) {
        int d = j / plane, p = j - (ulong)d * plane;
        int k = vq_code(indices, (ulong)image * plane + p, codes);
        float e = z[((ulong)image * dim + d) * plane + p] - (k < 0 ? NAN : codebook[(ulong)k * dim + d]);
        sum += e * e;
    }
    sum = ck_group_sum(sum, scratch);
    if (get_local_id(0) == 0) sqdist[image] = sum;
}

/* zq[i, d, p] = codebook[indices[i, p], d] (NaN for an index that is not a code). */
__kernel void vq_embed(ulong count, int dim, int plane, int codes, __global const float *indices,
                       __global const float *codebook, __global float *zq) {
    ulong i = get_global_id(0);
    if (i >= count) return;
    ulong image = i / ((ulong)dim * plane), rest = i - image * dim * plane;
    int d = rest / plane, p = rest - (ulong)d * plane;
    int k = vq_code(indices, image * plane + p, codes);
    zq[i] = k < 0 ? NAN : codebook[(ulong)k * dim + d];
}

/* Code k: its count and the sum of the vectors that chose it, positions in order. */
__kernel void vq_statistics(int images, int dim, int plane, int codes, __global const float *z,
                            __global const float *indices, __global float *counts,
                            __global float *sums) {
    int k = get_global_id(0);
    if (k >= codes) return;
    __global float *s = sums + (ulong)k * dim;
    for (int d = 0; d < dim; d++) s[d] = 0.0f;
    float count = 0.0f;
    for (ulong n = 0; n < (ulong)images * plane; n++) {
        if (vq_code(indices, n, codes) != k) continue;
        count += 1.0f;
        ulong image = n / plane, p = n - image * plane;
        for (int d = 0; d < dim; d++) s[d] += z[(image * dim + d) * plane + p];
    }
    counts[k] = count;
}

/* One group: the moving averages, their total n, then the Laplace-smoothed codebook. */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void vq_ema_update(int codes, int dim, float decay, float epsilon, __global const float *counts,
                   __global const float *sums, __global float *ema_counts,
                   __global float *ema_sums, __global float *codebook) {
    __local float scratch[RED_WG];
    float part = 0.0f;
    CK_GROUP_RANGE(k, codes) {
        float v = decay * ema_counts[k] + (1.0f - decay) * counts[k];
        ema_counts[k] = v;
        part += v;
    }
    float n = ck_group_sum(part, scratch);
    barrier(CLK_GLOBAL_MEM_FENCE); /* every ema_counts written above is visible below */
    CK_GROUP_RANGE(i, (ulong)codes * dim) {
        int k = i / dim;
        float m = decay * ema_sums[i] + (1.0f - decay) * sums[i];
        ema_sums[i] = m;
        codebook[i] = m / ((ema_counts[k] + epsilon) / (n + codes * epsilon) * n);
    }
}

/* dcodebook = 2 scale (counts c - sums), one work-item per value. */
__kernel void vq_codebook_grad(ulong count, int dim, float scale, __global const float *counts,
                               __global const float *sums, __global const float *codebook,
                               __global float *dcodebook) {
    ulong i = get_global_id(0);
    if (i >= count) return;
    dcodebook[i] = 2.0f * scale * (counts[i / dim] * codebook[i] - sums[i]);
}

/* Value (k, d): a dead code k takes the encoder vector at position mix(seed, counter + k) mod total. */
__kernel void vq_restart(ulong count, int dim, int plane, ulong total, __global const float *z,
                         __global const float *usage, ulong seed, ulong counter,
                         __global float *codebook, __global float *ema_counts,
                         __global float *ema_sums, int has_ema) {
    ulong i = get_global_id(0);
    if (i >= count) return;
    ulong k = i / dim;
    int d = i - k * dim;
    if (usage[k] != 0.0f) return;
    ulong r = ck_mix64(seed, counter + k) % total, image = r / plane, p = r - image * plane;
    float v = z[(image * dim + d) * plane + p];
    codebook[i] = v;
    if (!has_ema) return;
    ema_sums[i] = v;
    if (d == 0) ema_counts[k] = 1.0f;
}
