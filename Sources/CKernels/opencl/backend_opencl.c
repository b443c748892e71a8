/*
 * backend_opencl.c -- the OpenCL backend: opens a device (context, in-order queue, the
 * kernel program) and fills the operation table. Tensors stay in device memory; only
 * ck_buffer_read and the sums bring values back to the host.
 */
#include "ocl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void ocl_close(ck_backend *backend);

static const ck_backend_ops ocl_ops = {
    .close = ocl_close,
    .buffer_new = ocl_buffer_new,
    .buffer_free = ocl_buffer_free,
    .view_alignment = ocl_view_alignment,
    .buffer_view = ocl_buffer_view,
    .buffer_write = ocl_buffer_write,
    .buffer_read = ocl_buffer_read,
    .copy = ocl_copy,
    .copy_rows = ocl_copy_rows,
    .fill = ocl_fill,
    .synchronize = ocl_synchronize,
    .conv_workspace = ocl_conv_workspace,
    .conv2d_forward = ocl_conv2d_forward,
    .conv2d_backward_data = ocl_conv2d_backward_data,
    .conv2d_backward_weights = ocl_conv2d_backward_weights,
    .deconv2d_forward = ocl_deconv2d_forward,
    .deconv2d_backward_data = ocl_deconv2d_backward_data,
    .deconv2d_backward_weights = ocl_deconv2d_backward_weights,
    .im2col = ocl_im2col,
    .col2im = ocl_col2im,
    .dense_forward = ocl_dense_forward,
    .dense_backward_data = ocl_dense_backward_data,
    .dense_backward_weights = ocl_dense_backward_weights,
    .activation_forward = ocl_activation_forward,
    .activation_backward = ocl_activation_backward,
    .bernoulli_nll = ocl_bernoulli_nll,
    .gaussian_nll = ocl_gaussian_nll,
    .logistic_nll = ocl_logistic_nll,
    .softmax_nll = ocl_softmax_nll,
    .kl_normal = ocl_kl_normal,
    .random_normal = ocl_random_normal,
    .random_bernoulli = ocl_random_bernoulli,
    .reparameterize = ocl_reparameterize,
    .reparameterize_backward = ocl_reparameterize_backward,
    .keep_best_rows = ocl_keep_best_rows,
    .sum = ocl_sum,
    .axpby = ocl_axpby,
    .adam_update = ocl_adam_update,
    .kl_normal_pair = ocl_kl_normal_pair,
    .multiply = ocl_multiply,
    .gate_forward = ocl_gate_forward,
    .gate_backward = ocl_gate_backward,
    .vq_assign = ocl_vq_assign,
    .vq_embed = ocl_vq_embed,
    .vq_statistics = ocl_vq_statistics,
    .vq_ema_update = ocl_vq_ema_update,
    .vq_codebook_grad = ocl_vq_codebook_grad,
    .vq_restart = ocl_vq_restart,
};

/* Largest power of two <= n (n >= 1). */
static size_t pow2_floor(size_t n) {
    size_t p = 1;
    while (p * 2 <= n) p *= 2;
    return p;
}

/* Reads the device limits the kernels depend on. */
static void query_device(ocl_backend *o) {
    const ocl_api *cl = o->cl;
    size_t max_wg = 256, sizes[3] = {256, 1, 1};
    char ext[4096] = "";
    cl->clGetDeviceInfo(o->device, CL_DEVICE_TYPE, sizeof o->type, &o->type, NULL);
    cl->clGetDeviceInfo(o->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg, &max_wg, NULL);
    cl->clGetDeviceInfo(o->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof sizes, sizes, NULL);
    cl->clGetDeviceInfo(o->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof o->max_alloc,
                        &o->max_alloc, NULL);
    cl_uint align_bits = 0;
    cl->clGetDeviceInfo(o->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits,
                        NULL);
    o->view_align = align_bits >= 32 ? align_bits / 32 : 1;
    if (cl->clGetDeviceInfo(o->device, CL_DEVICE_EXTENSIONS, sizeof ext, ext, NULL) != CL_SUCCESS)
        ext[0] = 0;
    ext[sizeof ext - 1] = 0;
    o->fp64 = strstr(ext, "cl_khr_fp64") != NULL;
    size_t limit = max_wg < sizes[0] ? max_wg : sizes[0];
    o->wg = pow2_floor(limit < 256 ? limit : 256);
    o->red_wg = o->wg;
    o->gemm = ocl_gemm_default(max_wg);
    /* CPU devices get the kernels written for caches and SIMD; VAE_OCL_KERNELS=gpu or =cpu
       overrides (to test both families anywhere) */
    const char *style = getenv("VAE_OCL_KERNELS");
    o->cpu_style = (o->type & CL_DEVICE_TYPE_CPU) != 0;
    if (style && strcmp(style, "gpu") == 0) o->cpu_style = 0;
    if (style && strcmp(style, "cpu") == 0) o->cpu_style = 1;
}

/* Creates the context, queue, program and fixed buffers of an opened device. */
static ck_status setup(ocl_backend *o) {
    const ocl_api *cl = o->cl;
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)o->platform, 0};
    o->context = cl->clCreateContext(props, 1, &o->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) return ocl_fail(err, "clCreateContext");
    o->queue = cl->clCreateCommandQueue(o->context, o->device, 0, &err);
    if (err != CL_SUCCESS) return ocl_fail(err, "clCreateCommandQueue");
    ck_status s = ocl_program_build(o);
    if (s) return s;
    o->partial_groups = 64;
    o->partials = cl->clCreateBuffer(o->context, CL_MEM_READ_WRITE,
                                     o->partial_groups * sizeof(double), NULL, &err);
    if (err != CL_SUCCESS) return ocl_fail_alloc(err, "clCreateBuffer");
    return CK_OK;
}

static void release(ocl_backend *o) {
    const ocl_api *cl = o->cl;
    if (o->queue) cl->clFinish(o->queue);
    if (o->partials) cl->clReleaseMemObject(o->partials);
    if (o->scratch) cl->clReleaseMemObject(o->scratch);
    ocl_program_release(o);
    if (o->queue) cl->clReleaseCommandQueue(o->queue);
    if (o->context) cl->clReleaseContext(o->context);
    free(o);
}

ck_status ck_opencl_open(const char *spec, int threads, ck_backend *backend) {
    const ocl_api *cl = ocl_load();
    if (!cl) return CK_ERR_UNAVAILABLE;
    ocl_backend *o = calloc(1, sizeof *o);
    if (!o) return ck_fail(CK_ERR_MEMORY, "OpenCL: out of host memory");
    o->cl = cl;
    ck_status s = ocl_find_device(cl, spec ? spec : "", &o->platform, &o->device);
    if (s) {
        free(o);
        return s;
    }
    query_device(o);
    o->clblast_sgemm = ocl_clblast_load();
    s = setup(o);
    if (s) {
        release(o);
        return s;
    }
    char device[200];
    ocl_describe(cl, o->platform, o->device, device, sizeof device);
    backend->ops = &ocl_ops;
    backend->kind = "opencl";
    snprintf(backend->description, sizeof backend->description, "%s, GEMM %s", device,
             o->clblast_sgemm ? "CLBlast" : "built-in");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    backend->threads = threads > 0 ? threads : (cores > 0 ? (int)cores : 1);
    backend->impl = o;
    return CK_OK;
}

static void ocl_close(ck_backend *backend) {
    if (backend->impl) release(backend->impl);
    backend->impl = NULL;
}
