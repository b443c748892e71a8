/*
 * cpu.h -- private to the CPU backend: its thread pool, the geometry its im2col/col2im
 * work on, and the operations that backend_cpu.c puts in its table.
 */
#ifndef CK_CPU_H
#define CK_CPU_H

#include "../backend_impl.h"

#include <math.h>
#include <stddef.h>

/* ---------------------------------------------------------------- thread pool */

typedef struct cpu_pool cpu_pool;

/* A parallel task: called once per thread with its index tid in [0, threads). */
typedef void (*cpu_task)(void *ctx, int tid, int threads);

/* Starts threads - 1 workers (the caller is thread 0). NULL when out of memory. */
cpu_pool *cpu_pool_new(int threads);
void cpu_pool_free(cpu_pool *pool);
int cpu_pool_threads(const cpu_pool *pool);
/* Runs task on every thread and returns when all have finished. Not re-entrant. */
void cpu_pool_run(cpu_pool *pool, cpu_task task, void *ctx);

/* The fixed share [*begin, *end) of n items that thread tid of threads gets. */
static inline void cpu_split(size_t n, int tid, int threads, size_t *begin, size_t *end) {
    size_t q = n / (size_t)threads, r = n % (size_t)threads, t = (size_t)tid;
    *begin = t * q + (t < r ? t : r);
    *end = *begin + q + (t < r ? 1 : 0);
}

/* The CPU backend's state (ck_backend.impl). */
typedef struct cpu_state {
    cpu_pool *pool;
    int threads;
    double *scratch;        /* CPU_SCRATCH doubles per thread, for small reductions */
    int fast_conv;          /* convolutions through convgemm.c (AVX-512) instead of OpenBLAS */
} cpu_state;

#define CPU_SCRATCH 1024

/* The pool of a buffer's backend. */
static inline cpu_state *cpu_of(const ck_buffer *b) { return (cpu_state *)b->backend->impl; }

/*
 * Before an elementwise loop whose output may be one of its inputs (in place, the same
 * index read then written: never a shifted overlap). Compilers otherwise guard such loops
 * with an overlap test that sends the in-place case to the scalar loop.
 */
#if defined(__clang__)
#define CPU_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define CPU_IVDEP _Pragma("GCC ivdep")
#else
#define CPU_IVDEP
#endif

/*
 * CPU_TARGET_BEGIN("avx512f,avx512vl") ... CPU_TARGET_END: the functions between are compiled
 * for those instruction sets (callers check at run time that the CPU has them).
 */
#define CPU_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define CPU_TARGET_BEGIN(t) CPU_PRAGMA(clang attribute push(__attribute__((target(t))), apply_to = function))
#define CPU_TARGET_END CPU_PRAGMA(clang attribute pop)
#else
#define CPU_TARGET_BEGIN(t) CPU_PRAGMA(GCC push_options) CPU_PRAGMA(GCC target(t))
#define CPU_TARGET_END CPU_PRAGMA(GCC pop_options)
#endif

/* Elementwise loops below this many elements run on the calling thread alone. */
#define CPU_PARALLEL_MIN 32768

/*
 * Sum of n floats in 16 float lanes (a vectorisable loop), the lanes added in double in a
 * fixed order: deterministic, and as accurate as one float sum per 16th of the values.
 */
static inline double cpu_sum_lanes(const float *x, size_t n) {
    float lane[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) lane[l] += x[i + l];
    for (int l = 0; i < n; i++, l++) lane[l] += x[i];
    double s = 0;
    for (int l = 0; l < 16; l++) s += lane[l];
    return s;
}

/* Runs task over the pool, or on the caller alone when n is small. */
void cpu_parallel(cpu_state *st, size_t n, cpu_task task, void *ctx);

/* An elementwise loop: range(job, begin, end) over [0, count), split across the pool. */
typedef struct cpu_ew cpu_ew;
struct cpu_ew {
    void (*range)(const cpu_ew *, size_t begin, size_t end);
    size_t count;
    const float *a, *b, *c; /* inputs */
    float *y, *z;           /* outputs */
    float alpha, beta;
    int kind;
    uint64_t seed, counter;
    const void *extra;      /* op-specific parameters */
};
void cpu_ew_run(cpu_state *st, const cpu_ew *job);

/* Switches OpenBLAS from its generic fallback kernels to AVX2/AVX-512 ones (once). */
void cpu_openblas_tune(void);

/* ---------------------------------------------------------------- fused activations */

/*
 * What a pass does to each value it stores (activations.c). Forward (gate NULL):
 * y = f(v). Backward (gate set): y = f'(.) v, the derivative taken from the activation's
 * output gate[i] at the same index (the input of the layer whose backward-data this is).
 */
typedef struct cpu_epilogue {
    ck_activation kind;
    float alpha;
    const float *gate; /* NULL: forward; else the activation outputs, laid out as the result */
} cpu_epilogue;

/* True when an epilogue changes nothing (NULL or identity). */
static inline int cpu_epilogue_none(const cpu_epilogue *e) {
    return !e || e->kind == CK_ACT_IDENTITY;
}
/* Applies e to y[0, n) in place; offset is y's index in the whole result (for the gate). */
void cpu_epilogue_apply(const cpu_epilogue *e, float *y, size_t offset, size_t n);

/* ---------------------------------------------------------------- im2col geometry */

/*
 * One image [channels, height, width] and the grid of kernel positions [out_h, out_w]
 * that its columns cover: column (oy, ox), row (c, ky, kx) reads pixel
 * (oy * stride_h - pad_h + ky * dil_h, ox * stride_w - pad_w + kx * dil_w).
 * For a transposed convolution the image is the large side and the grid the small one.
 */
typedef struct cpu_geom {
    int channels, height, width;
    int k_h, k_w, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
    int out_h, out_w;
} cpu_geom;

/* Columns of one image into cols (rows of ld floats, this image's block at column 0). */
void cpu_im2col_image(const cpu_geom *g, const float *img, float *cols, size_t ld);
/* The adjoint: img = col2im(cols), img overwritten. */
void cpu_col2im_image(const cpu_geom *g, const float *cols, size_t ld, float *img);
/* Rows of one image: row p = (oy, ox) holds (c, ky, kx) contiguously (im2row.c). */
void cpu_im2row_image(const cpu_geom *g, const float *img, float *rows, size_t ld);
/* One channel plane's taps of every pixel: pixel p's (ky, kx) at rows[p * ld + ky * k_w + kx]
 * (k_h <= 32). */
void cpu_im2row_channel(const cpu_geom *g, const float *plane, float *rows, size_t ld);
/* The adjoint: img = row2im(rows), img overwritten. */
void cpu_row2im_image(const cpu_geom *g, const float *rows, size_t ld, float *img);
/* True when the columns of an image are the image itself (1x1, stride 1, no padding). */
int cpu_geom_is_identity(const cpu_geom *g);

/* ---------------------------------------------------------------- convolution engine */

/*
 * The three GEMM-based passes every (transposed) convolution reduces to (engine.c). A is
 * the weight matrix [m, k] with k = channels * k_h * k_w of the geometry's image.
 *   cpu_conv_im2col_gemm: out[b] = A x im2col(img[b]) (+ bias[m])   out[b]: [m, out_h*out_w]
 *   cpu_conv_gemm_col2im: img[b] = col2im(A^T x in[b]) (+ bias[channels])
 *   cpu_conv_weights:     dA = sum_b in[b] x im2col(img[b])^T, and when dsum is set
 *                         dsum[r] = sum over batch and plane of in[b, r] (a convolution's dbias)
 */
size_t cpu_conv_ws(const cpu_state *st, const cpu_geom *g, int batch, int m);
void cpu_conv_im2col_gemm(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                          const float *img, const float *bias, float *out, float *ws,
                          const cpu_epilogue *ep);
void cpu_conv_gemm_col2im(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                          const float *in, const float *bias, float *img, float *ws,
                          const cpu_epilogue *ep);
void cpu_conv_weights(cpu_state *st, const cpu_geom *g, int batch, int m, const float *in,
                      const float *img, float *da, float *dsum, float *ws);
/*
 * The same three passes through convgemm.c's own AVX-512 GEMM (x86-64 with AVX-512 only:
 * cpu_fast_conv_supported). The backend picks them at open unless CK_CONV_ENGINE=blas.
 */
int cpu_fast_conv_supported(void);
size_t cpu_fast_conv_ws(const cpu_state *st, const cpu_geom *g, int batch, int m);
void cpu_fast_forward(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                      const float *img, const float *bias, float *out, float *ws,
                      const cpu_epilogue *ep);
void cpu_fast_data(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                   const float *in, const float *bias, float *img, float *ws,
                   const cpu_epilogue *ep);
void cpu_fast_weights(cpu_state *st, const cpu_geom *g, int batch, int m, const float *in,
                      const float *img, float *da, float *dsum, float *ws);

/* The microkernel's tile: A panels of CPU_FAST_MR rows ([k][8]), B panels of CPU_FAST_NR columns ([k][32]). */
#define CPU_FAST_MR 8
#define CPU_FAST_NR 32
/* t[8][32] (+)= a x b over kc steps of the packed panels (columns past cols unused, cols <= 32). */
void cpu_fast_kernel(size_t kc, const float *a, const float *b, float *t, size_t ld,
                     int accumulate, size_t cols);

/*
 * 3x3 stride-1 "same" convolutions by Winograd's F(4x4, 3x3) and F(2x2, 3x3) (winograd.c), which
 * cpu_fast_forward and cpu_fast_weights take for the geometries where cpu_winograd_applies:
 * the forward pass of cpu_conv_im2col_gemm with a = weights [m, channels * 9].
 */
int cpu_winograd_applies(const cpu_geom *g, int m);
size_t cpu_winograd_ws(const cpu_state *st, const cpu_geom *g, int m);
void cpu_winograd_forward(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                          const float *img, const float *bias, float *out, float *ws,
                          const cpu_epilogue *ep);
/*
 * 3x3 stride-1 "same" convolutions onto at most CPU_DIRECT3_MAX_M output channels, computed
 * directly (direct3.c): the forward pass and the weights pass (da overwritten), which
 * cpu_fast_forward and cpu_fast_weights take where cpu_direct3_applies; no workspace.
 */
#define CPU_DIRECT3_MAX_M 4
int cpu_direct3_applies(const cpu_geom *g, int m);
void cpu_direct3_forward(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                         const float *img, const float *bias, float *out,
                         const cpu_epilogue *ep);
void cpu_direct3_weights(cpu_state *st, const cpu_geom *g, int batch, int m, const float *in,
                         const float *img, float *da);
/* The weights pass of the same geometries: da = sum_b in[b] x im2col(img[b])^T, [m, channels * 9]. */
size_t cpu_winograd_weights_ws(const cpu_state *st, const cpu_geom *g, int m);
void cpu_winograd_weights(cpu_state *st, const cpu_geom *g, int batch, int m, const float *in,
                          const float *img, float *da, float *ws);

/* dbias[c] = sum over batch and plane of t[b, c, plane]. */
void cpu_bias_grad(cpu_state *st, int batch, int channels, size_t plane, const float *t,
                   float *dbias);

/* ---------------------------------------------------------------- operations */

size_t cpu_conv_workspace(const ck_backend *, const ck_conv_shape *, int transposed);
ck_status cpu_conv2d_forward(const ck_conv_shape *, const ck_buffer *x, const ck_buffer *w,
                             const ck_buffer *bias, ck_buffer *y, ck_buffer *ws);
ck_status cpu_conv2d_backward_data(const ck_conv_shape *, const ck_buffer *dy,
                                   const ck_buffer *w, ck_buffer *dx, ck_buffer *ws);
ck_status cpu_conv2d_backward_weights(const ck_conv_shape *, const ck_buffer *x,
                                      const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                      ck_buffer *ws);
ck_status cpu_deconv2d_forward(const ck_conv_shape *, const ck_buffer *x, const ck_buffer *w,
                               const ck_buffer *bias, ck_buffer *y, ck_buffer *ws);
ck_status cpu_deconv2d_backward_data(const ck_conv_shape *, const ck_buffer *dy,
                                     const ck_buffer *w, ck_buffer *dx, ck_buffer *ws);
ck_status cpu_deconv2d_backward_weights(const ck_conv_shape *, const ck_buffer *x,
                                        const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                        ck_buffer *ws);
ck_status cpu_conv2d_forward_act(const ck_conv_shape *, const ck_buffer *x, const ck_buffer *w,
                                 const ck_buffer *bias, ck_activation, float alpha, ck_buffer *y,
                                 ck_buffer *ws);
ck_status cpu_conv2d_backward_data_act(const ck_conv_shape *, const ck_buffer *dy,
                                       const ck_buffer *w, ck_activation, float alpha,
                                       const ck_buffer *gate, ck_buffer *dx, ck_buffer *ws);
ck_status cpu_deconv2d_forward_act(const ck_conv_shape *, const ck_buffer *x, const ck_buffer *w,
                                   const ck_buffer *bias, ck_activation, float alpha,
                                   ck_buffer *y, ck_buffer *ws);
ck_status cpu_deconv2d_backward_data_act(const ck_conv_shape *, const ck_buffer *dy,
                                         const ck_buffer *w, ck_activation, float alpha,
                                         const ck_buffer *gate, ck_buffer *dx, ck_buffer *ws);
ck_status cpu_im2col(const ck_conv_shape *, const ck_buffer *x, ck_buffer *cols);
ck_status cpu_col2im(const ck_conv_shape *, const ck_buffer *cols, ck_buffer *x);

ck_status cpu_dense_forward(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                            const ck_buffer *bias, ck_buffer *y);
ck_status cpu_dense_backward_data(int batch, int in, int out, const ck_buffer *dy,
                                  const ck_buffer *w, ck_buffer *dx);
ck_status cpu_dense_backward_weights(int batch, int in, int out, const ck_buffer *x,
                                     const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias);
ck_status cpu_dense_forward_act(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                                const ck_buffer *bias, ck_activation, float alpha, ck_buffer *y);
ck_status cpu_dense_backward_data_act(int batch, int in, int out, const ck_buffer *dy,
                                      const ck_buffer *w, ck_activation, float alpha,
                                      const ck_buffer *gate, ck_buffer *dx);

ck_status cpu_activation_forward(ck_activation, float alpha, size_t count, const ck_buffer *x,
                                 ck_buffer *y);
ck_status cpu_activation_backward(ck_activation, float alpha, size_t count, const ck_buffer *x,
                                  const ck_buffer *y, const ck_buffer *dy, ck_buffer *dx);

ck_status cpu_bernoulli_nll(int batch, int dim, const ck_buffer *logits, const ck_buffer *target,
                            const ck_buffer *weight, ck_buffer *nll, ck_buffer *dlogits,
                            float scale);
ck_status cpu_gaussian_nll(int batch, int channels, int plane, const ck_buffer *mean,
                           const ck_buffer *logvar, const ck_buffer *target,
                           const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                           ck_buffer *dlogvar, float scale);
ck_status cpu_logistic_nll(int batch, int channels, int plane, const ck_buffer *mean,
                           const ck_buffer *logscale, const ck_buffer *target,
                           const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                           ck_buffer *dlogscale, float scale);
ck_status cpu_softmax_nll(int batch, int classes, int plane, const ck_buffer *logits,
                          const ck_buffer *labels, const ck_buffer *weight, ck_buffer *nll,
                          ck_buffer *dlogits, float scale);
ck_status cpu_kl_normal(int batch, int latent, const ck_buffer *stats, ck_buffer *kl,
                        ck_buffer *dstats, float scale, float free_bits);
ck_status cpu_kl_normal_pair(int batch, int latent, const ck_buffer *q_stats,
                             const ck_buffer *p_stats, ck_buffer *kl, ck_buffer *dq_stats,
                             ck_buffer *dp_stats, float scale, float free_bits);

ck_status cpu_random_normal(size_t count, uint64_t seed, uint64_t counter, ck_buffer *out);
ck_status cpu_random_bernoulli(size_t count, uint64_t seed, uint64_t counter,
                               const ck_buffer *probs, ck_buffer *out);
ck_status cpu_reparameterize(int batch, int latent, const ck_buffer *stats, const ck_buffer *eps,
                             ck_buffer *z);
ck_status cpu_reparameterize_backward(int batch, int latent, const ck_buffer *stats,
                                      const ck_buffer *eps, const ck_buffer *dz,
                                      ck_buffer *dstats);
ck_status cpu_keep_best_rows(int batch, int width, const ck_buffer *score, ck_buffer *best,
                             const ck_buffer *candidate, ck_buffer *kept);

ck_status cpu_sum(const ck_buffer *, size_t offset, size_t count, int squares, double *result);
ck_status cpu_axpby(size_t count, float alpha, const ck_buffer *x, float beta, ck_buffer *y);
ck_status cpu_adam_update(size_t count, const ck_adam_params *, ck_buffer *param,
                          const ck_buffer *grad, ck_buffer *m, ck_buffer *v);

ck_status cpu_multiply(size_t count, const ck_buffer *x, ck_buffer *y);
ck_status cpu_gate_forward(int batch, int channels, int plane, const ck_buffer *x, ck_buffer *y);
ck_status cpu_gate_backward(int batch, int channels, int plane, const ck_buffer *x,
                            const ck_buffer *dy, ck_buffer *dx);
ck_status cpu_vq_assign(int batch, int dim, int plane, int codes, const ck_buffer *z,
                        const ck_buffer *codebook, ck_buffer *indices, ck_buffer *zq,
                        ck_buffer *sqdist, ck_buffer *ws);
ck_status cpu_vq_embed(int batch, int dim, int plane, int codes, const ck_buffer *indices,
                       const ck_buffer *codebook, ck_buffer *zq);
ck_status cpu_vq_statistics(int batch, int dim, int plane, int codes, const ck_buffer *z,
                            const ck_buffer *indices, ck_buffer *counts, ck_buffer *sums);
ck_status cpu_vq_ema_update(int codes, int dim, float decay, float epsilon,
                            const ck_buffer *counts, const ck_buffer *sums,
                            ck_buffer *ema_counts, ck_buffer *ema_sums, ck_buffer *codebook);
ck_status cpu_vq_codebook_grad(int codes, int dim, float scale, const ck_buffer *counts,
                               const ck_buffer *sums, const ck_buffer *codebook,
                               ck_buffer *dcodebook);
ck_status cpu_vq_restart(int batch, int dim, int plane, int codes, const ck_buffer *z,
                         const ck_buffer *usage, uint64_t seed, uint64_t counter,
                         ck_buffer *codebook, ck_buffer *ema_counts, ck_buffer *ema_sums);

/* ---------------------------------------------------------------- numerics */

/*
 * e^x = 2^n e^r for x in [-87.3, 0], written so that loops over arrays vectorise: Cephes
 * expf's reduction and polynomial (within 2 ulp), 2^n from the exponent bits, no libm call.
 * Returns e^r - 1 (full relative precision near 0) and sets *two_n.
 */
static inline float cpu_exp_split(float x, float *two_n) {
    float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    union { int32_t i; float f; } scale = {.i = ((int32_t)n + 127) << 23};
    *two_n = scale.f;
    return p * r * r + r;
}

/* exp(-a) for a >= 0 (a > 87.3 gives about 1e-38; NaN gives NaN). */
static inline float cpu_exp_neg(float a) {
    float two_n, em1 = cpu_exp_split(a > 87.3f ? -87.3f : -a, &two_n); /* NaN stays NaN */
    return (em1 + 1.0f) * two_n;
}

/*
 * log(1 + e) for e in [0, 1], vectorisable: 2 atanh(s) with s = e / (2 + e), or for e above
 * sqrt(2) - 1, ln 2 + 2 atanh((e - 1) / (e + 3)); |s| <= 0.1716, so six odd terms give
 * float precision, with no cancellation near e = 0.
 */
static inline float cpu_log1p_unit(float e) {
    int big = e > 0.41421356f;
    float num = big ? e - 1.0f : e, den = big ? e + 3.0f : e + 2.0f;
    float s = num / den;
    float s2 = s * s;
    float p = 1.0f / 11.0f;
    p = p * s2 + 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    p = p * s2 + 1.0f;
    return (big ? 0.69314718055994531f : 0.0f) + 2.0f * s * p;
}

/*
 * exp(x) - 1 for x <= 0 (ELU's negative side), vectorisable: 2^n (e^r - 1) + (2^n - 1),
 * which keeps full relative precision near 0 (n = 0 there) where exp(x) - 1 would cancel.
 */
static inline float cpu_expm1_nonpos(float x) {
    float two_n, em1 = cpu_exp_split(x < -87.3f ? -87.3f : x, &two_n);
    return em1 * two_n + (two_n - 1.0f);
}

/* ELU (scale 1): x for x > 0, exp(x) - 1 otherwise; vectorisable. */
static inline float cpu_elu(float x) {
    float e = cpu_expm1_nonpos(x > 0 ? 0.0f : x);
    return x > 0 ? x : e;
}

/* log(1 + exp(x)) without overflow or cancellation; vectorisable. */
static inline float cpu_softplus(float x) {
    return (x > 0 ? x : 0) + cpu_log1p_unit(cpu_exp_neg(__builtin_fabsf(x)));
}

/* 1 / (1 + exp(-x)) without overflow; vectorisable. */
static inline float cpu_sigmoid(float x) {
    float e = cpu_exp_neg(__builtin_fabsf(x));
    float inv = 1.0f / (1.0f + e);
    return x >= 0 ? inv : e * inv;
}

#endif /* CK_CPU_H */
