/*
 * rng.cl -- the counter-based generator of backend_impl.h, bit for bit: out[i] depends
 * only on (seed, counter + i). ulong arithmetic wraps mod 2^64 exactly as uint64_t does.
 */
inline ulong ck_mix64(ulong seed, ulong counter) {
    ulong z = seed * 0x9E3779B97F4A7C15UL + counter;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
    z ^= z >> 31;
    z = (z + 0x9E3779B97F4A7C15UL) * 0xBF58476D1CE4E5B9UL;
    return z ^ (z >> 29);
}

/* Uniform in (0, 1) from the top 24 bits. */
inline float ck_uniform_from_bits(ulong bits) {
    return ((float)(bits >> 40) + 0.5f) * (1.0f / 16777216.0f);
}

/* Box-Muller: top 24 bits radius, low 24 bits angle (the CPU formula). */
inline float ck_normal_from_bits(ulong bits) {
    float u1 = ck_uniform_from_bits(bits);
    float u2 = ((float)(bits & 0xFFFFFFUL) + 0.5f) * (1.0f / 16777216.0f);
    return sqrt(-2.0f * log(u1)) * cos(6.28318530717958647692f * u2);
}

__kernel void random_normal(ulong count, ulong seed, ulong counter, __global float *out) {
    ulong i = get_global_id(0);
    if (i < count) out[i] = ck_normal_from_bits(ck_mix64(seed, counter + i));
}

/* out[i] = u_i < probs[i]; out may be probs. */
__kernel void random_bernoulli(ulong count, ulong seed, ulong counter,
                               __global const float *probs, __global float *out) {
    ulong i = get_global_id(0);
    if (i >= count) return;
    float u = ck_uniform_from_bits(ck_mix64(seed, counter + i));
    out[i] = u < probs[i] ? 1.0f : 0.0f;
}

/* z = mu + exp(lv / 2) eps over packed rows [mu | lv]. */
__kernel void reparameterize(int images, int latent, __global const float *stats,
                             __global const float *eps, __global float *z) {
    int i = get_global_id(0);
    if (i >= images * latent) return;
    int image = i / latent, j = i - image * latent;
    ulong row = (ulong)image * 2 * latent;
    z[i] = stats[row + j] + exp(0.5f * stats[row + latent + j]) * eps[i];
}

/* One work-item per row: where the candidate scores lower, it becomes the kept row. */
__kernel void keep_best_rows(int images, int width, __global const float *score,
                             __global float *best, __global const float *candidate,
                             __global float *kept) {
    int i = get_global_id(0);
    if (i >= images || !(score[i] < best[i])) return;
    best[i] = score[i];
    ulong row = (ulong)i * width;
    for (int j = 0; j < width; j++) kept[row + j] = candidate[row + j];
}

/* dmu = dz, dlv = dz eps exp(lv / 2) / 2. */
__kernel void reparameterize_backward(int images, int latent, __global const float *stats,
                                      __global const float *eps, __global const float *dz,
                                      __global float *dstats) {
    int i = get_global_id(0);
    if (i >= images * latent) return;
    int image = i / latent, j = i - image * latent;
    ulong row = (ulong)image * 2 * latent;
    float g = dz[i];
    dstats[row + j] = g;
    dstats[row + latent + j] = 0.5f * g * eps[i] * exp(0.5f * stats[row + latent + j]);
}
