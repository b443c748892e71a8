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
 * threads: CPU threads for the library's parallel loops and BLAS; 0 = every core this
 *          process may run on (its CPU affinity: all cores, or those mpirun binds a rank to)
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
 * The alignment, in floats, of a view's offset on this backend (see ck_buffer_view): 16
 * (64 bytes) on the CPU, the device's base-address alignment on OpenCL.
 * backend: the backend (NULL gives 0)
 */
size_t ck_buffer_view_alignment(const ck_backend *backend);

/**
 * A buffer that shares part of another's memory: what either writes there, both see. Used
 * to lay every parameter's gradient inside one contiguous buffer that a collective sums in
 * one call, with no copy. Free views before their parent.
 * parent: the buffer whose floats the view shares (not itself a view)
 * offset: first float of the parent in the view, a multiple of ck_buffer_view_alignment
 * count:  floats in the view, > 0; offset + count must not exceed the parent
 * out:    receives the view; free it with ck_buffer_free
 */
ck_status ck_buffer_view(ck_buffer *parent, size_t offset, size_t count, ck_buffer **out);

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
 * Copies rows blocks of floats between two buffers of one backend: block i from src_offset +
 * i * src_stride to dst_offset + i * dst_stride, in one call (e.g. channel blocks image by
 * image, where ck_copy would take one call per image).
 * dst, dst_offset, dst_stride: destination (not src), its first float, floats between blocks
 * src, src_offset, src_stride: source, its first float, floats between blocks
 * rows:                        blocks copied
 * count:                       floats per block; at most either stride when rows > 1
 */
ck_status ck_copy_rows(ck_buffer *dst, size_t dst_offset, size_t dst_stride, const ck_buffer *src,
                       size_t src_offset, size_t src_stride, size_t rows, size_t count);

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
 * Categorical negative log-likelihood of class labels under a softmax over the channel axis,
 * per image: a classifier's classes (plane = 1), or a PixelCNN's codes at every position.
 * nll[i] = sum_p w_ip (log sum_k exp(l_ikp) - l_i,y_ip,p), and optionally
 * dlogits = scale * w * (softmax(l)_kp - [k == y_ip]). A label that is not an integer in
 * [0, classes) makes its image's nll NaN (and its gradients NaN), so it cannot pass unseen.
 * batch:   images
 * classes: K, the channels of the logits
 * plane:   positions per image (1 for one label per image)
 * logits:  [batch, classes, plane]
 * labels:  [batch, plane], class indices stored as floats
 * weight:  [batch, plane] per-position weights (1 = counts fully, 0 = ignored), or NULL for all ones
 * nll:     [batch], overwritten
 * dlogits: [batch, classes, plane], overwritten, or NULL
 * scale:   factor on the gradient (e.g. 1 / batch)
 */
ck_status ck_softmax_nll(int batch, int classes, int plane, const ck_buffer *logits,
                         const ck_buffer *labels, const ck_buffer *weight, ck_buffer *nll,
                         ck_buffer *dlogits, float scale);

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

/**
 * Best-of-K selection without leaving the device: for each row i whose candidate scores lower
 * than the best so far (score[i] < best[i]), best[i] = score[i] and kept row i = candidate
 * row i; other rows are left as they are. Start `best` at +infinity.
 * batch, width: rows, values per row
 * score:     [batch] the candidate's score per row (lower is better)
 * best:      [batch] the best score per row so far, updated
 * candidate: [batch, width] the candidate's rows
 * kept:      [batch, width] the rows of the best candidates so far, updated
 */
ck_status ck_keep_best_rows(int batch, int width, const ck_buffer *score, ck_buffer *best,
                            const ck_buffer *candidate, ck_buffer *kept);

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

/**
 * y = x * y, elementwise (e.g. a fixed 0/1 mask on the weights or gradients of a masked
 * convolution).
 * count: elements
 * x:     the factor
 * y:     input and output
 */
ck_status ck_multiply(size_t count, const ck_buffer *x, ck_buffer *y);

/**
 * Gated activation (van den Oord et al. 2016): the first half of the channels through tanh
 * times the second half through a sigmoid, per image:
 * y[i, c, p] = tanh(x[i, c, p]) * sigmoid(x[i, channels + c, p]).
 * batch:    images
 * channels: C, the output channels (the input has 2C)
 * plane:    positions per channel (h * w)
 * x:        [batch, 2 * channels, plane]
 * y:        [batch, channels, plane], overwritten
 */
ck_status ck_gate_forward(int batch, int channels, int plane, const ck_buffer *x, ck_buffer *y);

/**
 * The gradient of ck_gate_forward: with t = tanh(a), s = sigmoid(b) of x = [a; b],
 * da = dy s (1 - t^2), db = dy t s (1 - s).
 * batch, channels, plane: as for ck_gate_forward
 * x:  the forward input [batch, 2 * channels, plane]
 * dy: output gradient [batch, channels, plane]
 * dx: input gradient [batch, 2 * channels, plane], overwritten
 */
ck_status ck_gate_backward(int batch, int channels, int plane, const ck_buffer *x,
                           const ck_buffer *dy, ck_buffer *dx);

/* ---------------------------------------------------------------- vector quantization */

/*
 * A VQ-VAE's bottleneck (van den Oord et al. 2017): an encoder map z [batch, dim, plane]
 * (NCHW, one dim-vector per position) is replaced by its nearest codes of a codebook
 * [codes, dim]. Code indices are stored as floats [batch, plane] (the labels of
 * ck_softmax_nll, so a prior over the code map trains on them directly).
 */

/**
 * Floats of workspace ck_vq_assign needs for this size.
 * batch, dim, plane, codes: as for ck_vq_assign
 * count: receives the number of floats
 */
ck_status ck_vq_workspace(int batch, int dim, int plane, int codes, size_t *count);

/**
 * Nearest codes by squared Euclidean distance, |z|^2 - 2 z.c + |c|^2, the cross terms of the
 * whole batch as one GEMM; ties go to the lower index. Writes the indices, the quantized map
 * zq (each position's code vector, NCHW) and per image sum_p |z_p - c_idx(p)|^2.
 * batch:     images, > 0
 * dim:       D, values per vector (the map's channels)
 * plane:     positions per image (h * w)
 * codes:     K
 * z:         [batch, dim, plane]
 * codebook:  [codes, dim]
 * indices:   [batch, plane], overwritten with code indices (as floats)
 * zq:        [batch, dim, plane], overwritten, or NULL
 * sqdist:    [batch], overwritten with each image's summed squared distance, or NULL
 * workspace: scratch of at least ck_vq_workspace floats
 */
ck_status ck_vq_assign(int batch, int dim, int plane, int codes, const ck_buffer *z,
                       const ck_buffer *codebook, ck_buffer *indices, ck_buffer *zq,
                       ck_buffer *sqdist, ck_buffer *workspace);

/**
 * The code vectors of a code map: zq[i, :, p] = codebook[indices[i, p], :].
 * batch, dim, plane, codes: as for ck_vq_assign
 * indices:  [batch, plane], integers in [0, codes) stored as floats (others give NaN vectors)
 * codebook: [codes, dim]
 * zq:       [batch, dim, plane], overwritten
 */
ck_status ck_vq_embed(int batch, int dim, int plane, int codes, const ck_buffer *indices,
                      const ck_buffer *codebook, ck_buffer *zq);

/**
 * Per code, how many positions chose it and the sum of their vectors:
 * counts[k] = #{(i, p): indices[i, p] = k}, sums[k, :] = sum of z[i, :, p] over them.
 * batch, dim, plane, codes: as for ck_vq_assign
 * z:       [batch, dim, plane]
 * indices: [batch, plane]
 * counts:  [codes], overwritten
 * sums:    [codes, dim], overwritten
 */
ck_status ck_vq_statistics(int batch, int dim, int plane, int codes, const ck_buffer *z,
                           const ck_buffer *indices, ck_buffer *counts, ck_buffer *sums);

/**
 * The codebook by exponential moving averages of a batch's statistics, with Laplace-smoothed
 * counts: N_k = decay N_k + (1 - decay) counts_k, m_k = decay m_k + (1 - decay) sums_k,
 * n = sum_k N_k, codebook_k = m_k / ((N_k + epsilon) / (n + codes epsilon) n).
 * codes, dim:  K and D
 * decay:       in [0, 1)
 * epsilon:     Laplace smoothing, > 0
 * counts:      [codes] from ck_vq_statistics
 * sums:        [codes, dim] from ck_vq_statistics
 * ema_counts:  [codes] N, updated
 * ema_sums:    [codes, dim] m, updated
 * codebook:    [codes, dim], overwritten
 */
ck_status ck_vq_ema_update(int codes, int dim, float decay, float epsilon,
                           const ck_buffer *counts, const ck_buffer *sums, ck_buffer *ema_counts,
                           ck_buffer *ema_sums, ck_buffer *codebook);

/**
 * The gradient of the plain codebook loss scale * sum_(i, p) |sg(z[i, :, p]) - c_idx|^2 with
 * respect to the codebook: dcodebook_k = 2 scale (counts_k c_k - sums_k).
 * codes, dim: K and D
 * scale:      factor on the loss (e.g. 1 / batch)
 * counts:     [codes] from ck_vq_statistics
 * sums:       [codes, dim] from ck_vq_statistics
 * codebook:   [codes, dim]
 * dcodebook:  [codes, dim], overwritten
 */
ck_status ck_vq_codebook_grad(int codes, int dim, float scale, const ck_buffer *counts,
                              const ck_buffer *sums, const ck_buffer *codebook,
                              ck_buffer *dcodebook);

/**
 * Restarts dead codes: every code k with usage[k] == 0 becomes the encoder vector at position
 * r = ck_random_bits(seed, counter + k) mod (batch * plane) of z (image r / plane, position
 * r mod plane), and its moving averages restart from that vector with a count of 1.
 * batch, dim, plane, codes: as for ck_vq_assign
 * z:          [batch, dim, plane], the batch's encoder outputs
 * usage:      [codes], how often each code was chosen since the last restart
 * seed, counter: the stream the picks come from
 * codebook:   [codes, dim], updated
 * ema_counts: [codes], updated, or NULL (no moving averages)
 * ema_sums:   [codes, dim], updated, or NULL (with ema_counts)
 */
ck_status ck_vq_restart(int batch, int dim, int plane, int codes, const ck_buffer *z,
                        const ck_buffer *usage, uint64_t seed, uint64_t counter,
                        ck_buffer *codebook, ck_buffer *ema_counts, ck_buffer *ema_sums);

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

/* ---------------------------------------------------------------- processes (data parallelism) */

/*
 * The processes of one data-parallel run: the ranks that Open MPI's mpirun starts, each with
 * a share of every batch, summing their gradients. libmpi (Open MPI, libmpi.so.40) is loaded
 * at run time, only in a process that mpirun started; any other process is rank 0 of 1,
 * where every collective returns at once and changes nothing; a NULL handle is such a process
 * too (arguments are still checked). Collectives are called by every
 * rank in the same order, from one thread. A "watched" collective that waits longer than the
 * handle's timeout for the other ranks (one died or hangs) prints which wait it was and ends
 * the process with status 1; mpirun then ends the other ranks.
 */
typedef struct ck_dist ck_dist; /* opaque: this process's place among the ranks */

/**
 * Joins the run's processes (MPI_Init when started by mpirun).
 * timeout: seconds a watched collective may wait for the other ranks; 0 waits forever
 * out:     receives the handle; close it with ck_dist_close
 * Returns CK_ERR_UNAVAILABLE when mpirun started the process but libmpi.so.40 cannot be
 * loaded, or when another MPI's launcher started it (so N copies never train N runs).
 */
ck_status ck_dist_open(double timeout, ck_dist **out);

/** Leaves the run (MPI_Finalize: waits for the other ranks to leave too). NULL is ignored. */
void ck_dist_close(ck_dist *dist);

/** This process's rank, 0 ..< ck_dist_size (0 for NULL). */
int ck_dist_rank(const ck_dist *dist);

/** The number of processes (1 for NULL). */
int ck_dist_size(const ck_dist *dist);

/** "rank R of N on HOST (Open MPI v...)" or "one process (not started by mpirun)". */
const char *ck_dist_description(const ck_dist *dist);

/**
 * Whether Open MPI's library loads here, without joining anything.
 * text:     receives its version line, or why it is unavailable; NUL-terminated, truncated
 * capacity: bytes available at text
 * Returns CK_ERR_UNAVAILABLE when libmpi.so.40 cannot be loaded.
 */
ck_status ck_dist_probe(char *text, size_t capacity);

/**
 * Sums a range of floats over the ranks, in place (MPI_Allreduce), watched: every rank ends
 * with the same sum. CPU buffers are summed where they lie; device buffers through host
 * memory the handle keeps (allocated by the first call of a size).
 * dist:   the handle
 * buffer: the floats (e.g. every gradient, as views of one buffer)
 * offset: first float summed
 * count:  floats summed; offset + count must not exceed the buffer
 */
ck_status ck_dist_allreduce_sum(ck_dist *dist, ck_buffer *buffer, size_t offset, size_t count);

/**
 * Sums host doubles over the ranks, in place, watched (a step's loss terms, flags).
 * dist:   the handle
 * values: count doubles, replaced by their sums
 * count:  values, <= INT_MAX
 */
ck_status ck_dist_allreduce_sum_host(ck_dist *dist, double *values, size_t count);

/**
 * Copies a range of floats from the root rank to every other (MPI_Bcast), watched.
 * dist:   the handle
 * buffer: the floats: read on the root, overwritten on the others
 * offset: first float
 * count:  floats; offset + count must not exceed the buffer
 * root:   the rank whose floats everyone gets, 0 ..< size
 */
ck_status ck_dist_broadcast(ck_dist *dist, ck_buffer *buffer, size_t offset, size_t count,
                            int root);

/**
 * Copies host bytes from the root rank to every other, watched.
 * dist:  the handle
 * bytes: count bytes: read on the root, overwritten on the others
 * count: bytes (every rank passes the same count)
 * root:  the rank whose bytes everyone gets
 */
ck_status ck_dist_broadcast_host(ck_dist *dist, void *bytes, size_t count, int root);

/**
 * Whether every rank holds the same bytes (e.g. the weights after a step), by a 64-bit
 * hash compared with rank 0's, watched; every rank receives the same answer.
 * dist:  the handle
 * bytes: this rank's bytes
 * count: bytes
 * agree: receives 1 when every rank's hash equals rank 0's, else 0
 */
ck_status ck_dist_agree(ck_dist *dist, const void *bytes, size_t count, int *agree);

/**
 * Waits until every rank arrives (MPI_Barrier), NOT watched: for the point after uneven work
 * (loading data, rank 0 validating and saving), where a wait may be long.
 * dist: the handle
 */
ck_status ck_dist_barrier(ck_dist *dist);

/* ---------------------------------------------------------------- host linear algebra */

/*
 * Double-precision linear algebra on host arrays, with no backend (LAPACK through OpenBLAS):
 * what the experiments and the Frechet distance need. Arrays are row-major. Each function
 * validates its arguments (NaN and infinity included) and returns a status like the device
 * operations; each allocates its own scratch, so none belongs in a training step.
 */

/**
 * The mean and the unbiased covariance of samples, accumulated in double precision.
 * n:    samples, >= 2
 * d:    values per sample, > 0
 * x:    [n, d] the samples, one per row
 * mean: [d], overwritten with the mean
 * cov:  [d, d], overwritten with sum_i (x_i - mean)(x_i - mean)^T / (n - 1)
 */
ck_status ck_host_covariance(size_t n, int d, const float *x, double *mean, double *cov);

/**
 * The eigendecomposition A = sum_i values[i] v_i v_i^T of a symmetric matrix (LAPACK dsyevd).
 * n:      order, > 0
 * a:      [n, n] symmetric (both triangles given); overwritten: row i is the unit
 *         eigenvector v_i of values[i]
 * values: [n], overwritten with the eigenvalues in ascending order
 */
ck_status ck_host_symmetric_eigen(int n, double *a, double *values);

/**
 * The principal angles between two subspaces of R^d, each spanned by the rows of a matrix
 * (Knyazev and Argentati 2002: cosines from the singular values of Qa^T Qb and, for angles
 * below pi/4, sines from those of (I - Qa Qa^T) Qb, so that small angles stay accurate).
 * d:      dimension of the space, > 0
 * ka:     rows of a, 1..d
 * a:      [ka, d] linearly independent vectors spanning the first subspace
 * kb:     rows of b, 1..d
 * b:      [kb, d] linearly independent vectors spanning the second subspace
 * angles: [min(ka, kb)], overwritten with the angles in radians, ascending
 * Returns CK_ERR_ARGUMENT when the rows of a or b are linearly dependent.
 */
ck_status ck_host_principal_angles(int d, int ka, const double *a, int kb, const double *b,
                                   double *angles);

/**
 * The square root of a symmetric positive semi-definite matrix: the symmetric X >= 0 with
 * X X = A, from A's eigendecomposition (eigenvalues below zero by rounding count as zero).
 * n:   order, > 0
 * a:   [n, n] symmetric positive semi-definite
 * out: [n, n], overwritten with the root; may be a
 */
ck_status ck_host_sqrt_psd(int n, const double *a, double *out);

/**
 * The Frechet distance between N(mu1, cov1) and N(mu2, cov2):
 *     |mu1 - mu2|^2 + tr(cov1) + tr(cov2) - 2 tr((cov1^1/2 cov2 cov1^1/2)^1/2),
 * whose last trace equals tr((cov1 cov2)^1/2) but comes from a symmetric positive
 * semi-definite matrix, so no non-symmetric root (and no imaginary part) arises.
 * d:    dimension, > 0
 * mu1:  [d] the first mean
 * cov1: [d, d] the first covariance (symmetric positive semi-definite)
 * mu2:  [d] the second mean
 * cov2: [d, d] the second covariance
 * out:  receives the distance (>= 0 up to rounding)
 */
ck_status ck_host_frechet_distance(int d, const double *mu1, const double *cov1, const double *mu2,
                                   const double *cov2, double *out);

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
