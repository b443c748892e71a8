/*
 * gemm.c -- the GEMM behind every convolution and dense layer: CLBlast's CLBlastSgemm
 * when libclblast is installed (and VAE_CLBLAST is not 0), else gemm.cl's kernels: the
 * tiled one on GPUs, gemm_rows / gemm_dots on CPU devices.
 */
#include "ocl.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

ocl_gemm_config ocl_gemm_default(size_t max_wg) {
    ocl_gemm_config g = {.rm = 8, .dm = 4, .dn = 4};
    if (max_wg >= 256) { /* 16 x 16 work-items, 4 x 4 values each */
        g.ts_m = g.ts_n = 64; g.ts_k = 16; g.wpt_m = g.wpt_n = 4;
    } else {             /* 8 x 8 work-items */
        g.ts_m = g.ts_n = 32; g.ts_k = 16; g.wpt_m = g.wpt_n = 4;
    }
    return g;
}

ocl_clblast_sgemm_fn ocl_clblast_load(void) {
    const char *use = getenv("VAE_CLBLAST");
    if (use && strcmp(use, "0") == 0) return NULL;
    void *lib = dlopen("libclblast.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libclblast.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return NULL;
    ocl_clblast_sgemm_fn fn;
    *(void **)&fn = dlsym(lib, "CLBlastSgemm");
    if (!fn) dlclose(lib);
    return fn; /* the library stays loaded for the life of the process */
}

/* clblast_c.h's enumerations (the CBLAS values). */
enum { CLBLAST_ROW_MAJOR = 101, CLBLAST_NO_TRANS = 111, CLBLAST_TRANS = 112 };

static ck_status clblast_gemm(ocl_backend *o, int ta, int tb, int m, int n, int k, float alpha,
                              cl_mem a, size_t a_off, int lda, cl_mem b, size_t b_off, int ldb,
                              float beta, cl_mem c, size_t c_off, int ldc) {
    if (beta == 0.0f && ldc == n) { /* overwrite C even where it holds NaN: zero it first */
        size_t count = (size_t)m * n;
        ck_status s = ocl_launch_1d(o, K_fill, count,
                                    OCL_ARGS(OCL_CLMEM(c), OCL_ULONG(c_off), OCL_ULONG(count),
                                             OCL_FLOAT(0.0f)));
        if (s) return s;
    }
    int status = o->clblast_sgemm(CLBLAST_ROW_MAJOR, ta ? CLBLAST_TRANS : CLBLAST_NO_TRANS,
                                  tb ? CLBLAST_TRANS : CLBLAST_NO_TRANS, m, n, k, alpha, a, a_off,
                                  lda, b, b_off, ldb, beta, c, c_off, ldc, &o->queue, NULL);
    if (status == 0) return CK_OK;
    if (status < 0 && status > -1000) return ocl_fail(status, "CLBlastSgemm");
    return ck_fail(CK_ERR_BACKEND, "OpenCL: CLBlastSgemm failed with CLBlast status %d "
                   "(set VAE_CLBLAST=0 to use the built-in GEMM)", status);
}

ck_status ocl_gemm(ocl_backend *o, int ta, int tb, int m, int n, int k, float alpha, cl_mem a,
                   size_t a_off, int lda, cl_mem b, size_t b_off, int ldb, float beta, cl_mem c,
                   size_t c_off, int ldc) {
    if (m <= 0 || n <= 0) return CK_OK;
    if (o->clblast_sgemm)
        return clblast_gemm(o, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c,
                            c_off, ldc);
    const ocl_gemm_config *g = &o->gemm;
    if (o->cpu_style && !tb) {
        size_t global[2] = {(size_t)(n + 15) / 16, (size_t)(m + g->rm - 1) / g->rm};
        size_t local[2] = {4, 1}; /* small groups: spread over the cores, few per-group costs */
        return ocl_launch(o, K_gemm_rows, 2, global, local,
                          OCL_ARGS(OCL_INT(m), OCL_INT(n), OCL_INT(k), OCL_FLOAT(alpha),
                                   OCL_CLMEM(a), OCL_ULONG(a_off), OCL_INT(lda), OCL_INT(ta),
                                   OCL_CLMEM(b), OCL_ULONG(b_off), OCL_INT(ldb), OCL_FLOAT(beta),
                                   OCL_CLMEM(c), OCL_ULONG(c_off), OCL_INT(ldc)));
    }
    if (o->cpu_style && !ta) {
        size_t global[2] = {(size_t)(n + g->dn - 1) / g->dn, (size_t)(m + g->dm - 1) / g->dm};
        size_t local[2] = {4, 1}; /* small groups: spread over the cores, few per-group costs */
        return ocl_launch(o, K_gemm_dots, 2, global, local,
                          OCL_ARGS(OCL_INT(m), OCL_INT(n), OCL_INT(k), OCL_FLOAT(alpha),
                                   OCL_CLMEM(a), OCL_ULONG(a_off), OCL_INT(lda), OCL_CLMEM(b),
                                   OCL_ULONG(b_off), OCL_INT(ldb), OCL_FLOAT(beta), OCL_CLMEM(c),
                                   OCL_ULONG(c_off), OCL_INT(ldc)));
    }
    size_t local[2] = {(size_t)(g->ts_n / g->wpt_n), (size_t)(g->ts_m / g->wpt_m)};
    size_t global[2] = {(size_t)((n + g->ts_n - 1) / g->ts_n) * local[0],
                        (size_t)((m + g->ts_m - 1) / g->ts_m) * local[1]};
    return ocl_launch(o, K_gemm, 2, global, local,
                      OCL_ARGS(OCL_INT(m), OCL_INT(n), OCL_INT(k), OCL_FLOAT(alpha),
                               OCL_CLMEM(a), OCL_ULONG(a_off), OCL_INT(lda), OCL_INT(ta),
                               OCL_CLMEM(b), OCL_ULONG(b_off), OCL_INT(ldb), OCL_INT(tb),
                               OCL_FLOAT(beta), OCL_CLMEM(c), OCL_ULONG(c_off), OCL_INT(ldc)));
}
