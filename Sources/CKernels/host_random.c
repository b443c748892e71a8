/*
 * host_random.c -- the counter-based generator of backend_impl.h on the host, without a
 * backend, so that callers draw the kernels' streams instead of re-implementing them.
 */
#include "backend_impl.h"

#include <math.h>
#include <string.h>

uint64_t ck_random_bits(uint64_t seed, uint64_t counter) { return ck_mix64(seed, counter); }

/* Every step as cpu/random.c's vector code takes it: no expression a * b + c is left for the
 * compiler to fuse or not. */
float ck_normal_from_bits(uint64_t bits) {
    float u1 = ck_uniform_from_bits(bits);
    float u2 = ((float)(bits & 0xFFFFFFu) + 0.5f) * (1.0f / 16777216.0f);
    /* -2 log(u1), u1 = 2^e m */
    uint32_t ib, mb;
    memcpy(&ib, &u1, sizeof ib);
    int e = (int)(ib >> 23) - 127;
    mb = (ib & 0x7FFFFFu) | 0x3F800000u;
    float m;
    memcpy(&m, &mb, sizeof m);
    if (m > CK_SQRT2) m = m * 0.5f, e += 1;
    float t = (m - 1.0f) / (m + 1.0f), s = t * t;
    float p = fmaf(s, CK_LOG_L4, CK_LOG_L3);
    p = fmaf(s, p, CK_LOG_L2);
    p = fmaf(s, p, CK_LOG_L1);
    p = fmaf(s, p, CK_LOG_L0);
    float r = sqrtf(-2.0f * fmaf((float)e, CK_LN2, t * p));
    /* cos(2 pi u2) = -cos(2 pi w), w = |u2 - 1/2|; = cos(2 pi (1/2 - w)) for w > 1/4 */
    float w = fabsf(u2 - 0.5f);
    int flip = w > 0.25f;
    if (flip) w = 0.5f - w;
    float y = w * w, c = fmaf(y, CK_COS_C6, CK_COS_C5);
    c = fmaf(y, c, CK_COS_C4);
    c = fmaf(y, c, CK_COS_C3);
    c = fmaf(y, c, CK_COS_C2);
    c = fmaf(y, c, CK_COS_C1);
    c = fmaf(y, c, CK_COS_C0);
    return r * (flip ? c : -c);
}

/* The CPU backend's normal_range (cpu/random.c), on one thread. */
void ck_host_random_normal(size_t count, uint64_t seed, uint64_t counter, float *out) {
    for (size_t i = 0; i < count; i++) out[i] = ck_normal_from_bits(ck_mix64(seed, counter + i));
}

void ck_host_random_uniform(size_t count, uint64_t seed, uint64_t counter, float *out) {
    for (size_t i = 0; i < count; i++) out[i] = ck_uniform_from_bits(ck_mix64(seed, counter + i));
}
