/*
 * ocl.h -- private to the OpenCL backend: the run-time loaded OpenCL entry points, the
 * backend's state, and helpers to report errors and launch kernels.
 */
#ifndef CK_OCL_H
#define CK_OCL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h> /* types and prototypes only: every call goes through ocl_api */

#include "../backend_impl.h"

/* ---------------------------------------------------------------- loader (loader.c) */

/* Every OpenCL function the backend calls, loaded from libOpenCL with dlsym. */
#define OCL_FUNCTIONS(X)                                                                   \
    X(clGetPlatformIDs) X(clGetPlatformInfo) X(clGetDeviceIDs) X(clGetDeviceInfo)          \
    X(clCreateContext) X(clRetainContext) X(clReleaseContext) X(clCreateCommandQueue)      \
    X(clReleaseCommandQueue) X(clCreateBuffer) X(clCreateSubBuffer) X(clReleaseMemObject)  \
    X(clEnqueueReadBuffer) X(clEnqueueWriteBuffer) X(clEnqueueCopyBuffer)                  \
    X(clEnqueueCopyBufferRect)                                                             \
    X(clCreateProgramWithSource) X(clBuildProgram) X(clGetProgramBuildInfo)                \
    X(clRetainProgram) X(clReleaseProgram) X(clCreateKernel) X(clReleaseKernel)            \
    X(clSetKernelArg) X(clGetKernelWorkGroupInfo) X(clEnqueueNDRangeKernel) X(clFinish)

typedef struct ocl_api {
#define OCL_POINTER(name) __typeof__(name) *name;
    OCL_FUNCTIONS(OCL_POINTER)
#undef OCL_POINTER
} ocl_api;

/* The loaded entry points, or NULL (with ck_last_error set) when there is no libOpenCL. */
const ocl_api *ocl_load(void);

/* The name of an OpenCL error code ("CL_OUT_OF_RESOURCES"); "CL_UNKNOWN_ERROR" if unknown. */
const char *ocl_error_name(cl_int err);

/*
 * Turns an OpenCL error into a status with the error's name in ck_last_error:
 * CL_MEM_OBJECT_ALLOCATION_FAILURE and host out-of-memory become CK_ERR_MEMORY (with a
 * hint to use a smaller batch), everything else CK_ERR_BACKEND. what: the failed step.
 */
ck_status ocl_fail(cl_int err, const char *what);

/* As ocl_fail, but CL_OUT_OF_RESOURCES also counts as out of memory (allocation paths). */
ck_status ocl_fail_alloc(cl_int err, const char *what);

/* ---------------------------------------------------------------- kernels */

/* Every kernel of the program (Kernels/<name>.cl), created once per backend. */
#define OCL_KERNELS(X)                                                                     \
    X(im2col) X(col2im) X(col2im_planes) X(nchw_to_cn) X(cn_to_nchw) X(gemm) X(gemm_rows)  \
    X(gemm_dots) X(bias_add) X(bias_grad) X(fill) X(axpby)                                 \
    X(forward_identity) X(forward_relu) X(forward_leaky_relu) X(forward_sigmoid)           \
    X(forward_tanh) X(forward_softplus) X(forward_elu) X(backward_identity)                \
    X(backward_relu) X(backward_leaky_relu) X(backward_sigmoid) X(backward_tanh)           \
    X(backward_softplus) X(backward_elu)                                                   \
    X(bernoulli_nll) X(gaussian_nll) X(gaussian_dlogvar) X(logistic_nll)                   \
    X(logistic_dlogscale) X(kl_normal) X(kl_normal_grad) X(kl_normal_pair) X(reduce_sum)   \
    X(kl_normal_pair_dq) X(random_normal) X(random_bernoulli) X(reparameterize)            \
    X(reparameterize_backward) X(keep_best_rows) X(adam_update) X(softmax_nll) X(multiply) \
    X(gate_forward) X(gate_backward) X(vq_norms) X(vq_argmin) X(vq_sqdist) X(vq_embed)      \
    X(vq_statistics) X(vq_ema_update) X(vq_codebook_grad) X(vq_restart)

enum {
#define OCL_ENUM(name) K_##name,
    OCL_KERNELS(OCL_ENUM)
#undef OCL_ENUM
    K_COUNT
};

/* The kernel source files, in the order they are concatenated into one program. */
#define OCL_SOURCE_FILES(X)                                                                \
    X(common) X(im2col) X(col2im) X(layout) X(gemm) X(bias) X(elementwise) X(losses)       \
    X(reduce) X(rng) X(adam) X(vq)

/* Tuning parameters of gemm.cl, passed to the compiler with -D. */
typedef struct ocl_gemm_config {
    int ts_m, ts_n, ts_k, wpt_m, wpt_n; /* tiled gemm (GPUs) */
    int rm, dm, dn;                     /* rows of gemm_rows, block of gemm_dots (CPUs) */
} ocl_gemm_config;

/* CLBlastSgemm's C signature (clblast_c.h), declared here since CLBlast is optional. */
typedef int (*ocl_clblast_sgemm_fn)(int layout, int a_transpose, int b_transpose, size_t m,
                                    size_t n, size_t k, float alpha, cl_mem a, size_t a_offset,
                                    size_t a_ld, cl_mem b, size_t b_offset, size_t b_ld,
                                    float beta, cl_mem c, size_t c_offset, size_t c_ld,
                                    cl_command_queue *queue, cl_event *event);

/* ---------------------------------------------------------------- backend state */

typedef struct ocl_backend {
    const ocl_api *cl;
    cl_platform_id platform;
    cl_device_id device;
    cl_device_type type;
    cl_context context;
    cl_command_queue queue; /* in order: operations run in the order they are issued */
    cl_program program;
    cl_kernel kernels[K_COUNT];
    size_t wg;              /* work-group size of the 1-D kernels */
    size_t red_wg;          /* work-group size of the reductions (RED_WG) */
    int fp64;               /* the reductions accumulate in double */
    cl_ulong max_alloc;     /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    size_t view_align;      /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in floats: sub-buffer offsets */
    ocl_gemm_config gemm;
    int cpu_style;          /* CPU-device kernels (CK_CPU): gemm_rows/gemm_dots,
                               col2im_planes, contiguous runs per work-item, small chunks */
    ocl_clblast_sgemm_fn clblast_sgemm; /* CLBlast's GEMM, or NULL for gemm.cl */
    cl_mem partials;        /* reduction partials; also the stand-in for absent optional buffers */
    size_t partial_groups;  /* work-groups of reduce_sum */
    cl_mem scratch;         /* ck_copy within one buffer over overlapping ranges */
} ocl_backend;

/* The state behind a buffer's backend. */
static inline ocl_backend *ocl_of(const ck_buffer *b) { return (ocl_backend *)b->backend->impl; }

/* A buffer's cl_mem. */
static inline cl_mem ocl_mem(const ck_buffer *b) { return (cl_mem)b->device; }

/* ---------------------------------------------------------------- device.c */

/* Finds the device a spec names ("" first GPU else first device, "gpu", "P.D"). */
ck_status ocl_find_device(const ocl_api *cl, const char *spec, cl_platform_id *platform,
                          cl_device_id *device);

/* Writes "OpenCL type name (platform, N compute units, M MiB)" into text. */
void ocl_describe(const ocl_api *cl, cl_platform_id platform, cl_device_id device, char *text,
                  size_t capacity);

/* "gpu", "cpu", "accelerator" or "other". */
const char *ocl_type_name(cl_device_type type);

/* ---------------------------------------------------------------- sources.c, program.c */

/*
 * The kernel sources, in OCL_SOURCE_FILES order: from the folder in VAE_KERNELS_DIR when it
 * is set, else embedded in the binary. texts[i] is freed with ocl_sources_free.
 */
ck_status ocl_sources_load(const char **texts, size_t count, int *allocated);
void ocl_sources_free(const char **texts, size_t count, int allocated);
size_t ocl_source_count(void);

/* Builds the program for o's device and creates every kernel. */
ck_status ocl_program_build(ocl_backend *o);

/* Releases the kernels and the program. */
void ocl_program_release(ocl_backend *o);

/* ---------------------------------------------------------------- launching */

typedef struct ocl_arg {
    size_t size;
    const void *value;
} ocl_arg;

#define OCL_INT(v) ((ocl_arg){sizeof(cl_int), &(cl_int){(cl_int)(v)}})
#define OCL_ULONG(v) ((ocl_arg){sizeof(cl_ulong), &(cl_ulong){(cl_ulong)(v)}})
#define OCL_FLOAT(v) ((ocl_arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})
#define OCL_CLMEM(m) ((ocl_arg){sizeof(cl_mem), &(cl_mem){(m)}})
#define OCL_BUF(b) OCL_CLMEM(ocl_mem(b))
/* An optional buffer: a NULL one passes a valid stand-in that the kernel leaves alone. */
#define OCL_OPT(o, b) OCL_CLMEM((b) ? ocl_mem(b) : (o)->partials)
#define OCL_ARGS(...)                                                                      \
    (ocl_arg[]){__VA_ARGS__}, (int)(sizeof((ocl_arg[]){__VA_ARGS__}) / sizeof(ocl_arg))

/* Sets the arguments of kernel k and enqueues it over global (rounded up to local). */
ck_status ocl_launch(ocl_backend *o, int k, cl_uint dims, const size_t *global,
                     const size_t *local, const ocl_arg *args, int nargs);

/* A 1-D launch over n work-items in groups of o->wg. */
ck_status ocl_launch_1d(ocl_backend *o, int k, size_t n, const ocl_arg *args, int nargs);

/* A 2-D launch over n0 x n1 work-items in groups of (o->wg, 1). */
ck_status ocl_launch_2d(ocl_backend *o, int k, size_t n0, size_t n1, const ocl_arg *args,
                        int nargs);

/* One group of o->red_wg work-items per unit (image or channel). */
ck_status ocl_launch_groups(ocl_backend *o, int k, size_t groups, const ocl_arg *args,
                            int nargs);

/* ---------------------------------------------------------------- gemm.c */

/* C = alpha op(A) op(B) + beta C, row-major, offsets and leading dimensions in floats. */
ck_status ocl_gemm(ocl_backend *o, int ta, int tb, int m, int n, int k, float alpha, cl_mem a,
                   size_t a_off, int lda, cl_mem b, size_t b_off, int ldb, float beta, cl_mem c,
                   size_t c_off, int ldc);

/* Loads CLBlast when present and not disabled by VAE_CLBLAST=0; NULL otherwise. */
ocl_clblast_sgemm_fn ocl_clblast_load(void);

/* The GEMM tiling for a device (limited by its largest work-group). */
ocl_gemm_config ocl_gemm_default(size_t max_wg);

/* ---------------------------------------------------------------- operations */

/* buffers.c */
ck_status ocl_buffer_new(ck_backend *, ck_buffer *);
void ocl_buffer_free(ck_buffer *);
size_t ocl_view_alignment(const ck_backend *);
ck_status ocl_buffer_view(ck_buffer *view);
ck_status ocl_buffer_write(ck_buffer *, size_t offset, size_t count, const float *src);
ck_status ocl_buffer_read(const ck_buffer *, size_t offset, size_t count, float *dst);
ck_status ocl_copy(ck_buffer *dst, size_t dst_offset, const ck_buffer *src, size_t src_offset,
                   size_t count);
ck_status ocl_copy_rows(ck_buffer *dst, size_t dst_offset, size_t dst_stride, const ck_buffer *src,
                        size_t src_offset, size_t src_stride, size_t rows, size_t count);
ck_status ocl_fill(ck_buffer *, size_t offset, size_t count, float value);
ck_status ocl_synchronize(ck_backend *);

/* conv.c */
size_t ocl_conv_workspace(const ck_backend *, const ck_conv_shape *, int transposed);
ck_status ocl_conv2d_forward(const ck_conv_shape *, const ck_buffer *x, const ck_buffer *w,
                             const ck_buffer *bias, ck_buffer *y, ck_buffer *ws);
ck_status ocl_conv2d_backward_data(const ck_conv_shape *, const ck_buffer *dy,
                                   const ck_buffer *w, ck_buffer *dx, ck_buffer *ws);
ck_status ocl_conv2d_backward_weights(const ck_conv_shape *, const ck_buffer *x,
                                      const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                      ck_buffer *ws);
ck_status ocl_deconv2d_forward(const ck_conv_shape *, const ck_buffer *x, const ck_buffer *w,
                               const ck_buffer *bias, ck_buffer *y, ck_buffer *ws);
ck_status ocl_deconv2d_backward_data(const ck_conv_shape *, const ck_buffer *dy,
                                     const ck_buffer *w, ck_buffer *dx, ck_buffer *ws);
ck_status ocl_deconv2d_backward_weights(const ck_conv_shape *, const ck_buffer *x,
                                        const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                        ck_buffer *ws);
ck_status ocl_im2col(const ck_conv_shape *, const ck_buffer *x, ck_buffer *cols);
ck_status ocl_col2im(const ck_conv_shape *, const ck_buffer *cols, ck_buffer *x);

/* dense.c */
ck_status ocl_dense_forward(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                            const ck_buffer *bias, ck_buffer *y);
ck_status ocl_dense_backward_data(int batch, int in, int out, const ck_buffer *dy,
                                  const ck_buffer *w, ck_buffer *dx);
ck_status ocl_dense_backward_weights(int batch, int in, int out, const ck_buffer *x,
                                     const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias);
/* dbias[c] = sum of dy over images and pixels (shared by dense and conv). */
ck_status ocl_bias_grad(ocl_backend *o, const ck_buffer *dy, int images, int channels, int plane,
                        ck_buffer *dbias);

/* elementwise.c */
ck_status ocl_activation_forward(ck_activation, float alpha, size_t count, const ck_buffer *x,
                                 ck_buffer *y);
ck_status ocl_activation_backward(ck_activation, float alpha, size_t count, const ck_buffer *x,
                                  const ck_buffer *y, const ck_buffer *dy, ck_buffer *dx);
ck_status ocl_axpby(size_t count, float alpha, const ck_buffer *x, float beta, ck_buffer *y);
ck_status ocl_adam_update(size_t count, const ck_adam_params *, ck_buffer *param,
                          const ck_buffer *grad, ck_buffer *m, ck_buffer *v);
ck_status ocl_sum(const ck_buffer *, size_t offset, size_t count, int squares, double *result);

/* losses.c */
ck_status ocl_bernoulli_nll(int batch, int dim, const ck_buffer *logits, const ck_buffer *target,
                            const ck_buffer *weight, ck_buffer *nll, ck_buffer *dlogits,
                            float scale);
ck_status ocl_gaussian_nll(int batch, int channels, int plane, const ck_buffer *mean,
                           const ck_buffer *logvar, const ck_buffer *target,
                           const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                           ck_buffer *dlogvar, float scale);
ck_status ocl_logistic_nll(int batch, int channels, int plane, const ck_buffer *mean,
                           const ck_buffer *logscale, const ck_buffer *target,
                           const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                           ck_buffer *dlogscale, float scale);
ck_status ocl_softmax_nll(int batch, int classes, int plane, const ck_buffer *logits,
                          const ck_buffer *labels, const ck_buffer *weight, ck_buffer *nll,
                          ck_buffer *dlogits, float scale);
ck_status ocl_kl_normal(int batch, int latent, const ck_buffer *stats, ck_buffer *kl,
                        ck_buffer *dstats, float scale, float free_bits);
ck_status ocl_kl_normal_pair(int batch, int latent, const ck_buffer *q_stats,
                             const ck_buffer *p_stats, ck_buffer *kl, ck_buffer *dq_stats,
                             ck_buffer *dp_stats, float scale, float free_bits);

/* random.c */
ck_status ocl_random_normal(size_t count, uint64_t seed, uint64_t counter, ck_buffer *out);
ck_status ocl_random_bernoulli(size_t count, uint64_t seed, uint64_t counter,
                               const ck_buffer *probs, ck_buffer *out);
ck_status ocl_reparameterize(int batch, int latent, const ck_buffer *stats, const ck_buffer *eps,
                             ck_buffer *z);
ck_status ocl_reparameterize_backward(int batch, int latent, const ck_buffer *stats,
                                      const ck_buffer *eps, const ck_buffer *dz,
                                      ck_buffer *dstats);
ck_status ocl_keep_best_rows(int batch, int width, const ck_buffer *score, ck_buffer *best,
                             const ck_buffer *candidate, ck_buffer *kept);

/* vq.c */
ck_status ocl_multiply(size_t count, const ck_buffer *x, ck_buffer *y);
ck_status ocl_gate_forward(int batch, int channels, int plane, const ck_buffer *x, ck_buffer *y);
ck_status ocl_gate_backward(int batch, int channels, int plane, const ck_buffer *x,
                            const ck_buffer *dy, ck_buffer *dx);
ck_status ocl_vq_assign(int batch, int dim, int plane, int codes, const ck_buffer *z,
                        const ck_buffer *codebook, ck_buffer *indices, ck_buffer *zq,
                        ck_buffer *sqdist, ck_buffer *ws);
ck_status ocl_vq_embed(int batch, int dim, int plane, int codes, const ck_buffer *indices,
                       const ck_buffer *codebook, ck_buffer *zq);
ck_status ocl_vq_statistics(int batch, int dim, int plane, int codes, const ck_buffer *z,
                            const ck_buffer *indices, ck_buffer *counts, ck_buffer *sums);
ck_status ocl_vq_ema_update(int codes, int dim, float decay, float epsilon,
                            const ck_buffer *counts, const ck_buffer *sums,
                            ck_buffer *ema_counts, ck_buffer *ema_sums, ck_buffer *codebook);
ck_status ocl_vq_codebook_grad(int codes, int dim, float scale, const ck_buffer *counts,
                               const ck_buffer *sums, const ck_buffer *codebook,
                               ck_buffer *dcodebook);
ck_status ocl_vq_restart(int batch, int dim, int plane, int codes, const ck_buffer *z,
                         const ck_buffer *usage, uint64_t seed, uint64_t counter,
                         ck_buffer *codebook, ck_buffer *ema_counts, ck_buffer *ema_sums);

#endif /* CK_OCL_H */
