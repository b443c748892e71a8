/*
 * backend_impl.h -- private: what a backend provides. The public wrappers in api.c
 * validate every argument (NULLs, sizes, buffer counts, one backend for all buffers)
 * before they call a backend's operation, so operations trust their arguments.
 */
#ifndef CK_BACKEND_IMPL_H
#define CK_BACKEND_IMPL_H

#include "ckernels.h"

#include <stdarg.h>

typedef struct ck_backend_ops ck_backend_ops;

struct ck_backend {
    const ck_backend_ops *ops;
    const char *kind;       /* "cpu" or "opencl" */
    char description[256];
    int threads;
    void *impl;             /* the backend's own state */
};

struct ck_buffer {
    ck_backend *backend;
    size_t count;
    float *host;            /* CPU backend: the floats */
    void *device;           /* device backends: their handle (cl_mem) */
    const ck_buffer *parent; /* a view's parent (ck_buffer_view); NULL for a buffer of its own */
    size_t offset;          /* a view's first float in its parent */
};

/* Operations take validated arguments; output sizes are already computed in shape. */
struct ck_backend_ops {
    void (*close)(ck_backend *);
    ck_status (*buffer_new)(ck_backend *, ck_buffer *);   /* fills host or device, zeroed */
    void (*buffer_free)(ck_buffer *);                     /* a view or a buffer of its own */
    size_t (*view_alignment)(const ck_backend *);         /* floats */
    ck_status (*buffer_view)(ck_buffer *view);            /* fills host or device from parent, offset */
    ck_status (*buffer_write)(ck_buffer *, size_t offset, size_t count, const float *src);
    ck_status (*buffer_read)(const ck_buffer *, size_t offset, size_t count, float *dst);
    ck_status (*copy)(ck_buffer *dst, size_t dst_offset, const ck_buffer *src, size_t src_offset,
                      size_t count);
    ck_status (*copy_rows)(ck_buffer *dst, size_t dst_offset, size_t dst_stride,
                           const ck_buffer *src, size_t src_offset, size_t src_stride,
                           size_t rows, size_t count);
    ck_status (*fill)(ck_buffer *, size_t offset, size_t count, float value);
    ck_status (*synchronize)(ck_backend *);

    size_t (*conv_workspace)(const ck_backend *, const ck_conv_shape *, int transposed);
    ck_status (*conv2d_forward)(const ck_conv_shape *, const ck_buffer *x, const ck_buffer *w,
                                const ck_buffer *bias, ck_buffer *y, ck_buffer *ws);
    ck_status (*conv2d_backward_data)(const ck_conv_shape *, const ck_buffer *dy,
                                      const ck_buffer *w, ck_buffer *dx, ck_buffer *ws);
    ck_status (*conv2d_backward_weights)(const ck_conv_shape *, const ck_buffer *x,
                                         const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                         ck_buffer *ws);
    ck_status (*deconv2d_forward)(const ck_conv_shape *, const ck_buffer *x, const ck_buffer *w,
                                  const ck_buffer *bias, ck_buffer *y, ck_buffer *ws);
    ck_status (*deconv2d_backward_data)(const ck_conv_shape *, const ck_buffer *dy,
                                        const ck_buffer *w, ck_buffer *dx, ck_buffer *ws);
    ck_status (*deconv2d_backward_weights)(const ck_conv_shape *, const ck_buffer *x,
                                           const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                           ck_buffer *ws);
    ck_status (*im2col)(const ck_conv_shape *, const ck_buffer *x, ck_buffer *cols);
    ck_status (*col2im)(const ck_conv_shape *, const ck_buffer *cols, ck_buffer *x);

    ck_status (*dense_forward)(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                               const ck_buffer *bias, ck_buffer *y);
    ck_status (*dense_backward_data)(int batch, int in, int out, const ck_buffer *dy,
                                     const ck_buffer *w, ck_buffer *dx);
    ck_status (*dense_backward_weights)(int batch, int in, int out, const ck_buffer *x,
                                        const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias);

    ck_status (*activation_forward)(ck_activation, float alpha, size_t count, const ck_buffer *x,
                                    ck_buffer *y);
    ck_status (*activation_backward)(ck_activation, float alpha, size_t count, const ck_buffer *x,
                                     const ck_buffer *y, const ck_buffer *dy, ck_buffer *dx);

    /* weight may be NULL (all ones) in the three likelihoods */
    ck_status (*bernoulli_nll)(int batch, int dim, const ck_buffer *logits,
                               const ck_buffer *target, const ck_buffer *weight, ck_buffer *nll,
                               ck_buffer *dlogits, float scale);
    ck_status (*gaussian_nll)(int batch, int channels, int plane, const ck_buffer *mean,
                              const ck_buffer *logvar, const ck_buffer *target,
                              const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                              ck_buffer *dlogvar, float scale);
    ck_status (*logistic_nll)(int batch, int channels, int plane, const ck_buffer *mean,
                              const ck_buffer *logscale, const ck_buffer *target,
                              const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                              ck_buffer *dlogscale, float scale);
    ck_status (*softmax_nll)(int batch, int classes, int plane, const ck_buffer *logits,
                             const ck_buffer *labels, const ck_buffer *weight, ck_buffer *nll,
                             ck_buffer *dlogits, float scale);
    ck_status (*kl_normal)(int batch, int latent, const ck_buffer *stats, ck_buffer *kl,
                           ck_buffer *dstats, float scale, float free_bits);

    ck_status (*random_normal)(size_t count, uint64_t seed, uint64_t counter, ck_buffer *out);
    ck_status (*random_bernoulli)(size_t count, uint64_t seed, uint64_t counter,
                                  const ck_buffer *probs, ck_buffer *out);
    ck_status (*reparameterize)(int batch, int latent, const ck_buffer *stats,
                                const ck_buffer *eps, ck_buffer *z);
    ck_status (*reparameterize_backward)(int batch, int latent, const ck_buffer *stats,
                                         const ck_buffer *eps, const ck_buffer *dz,
                                         ck_buffer *dstats);
    ck_status (*keep_best_rows)(int batch, int width, const ck_buffer *score, ck_buffer *best,
                                const ck_buffer *candidate, ck_buffer *kept);

    ck_status (*sum)(const ck_buffer *, size_t offset, size_t count, int squares, double *result);
    ck_status (*axpby)(size_t count, float alpha, const ck_buffer *x, float beta, ck_buffer *y);
    ck_status (*adam_update)(size_t count, const ck_adam_params *, ck_buffer *param,
                             const ck_buffer *grad, ck_buffer *m, ck_buffer *v);
    ck_status (*multiply)(size_t count, const ck_buffer *x, ck_buffer *y);
    ck_status (*gate_forward)(int batch, int channels, int plane, const ck_buffer *x,
                              ck_buffer *y);
    ck_status (*gate_backward)(int batch, int channels, int plane, const ck_buffer *x,
                               const ck_buffer *dy, ck_buffer *dx);
    ck_status (*vq_assign)(int batch, int dim, int plane, int codes, const ck_buffer *z,
                           const ck_buffer *codebook, ck_buffer *indices, ck_buffer *zq,
                           ck_buffer *sqdist, ck_buffer *ws);
    ck_status (*vq_embed)(int batch, int dim, int plane, int codes, const ck_buffer *indices,
                          const ck_buffer *codebook, ck_buffer *zq);
    ck_status (*vq_statistics)(int batch, int dim, int plane, int codes, const ck_buffer *z,
                               const ck_buffer *indices, ck_buffer *counts, ck_buffer *sums);
    ck_status (*vq_ema_update)(int codes, int dim, float decay, float epsilon,
                               const ck_buffer *counts, const ck_buffer *sums,
                               ck_buffer *ema_counts, ck_buffer *ema_sums, ck_buffer *codebook);
    ck_status (*vq_codebook_grad)(int codes, int dim, float scale, const ck_buffer *counts,
                                  const ck_buffer *sums, const ck_buffer *codebook,
                                  ck_buffer *dcodebook);
    ck_status (*vq_restart)(int batch, int dim, int plane, int codes, const ck_buffer *z,
                            const ck_buffer *usage, uint64_t seed, uint64_t counter,
                            ck_buffer *codebook, ck_buffer *ema_counts, ck_buffer *ema_sums);
    /* Optional fused forms (NULL: the public wrapper runs the plain operation, then the
     * activation or its derivative from the gate, as two backend operations). */
    ck_status (*conv2d_forward_act)(const ck_conv_shape *, const ck_buffer *x, const ck_buffer *w,
                                    const ck_buffer *bias, ck_activation, float alpha,
                                    ck_buffer *y, ck_buffer *ws);
    ck_status (*conv2d_backward_data_act)(const ck_conv_shape *, const ck_buffer *dy,
                                          const ck_buffer *w, ck_activation, float alpha,
                                          const ck_buffer *gate, ck_buffer *dx, ck_buffer *ws);
    ck_status (*deconv2d_forward_act)(const ck_conv_shape *, const ck_buffer *x,
                                      const ck_buffer *w, const ck_buffer *bias, ck_activation,
                                      float alpha, ck_buffer *y, ck_buffer *ws);
    ck_status (*deconv2d_backward_data_act)(const ck_conv_shape *, const ck_buffer *dy,
                                            const ck_buffer *w, ck_activation, float alpha,
                                            const ck_buffer *gate, ck_buffer *dx, ck_buffer *ws);
    ck_status (*dense_forward_act)(int batch, int in, int out, const ck_buffer *x,
                                   const ck_buffer *w, const ck_buffer *bias, ck_activation,
                                   float alpha, ck_buffer *y);
    ck_status (*dense_backward_data_act)(int batch, int in, int out, const ck_buffer *dy,
                                         const ck_buffer *w, ck_activation, float alpha,
                                         const ck_buffer *gate, ck_buffer *dx);
    /* Optional (NULL: the public wrapper answers CK_ERR_UNAVAILABLE). */
    ck_status (*kl_normal_pair)(int batch, int latent, const ck_buffer *q_stats,
                                const ck_buffer *p_stats, ck_buffer *kl, ck_buffer *dq_stats,
                                ck_buffer *dp_stats, float scale, float free_bits);
};

/* ---------------------------------------------------------------- profiling (profile.c) */

/** Nonzero when CK_PROFILE=1 was set when the first backend opened. */
extern int ck_profile_on;
/** Reads CK_PROFILE once. */
void ck_profile_init(void);
/** The clocks at the start of a profiled call. */
typedef struct { double wall, cpu; } ck_profile_mark;
ck_profile_mark ck_profile_begin(void);
/** Adds the time since mark under key (an operation and its shape). */
void ck_profile_end(ck_profile_mark mark, const char *key);

/*
 * Returns the status of call (a backend operation); with profiling on, also times it under
 * a key formatted from the remaining arguments. Costs one predictable branch when off.
 */
#define PROFILED(call, ...)                                                                \
    do {                                                                                   \
        if (!ck_profile_on) return call;                                                   \
        char key_[128];                                                                    \
        snprintf(key_, sizeof key_, __VA_ARGS__);                                          \
        ck_profile_mark mark_ = ck_profile_begin();                                        \
        ck_status status_ = call;                                                          \
        ck_profile_end(mark_, key_);                                                       \
        return status_;                                                                    \
    } while (0)

/** Records a failure message for ck_last_error and returns status. */
ck_status ck_fail(ck_status status, const char *format, ...);

/** Backend constructors: fill *backend (ops, kind, description, threads, impl). */
ck_status ck_cpu_open(int threads, ck_backend *backend);
ck_status ck_opencl_open(const char *device_spec, int threads, ck_backend *backend);

/**
 * The counter-based generator shared by every backend (Philox-free, so that OpenCL C
 * can repeat it bit for bit): a 64-bit mix of seed and counter.
 */
static inline uint64_t ck_mix64(uint64_t seed, uint64_t counter) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + counter;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    z = (z + 0x9E3779B97F4A7C15ull) * 0xBF58476D1CE4E5B9ull;
    return z ^ (z >> 29);
}

/** Uniform in (0, 1) from the top 24 bits of a mix. */
static inline float ck_uniform_from_bits(uint64_t bits) {
    return ((float)(bits >> 40) + 0.5f) * (1.0f / 16777216.0f);
}

/**
 * Standard normal by Box-Muller from one mix: top 24 bits radius, low 24 bits angle. The log
 * and the cosine are the polynomials below, evaluated by fused multiply-adds in a fixed order,
 * so that the CPU backend's vector code (cpu/random.c) gives the same bits as this.
 */
float ck_normal_from_bits(uint64_t bits);

/* log(m) = t (L0 + s (L1 + s (L2 + s (L3 + s L4)))), t = (m - 1) / (m + 1), s = t^2, for m in
 * [sqrt(1/2), sqrt(2)) (error 6e-10); log(2^e m) = e ln 2 + log(m). */
#define CK_LOG_L0 2.0f
#define CK_LOG_L1 0.666666667f
#define CK_LOG_L2 0.4f
#define CK_LOG_L3 0.285714286f
#define CK_LOG_L4 0.222222222f
#define CK_LN2 0.693147181f
#define CK_SQRT2 1.41421356f
/* cos(2 pi w) = C0 + y (C1 + ... + y C6), y = w^2, for w in [0, 1/4] (error 4e-8). */
#define CK_COS_C0 1.0f
#define CK_COS_C1 -19.7392082f
#define CK_COS_C2 64.9393921f
#define CK_COS_C3 -85.4568176f
#define CK_COS_C4 60.2446404f
#define CK_COS_C5 -26.4262562f
#define CK_COS_C6 7.90353632f

#endif /* CK_BACKEND_IMPL_H */
