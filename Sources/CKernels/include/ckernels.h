/*
 * ckernels.h -- the one public C API of ConvVAE's kernels.
 *
 * Float32 tensors in NCHW order live in buffers owned by a backend (host memory on
 * the CPU backend, device memory on OpenCL). Every operation names its backend and
 * its buffers, validates its arguments and returns a status; on failure
 * ck_last_error() says why. Scratch memory comes from a caller-owned workspace
 * buffer, so a training step allocates nothing.
 *
 * Layouts follow PyTorch: conv weights [c_out, c_in, k_h, k_w], transposed-conv
 * weights [c_in, c_out, k_h, k_w], dense weights [out, in].
 */
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- status */

typedef enum ck_status {
    CK_OK = 0,
    CK_ERR_ARGUMENT = 1,     /* a NULL pointer, a non-positive size, an unknown enum value */
    CK_ERR_SHAPE = 2,        /* sizes that do not agree (buffer too small, output size <= 0) */
    CK_ERR_MEMORY = 3,       /* an allocation failed (host or device) */
    CK_ERR_UNAVAILABLE = 4,  /* the backend or device asked for does not exist here */
    CK_ERR_BACKEND = 5,      /* the backend failed (an OpenCL error, a kernel build failure) */
    CK_ERR_MISMATCH = 6      /* buffers of another backend were passed */
} ck_status;

/** The message of the last failure on this thread ("" when none). */
const char *ck_last_error(void);

/** A short name for a status ("ok", "argument", ...). */
const char *ck_status_name(ck_status status);

/* ---------------------------------------------------------------- backends */

typedef struct ck_backend ck_backend; /* opaque: a compute device and its thread pool or queue */
typedef struct ck_buffer ck_buffer;   /* opaque: count floats owned by one backend */

/**
 * Opens a backend.
 * name:    "cpu", "opencl" (first GPU, else first device), "opencl:P.D" (platform P,
 *          device D), or "auto" (an OpenCL GPU when one exists, else the CPU)
 * threads: CPU threads for the library's parallel loops and BLAS; 0 = all cores
 * out:     receives the backend; close it with ck_backend_close
 */
ck_status ck_backend_open(const char *name, int threads, ck_backend **out);

/** Closes a backend; its buffers must have been freed. NULL is ignored. */
void ck_backend_close(ck_backend *backend);

/** The backend's kind: "cpu" or "opencl". */
const char *ck_backend_kind(const ck_backend *backend);

/** A human-readable description of the device ("CPU, 2 threads, OpenBLAS 0.3.21", ...). */
const char *ck_backend_description(const ck_backend *backend);

/** The CPU thread count in use. */
int ck_backend_threads(const ck_backend *backend);

/**
 * Lists OpenCL devices as text, one per line: "P.D  type  name  compute-units  memory-MiB".
 * text:     destination, NUL-terminated, truncated to capacity
 * capacity: bytes available at text
 * Returns CK_ERR_UNAVAILABLE when no OpenCL library or platform is present.
 */
ck_status ck_opencl_list_devices(char *text, size_t capacity);

/**
 * Allocates a zero-filled buffer.
 * backend: the owner
 * count:   number of floats, > 0
 * out:     receives the buffer; free it with ck_buffer_free
 */
ck_status ck_buffer_new(ck_backend *backend, size_t count, ck_buffer **out);

/** Frees a buffer. NULL is ignored. */
void ck_buffer_free(ck_buffer *buffer);

/** The number of floats in a buffer (0 for NULL). */
size_t ck_buffer_count(const ck_buffer *buffer);

/** Host address of a CPU buffer's floats; NULL on device backends. */
float *ck_buffer_host(ck_buffer *buffer);

/**
 * Copies host floats into a buffer.
 * buffer: destination
 * offset: first float of the buffer written
 * count:  floats copied; offset + count must not exceed the buffer
 * src:    host source
 */
ck_status ck_buffer_write(ck_buffer *buffer, size_t offset, size_t count, const float *src);

/**
 * Copies floats from a buffer to the host.
 * buffer: source
 * offset: first float of the buffer read
 * count:  floats copied; offset + count must not exceed the buffer
 * dst:    host destination
 */
ck_status ck_buffer_read(const ck_buffer *buffer, size_t offset, size_t count, float *dst);

/**
 * Copies floats between buffers of one backend.
 * dst, dst_offset: destination and its first float
 * src, src_offset: source and its first float
 * count:           floats copied
 */
ck_status ck_copy(ck_buffer *dst, size_t dst_offset, const ck_buffer *src, size_t src_offset,
                  size_t count);

/**
 * Sets every float of a range to a value.
 * buffer: destination
 * offset: first float set
 * count:  floats set
 * value:  the value
 */
ck_status ck_fill(ck_buffer *buffer, size_t offset, size_t count, float value);

/** Waits until every operation queued on the backend has finished. */
ck_status ck_backend_synchronize(ck_backend *backend);

/* ---------------------------------------------------------------- convolution */

/**
 * Geometry of a 2-D convolution over a batch. For a transposed convolution the same
 * struct describes the transposed operation: h_in/w_in are its input (the small side)
 * and ck_conv_output gives its output (the large side).
 */
typedef struct ck_conv_shape {
    int batch;                /* images in the batch, > 0 */
    int c_in, h_in, w_in;     /* input channels, height, width, > 0 */
    int c_out;                /* output channels, > 0 */
    int k_h, k_w;             /* kernel height, width, > 0 */
    int stride_h, stride_w;   /* strides, > 0 */
    int pad_h, pad_w;         /* zero padding on each side, >= 0 */
    int dil_h, dil_w;         /* dilations, > 0 */
    int out_pad_h, out_pad_w; /* transposed only: extra rows/cols at the far side, 0 <= out_pad < max(stride, dilation) */
} ck_conv_shape;

/** Fills a shape with stride 1, no padding, dilation 1, no output padding. */
ck_conv_shape ck_conv_shape_make(int batch, int c_in, int h_in, int w_in, int c_out, int k_h,
                                 int k_w);

/**
 * Output height and width of a convolution (transposed = 0) or a transposed
 * convolution (transposed = 1). Returns CK_ERR_SHAPE when either would be <= 0.
 * shape:      the geometry
 * transposed: 0 for convolution, 1 for transposed convolution
 * h_out:      receives the output height
 * w_out:      receives the output width
 */
ck_status ck_conv_output(const ck_conv_shape *shape, int transposed, int *h_out, int *w_out);

/**
 * Floats of workspace that every pass of this (transposed) convolution needs on this
 * backend. A caller sizes one workspace buffer for the largest layer and shares it.
 * backend:    the backend that will run the passes
 * shape:      the geometry
 * transposed: 0 for convolution, 1 for transposed convolution
 * count:      receives the number of floats (may be 0)
 */
ck_status ck_conv_workspace(const ck_backend *backend, const ck_conv_shape *shape, int transposed,
                            size_t *count);

/**
 * y = conv(x, w) + bias.
 * shape:     the geometry
 * x:         input [batch, c_in, h_in, w_in]
 * w:         weights [c_out, c_in, k_h, k_w]
 * bias:      [c_out], or NULL for none
 * y:         output [batch, c_out, h_out, w_out], overwritten
 * workspace: scratch of at least ck_conv_workspace floats (NULL when that is 0)
 */
ck_status ck_conv2d_forward(const ck_conv_shape *shape, const ck_buffer *x, const ck_buffer *w,
                            const ck_buffer *bias, ck_buffer *y, ck_buffer *workspace);

/**
 * dx = gradient of the loss with respect to the input.
 * shape:     the geometry
 * dy:        output gradient [batch, c_out, h_out, w_out]
 * w:         weights [c_out, c_in, k_h, k_w]
 * dx:        input gradient [batch, c_in, h_in, w_in], overwritten
 * workspace: scratch, as for the forward pass
 */
ck_status ck_conv2d_backward_data(const ck_conv_shape *shape, const ck_buffer *dy,
                                  const ck_buffer *w, ck_buffer *dx, ck_buffer *workspace);

/**
 * dw (and dbias) = gradients with respect to the weights and the bias.
 * shape:     the geometry
 * x:         input [batch, c_in, h_in, w_in]
 * dy:        output gradient [batch, c_out, h_out, w_out]
 * dw:        weight gradient [c_out, c_in, k_h, k_w], overwritten
 * dbias:     bias gradient [c_out], overwritten, or NULL to skip
 * workspace: scratch, as for the forward pass
 */
ck_status ck_conv2d_backward_weights(const ck_conv_shape *shape, const ck_buffer *x,
                                     const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                     ck_buffer *workspace);

/**
 * y = conv_transpose(x, w) + bias: the backward-data pass of the matching convolution.
 * shape:     the geometry (h_in, w_in: the small side; ck_conv_output(.., 1, ..) gives y's size)
 * x:         input [batch, c_in, h_in, w_in]
 * w:         weights [c_in, c_out, k_h, k_w]
 * bias:      [c_out], or NULL for none
 * y:         output [batch, c_out, h_out, w_out], overwritten
 * workspace: scratch of at least ck_conv_workspace(.., 1, ..) floats
 */
ck_status ck_deconv2d_forward(const ck_conv_shape *shape, const ck_buffer *x, const ck_buffer *w,
                              const ck_buffer *bias, ck_buffer *y, ck_buffer *workspace);

/**
 * dx for a transposed convolution: the forward pass of the matching convolution.
 * shape:     the geometry
 * dy:        output gradient [batch, c_out, h_out, w_out]
 * w:         weights [c_in, c_out, k_h, k_w]
 * dx:        input gradient [batch, c_in, h_in, w_in], overwritten
 * workspace: scratch
 */
ck_status ck_deconv2d_backward_data(const ck_conv_shape *shape, const ck_buffer *dy,
                                    const ck_buffer *w, ck_buffer *dx, ck_buffer *workspace);

/**
 * dw (and dbias) for a transposed convolution.
 * shape:     the geometry
 * x:         input [batch, c_in, h_in, w_in]
 * dy:        output gradient [batch, c_out, h_out, w_out]
 * dw:        weight gradient [c_in, c_out, k_h, k_w], overwritten
 * dbias:     bias gradient [c_out], overwritten, or NULL to skip
 * workspace: scratch
 */
ck_status ck_deconv2d_backward_weights(const ck_conv_shape *shape, const ck_buffer *x,
                                       const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                       ck_buffer *workspace);

/**
 * im2col of one batch into columns [c_in * k_h * k_w, batch * h_out * w_out] (row-major;
 * column index = (image * h_out + oy) * w_out + ox). Exposed for tests and benchmarks.
 * shape: the geometry
 * x:     input [batch, c_in, h_in, w_in]
 * cols:  output columns, overwritten
 */
ck_status ck_im2col(const ck_conv_shape *shape, const ck_buffer *x, ck_buffer *cols);

/**
 * col2im: the adjoint of ck_im2col; sums columns back into an image batch.
 * shape: the geometry
 * cols:  columns laid out as ck_im2col writes them
 * x:     image batch [batch, c_in, h_in, w_in], overwritten
 */
ck_status ck_col2im(const ck_conv_shape *shape, const ck_buffer *cols, ck_buffer *x);

/* ---------------------------------------------------------------- dense */

/**
 * y = x w^T + bias.
 * batch: rows of x, > 0
 * in:    input features, > 0
 * out:   output features, > 0
 * x:     [batch, in]
 * w:     [out, in]
 * bias:  [out], or NULL
 * y:     [batch, out], overwritten
 */
ck_status ck_dense_forward(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                           const ck_buffer *bias, ck_buffer *y);

/**
 * dx = dy w.
 * batch, in, out: as for the forward pass
 * dy:             [batch, out]
 * w:              [out, in]
 * dx:             [batch, in], overwritten
 */
ck_status ck_dense_backward_data(int batch, int in, int out, const ck_buffer *dy,
                                 const ck_buffer *w, ck_buffer *dx);

/**
 * dw = dy^T x, dbias = column sums of dy.
 * batch, in, out: as for the forward pass
 * x:              [batch, in]
 * dy:             [batch, out]
 * dw:             [out, in], overwritten
 * dbias:          [out], overwritten, or NULL to skip
 */
ck_status ck_dense_backward_weights(int batch, int in, int out, const ck_buffer *x,
                                    const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias);

/* ---------------------------------------------------------------- activations */

typedef enum ck_activation {
    CK_ACT_IDENTITY = 0,
    CK_ACT_RELU = 1,
    CK_ACT_LEAKY_RELU = 2, /* slope alpha below zero */
    CK_ACT_SIGMOID = 3,
    CK_ACT_TANH = 4,
    CK_ACT_SOFTPLUS = 5,
    CK_ACT_ELU = 6         /* x > 0 ? x : exp(x) - 1 (alpha ignored); f' = 1 or f(x) + 1, from the output */
} ck_activation;

/**
 * y = f(x), elementwise; y may be x (in place).
 * kind:  the activation
 * alpha: leaky ReLU's negative slope (ignored by the others)
 * count: elements
 * x:     input
 * y:     output
 */
ck_status ck_activation_forward(ck_activation kind, float alpha, size_t count, const ck_buffer *x,
                                ck_buffer *y);

/**
 * dx = f'(x) * dy, elementwise; dx may be dy (in place).
 * kind:  the activation
 * alpha: leaky ReLU's negative slope
 * count: elements
 * x:     the forward input
 * y:     the forward output (used where it is cheaper than x)
 * dy:    output gradient
 * dx:    input gradient
 */
ck_status ck_activation_backward(ck_activation kind, float alpha, size_t count, const ck_buffer *x,
                                 const ck_buffer *y, const ck_buffer *dy, ck_buffer *dx);

/* ---------------------------------------------------------------- fused activations */

/*
 * A layer followed by an activation, in one pass: the forward forms store f(layer(x)) and
 * the backward-data forms store f'(.) * (the layer's input gradient), with the derivative
 * taken from the activation's OUTPUT, which is the layer's own forward input x. So in a
 * chain  layer1 -> f -> layer2  the forward is layer1's _act form (f fused) and the backward
 * is layer2's backward_data_act (f' fused), which yields the gradient with respect to
 * layer1's pre-activation output directly: no separate activation pass, no extra buffer.
 * Results equal the plain operation followed by ck_activation_forward (or backward) up to
 * float rounding. Backward forms accept CK_ACT_IDENTITY, CK_ACT_RELU, CK_ACT_LEAKY_RELU
 * with alpha >= 0, CK_ACT_SIGMOID, CK_ACT_TANH and CK_ACT_ELU (softplus's derivative needs
 * its input).
 * On backends without a fused kernel the library runs the two operations.
 */

/**
 * y = f(conv(x, w) + bias).
 * shape, x, w, bias, workspace: as for ck_conv2d_forward
 * act:   the activation f
 * alpha: leaky ReLU's negative slope (ignored by the others)
 * y:     output [batch, c_out, h_out, w_out], overwritten
 */
ck_status ck_conv2d_forward_act(const ck_conv_shape *shape, const ck_buffer *x,
                                const ck_buffer *w, const ck_buffer *bias, ck_activation act,
                                float alpha, ck_buffer *y, ck_buffer *workspace);

/**
 * dx = f'(.) * conv2d_backward_data(dy, w), f' from the activation output x.
 * shape, dy, w, workspace: as for ck_conv2d_backward_data
 * act:   the activation whose output is this convolution's input
 * alpha: leaky ReLU's negative slope, >= 0
 * x:     this convolution's forward input [batch, c_in, h_in, w_in] (= f's output)
 * dx:    gradient with respect to f's input [batch, c_in, h_in, w_in], overwritten
 */
ck_status ck_conv2d_backward_data_act(const ck_conv_shape *shape, const ck_buffer *dy,
                                      const ck_buffer *w, ck_activation act, float alpha,
                                      const ck_buffer *x, ck_buffer *dx, ck_buffer *workspace);

/**
 * y = f(conv_transpose(x, w) + bias).
 * shape, x, w, bias, workspace: as for ck_deconv2d_forward
 * act:   the activation f
 * alpha: leaky ReLU's negative slope (ignored by the others)
 * y:     output [batch, c_out, h_out, w_out], overwritten
 */
ck_status ck_deconv2d_forward_act(const ck_conv_shape *shape, const ck_buffer *x,
                                  const ck_buffer *w, const ck_buffer *bias, ck_activation act,
                                  float alpha, ck_buffer *y, ck_buffer *workspace);

/**
 * dx = f'(.) * deconv2d_backward_data(dy, w), f' from the activation output x.
 * shape, dy, w, workspace: as for ck_deconv2d_backward_data
 * act:   the activation whose output is this transposed convolution's input
 * alpha: leaky ReLU's negative slope, >= 0
 * x:     this layer's forward input [batch, c_in, h_in, w_in] (= f's output)
 * dx:    gradient with respect to f's input [batch, c_in, h_in, w_in], overwritten
 */
ck_status ck_deconv2d_backward_data_act(const ck_conv_shape *shape, const ck_buffer *dy,
                                        const ck_buffer *w, ck_activation act, float alpha,
                                        const ck_buffer *x, ck_buffer *dx, ck_buffer *workspace);

/**
 * y = f(x w^T + bias).
 * batch, in, out, x, w, bias: as for ck_dense_forward
 * act:   the activation f
 * alpha: leaky ReLU's negative slope (ignored by the others)
 * y:     [batch, out], overwritten
 */
ck_status ck_dense_forward_act(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                               const ck_buffer *bias, ck_activation act, float alpha,
                               ck_buffer *y);

/**
 * dx = f'(.) * (dy w), f' from the activation output x.
 * batch, in, out, dy, w: as for ck_dense_backward_data
 * act:   the activation whose output is this layer's input
 * alpha: leaky ReLU's negative slope, >= 0
 * x:     this layer's forward input [batch, in] (= f's output)
 * dx:    gradient with respect to f's input [batch, in], overwritten
 */
ck_status ck_dense_backward_data_act(int batch, int in, int out, const ck_buffer *dy,
                                     const ck_buffer *w, ck_activation act, float alpha,
                                     const ck_buffer *x, ck_buffer *dx);

/* ---------------------------------------------------------------- likelihoods and KL */

/**
 * Bernoulli negative log-likelihood from logits, per image:
 * nll[i] = sum_j w_ij (softplus(l_ij) - x_ij l_ij) (stable for any logit), and optionally
 * dlogits = scale * w * (sigmoid(l) - x).
 * batch:   images
 * dim:     values per image
 * logits:  [batch, dim]
 * target:  [batch, dim], values in [0, 1]
 * weight:  [batch, dim] per-value weights (1 = counts fully, 0 = ignored), or NULL for all ones
 * nll:     [batch], overwritten
 * dlogits: [batch, dim], overwritten, or NULL
 * scale:   factor on the gradient (e.g. 1 / batch)
 */
ck_status ck_bernoulli_nll(int batch, int dim, const ck_buffer *logits, const ck_buffer *target,
                           const ck_buffer *weight, ck_buffer *nll, ck_buffer *dlogits,
                           float scale);

/**
 * Gaussian negative log-likelihood with a per-channel learned log-variance, per image:
 * nll[i] = sum w 0.5 (log(2 pi) + lv_c + (x - mean)^2 exp(-lv_c)). Optional gradients are
 * scaled by scale (and each value's terms by its weight); dlogvar sums over the batch and
 * pixels.
 * batch:    images
 * channels: channels per image
 * plane:    pixels per channel (h * w)
 * mean:     [batch, channels, plane]
 * logvar:   [channels]
 * target:   [batch, channels, plane]
 * weight:   [batch, channels, plane] per-value weights (1 = counts fully, 0 = ignored), or NULL for all ones
 * nll:      [batch], overwritten
 * dmean:    [batch, channels, plane], overwritten, or NULL
 * dlogvar:  [channels], overwritten, or NULL
 * scale:    factor on the gradients
 */
ck_status ck_gaussian_nll(int batch, int channels, int plane, const ck_buffer *mean,
                          const ck_buffer *logvar, const ck_buffer *target,
                          const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                          ck_buffer *dlogvar, float scale);

/**
 * Discretized logistic negative log-likelihood of 8-bit values (targets k/255 in
 * [0, 1]; bins of width 1/255, the edge bins open to infinity), with a per-channel
 * learned log-scale, per image; each value's -log P is multiplied by its weight.
 * Gradients as for ck_gaussian_nll.
 * batch, channels, plane: as for ck_gaussian_nll
 * mean:     [batch, channels, plane], in target units
 * logscale: [channels]
 * target:   [batch, channels, plane]
 * weight:   [batch, channels, plane] per-value weights (1 = counts fully, 0 = ignored), or NULL for all ones
 * nll:      [batch], overwritten
 * dmean:    [batch, channels, plane], overwritten, or NULL
 * dlogscale:[channels], overwritten, or NULL
 * scale:    factor on the gradients
 */
ck_status ck_logistic_nll(int batch, int channels, int plane, const ck_buffer *mean,
                          const ck_buffer *logscale, const ck_buffer *target,
                          const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                          ck_buffer *dlogscale, float scale);

/**
 * Closed-form KL(N(mu, diag exp(lv)) || N(0, I)) per image, from packed statistics
 * (each row holds mu[latent] then lv[latent]). With free_bits > 0, a latent whose
 * batch-mean KL is below free_bits nats gets no gradient (Kingma et al. 2016); the
 * reported kl is the plain KL.
 * batch:     images
 * latent:    latent dimensions
 * stats:     [batch, 2 * latent]
 * kl:        [batch], overwritten
 * dstats:    [batch, 2 * latent]: scale * dKL/dstats is ADDED, or NULL
 * scale:     factor on the gradient (e.g. beta / batch)
 * free_bits: nats per latent dimension, >= 0
 */
ck_status ck_kl_normal(int batch, int latent, const ck_buffer *stats, ck_buffer *kl,
                       ck_buffer *dstats, float scale, float free_bits);

/**
 * Closed-form KL(q || p) between two diagonal Gaussians per image, from packed statistics
 * (each row holds mu[latent] then lv[latent], lv = log sigma^2):
 * kl[i] = 0.5 sum_j (lv_p - lv_q + (exp(lv_q) + (mu_q - mu_p)^2) exp(-lv_p) - 1).
 * Used by conditional VAEs, whose prior p(z | condition) is itself a network's output.
 * Free bits as in ck_kl_normal, on the posterior side only: with free_bits > 0, a latent
 * whose batch-mean KL is below free_bits nats adds nothing to dq_stats (neither its mu nor
 * its lv entry), so q stops being pulled towards p there; dp_stats always receives its full
 * gradient, and the reported kl is the plain KL.
 * batch:     images
 * latent:    latent dimensions
 * q_stats:   [batch, 2 * latent], the posterior q
 * p_stats:   [batch, 2 * latent], the prior p
 * kl:        [batch], overwritten
 * dq_stats:  [batch, 2 * latent]: scale * dKL/dq_stats is ADDED, or NULL
 * dp_stats:  [batch, 2 * latent]: scale * dKL/dp_stats is ADDED, or NULL
 * scale:     factor on the gradients (e.g. beta / batch)
 * free_bits: nats per latent dimension, >= 0 (0: no free bits)
 */
ck_status ck_kl_normal_pair(int batch, int latent, const ck_buffer *q_stats,
                            const ck_buffer *p_stats, ck_buffer *kl, ck_buffer *dq_stats,
                            ck_buffer *dp_stats, float scale, float free_bits);

/* ---------------------------------------------------------------- randomness */

/**
 * Standard normal numbers from a counter-based generator: out[i] depends only on
 * (seed, counter + i), the same on every thread count and, up to float rounding of
 * log and cos, on every backend.
 * count:   values
 * seed:    generator key
 * counter: stream position of out[0]
 * out:     [count], overwritten
 */
ck_status ck_random_normal(size_t count, uint64_t seed, uint64_t counter, ck_buffer *out);

/**
 * out[i] = 1 if u_i < probs[i] else 0, with u_i uniform from (seed, counter + i).
 * count, seed, counter: as for ck_random_normal
 * probs:   [count], values in [0, 1]
 * out:     [count], overwritten; may be probs
 */
ck_status ck_random_bernoulli(size_t count, uint64_t seed, uint64_t counter,
                              const ck_buffer *probs, ck_buffer *out);

/*
 * The same generator on the host, with no backend: for noise that the host draws itself
 * (masks, sampling, evaluation) and that must equal the streams the kernels draw.
 */

/**
 * The generator's 64 random bits for one stream position; every random operation derives
 * its value at position counter + i from ck_random_bits(seed, counter + i).
 * seed:    generator key
 * counter: stream position
 */
uint64_t ck_random_bits(uint64_t seed, uint64_t counter);

/**
 * Standard normal numbers on the host: bit for bit what ck_random_normal writes on the
 * CPU backend for the same seed and counter.
 * count:   values (0 writes nothing)
 * seed:    generator key
 * counter: stream position of out[0]
 * out:     host array of count floats, overwritten
 */
void ck_host_random_normal(size_t count, uint64_t seed, uint64_t counter, float *out);

/**
 * Uniform numbers on the host, from the top 24 bits of ck_random_bits: the u_i that
 * ck_random_bernoulli compares with probs[i], so (out[i] < p) is its decision for p.
 * Values lie in (0, 1]: float rounding of the bin centre makes the top bin exactly 1
 * (probability 2^-24).
 * count:   values (0 writes nothing)
 * seed:    generator key
 * counter: stream position of out[0]
 * out:     host array of count floats, overwritten
 */
void ck_host_random_uniform(size_t count, uint64_t seed, uint64_t counter, float *out);

/**
 * z = mu + exp(lv / 2) * eps, from packed statistics.
 * batch, latent: sizes
 * stats:  [batch, 2 * latent] (mu then lv per row)
 * eps:    [batch, latent] standard normal noise
 * z:      [batch, latent], overwritten
 */
ck_status ck_reparameterize(int batch, int latent, const ck_buffer *stats, const ck_buffer *eps,
                            ck_buffer *z);

/**
 * dstats from dz: dmu = dz, dlv = dz * eps * exp(lv / 2) / 2.
 * batch, latent: sizes
 * stats:  [batch, 2 * latent]
 * eps:    [batch, latent]
 * dz:     [batch, latent]
 * dstats: [batch, 2 * latent], overwritten
 */
ck_status ck_reparameterize_backward(int batch, int latent, const ck_buffer *stats,
                                     const ck_buffer *eps, const ck_buffer *dz,
                                     ck_buffer *dstats);

/* ---------------------------------------------------------------- reductions, elementwise */

/**
 * Sum of the elements of a range, in double precision, deterministic for a thread count.
 * buffer, offset, count: the range
 * result: receives the sum (on the host)
 */
ck_status ck_sum(const ck_buffer *buffer, size_t offset, size_t count, double *result);

/**
 * Sum of squares of the elements of a range (for gradient norms).
 * buffer, offset, count: the range
 * result: receives the sum (on the host)
 */
ck_status ck_sum_squares(const ck_buffer *buffer, size_t offset, size_t count, double *result);

/**
 * y = alpha * x + beta * y, elementwise over count floats.
 * count: elements
 * alpha: factor on x
 * x:     input
 * beta:  factor on y (0 overwrites y, even where it holds NaN)
 * y:     input and output
 */
ck_status ck_axpby(size_t count, float alpha, const ck_buffer *x, float beta, ck_buffer *y);

/* ---------------------------------------------------------------- optimizer */

/** Adam / AdamW hyper-parameters. */
typedef struct ck_adam_params {
    float lr;           /* learning rate */
    float beta1, beta2; /* moment decay rates */
    float eps;          /* denominator floor */
    float weight_decay; /* decoupled (AdamW) decay; 0 for plain Adam */
    float grad_scale;   /* factor applied to grad first (gradient clipping), usually 1 */
    int64_t step;       /* 1-based step number, for bias correction */
} ck_adam_params;

/**
 * One Adam(W) update of a parameter tensor.
 * count:  elements
 * params: hyper-parameters and step
 * param:  parameters, updated
 * grad:   gradient
 * m, v:   first and second moments, updated
 */
ck_status ck_adam_update(size_t count, const ck_adam_params *params, ck_buffer *param,
                         const ck_buffer *grad, ck_buffer *m, ck_buffer *v);

/* ---------------------------------------------------------------- profiling */

/**
 * Per-operation timing for performance work. With the environment variable CK_PROFILE=1
 * set before the first backend opens, every public operation adds its wall-clock and
 * process CPU time to a table keyed by operation and shape (device backends: the time to
 * enqueue). Off, it costs one branch per call. Returns nonzero when profiling is on.
 */
int ck_profile_enabled(void);

/**
 * Prints the profile table (operations by total time, calls, ms per call) to stderr under
 * a title, then clears it. Does nothing when profiling is off.
 * title: a heading for the table, or NULL
 * steps: divides the totals into per-step figures (e.g. timed training steps); 0 or 1 for none
 */
void ck_profile_report(const char *title, int steps);

/** Clears the profile table without printing (e.g. after warm-up steps). */
void ck_profile_reset(void);

#ifdef __cplusplus
}
#endif

#endif /* CKERNELS_H */
