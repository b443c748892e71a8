/*
 * engine.c -- the three GEMM passes behind every convolution and transposed convolution.
 *
 * The batch is split into one fixed range of images per pool thread; each thread walks
 * its range in chunks of several images (about CPU_CHUNK_COLS GEMM columns), builds the
 * chunk's columns (im2col, [k, cols]) or rows (im2row.c, [cols, k]) in its own slice of
 * the workspace, where they stay in cache, and calls a 1-thread sgemm. Backward-data
 * and backward-weights always use rows (row2im is the fast adjoint); the forward pass
 * picks by shape. Weight gradients accumulate in per-thread partials (thread 0's is the
 * output itself) that are summed in thread order afterwards: results depend on the
 * thread count only, never on timing.
 *
 * Per-thread workspace slice: cols or rows [k x cap] then tmp [m x cap], cap = chunk
 * images * plane; after all slices, threads - 1 partials of [m, k].
 */
#include "cpu.h"

#include <cblas.h>
#include <string.h>

/*
 * GEMM columns per chunk. Measured on the reference models (1-thread sgemm from OpenBLAS
 * 0.3.21, SkylakeX kernels, 2 MiB L2): 192-384 columns are best and flat, 2048 costs 8-10%
 * more time, 4096 15%: the chunk's rows and the sgemm's packed panels then stay in L2.
 */
#define CPU_CHUNK_COLS 256

/* The forward pass goes through rows (im2row) when k >= this and the plane is small. */
#define CPU_ROWS_MIN_K 128
#define CPU_ROWS_MAX_PLANE 255

typedef struct {
    const cpu_geom *g;
    int batch, m;
    size_t k, plane, img_size, chunk; /* chunk: images per chunk */
    const float *a, *src, *bias;
    float *dst, *ws;
    const cpu_epilogue *ep;           /* applied to every stored value; NULL: none */
    size_t slice;                      /* floats of one thread's slice */
} conv_job;

static size_t geom_k(const cpu_geom *g) { return (size_t)g->channels * g->k_h * g->k_w; }
static size_t geom_plane(const cpu_geom *g) { return (size_t)g->out_h * g->out_w; }

/* Images per chunk for this geometry and thread count (at least one). */
static size_t chunk_images(const cpu_geom *g, int batch, int threads) {
    size_t plane = geom_plane(g);
    size_t n = plane >= CPU_CHUNK_COLS ? 1 : CPU_CHUNK_COLS / plane;
    size_t per_thread = ((size_t)batch + threads - 1) / threads;
    return n < per_thread ? n : per_thread;
}

size_t cpu_conv_ws(const cpu_state *st, const cpu_geom *g, int batch, int m) {
    if (st->fast_conv) return cpu_fast_conv_ws(st, g, batch, m);
    size_t k = geom_k(g), partials = (size_t)(st->threads - 1) * m * k;
    if (cpu_geom_is_identity(g)) return partials;
    size_t cap = chunk_images(g, batch, st->threads) * geom_plane(g);
    return (size_t)st->threads * (k + (size_t)m) * cap + partials;
}

static void job_init(conv_job *j, cpu_state *st, const cpu_geom *g, int batch, int m) {
    memset(j, 0, sizeof *j);
    j->g = g;
    j->batch = batch;
    j->m = m;
    j->k = geom_k(g);
    j->plane = geom_plane(g);
    j->img_size = (size_t)g->channels * g->height * g->width;
    j->chunk = chunk_images(g, batch, st->threads);
    j->slice = cpu_geom_is_identity(g) ? 0 : (j->k + (size_t)m) * j->chunk * j->plane;
}

/* Rows [m, n * plane] of a chunk gathered from n tensors [m, plane] spaced m * plane apart. */
static void gather(const float *src, size_t m, size_t plane, size_t n, float *dst) {
    for (size_t r = 0; r < m; r++)
        for (size_t j = 0; j < n; j++)
            memcpy(dst + (r * n + j) * plane, src + (j * m + r) * plane, plane * sizeof *dst);
}

/* ---------------------------------------------------------------- out = A x im2col(img) + bias */

/*
 * Forward: the chunk's columns [k, n * plane] (im2col), one sgemm into tmp [m, n * plane],
 * then tmp's rows are copied to the images with the bias. A chunk of one image (large
 * planes) skips tmp: the sgemm writes the image directly.
 */
static void im2col_gemm_task(void *ctx, int tid, int threads) {
    const conv_job *j = ctx;
    const size_t m = (size_t)j->m, k = j->k, plane = j->plane;
    float *cols = j->ws + (size_t)tid * j->slice, *tmp = cols + k * j->chunk * plane;
    int identity = cpu_geom_is_identity(j->g);
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b += j->chunk) {
        size_t n = b1 - b < j->chunk ? b1 - b : j->chunk, cn = n * plane;
        float *out = j->dst + b * m * plane;
        if (identity || n == 1) {
            for (size_t i = 0; i < n; i++) {
                const float *img = j->src + (b + i) * j->img_size;
                float *o = out + i * m * plane;
                if (!identity) {
                    cpu_im2col_image(j->g, img, cols, plane);
                    img = cols;
                }
                if (j->bias)
                    for (size_t r = 0; r < m; r++)
                        for (size_t p = 0; p < plane; p++) o[r * plane + p] = j->bias[r];
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)plane, (int)k,
                            1.0f, j->a, (int)k, img, (int)plane, j->bias ? 1.0f : 0.0f, o,
                            (int)plane);
                cpu_epilogue_apply(j->ep, o, (size_t)(o - j->dst), m * plane);
            }
            continue;
        }
        for (size_t i = 0; i < n; i++)
            cpu_im2col_image(j->g, j->src + (b + i) * j->img_size, cols + i * plane, cn);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)cn, (int)k, 1.0f,
                    j->a, (int)k, cols, (int)cn, 0.0f, tmp, (int)cn);
        for (size_t i = 0; i < n; i++)
            for (size_t r = 0; r < m; r++) {
                const float *t = tmp + r * cn + i * plane;
                float *o = out + (i * m + r) * plane, bv = j->bias ? j->bias[r] : 0.0f;
                for (size_t p = 0; p < plane; p++) o[p] = t[p] + bv;
                cpu_epilogue_apply(j->ep, o, (size_t)(o - j->dst), plane);
            }
    }
}

/*
 * Forward through rows: the chunk's rows [n * plane, k] (im2row), one sgemm
 * tmp [n * plane, m] = rows x A^T, then each image's block of tmp is transposed into the
 * image with the bias.
 */
static void im2row_gemm_task(void *ctx, int tid, int threads) {
    const conv_job *j = ctx;
    const size_t m = (size_t)j->m, k = j->k, plane = j->plane;
    float *rows = j->ws + (size_t)tid * j->slice, *tmp = rows + k * j->chunk * plane;
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b += j->chunk) {
        size_t n = b1 - b < j->chunk ? b1 - b : j->chunk, cn = n * plane;
        for (size_t i = 0; i < n; i++)
            cpu_im2row_image(j->g, j->src + (b + i) * j->img_size, rows + i * plane * k, k);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)cn, (int)m, (int)k, 1.0f, rows,
                    (int)k, j->a, (int)k, 0.0f, tmp, (int)m);
        for (size_t i = 0; i < n; i++) {
            float *o = j->dst + (b + i) * m * plane;
            const float *t = tmp + i * plane * m;
            for (size_t r = 0; r < m; r++) {
                float bv = j->bias ? j->bias[r] : 0.0f;
                for (size_t p = 0; p < plane; p++) o[r * plane + p] = t[p * m + r] + bv;
            }
            cpu_epilogue_apply(j->ep, o, (size_t)(o - j->dst), m * plane);
        }
    }
}

void cpu_conv_im2col_gemm(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                          const float *img, const float *bias, float *out, float *ws,
                          const cpu_epilogue *ep) {
    if (st->fast_conv) {
        cpu_fast_forward(st, g, batch, m, a, img, bias, out, ws, ep);
        return;
    }
    conv_job j;
    job_init(&j, st, g, batch, m);
    j.ep = cpu_epilogue_none(ep) ? NULL : ep;
    j.a = a;
    j.src = img;
    j.bias = bias;
    j.dst = out;
    j.ws = ws;
    /* rows pay off when the window is wide and the planes small (less per-row set-up);
     * thin layers (k = 16, 48) and large planes are faster through columns */
    int rows = !cpu_geom_is_identity(g) && geom_k(g) >= CPU_ROWS_MIN_K &&
               geom_plane(g) <= CPU_ROWS_MAX_PLANE;
    cpu_pool_run(st->pool, rows ? im2row_gemm_task : im2col_gemm_task, &j);
}

/* ---------------------------------------------------------------- img = col2im(A^T x in) + bias */

static void add_channel_bias(const float *bias, size_t channels, size_t hw, float *img) {
    for (size_t c = 0; c < channels; c++)
        for (size_t p = 0; p < hw; p++) img[c * hw + p] += bias[c];
}

/*
 * Backward-data: the chunk's input gradients gathered into tmp [m, n * plane] (a one-image
 * chunk is used in place), one sgemm rows [n * plane, k] = in^T x A, then row2im per image.
 */
static void gemm_col2im_task(void *ctx, int tid, int threads) {
    const conv_job *j = ctx;
    const size_t m = (size_t)j->m, k = j->k, plane = j->plane;
    const size_t hw = (size_t)j->g->height * j->g->width;
    float *rows = j->ws + (size_t)tid * j->slice, *tmp = rows + k * j->chunk * plane;
    int identity = cpu_geom_is_identity(j->g);
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b += j->chunk) {
        size_t n = b1 - b < j->chunk ? b1 - b : j->chunk, cn = n * plane;
        const float *in = j->src + b * m * plane;
        if (identity) {
            for (size_t i = 0; i < n; i++) {
                float *img = j->dst + (b + i) * j->img_size;
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)plane, (int)m,
                            1.0f, j->a, (int)k, in + i * m * plane, (int)plane, 0.0f, img,
                            (int)plane);
                if (j->bias) add_channel_bias(j->bias, (size_t)j->g->channels, hw, img);
                cpu_epilogue_apply(j->ep, img, (size_t)(img - j->dst), j->img_size);
            }
            continue;
        }
        const float *bmat = in;
        if (n > 1) {
            gather(in, m, plane, n, tmp);
            bmat = tmp;
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)cn, (int)k, (int)m, 1.0f, bmat,
                    (int)cn, j->a, (int)k, 0.0f, rows, (int)k);
        for (size_t i = 0; i < n; i++) {
            float *img = j->dst + (b + i) * j->img_size;
            cpu_row2im_image(j->g, rows + i * plane * k, k, img);
            if (j->bias) add_channel_bias(j->bias, (size_t)j->g->channels, hw, img);
            cpu_epilogue_apply(j->ep, img, (size_t)(img - j->dst), j->img_size);
        }
    }
}

void cpu_conv_gemm_col2im(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                          const float *in, const float *bias, float *img, float *ws,
                          const cpu_epilogue *ep) {
    if (st->fast_conv) {
        cpu_fast_data(st, g, batch, m, a, in, bias, img, ws, ep);
        return;
    }
    conv_job j;
    job_init(&j, st, g, batch, m);
    j.ep = cpu_epilogue_none(ep) ? NULL : ep;
    j.a = a;
    j.src = in;
    j.bias = bias;
    j.dst = img;
    j.ws = ws;
    cpu_pool_run(st->pool, gemm_col2im_task, &j);
}

/* ---------------------------------------------------------------- dA = sum in x im2col(img)^T */

typedef struct {
    conv_job j;
    const float *img;
    float *partials; /* parts partials [m, k] */
    int parts;       /* threads - 1 */
    size_t total;    /* m * k */
} weights_job;

/*
 * Backward-weights: the chunk's rows [n * plane, k] (im2row) and its output gradients
 * [m, n * plane] (gathered, or in place for one image), one sgemm accumulating into this
 * thread's partial dA [m, k].
 */
static void weights_task(void *ctx, int tid, int threads) {
    const weights_job *wj = ctx;
    const conv_job *j = &wj->j;
    const size_t m = (size_t)j->m, k = j->k, plane = j->plane;
    float *rows = j->ws + (size_t)tid * j->slice, *tmp = rows + k * j->chunk * plane;
    float *da = tid == 0 ? j->dst : wj->partials + (size_t)(tid - 1) * wj->total;
    int identity = cpu_geom_is_identity(j->g);
    memset(da, 0, wj->total * sizeof *da);
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b += j->chunk) {
        size_t n = b1 - b < j->chunk ? b1 - b : j->chunk, cn = n * plane;
        const float *in = j->src + b * m * plane;
        if (identity) {
            for (size_t i = 0; i < n; i++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)plane,
                            1.0f, in + i * m * plane, (int)plane,
                            wj->img + (b + i) * j->img_size, (int)plane, 1.0f, da, (int)k);
            continue;
        }
        for (size_t i = 0; i < n; i++)
            cpu_im2row_image(j->g, wj->img + (b + i) * j->img_size, rows + i * plane * k, k);
        const float *amat = in;
        if (n > 1) {
            gather(in, m, plane, n, tmp);
            amat = tmp;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)cn, 1.0f, amat,
                    (int)cn, rows, (int)k, 1.0f, da, (int)k);
    }
}

/* da[i] += partial_1[i] + ... + partial_{T-1}[i], in thread order, split over elements. */
static void reduce_task(void *ctx, int tid, int threads) {
    const weights_job *wj = ctx;
    size_t e0, e1;
    cpu_split(wj->total, tid, threads, &e0, &e1);
    float *da = wj->j.dst;
    for (int t = 0; t < wj->parts; t++) {
        const float *p = wj->partials + (size_t)t * wj->total;
        for (size_t e = e0; e < e1; e++) da[e] += p[e];
    }
}

void cpu_conv_weights(cpu_state *st, const cpu_geom *g, int batch, int m, const float *in,
                      const float *img, float *da, float *dsum, float *ws) {
    if (st->fast_conv) {
        cpu_fast_weights(st, g, batch, m, in, img, da, dsum, ws);
        return;
    }
    if (dsum) cpu_bias_grad(st, batch, m, geom_plane(g), in, dsum);
    weights_job wj;
    job_init(&wj.j, st, g, batch, m);
    wj.j.src = in;
    wj.j.dst = da;
    wj.j.ws = ws;
    wj.img = img;
    wj.total = (size_t)m * wj.j.k;
    wj.parts = st->threads - 1;
    wj.partials = ws + (size_t)st->threads * wj.j.slice;
    cpu_pool_run(st->pool, weights_task, &wj);
    if (wj.parts > 0) cpu_pool_run(st->pool, reduce_task, &wj);
}

/* ---------------------------------------------------------------- dbias */

typedef struct {
    int batch, channels;
    size_t plane;
    const float *t;
    float *dbias;
} bias_job;

static void bias_task(void *ctx, int tid, int threads) {
    const bias_job *bj = ctx;
    size_t c0, c1;
    cpu_split((size_t)bj->channels, tid, threads, &c0, &c1);
    for (size_t c = c0; c < c1; c++) {
        double s = 0;
        for (int b = 0; b < bj->batch; b++)
            s += cpu_sum_lanes(bj->t + ((size_t)b * bj->channels + c) * bj->plane, bj->plane);
        bj->dbias[c] = (float)s;
    }
}

void cpu_bias_grad(cpu_state *st, int batch, int channels, size_t plane, const float *t,
                   float *dbias) {
    bias_job bj = {batch, channels, plane, t, dbias};
    cpu_parallel(st, (size_t)batch * channels * plane, bias_task, &bj);
}
