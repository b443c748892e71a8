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
 *
 * A stride-1 convolution's backward-data is itself a stride-1 convolution of dy (the
 * residual blocks' 3x3 and 1x1 layers): weights w'[ci][co][ky][kx] = w[co][ci][k-1-ky][k-1-kx]
 * and padding k - 1 - pad. It runs through the forward pass, whose panels are built straight
 * from the images, instead of the col2im-side pass, with w' at the end of the workspace.
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

/* Whether backward-data runs as the forward pass of the flipped convolution (see above). */
static int data_by_forward(const ck_conv_shape *s) {
    return s->stride_h == 1 && s->stride_w == 1 && s->dil_h == 1 && s->dil_w == 1 &&
           s->pad_h <= s->k_h - 1 && s->pad_w <= s->k_w - 1;
}

/* The flipped convolution's geometry: dy [c_out, h_out, w_out] to dx [c_in, h_in, w_in]. */
static void flipped_geom(const ck_conv_shape *s, cpu_geom *g) {
    cpu_geom f;
    conv_geom(s, &f);
    *g = (cpu_geom){s->c_out, f.out_h, f.out_w, s->k_h, s->k_w, 1, 1, s->k_h - 1 - s->pad_h,
                    s->k_w - 1 - s->pad_w, 1, 1, s->h_in, s->w_in};
}

static size_t flipped_weights(const ck_conv_shape *s) {
    return (size_t)s->c_in * s->c_out * s->k_h * s->k_w;
}

size_t cpu_conv_workspace(const ck_backend *be, const ck_conv_shape *s, int transposed) {
    cpu_geom g;
    if (transposed) deconv_geom(s, &g); else conv_geom(s, &g);
    size_t n = cpu_conv_ws(be->impl, &g, s->batch, transposed ? s->c_in : s->c_out);
    if (!transposed && data_by_forward(s)) {
        flipped_geom(s, &g);
        size_t f = cpu_conv_ws(be->impl, &g, s->batch, s->c_in) + flipped_weights(s);
        if (f > n) n = f;
    }
    return n;
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
    cpu_epilogue ep = {act, alpha, host_or_null(gate)};
    if (data_by_forward(s)) {
        flipped_geom(s, &g);
        /* w' after the forward pass's own workspace */
        float *wf = ws->host + cpu_conv_ws(cpu_of(dy), &g, s->batch, s->c_in);
        const float *src = w->host;
        const int kh = s->k_h, kw = s->k_w, taps = kh * kw;
        for (int co = 0; co < s->c_out; co++)
            for (int ci = 0; ci < s->c_in; ci++)
                for (int t = 0; t < taps; t++)
                    wf[((size_t)ci * s->c_out + co) * taps + t] = src[((size_t)co * s->c_in + ci) * taps + taps - 1 - t];
        cpu_conv_im2col_gemm(cpu_of(dy), &g, s->batch, s->c_in, wf, dy->host, NULL, dx->host, ws->host, &ep);
        return CK_OK;
    }
    conv_geom(s, &g);
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
