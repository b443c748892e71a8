/*
 * conv.c -- convolutions and transposed convolutions by im2col + GEMM, a chunk of images
 * at a time. The workspace holds, for one chunk of nb images of P output pixels,
 *   cols [K][nb * P]       (K = c_in * k_h * k_w: im2col's columns)
 *   cn   [c_out][nb * P]   (the output side in GEMM layout, see layout.cl)
 * so that each pass is one GEMM per chunk plus cheap layout kernels.
 * A transposed convolution runs the matching convolution with the passes swapped
 * (forward = backward-data, backward-data = forward), as Caffe's deconv layer does.
 */
#include "ocl.h"

/* A convolution's geometry, with explicit output size (for a transposed convolution: the
   matching convolution, whose input is the large side). */
typedef struct geom {
    int batch;
    int c_in, h_in, w_in;    /* convolution input */
    int c_out, h_out, w_out; /* convolution output */
    int k_h, k_w, s_h, s_w, p_h, p_w, d_h, d_w;
} geom;

/* Floats of workspace a chunk may use. GPUs: large enough for one GEMM over most batches,
   small enough not to crowd device memory. CPU devices: about 2 MB, so that the columns
   a GEMM reads stay in cache (measured on PoCL: 1.5x faster than whole batches). */
#define CHUNK_BUDGET_GPU ((size_t)16 << 20)
#define CHUNK_BUDGET_CPU ((size_t)512 << 10)

static geom geom_of(const ck_conv_shape *s, int transposed) {
    int ho = 0, wo = 0;
    ck_conv_output(s, transposed, &ho, &wo);
    geom g = {s->batch, s->c_in, s->h_in, s->w_in, s->c_out, ho, wo,
              s->k_h, s->k_w, s->stride_h, s->stride_w, s->pad_h, s->pad_w, s->dil_h, s->dil_w};
    if (transposed) { /* the convolution from the large side back to the small one */
        g.c_in = s->c_out; g.h_in = ho; g.w_in = wo;
        g.c_out = s->c_in; g.h_out = s->h_in; g.w_out = s->w_in;
    }
    return g;
}

static size_t rows_of(const geom *g) { return (size_t)g->c_in * g->k_h * g->k_w; }
static size_t plane_of(const geom *g) { return (size_t)g->h_out * g->w_out; }

/* Images per chunk: the whole batch when it fits the budget. */
static int chunk_of(const ocl_backend *o, const geom *g) {
    size_t per_image = plane_of(g) * (rows_of(g) + (size_t)g->c_out);
    size_t nb = (o->cpu_style ? CHUNK_BUDGET_CPU : CHUNK_BUDGET_GPU) / per_image;
    if (nb < 1) nb = 1;
    return nb < (size_t)g->batch ? (int)nb : g->batch;
}

size_t ocl_conv_workspace(const ck_backend *backend, const ck_conv_shape *shape, int transposed) {
    geom g = geom_of(shape, transposed);
    return (size_t)chunk_of(backend->impl, &g) * plane_of(&g) * (rows_of(&g) + (size_t)g.c_out);
}

/* Offset of the cn part of the workspace. */
static size_t cn_offset(const geom *g, int nb) { return rows_of(g) * nb * plane_of(g); }

/* cols = im2col of images [i0, i0 + nb) of x. */
static ck_status im2col(ocl_backend *o, const geom *g, cl_mem x, int i0, int nb, cl_mem cols) {
    size_t x_off = (size_t)i0 * g->c_in * g->h_in * g->w_in;
    return ocl_launch_2d(o, K_im2col, (size_t)nb * plane_of(g), (size_t)g->c_in,
                         OCL_ARGS(OCL_CLMEM(x), OCL_ULONG(x_off), OCL_CLMEM(cols), OCL_INT(nb),
                                  OCL_INT(g->c_in), OCL_INT(g->h_in), OCL_INT(g->w_in),
                                  OCL_INT(g->k_h), OCL_INT(g->k_w), OCL_INT(g->s_h),
                                  OCL_INT(g->s_w), OCL_INT(g->p_h), OCL_INT(g->p_w),
                                  OCL_INT(g->d_h), OCL_INT(g->d_w), OCL_INT(g->h_out),
                                  OCL_INT(g->w_out)));
}

/* Images [i0, i0 + nb) of x = col2im(cols) (+ bias). */
static ck_status col2im(ocl_backend *o, const geom *g, cl_mem cols, cl_mem x, int i0, int nb,
                        const ck_buffer *bias) {
    size_t per_image = (size_t)g->c_in * g->h_in * g->w_in;
    /* CPU devices: a work-item per image plane; GPUs: a work-item per element */
    size_t items = o->cpu_style ? (size_t)nb * g->c_in : (size_t)nb * per_image;
    size_t local = o->cpu_style ? 4 : o->wg; /* CPU: small groups spread over the cores */
    return ocl_launch(o, o->cpu_style ? K_col2im_planes : K_col2im, 1, &items, &local,
                      OCL_ARGS(OCL_CLMEM(cols), OCL_CLMEM(x), OCL_ULONG(i0 * per_image),
                               OCL_INT(nb), OCL_INT(g->c_in), OCL_INT(g->h_in), OCL_INT(g->w_in),
                               OCL_INT(g->k_h), OCL_INT(g->k_w), OCL_INT(g->s_h),
                               OCL_INT(g->s_w), OCL_INT(g->p_h), OCL_INT(g->p_w),
                               OCL_INT(g->d_h), OCL_INT(g->d_w), OCL_INT(g->h_out),
                               OCL_INT(g->w_out), OCL_OPT(o, bias), OCL_INT(bias != NULL)));
}

/* ws[cn_off..] = the output-side tensor t (c_out channels) of images [i0, i0 + nb), as CN. */
static ck_status to_cn(ocl_backend *o, const geom *g, cl_mem t, int i0, int nb, cl_mem ws,
                       size_t cn_off) {
    size_t plane = plane_of(g);
    return ocl_launch_2d(o, K_nchw_to_cn, (size_t)nb * plane, (size_t)g->c_out,
                         OCL_ARGS(OCL_CLMEM(t), OCL_ULONG((size_t)i0 * g->c_out * plane),
                                  OCL_CLMEM(ws), OCL_ULONG(cn_off), OCL_INT(nb),
                                  OCL_INT(g->c_out), OCL_INT((int)plane)));
}

/* Images [i0, i0 + nb) of t = ws[cn_off..] (+ bias), back in NCHW. */
static ck_status from_cn(ocl_backend *o, const geom *g, cl_mem ws, size_t cn_off, cl_mem t,
                         int i0, int nb, const ck_buffer *bias) {
    size_t plane = plane_of(g);
    return ocl_launch_2d(o, K_cn_to_nchw, (size_t)nb * plane, (size_t)g->c_out,
                         OCL_ARGS(OCL_CLMEM(ws), OCL_ULONG(cn_off), OCL_CLMEM(t),
                                  OCL_ULONG((size_t)i0 * g->c_out * plane), OCL_INT(nb),
                                  OCL_INT(g->c_out), OCL_INT((int)plane), OCL_OPT(o, bias),
                                  OCL_INT(bias != NULL)));
}

#define TRY(expr)                                                                          \
    do {                                                                                   \
        ck_status s_ = (expr);                                                             \
        if (s_) return s_;                                                                 \
    } while (0)

/* out = conv(in, w) + bias: per chunk, cn = W cols, then back to NCHW. */
static ck_status forward(ocl_backend *o, const geom *g, cl_mem in, cl_mem w,
                         const ck_buffer *bias, cl_mem out, cl_mem ws) {
    int chunk = chunk_of(o, g), k = (int)rows_of(g);
    for (int i0 = 0; i0 < g->batch; i0 += chunk) {
        int nb = g->batch - i0 < chunk ? g->batch - i0 : chunk;
        int n = nb * (int)plane_of(g);
        size_t cn = cn_offset(g, nb);
        TRY(im2col(o, g, in, i0, nb, ws));
        TRY(ocl_gemm(o, 0, 0, g->c_out, n, k, 1.0f, w, 0, k, ws, 0, n, 0.0f, ws, cn, n));
        TRY(from_cn(o, g, ws, cn, out, i0, nb, bias));
    }
    return CK_OK;
}

/* din = col2im(W^T dout) (+ bias: a transposed convolution's forward pass). */
static ck_status backward_data(ocl_backend *o, const geom *g, cl_mem dout, cl_mem w,
                               const ck_buffer *bias, cl_mem din, cl_mem ws) {
    int chunk = chunk_of(o, g), k = (int)rows_of(g);
    for (int i0 = 0; i0 < g->batch; i0 += chunk) {
        int nb = g->batch - i0 < chunk ? g->batch - i0 : chunk;
        int n = nb * (int)plane_of(g);
        size_t cn = cn_offset(g, nb);
        TRY(to_cn(o, g, dout, i0, nb, ws, cn));
        TRY(ocl_gemm(o, 1, 0, k, n, g->c_out, 1.0f, w, 0, k, ws, cn, n, 0.0f, ws, 0, n));
        TRY(col2im(o, g, ws, din, i0, nb, bias));
    }
    return CK_OK;
}

/* dw = sum over chunks of dout_cn cols^T. */
static ck_status backward_weights(ocl_backend *o, const geom *g, cl_mem in, cl_mem dout,
                                  cl_mem dw, cl_mem ws) {
    int chunk = chunk_of(o, g), k = (int)rows_of(g);
    for (int i0 = 0; i0 < g->batch; i0 += chunk) {
        int nb = g->batch - i0 < chunk ? g->batch - i0 : chunk;
        int n = nb * (int)plane_of(g);
        size_t cn = cn_offset(g, nb);
        TRY(im2col(o, g, in, i0, nb, ws));
        TRY(to_cn(o, g, dout, i0, nb, ws, cn));
        TRY(ocl_gemm(o, 0, 1, g->c_out, k, n, 1.0f, ws, cn, n, ws, 0, n, i0 ? 1.0f : 0.0f, dw,
                     0, k));
    }
    return CK_OK;
}

ck_status ocl_conv2d_forward(const ck_conv_shape *shape, const ck_buffer *x, const ck_buffer *w,
                             const ck_buffer *bias, ck_buffer *y, ck_buffer *ws) {
    geom g = geom_of(shape, 0);
    return forward(ocl_of(x), &g, ocl_mem(x), ocl_mem(w), bias, ocl_mem(y), ocl_mem(ws));
}

ck_status ocl_conv2d_backward_data(const ck_conv_shape *shape, const ck_buffer *dy,
                                   const ck_buffer *w, ck_buffer *dx, ck_buffer *ws) {
    geom g = geom_of(shape, 0);
    return backward_data(ocl_of(dy), &g, ocl_mem(dy), ocl_mem(w), NULL, ocl_mem(dx), ocl_mem(ws));
}

ck_status ocl_conv2d_backward_weights(const ck_conv_shape *shape, const ck_buffer *x,
                                      const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                      ck_buffer *ws) {
    geom g = geom_of(shape, 0);
    ocl_backend *o = ocl_of(x);
    TRY(backward_weights(o, &g, ocl_mem(x), ocl_mem(dy), ocl_mem(dw), ocl_mem(ws)));
    return dbias ? ocl_bias_grad(o, dy, g.batch, g.c_out, g.h_out * g.w_out, dbias) : CK_OK;
}

ck_status ocl_deconv2d_forward(const ck_conv_shape *shape, const ck_buffer *x, const ck_buffer *w,
                               const ck_buffer *bias, ck_buffer *y, ck_buffer *ws) {
    geom g = geom_of(shape, 1);
    return backward_data(ocl_of(x), &g, ocl_mem(x), ocl_mem(w), bias, ocl_mem(y), ocl_mem(ws));
}

ck_status ocl_deconv2d_backward_data(const ck_conv_shape *shape, const ck_buffer *dy,
                                     const ck_buffer *w, ck_buffer *dx, ck_buffer *ws) {
    geom g = geom_of(shape, 1);
    return forward(ocl_of(dy), &g, ocl_mem(dy), ocl_mem(w), NULL, ocl_mem(dx), ocl_mem(ws));
}

ck_status ocl_deconv2d_backward_weights(const ck_conv_shape *shape, const ck_buffer *x,
                                        const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                        ck_buffer *ws) {
    geom g = geom_of(shape, 1);
    ocl_backend *o = ocl_of(x);
    /* the matching convolution's input is dy (large side), its output gradient is x */
    TRY(backward_weights(o, &g, ocl_mem(dy), ocl_mem(x), ocl_mem(dw), ocl_mem(ws)));
    return dbias ? ocl_bias_grad(o, dy, g.batch, g.c_in, g.h_in * g.w_in, dbias) : CK_OK;
}

ck_status ocl_im2col(const ck_conv_shape *shape, const ck_buffer *x, ck_buffer *cols) {
    geom g = geom_of(shape, 0);
    return im2col(ocl_of(x), &g, ocl_mem(x), 0, g.batch, ocl_mem(cols));
}

ck_status ocl_col2im(const ck_conv_shape *shape, const ck_buffer *cols, ck_buffer *x) {
    geom g = geom_of(shape, 0);
    return col2im(ocl_of(cols), &g, ocl_mem(cols), ocl_mem(x), 0, g.batch, NULL);
}
