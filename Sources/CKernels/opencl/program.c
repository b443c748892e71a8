/*
 * program.c -- builds the kernel program for a backend's device (all Kernels/<name>.cl in one
 * program, once per backend), creates every kernel once, and launches kernels.
 */
#include "ocl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OCL_KERNEL_NAME(name) #name,
static const char *const kernel_names[K_COUNT] = {OCL_KERNELS(OCL_KERNEL_NAME)};
#undef OCL_KERNEL_NAME

/* Whether the len bytes at line contain word. */
static int contains(const char *line, size_t len, const char *word) {
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= len; i++)
        if (memcmp(line + i, word, w) == 0) return 1;
    return 0;
}

/* Copies the lines of a build log that mention an error (else its start) into out. */
static void log_excerpt(const char *log, char *out, size_t capacity) {
    size_t used = 0;
    out[0] = 0;
    for (const char *line = log; *line && used + 1 < capacity;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (contains(line, len, "error")) {
            int n = snprintf(out + used, capacity - used, "%.*s\n", (int)len, line);
            if (n > 0) used += (size_t)n;
        }
        line += len + (end ? 1 : 0);
    }
    if (used == 0) snprintf(out, capacity, "%s", log);
}

/* Records a build failure with the relevant part of the build log. */
static ck_status build_failure(ocl_backend *o, cl_int err) {
    size_t size = 0;
    const ocl_api *cl = o->cl;
    char excerpt[400] = "(no build log)";
    if (cl->clGetProgramBuildInfo(o->program, o->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) ==
            CL_SUCCESS && size > 1) {
        char *log = malloc(size + 1);
        if (log && cl->clGetProgramBuildInfo(o->program, o->device, CL_PROGRAM_BUILD_LOG, size,
                                             log, NULL) == CL_SUCCESS) {
            log[size] = 0;
            log_excerpt(log, excerpt, sizeof excerpt);
        }
        free(log);
    }
    return ck_fail(CK_ERR_BACKEND, "OpenCL: kernel build failed: %s (%d); build log:\n%s",
                   ocl_error_name(err), (int)err, excerpt);
}

static ck_status create_kernels(ocl_backend *o) {
    for (int k = 0; k < K_COUNT; k++) {
        cl_int err;
        o->kernels[k] = o->cl->clCreateKernel(o->program, kernel_names[k], &err);
        if (err != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "clCreateKernel(%s)", kernel_names[k]);
            return ocl_fail(err, what);
        }
    }
    return CK_OK;
}

/* Largest work-group the device runs kernel k with. */
static size_t kernel_wg(ocl_backend *o, int k) {
    size_t wg = 0;
    if (o->cl->clGetKernelWorkGroupInfo(o->kernels[k], o->device, CL_KERNEL_WORK_GROUP_SIZE,
                                        sizeof wg, &wg, NULL) != CL_SUCCESS)
        return 0;
    return wg;
}

static ck_status build_once(ocl_backend *o, const char **texts, size_t count) {
    const ocl_api *cl = o->cl;
    cl_int err;
    o->program = cl->clCreateProgramWithSource(o->context, (cl_uint)count, texts, NULL, &err);
    if (err != CL_SUCCESS) return ocl_fail(err, "clCreateProgramWithSource");
    char options[256];
    const ocl_gemm_config *g = &o->gemm;
    snprintf(options, sizeof options,
             "-cl-std=CL1.2 -DRED_WG=%zu -DCK_FP64=%d -DCK_CPU=%d -DTS_M=%d -DTS_N=%d "
             "-DTS_K=%d -DWPT_M=%d -DWPT_N=%d -DRM=%d -DDM=%d -DDN=%d",
             o->red_wg, o->fp64, o->cpu_style, g->ts_m, g->ts_n, g->ts_k, g->wpt_m, g->wpt_n,
             g->rm, g->dm, g->dn);
    err = cl->clBuildProgram(o->program, 1, &o->device, options, NULL, NULL);
    if (err != CL_SUCCESS) return build_failure(o, err);
    return create_kernels(o);
}

ck_status ocl_program_build(ocl_backend *o) {
    size_t count = ocl_source_count();
    const char *texts[32];
    int allocated;
    if (count > sizeof texts / sizeof texts[0]) return ck_fail(CK_ERR_BACKEND, "too many sources");
    ck_status s = ocl_sources_load(texts, count, &allocated);
    if (s) return s;
    s = build_once(o, texts, count);
    /* A device may run the GEMM tile with fewer work-items than it reports in general
       (register pressure): rebuild once with the smallest tiling. */
    size_t need = (size_t)(o->gemm.ts_m / o->gemm.wpt_m) * (o->gemm.ts_n / o->gemm.wpt_n);
    if (s == CK_OK && kernel_wg(o, K_gemm) < need) {
        ocl_program_release(o);
        o->gemm.ts_m = o->gemm.ts_n = 32;
        s = build_once(o, texts, count);
    }
    ocl_sources_free(texts, count, allocated);
    if (s == CK_OK && (kernel_wg(o, K_gemm) < 64 || kernel_wg(o, K_reduce_sum) < o->red_wg))
        s = ck_fail(CK_ERR_UNAVAILABLE, "OpenCL: the device runs too few work-items per group");
    return s;
}

void ocl_program_release(ocl_backend *o) {
    for (int k = 0; k < K_COUNT; k++) {
        if (o->kernels[k]) o->cl->clReleaseKernel(o->kernels[k]);
        o->kernels[k] = NULL;
    }
    if (o->program) o->cl->clReleaseProgram(o->program);
    o->program = NULL;
}

ck_status ocl_launch(ocl_backend *o, int k, cl_uint dims, const size_t *global,
                     const size_t *local, const ocl_arg *args, int nargs) {
    const ocl_api *cl = o->cl;
    cl_kernel kernel = o->kernels[k];
    for (int i = 0; i < nargs; i++) {
        cl_int err = cl->clSetKernelArg(kernel, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "clSetKernelArg(%s, %d)", kernel_names[k], i);
            return ocl_fail(err, what);
        }
    }
    size_t rounded[3];
    for (cl_uint d = 0; d < dims; d++) {
        if (global[d] == 0) return CK_OK; /* nothing to do */
        rounded[d] = (global[d] + local[d] - 1) / local[d] * local[d];
    }
    cl_int err =
        cl->clEnqueueNDRangeKernel(o->queue, kernel, dims, NULL, rounded, local, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "kernel %s", kernel_names[k]);
        return ocl_fail(err, what);
    }
    return CK_OK;
}

ck_status ocl_launch_1d(ocl_backend *o, int k, size_t n, const ocl_arg *args, int nargs) {
    size_t local = o->wg;
    return ocl_launch(o, k, 1, &n, &local, args, nargs);
}

ck_status ocl_launch_2d(ocl_backend *o, int k, size_t n0, size_t n1, const ocl_arg *args,
                        int nargs) {
    size_t global[2] = {n0, n1}, local[2] = {o->wg, 1};
    return ocl_launch(o, k, 2, global, local, args, nargs);
}

ck_status ocl_launch_groups(ocl_backend *o, int k, size_t groups, const ocl_arg *args,
                            int nargs) {
    size_t global = groups * o->red_wg, local = o->red_wg;
    return ocl_launch(o, k, 1, &global, &local, args, nargs);
}
