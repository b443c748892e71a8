/*
 * vq.c -- vector quantization on OpenCL (Kernels/vq.cl): the map to the GEMM layout, the
 * cross terms of every position and code as one GEMM, then the nearest code per position;
 * code statistics, the moving-average codebook and restarts. Also the gated activation and
 * the elementwise product (elementwise.cl).
 */
#include "ocl.h"

ck_status ocl_vq_assign(int batch, int dim, int plane, int codes, const ck_buffer *z,
                        const ck_buffer *codebook, ck_buffer *indices, ck_buffer *zq,
                        ck_buffer *sqdist, ck_buffer *ws) {
    ocl_backend *o = ocl_of(z);
    size_t total = (size_t)batch * plane, cross = total * (size_t)dim,
           norms = total * ((size_t)dim + codes);
    /* the workspace: the map as [dim, total], the cross terms [codes, total], the norms */
    ck_status s = ocl_launch_2d(o, K_nchw_to_cn, total, (size_t)dim,
                                OCL_ARGS(OCL_BUF(z), OCL_ULONG(0), OCL_BUF(ws), OCL_ULONG(0),
                                         OCL_INT(batch), OCL_INT(dim), OCL_INT(plane)));
    if (s) return s;
    s = ocl_gemm(o, 0, 0, codes, (int)total, dim, 1.0f, ocl_mem(codebook), 0, dim, ocl_mem(ws), 0,
                 (int)total, 0.0f, ocl_mem(ws), cross, (int)total);
    if (s) return s;
    s = ocl_launch_1d(o, K_vq_norms, (size_t)codes,
                      OCL_ARGS(OCL_INT(codes), OCL_INT(dim), OCL_BUF(codebook), OCL_BUF(ws),
                               OCL_ULONG(norms)));
    if (s) return s;
    s = ocl_launch_1d(o, K_vq_argmin, total,
                      OCL_ARGS(OCL_INT((int)total), OCL_INT(codes), OCL_INT(dim), OCL_INT(plane),
                               OCL_BUF(ws), OCL_ULONG(cross), OCL_ULONG(norms), OCL_BUF(codebook),
                               OCL_BUF(indices), OCL_OPT(o, zq), OCL_INT(zq != NULL)));
    if (s || !sqdist) return s;
    return ocl_launch_groups(o, K_vq_sqdist, (size_t)batch,
                             OCL_ARGS(OCL_INT(dim), OCL_INT(plane), OCL_INT(codes), OCL_BUF(z),
                                      OCL_BUF(indices), OCL_BUF(codebook), OCL_BUF(sqdist)));
}

ck_status ocl_vq_embed(int batch, int dim, int plane, int codes, const ck_buffer *indices,
                       const ck_buffer *codebook, ck_buffer *zq) {
    size_t count = (size_t)batch * dim * plane;
    return ocl_launch_1d(ocl_of(zq), K_vq_embed, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_INT(dim), OCL_INT(plane), OCL_INT(codes),
                                  OCL_BUF(indices), OCL_BUF(codebook), OCL_BUF(zq)));
}

ck_status ocl_vq_statistics(int batch, int dim, int plane, int codes, const ck_buffer *z,
                            const ck_buffer *indices, ck_buffer *counts, ck_buffer *sums) {
    return ocl_launch_1d(ocl_of(z), K_vq_statistics, (size_t)codes,
                         OCL_ARGS(OCL_INT(batch), OCL_INT(dim), OCL_INT(plane), OCL_INT(codes),
                                  OCL_BUF(z), OCL_BUF(indices), OCL_BUF(counts), OCL_BUF(sums)));
}

ck_status ocl_vq_ema_update(int codes, int dim, float decay, float epsilon,
                            const ck_buffer *counts, const ck_buffer *sums,
                            ck_buffer *ema_counts, ck_buffer *ema_sums, ck_buffer *codebook) {
    return ocl_launch_groups(ocl_of(counts), K_vq_ema_update, 1,
                             OCL_ARGS(OCL_INT(codes), OCL_INT(dim), OCL_FLOAT(decay),
                                      OCL_FLOAT(epsilon), OCL_BUF(counts), OCL_BUF(sums),
                                      OCL_BUF(ema_counts), OCL_BUF(ema_sums), OCL_BUF(codebook)));
}

ck_status ocl_vq_codebook_grad(int codes, int dim, float scale, const ck_buffer *counts,
                               const ck_buffer *sums, const ck_buffer *codebook,
                               ck_buffer *dcodebook) {
    size_t count = (size_t)codes * dim;
    return ocl_launch_1d(ocl_of(counts), K_vq_codebook_grad, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_INT(dim), OCL_FLOAT(scale),
                                  OCL_BUF(counts), OCL_BUF(sums), OCL_BUF(codebook),
                                  OCL_BUF(dcodebook)));
}

ck_status ocl_vq_restart(int batch, int dim, int plane, int codes, const ck_buffer *z,
                         const ck_buffer *usage, uint64_t seed, uint64_t counter,
                         ck_buffer *codebook, ck_buffer *ema_counts, ck_buffer *ema_sums) {
    ocl_backend *o = ocl_of(z);
    size_t count = (size_t)codes * dim;
    return ocl_launch_1d(o, K_vq_restart, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_INT(dim), OCL_INT(plane),
                                  OCL_ULONG((size_t)batch * plane), OCL_BUF(z), OCL_BUF(usage),
                                  OCL_ULONG(seed), OCL_ULONG(counter), OCL_BUF(codebook),
                                  OCL_OPT(o, ema_counts), OCL_OPT(o, ema_sums),
                                  OCL_INT(ema_counts != NULL)));
}

ck_status ocl_multiply(size_t count, const ck_buffer *x, ck_buffer *y) {
    return ocl_launch_1d(ocl_of(y), K_multiply, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_BUF(x), OCL_BUF(y)));
}

ck_status ocl_gate_forward(int batch, int channels, int plane, const ck_buffer *x, ck_buffer *y) {
    size_t half = (size_t)channels * plane, count = (size_t)batch * half;
    return ocl_launch_1d(ocl_of(x), K_gate_forward, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_ULONG(half), OCL_BUF(x), OCL_BUF(y)));
}

ck_status ocl_gate_backward(int batch, int channels, int plane, const ck_buffer *x,
                            const ck_buffer *dy, ck_buffer *dx) {
    size_t half = (size_t)channels * plane, count = (size_t)batch * half;
    return ocl_launch_1d(ocl_of(x), K_gate_backward, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_ULONG(half), OCL_BUF(x), OCL_BUF(dy),
                                  OCL_BUF(dx)));
}
