/*
 * random.c -- counter-based random numbers (out[i] from ck_mix64(seed, counter + i), so
 * any split across threads gives the same values; normals 16 at a time with AVX-512, bit for
 * bit ck_normal_from_bits), the reparameterization trick, and the selection of the best of
 * several draws.
 */
#include "cpu.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <immintrin.h>

CPU_TARGET_BEGIN("avx512f,avx512dq,avx512vl")

/* ck_mix64 of 8 counters. */
static inline __m512i mix8(__m512i seed_mul, __m512i counter) {
    __m512i z = _mm512_add_epi64(seed_mul, counter);
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ull));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64((long long)0x94D049BB133111EBull));
    z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
    z = _mm512_mullo_epi64(_mm512_add_epi64(z, _mm512_set1_epi64((long long)0x9E3779B97F4A7C15ull)),
                           _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ull));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 29));
}

/* 24 bits of two mixes (shifted right by shift, masked) as 16 floats in (0, 1). */
static inline __m512 uniform16(__m512i z0, __m512i z1, int shift) {
    const __m512i low = _mm512_set1_epi64(0xFFFFFF);
    __m512i a = _mm512_and_si512(_mm512_srli_epi64(z0, (unsigned)shift), low);
    __m512i b = _mm512_and_si512(_mm512_srli_epi64(z1, (unsigned)shift), low);
    __m512 k = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtepi64_ps(a)), _mm512_cvtepi64_ps(b), 1);
    return _mm512_mul_ps(_mm512_add_ps(k, _mm512_set1_ps(0.5f)), _mm512_set1_ps(1.0f / 16777216.0f));
}

/* ck_normal_from_bits of 16 mixes, step for step. */
static inline __m512 normal16(__m512i z0, __m512i z1) {
    __m512 u1 = uniform16(z0, z1, 40), u2 = uniform16(z0, z1, 0);
    __m512i ib = _mm512_castps_si512(u1);
    __m512i e = _mm512_sub_epi32(_mm512_srli_epi32(ib, 23), _mm512_set1_epi32(127));
    __m512 m = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(ib, _mm512_set1_epi32(0x7FFFFF)),
                                                   _mm512_set1_epi32(0x3F800000)));
    __mmask16 big = _mm512_cmp_ps_mask(m, _mm512_set1_ps(CK_SQRT2), _CMP_GT_OQ);
    m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5f));
    e = _mm512_mask_add_epi32(e, big, e, _mm512_set1_epi32(1));
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 t = _mm512_div_ps(_mm512_sub_ps(m, one), _mm512_add_ps(m, one)), s = _mm512_mul_ps(t, t);
    __m512 p = _mm512_fmadd_ps(s, _mm512_set1_ps(CK_LOG_L4), _mm512_set1_ps(CK_LOG_L3));
    p = _mm512_fmadd_ps(s, p, _mm512_set1_ps(CK_LOG_L2));
    p = _mm512_fmadd_ps(s, p, _mm512_set1_ps(CK_LOG_L1));
    p = _mm512_fmadd_ps(s, p, _mm512_set1_ps(CK_LOG_L0));
    __m512 lg = _mm512_fmadd_ps(_mm512_cvtepi32_ps(e), _mm512_set1_ps(CK_LN2), _mm512_mul_ps(t, p));
    __m512 r = _mm512_sqrt_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), lg));
    __m512 w = _mm512_abs_ps(_mm512_sub_ps(u2, _mm512_set1_ps(0.5f)));
    __mmask16 flip = _mm512_cmp_ps_mask(w, _mm512_set1_ps(0.25f), _CMP_GT_OQ);
    w = _mm512_mask_sub_ps(w, flip, _mm512_set1_ps(0.5f), w);
    __m512 y = _mm512_mul_ps(w, w), c = _mm512_fmadd_ps(y, _mm512_set1_ps(CK_COS_C6), _mm512_set1_ps(CK_COS_C5));
    c = _mm512_fmadd_ps(y, c, _mm512_set1_ps(CK_COS_C4));
    c = _mm512_fmadd_ps(y, c, _mm512_set1_ps(CK_COS_C3));
    c = _mm512_fmadd_ps(y, c, _mm512_set1_ps(CK_COS_C2));
    c = _mm512_fmadd_ps(y, c, _mm512_set1_ps(CK_COS_C1));
    c = _mm512_fmadd_ps(y, c, _mm512_set1_ps(CK_COS_C0));
    c = _mm512_mask_sub_ps(c, (__mmask16)~flip, _mm512_setzero_ps(), c);
    return _mm512_mul_ps(r, c);
}

/* Normals [b, b + 16 k) of [b, e) 16 at a time; returns where it stopped. */
static size_t normal_range_avx512(const cpu_ew *j, size_t b, size_t e) {
    const __m512i seed_mul = _mm512_set1_epi64((long long)(j->seed * 0x9E3779B97F4A7C15ull));
    const __m512i steps = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    size_t i = b;
    for (; i + 16 <= e; i += 16) {
        __m512i c0 = _mm512_add_epi64(_mm512_set1_epi64((long long)(j->counter + i)), steps);
        __m512i c1 = _mm512_add_epi64(c0, _mm512_set1_epi64(8));
        _mm512_storeu_ps(j->y + i, normal16(mix8(seed_mul, c0), mix8(seed_mul, c1)));
    }
    return i;
}

CPU_TARGET_END

/* AVX-512 with 64-bit multiplies (DQ) on this machine. */
static int normal_avx512_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
}

#define HAVE_NORMAL_AVX512 1
#endif

static void normal_range(const cpu_ew *j, size_t b, size_t e) {
#ifdef HAVE_NORMAL_AVX512
    if (normal_avx512_supported()) b = normal_range_avx512(j, b, e);
#endif
    for (size_t i = b; i < e; i++) j->y[i] = ck_normal_from_bits(ck_mix64(j->seed, j->counter + i));
}

static void bernoulli_range(const cpu_ew *j, size_t b, size_t e) {
    for (size_t i = b; i < e; i++)
        j->y[i] = ck_uniform_from_bits(ck_mix64(j->seed, j->counter + i)) < j->a[i] ? 1.0f : 0.0f;
}

ck_status cpu_random_normal(size_t count, uint64_t seed, uint64_t counter, ck_buffer *out) {
    cpu_ew j = {.range = normal_range, .count = count, .y = out->host, .seed = seed,
                .counter = counter};
    cpu_ew_run(cpu_of(out), &j);
    return CK_OK;
}

ck_status cpu_random_bernoulli(size_t count, uint64_t seed, uint64_t counter,
                               const ck_buffer *probs, ck_buffer *out) {
    cpu_ew j = {.range = bernoulli_range, .count = count, .a = probs->host, .y = out->host,
                .seed = seed, .counter = counter};
    cpu_ew_run(cpu_of(out), &j);
    return CK_OK;
}

/* Rows of latent values; element i is (row i / latent, column i % latent). */
static void reparam_range(const cpu_ew *j, size_t b, size_t e) {
    size_t latent = (size_t)j->kind;
    for (size_t i = b; i < e; i++) {
        size_t r = i / latent, c = i % latent;
        const float *mu = j->a + 2 * r * latent;
        j->y[i] = mu[c] + expf(0.5f * mu[latent + c]) * j->b[i];
    }
}

static void reparam_backward_range(const cpu_ew *j, size_t b, size_t e) {
    size_t latent = (size_t)j->kind;
    for (size_t i = b; i < e; i++) {
        size_t r = i / latent, c = i % latent;
        const float *lv = j->a + 2 * r * latent + latent;
        float *d = j->y + 2 * r * latent;
        d[c] = j->c[i];
        d[latent + c] = j->c[i] * j->b[i] * expf(0.5f * lv[c]) * 0.5f;
    }
}

ck_status cpu_reparameterize(int batch, int latent, const ck_buffer *stats, const ck_buffer *eps,
                             ck_buffer *z) {
    cpu_ew j = {.range = reparam_range, .count = (size_t)batch * latent, .a = stats->host,
                .b = eps->host, .y = z->host, .kind = latent};
    cpu_ew_run(cpu_of(z), &j);
    return CK_OK;
}

ck_status cpu_reparameterize_backward(int batch, int latent, const ck_buffer *stats,
                                      const ck_buffer *eps, const ck_buffer *dz,
                                      ck_buffer *dstats) {
    cpu_ew j = {.range = reparam_backward_range, .count = (size_t)batch * latent,
                .a = stats->host, .b = eps->host, .c = dz->host, .y = dstats->host,
                .kind = latent};
    cpu_ew_run(cpu_of(dz), &j);
    return CK_OK;
}

/* A few rows of latent noise per image: serial, no worth in a thread pool. */
ck_status cpu_keep_best_rows(int batch, int width, const ck_buffer *score, ck_buffer *best,
                             const ck_buffer *candidate, ck_buffer *kept) {
    for (int i = 0; i < batch; i++) {
        if (!(score->host[i] < best->host[i])) continue;
        best->host[i] = score->host[i];
        memcpy(kept->host + (size_t)i * width, candidate->host + (size_t)i * width,
               (size_t)width * sizeof(float));
    }
    return CK_OK;
}
