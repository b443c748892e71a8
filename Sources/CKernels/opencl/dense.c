/*
 * dense.c -- fully connected layers as GEMMs on row-major [batch, features] tensors, and
 * the bias gradient shared with the convolutions.
 */
#include "ocl.h"

ck_status ocl_bias_grad(ocl_backend *o, const ck_buffer *dy, int images, int channels, int plane,
                        ck_buffer *dbias) {
    return ocl_launch_groups(o, K_bias_grad, (size_t)channels,
                             OCL_ARGS(OCL_BUF(dy), OCL_INT(images), OCL_INT(channels),
                                      OCL_INT(plane), OCL_BUF(dbias)));
}

/* y = x w^T + bias */
ck_status ocl_dense_forward(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                            const ck_buffer *bias, ck_buffer *y) {
    ocl_backend *o = ocl_of(x);
    ck_status s = ocl_gemm(o, 0, 1, batch, out, in, 1.0f, ocl_mem(x), 0, in, ocl_mem(w), 0, in,
                           0.0f, ocl_mem(y), 0, out);
    if (s || !bias) return s;
    size_t count = (size_t)batch * out;
    return ocl_launch_1d(o, K_bias_add, count,
                         OCL_ARGS(OCL_BUF(y), OCL_ULONG(count), OCL_INT(out), OCL_INT(1),
                                  OCL_BUF(bias)));
}

/* dx = dy w */
ck_status ocl_dense_backward_data(int batch, int in, int out, const ck_buffer *dy,
                                  const ck_buffer *w, ck_buffer *dx) {
    return ocl_gemm(ocl_of(dy), 0, 0, batch, in, out, 1.0f, ocl_mem(dy), 0, out, ocl_mem(w), 0,
                    in, 0.0f, ocl_mem(dx), 0, in);
}

/* dw = dy^T x, dbias = column sums of dy */
ck_status ocl_dense_backward_weights(int batch, int in, int out, const ck_buffer *x,
                                     const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias) {
    ocl_backend *o = ocl_of(x);
    ck_status s = ocl_gemm(o, 1, 0, out, in, batch, 1.0f, ocl_mem(dy), 0, out, ocl_mem(x), 0, in,
                           0.0f, ocl_mem(dw), 0, in);
    if (s || !dbias) return s;
    return ocl_bias_grad(o, dy, batch, out, 1, dbias);
}
