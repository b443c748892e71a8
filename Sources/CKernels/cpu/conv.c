/*
 * conv.c -- convolution, transposed convolution, im2col and col2im operations: each maps
 * its shape to an im2col geometry and calls one engine pass.
 *
 * A convolution's geometry is its input image with its output grid; its weights
 * [c_out, c_in * k_h * k_w] are A. A transposed convolution is the matching convolution
 * with forward and backward swapped (as Caffe's deconv_layer.cpp): the geometry is its
 * large output with its small input as the grid, and its weights [c_in, c_out * k_h * k_w]
 * are A with m = c_in. The grid is taken from h_in, w_in, so output padding (extra rows
 * that no kernel position reaches) needs nothing special.
 */
#include "cpu.h"

static int conv_out(int in, int k, int s, int p, int d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }
static int deconv_out(int in, int k, int s, int p, int d, int op) {
    return (in - 1) * s - 2 * p + d * (k - 1) + op + 1;
}

static void conv_geom(const ck_conv_shape *s, cpu_geom *g) {
    *g = (cpu_geom){s->c_in, s->h_in, s->w_in, s->k_h, s->k_w, s->stride_h, s->stride_w,
                    s->pad_h, s->pad_w, s->dil_h, s->dil_w,
                    conv_out(s->h_in, s->k_h, s->stride_h, s->pad_h, s->dil_h),
                    conv_out(s->w_in, s->k_w, s->stride_w, s->pad_w, s->dil_w)};
}

static void deconv_geom(const ck_conv_shape *s, cpu_geom *g) {
    *g = (cpu_geom){s->c_out,
                    deconv_out(s->h_in, s->k_h, s->stride_h, s->pad_h, s->dil_h, s->out_pad_h),
                    deconv_out(s->w_in, s->k_w, s->stride_w, s->pad_w, s->dil_w, s->out_pad_w),
                    s->k_h, s->k_w, s->stride_h, s->stride_w, s->pad_h, s->pad_w, s->dil_h,
                    s->dil_w, s->h_in, s->w_in};
}

static float *host_or_null(const ck_buffer *b) { return b ? b->host : NULL; }

size_t cpu_conv_workspace(const ck_backend *be, const ck_conv_shape *s, int transposed) {
    cpu_geom g;
    if (transposed) deconv_geom(s, &g); else conv_geom(s, &g);
    return cpu_conv_ws(be->impl, &g, s->batch, transposed ? s->c_in : s->c_out);
}

ck_status cpu_conv2d_forward_act(const ck_conv_shape *s, const ck_buffer *x, const ck_buffer *w,
                                 const ck_buffer *bias, ck_activation act, float alpha,
                                 ck_buffer *y, ck_buffer *ws) {
    cpu_geom g;
    conv_geom(s, &g);
    cpu_epilogue ep = {act, alpha, NULL};
    cpu_conv_im2col_gemm(cpu_of(x), &g, s->batch, s->c_out, w->host, x->host,
                         host_or_null(bias), y->host, host_or_null(ws), &ep);
    return CK_OK;
}

ck_status cpu_conv2d_forward(const ck_conv_shape *s, const ck_buffer *x, const ck_buffer *w,
                             const ck_buffer *bias, ck_buffer *y, ck_buffer *ws) {
    return cpu_conv2d_forward_act(s, x, w, bias, CK_ACT_IDENTITY, 0, y, ws);
}

ck_status cpu_conv2d_backward_data_act(const ck_conv_shape *s, const ck_buffer *dy,
                                       const ck_buffer *w, ck_activation act, float alpha,
                                       const ck_buffer *gate, ck_buffer *dx, ck_buffer *ws) {
    cpu_geom g;
    conv_geom(s, &g);
    cpu_epilogue ep = {act, alpha, host_or_null(gate)};
    cpu_conv_gemm_col2im(cpu_of(dy), &g, s->batch, s->c_out, w->host, dy->host, NULL, dx->host,
                         host_or_null(ws), &ep);
    return CK_OK;
}

ck_status cpu_conv2d_backward_data(const ck_conv_shape *s, const ck_buffer *dy,
                                   const ck_buffer *w, ck_buffer *dx, ck_buffer *ws) {
    return cpu_conv2d_backward_data_act(s, dy, w, CK_ACT_IDENTITY, 0, NULL, dx, ws);
}

ck_status cpu_conv2d_backward_weights(const ck_conv_shape *s, const ck_buffer *x,
                                      const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                      ck_buffer *ws) {
    cpu_geom g;
    conv_geom(s, &g);
    cpu_conv_weights(cpu_of(x), &g, s->batch, s->c_out, dy->host, x->host, dw->host,
                     host_or_null(dbias), host_or_null(ws));
    return CK_OK;
}

ck_status cpu_deconv2d_forward_act(const ck_conv_shape *s, const ck_buffer *x, const ck_buffer *w,
                                   const ck_buffer *bias, ck_activation act, float alpha,
                                   ck_buffer *y, ck_buffer *ws) {
    cpu_geom g;
    deconv_geom(s, &g);
    cpu_epilogue ep = {act, alpha, NULL};
    cpu_conv_gemm_col2im(cpu_of(x), &g, s->batch, s->c_in, w->host, x->host,
                         host_or_null(bias), y->host, host_or_null(ws), &ep);
    return CK_OK;
}

ck_status cpu_deconv2d_forward(const ck_conv_shape *s, const ck_buffer *x, const ck_buffer *w,
                               const ck_buffer *bias, ck_buffer *y, ck_buffer *ws) {
    return cpu_deconv2d_forward_act(s, x, w, bias, CK_ACT_IDENTITY, 0, y, ws);
}

ck_status cpu_deconv2d_backward_data_act(const ck_conv_shape *s, const ck_buffer *dy,
                                         const ck_buffer *w, ck_activation act, float alpha,
                                         const ck_buffer *gate, ck_buffer *dx, ck_buffer *ws) {
    cpu_geom g;
    deconv_geom(s, &g);
    cpu_epilogue ep = {act, alpha, host_or_null(gate)};
    cpu_conv_im2col_gemm(cpu_of(dy), &g, s->batch, s->c_in, w->host, dy->host, NULL, dx->host,
                         host_or_null(ws), &ep);
    return CK_OK;
}

ck_status cpu_deconv2d_backward_data(const ck_conv_shape *s, const ck_buffer *dy,
                                     const ck_buffer *w, ck_buffer *dx, ck_buffer *ws) {
    return cpu_deconv2d_backward_data_act(s, dy, w, CK_ACT_IDENTITY, 0, NULL, dx, ws);
}

ck_status cpu_deconv2d_backward_weights(const ck_conv_shape *s, const ck_buffer *x,
                                        const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                        ck_buffer *ws) {
    cpu_geom g;
    deconv_geom(s, &g);
    cpu_conv_weights(cpu_of(x), &g, s->batch, s->c_in, x->host, dy->host, dw->host, NULL,
                     host_or_null(ws));
    if (dbias)
        cpu_bias_grad(cpu_of(x), s->batch, s->c_out, (size_t)g.height * g.width, dy->host,
                      dbias->host);
    return CK_OK;
}

/* ---------------------------------------------------------------- whole-batch im2col, col2im */

typedef struct {
    cpu_geom g;
    int batch;
    const float *src;
    float *dst;
} batch_job;

static void im2col_task(void *ctx, int tid, int threads) {
    const batch_job *j = ctx;
    size_t plane = (size_t)j->g.out_h * j->g.out_w, ld = plane * j->batch;
    size_t img = (size_t)j->g.channels * j->g.height * j->g.width, b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b++) cpu_im2col_image(&j->g, j->src + b * img, j->dst + b * plane, ld);
}

static void col2im_task(void *ctx, int tid, int threads) {
    const batch_job *j = ctx;
    size_t plane = (size_t)j->g.out_h * j->g.out_w, ld = plane * j->batch;
    size_t img = (size_t)j->g.channels * j->g.height * j->g.width, b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b++) cpu_col2im_image(&j->g, j->src + b * plane, ld, j->dst + b * img);
}

ck_status cpu_im2col(const ck_conv_shape *s, const ck_buffer *x, ck_buffer *cols) {
    batch_job j = {.batch = s->batch, .src = x->host, .dst = cols->host};
    conv_geom(s, &j.g);
    cpu_pool_run(cpu_of(x)->pool, im2col_task, &j);
    return CK_OK;
}

ck_status cpu_col2im(const ck_conv_shape *s, const ck_buffer *cols, ck_buffer *x) {
    batch_job j = {.batch = s->batch, .src = cols->host, .dst = x->host};
    conv_geom(s, &j.g);
    cpu_pool_run(cpu_of(x)->pool, col2im_task, &j);
    return CK_OK;
}
