/*
 * convgemm.c -- the three convolution passes on CPUs with AVX-512, through one packed GEMM
 * of our own whose panels are built straight from the tensors, instead of im2col/im2row
 * buffers that OpenBLAS then packs again (engine.c keeps that path for other CPUs).
 *
 * The microkernel keeps an 8 x 32 tile of C in 16 zmm registers: per step of the inner
 * dimension it loads 32 floats of a B panel, broadcasts 8 floats of an A panel and does
 * 16 FMAs. Panels:
 *   A: 8 rows, [inner][8]     (zero rows past the matrix)
 *   B: 32 columns, [inner][32] (zero columns past the matrix)
 * and the three passes (A is the weight matrix [m, k] of engine.c, k = c k_h k_w of the
 * geometry's image, "pixels" the grid positions of a chunk of images):
 *   forward   out[m, pixels] = A x cols: A panels of A (packed once per call, shared),
 *             B panels = im2col of the chunk built straight from the images (stride 2 with
 *             4 taps: one row load per 16 outputs and permutes; narrow rows: gathers with
 *             precomputed offsets; else masked row loads), tiles accumulated over blocks
 *             of KC steps, then stored into NCHW with bias and the fused activation;
 *   data      img = col2im(A^T x in): for the reference models' geometry, column tiles
 *             (8 taps x 32 pixels) whose col2im runs in registers (data_cols_task); else
 *             row tiles (8 pixels x 32 taps) added into the images 4 floats at a time
 *             (4 x 4 kernels) or through a rows buffer and row2im;
 *   weights   dA[m, k] += in x rows: A panels = in transposed (8 channels per pixel, the
 *             channel sums, a convolution's dbias, taken on the way), B panels = im2row of
 *             the chunk (one 64-byte store per pixel and channel for 4 x 4 kernels); tiles
 *             accumulate in the thread's partial.
 * 3x3 stride-1 "same" convolutions with 16 or more channels each way (the deep family's
 * residual blocks) leave the forward and weights passes to winograd.c, which runs the same
 * microkernel on Winograd-transformed panels.
 * As in engine.c each thread owns a fixed range of images, walked in chunks of about
 * FAST_CHUNK_COLS pixels, and weight partials are summed in thread order: results depend
 * on the thread count only.
 */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CPU_FAST_CONV 1
#endif

#ifndef CPU_FAST_CONV

int cpu_fast_conv_supported(void) { return 0; }
size_t cpu_fast_conv_ws(const cpu_state *st, const cpu_geom *g, int batch, int m) {
    (void)st; (void)g; (void)batch; (void)m;
    return 0;
}
void cpu_fast_forward(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                      const float *img, const float *bias, float *out, float *ws,
                      const cpu_epilogue *ep) {
    (void)st; (void)g; (void)batch; (void)m; (void)a; (void)img; (void)bias; (void)out; (void)ws;
    (void)ep;
}
void cpu_fast_data(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                   const float *in, const float *bias, float *img, float *ws,
                   const cpu_epilogue *ep) {
    (void)st; (void)g; (void)batch; (void)m; (void)a; (void)in; (void)bias; (void)img; (void)ws;
    (void)ep;
}
void cpu_fast_weights(cpu_state *st, const cpu_geom *g, int batch, int m, const float *in,
                      const float *img, float *da, float *dsum, float *ws) {
    (void)st; (void)g; (void)batch; (void)m; (void)in; (void)img; (void)da; (void)dsum; (void)ws;
}

#else

#include <immintrin.h>

int cpu_fast_conv_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
}

/* Everything below is compiled for AVX-512 and runs only where cpu_fast_conv_supported. */
CPU_TARGET_BEGIN("avx512f,avx512vl")

#define MR CPU_FAST_MR
#define NR CPU_FAST_NR
/* Pixels per chunk (the B panels of a chunk stay in L2). */
#define FAST_CHUNK_COLS 256
/* Forward: steps of the inner dimension per block (a B block of KC x 32 stays in L1). */
#define KC 256

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }
static size_t geom_k(const cpu_geom *g) { return (size_t)g->channels * g->k_h * g->k_w; }
static size_t geom_plane(const cpu_geom *g) { return (size_t)g->out_h * g->out_w; }

static size_t chunk_images(const cpu_geom *g, int batch, int threads) {
    size_t plane = geom_plane(g);
    size_t n = plane >= FAST_CHUNK_COLS ? 1 : FAST_CHUNK_COLS / plane;
    size_t per_thread = ((size_t)batch + threads - 1) / threads;
    return n < per_thread ? n : per_thread;
}

/*
 * Workspace: per thread a slice for the largest pass, then the shared packed weights, then
 * threads - 1 partials [m, k] of the weights pass.
 *   forward: B panels [k][cap32] + C tiles [m8][cap32];  data: A panels [cap8][m] + rows [cap][k];
 *   weights: A panels [m8][cap] + B panels [k32][cap]
 */
typedef struct {
    size_t k, plane, chunk, cap, slice, shared;
} fast_sizes;

static fast_sizes sizes_of(const cpu_geom *g, int batch, int m, int threads) {
    fast_sizes z;
    z.k = geom_k(g);
    z.plane = geom_plane(g);
    z.chunk = chunk_images(g, batch, threads);
    z.cap = z.chunk * z.plane;
    size_t m8 = round_up((size_t)m, MR), k32 = round_up(z.k, NR);
    size_t fwd = (z.k + m8) * round_up(z.cap, NR);
    size_t data = round_up(z.cap, MR) * (size_t)m + z.cap * z.k;
    size_t wts = m8 * z.cap + k32 * z.cap;
    z.slice = round_up(fwd > data ? (fwd > wts ? fwd : wts) : (data > wts ? data : wts), 16);
    z.shared = round_up(m8 * z.k > k32 * (size_t)m ? m8 * z.k : k32 * (size_t)m, 16);
    return z;
}

size_t cpu_fast_conv_ws(const cpu_state *st, const cpu_geom *g, int batch, int m) {
    fast_sizes z = sizes_of(g, batch, m, st->threads);
    size_t n = (size_t)st->threads * z.slice + z.shared + (size_t)(st->threads - 1) * m * z.k;
    if (cpu_winograd_applies(g, m)) {
        size_t f = cpu_winograd_ws(st, g, m), w = cpu_winograd_weights_ws(st, g, m);
        if (f > n) n = f;
        if (w > n) n = w;
    }
    return n;
}

/* ---------------------------------------------------------------- microkernel */

#define ROW(i)                                                                             \
    do {                                                                                   \
        __m512 ai = _mm512_set1_ps(a[i]);                                                  \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                                        \
        c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                                        \
    } while (0)

/* t[8][32] (+)= sum over kc steps of a[step][8] (x) b[step][32]; rows of t ld apart. */
static void kernel_8x32(size_t kc, const float *restrict a, const float *restrict b,
                        float *restrict t, size_t ld, int accumulate) {
    __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
    if (accumulate) {
        c00 = _mm512_loadu_ps(t + 0 * ld); c01 = _mm512_loadu_ps(t + 0 * ld + 16);
        c10 = _mm512_loadu_ps(t + 1 * ld); c11 = _mm512_loadu_ps(t + 1 * ld + 16);
        c20 = _mm512_loadu_ps(t + 2 * ld); c21 = _mm512_loadu_ps(t + 2 * ld + 16);
        c30 = _mm512_loadu_ps(t + 3 * ld); c31 = _mm512_loadu_ps(t + 3 * ld + 16);
        c40 = _mm512_loadu_ps(t + 4 * ld); c41 = _mm512_loadu_ps(t + 4 * ld + 16);
        c50 = _mm512_loadu_ps(t + 5 * ld); c51 = _mm512_loadu_ps(t + 5 * ld + 16);
        c60 = _mm512_loadu_ps(t + 6 * ld); c61 = _mm512_loadu_ps(t + 6 * ld + 16);
        c70 = _mm512_loadu_ps(t + 7 * ld); c71 = _mm512_loadu_ps(t + 7 * ld + 16);
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm512_setzero_ps();
        c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = _mm512_setzero_ps();
    }
    for (size_t s = 0; s < kc; s++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5); ROW(6); ROW(7);
        a += MR;
        b += NR;
    }
    _mm512_storeu_ps(t + 0 * ld, c00); _mm512_storeu_ps(t + 0 * ld + 16, c01);
    _mm512_storeu_ps(t + 1 * ld, c10); _mm512_storeu_ps(t + 1 * ld + 16, c11);
    _mm512_storeu_ps(t + 2 * ld, c20); _mm512_storeu_ps(t + 2 * ld + 16, c21);
    _mm512_storeu_ps(t + 3 * ld, c30); _mm512_storeu_ps(t + 3 * ld + 16, c31);
    _mm512_storeu_ps(t + 4 * ld, c40); _mm512_storeu_ps(t + 4 * ld + 16, c41);
    _mm512_storeu_ps(t + 5 * ld, c50); _mm512_storeu_ps(t + 5 * ld + 16, c51);
    _mm512_storeu_ps(t + 6 * ld, c60); _mm512_storeu_ps(t + 6 * ld + 16, c61);
    _mm512_storeu_ps(t + 7 * ld, c70); _mm512_storeu_ps(t + 7 * ld + 16, c71);
}

#define ROW16(i)                                                                           \
    c##i##0 = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), b0, c##i##0)

/* The left half only: t[8][0..15] (+)= ..., for panels with at most 16 columns in use. */
static void kernel_8x16(size_t kc, const float *restrict a, const float *restrict b,
                        float *restrict t, size_t ld, int accumulate) {
    __m512 c00, c10, c20, c30, c40, c50, c60, c70;
    if (accumulate) {
        c00 = _mm512_loadu_ps(t + 0 * ld); c10 = _mm512_loadu_ps(t + 1 * ld);
        c20 = _mm512_loadu_ps(t + 2 * ld); c30 = _mm512_loadu_ps(t + 3 * ld);
        c40 = _mm512_loadu_ps(t + 4 * ld); c50 = _mm512_loadu_ps(t + 5 * ld);
        c60 = _mm512_loadu_ps(t + 6 * ld); c70 = _mm512_loadu_ps(t + 7 * ld);
    } else {
        c00 = c10 = c20 = c30 = c40 = c50 = c60 = c70 = _mm512_setzero_ps();
    }
    for (size_t s = 0; s < kc; s++) {
        __m512 b0 = _mm512_loadu_ps(b);
        ROW16(0); ROW16(1); ROW16(2); ROW16(3); ROW16(4); ROW16(5); ROW16(6); ROW16(7);
        a += MR;
        b += NR;
    }
    _mm512_storeu_ps(t + 0 * ld, c00); _mm512_storeu_ps(t + 1 * ld, c10);
    _mm512_storeu_ps(t + 2 * ld, c20); _mm512_storeu_ps(t + 3 * ld, c30);
    _mm512_storeu_ps(t + 4 * ld, c40); _mm512_storeu_ps(t + 5 * ld, c50);
    _mm512_storeu_ps(t + 6 * ld, c60); _mm512_storeu_ps(t + 7 * ld, c70);
}

/* A tile whose columns in use number cols (<= 32), rows of t ld apart. */
static void kernel(size_t kc, const float *a, const float *b, float *t, size_t ld,
                   int accumulate, size_t cols) {
    if (cols <= 16) kernel_8x16(kc, a, b, t, ld, accumulate);
    else kernel_8x32(kc, a, b, t, ld, accumulate);
}

void cpu_fast_kernel(size_t kc, const float *a, const float *b, float *t, size_t ld,
                     int accumulate, size_t cols) {
    kernel(kc, a, b, t, ld, accumulate, cols);
}

/* Lanes [lo, hi) of 16 set (empty when hi <= lo). */
static inline __mmask16 lanes(long lo, long hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/*
 * Zeroes lanes [used, 32) of rows 32-float rows of a panel (its columns past the matrix):
 * two masked stores per row (memset's start-up, once per row, cost more than the packing).
 */
static void zero_tails(float *panel, size_t rows, size_t used) {
    const __m512 z = _mm512_setzero_ps();
    const __mmask16 m0 = lanes((long)used, 16), m1 = lanes((long)used - 16, 16);
    for (size_t r = 0; r < rows; r++, panel += NR) {
        _mm512_mask_storeu_ps(panel, m0, z);
        _mm512_mask_storeu_ps(panel + 16, m1, z);
    }
}

/* ---------------------------------------------------------------- jobs */

typedef struct {
    const cpu_geom *g;
    int batch, m;
    fast_sizes z;
    size_t img_size, m8, k32;
    const float *a, *src, *img, *bias;
    float *dst, *ws, *packed;
    const cpu_epilogue *ep;
    float *partials;
    int parts;
    double *sums;  /* weights pass: per thread CPU_SCRATCH doubles of channel sums, or NULL */
} fast_job;

static void job_init(fast_job *j, cpu_state *st, const cpu_geom *g, int batch, int m, float *ws) {
    memset(j, 0, sizeof *j);
    j->g = g;
    j->batch = batch;
    j->m = m;
    j->z = sizes_of(g, batch, m, st->threads);
    j->img_size = (size_t)g->channels * g->height * g->width;
    j->m8 = round_up((size_t)m, MR);
    j->k32 = round_up(j->z.k, NR);
    j->ws = ws;
    j->packed = ws + (size_t)st->threads * j->z.slice;
    j->partials = j->packed + j->z.shared;
    j->parts = st->threads - 1;
}

/* ---------------------------------------------------------------- weight packing (shared) */

/* A panels of A [m, k]: panel p holds rows 8p..8p+7 as [k][8]; split over panels. */
static void pack_a_rows_task(void *ctx, int tid, int threads) {
    const fast_job *j = ctx;
    const size_t k = j->z.k, m = (size_t)j->m;
    size_t p0, p1;
    cpu_split(j->m8 / MR, tid, threads, &p0, &p1);
    for (size_t p = p0; p < p1; p++) {
        float *d = j->packed + p * k * MR;
        for (size_t i = 0; i < MR; i++) {
            size_t r = p * MR + i;
            if (r < m) {
                const float *s = j->a + r * k;
                for (size_t c = 0; c < k; c++) d[c * MR + i] = s[c];
            } else {
                for (size_t c = 0; c < k; c++) d[c * MR + i] = 0;
            }
        }
    }
}

/* B panels of A [m, k]: panel q holds columns 32q..32q+31 as [m][32]; split over panels. */
static void pack_a_cols_task(void *ctx, int tid, int threads) {
    const fast_job *j = ctx;
    const size_t k = j->z.k, m = (size_t)j->m;
    size_t q0, q1;
    cpu_split(j->k32 / NR, tid, threads, &q0, &q1);
    for (size_t q = q0; q < q1; q++) {
        float *d = j->packed + q * m * NR;
        size_t c0 = q * NR, n = k - c0 < NR ? k - c0 : NR;
        for (size_t r = 0; r < m; r++) {
            memcpy(d + r * NR, j->a + r * k + c0, n * sizeof *d);
            for (size_t c = n; c < NR; c++) d[r * NR + c] = 0;
        }
    }
}

/* ---------------------------------------------------------------- forward */

/*
 * dst[t] = row[(ox0 + t) * stride + q] for t < len where that column lies inside the
 * row, else 0 (row NULL: all 0). len <= 32; dst has room for len floats.
 */
static inline void gather_row(float *dst, const float *row, int width, int stride, int q,
                              int ox, int len) {
    if (!row) {
        memset(dst, 0, (size_t)len * sizeof *dst);
        return;
    }
    if (stride == 1 || stride == 2) {
        static const int even[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
        const __m512i idx = _mm512_loadu_si512(even);
        for (int t = 0; t < len; t += 16) {
            long s0 = (long)(ox + t) * stride + q; /* source of lane 0 */
            __mmask16 keep = lanes(0, len - t);
            __m512 v;
            if (stride == 1) {
                v = _mm512_maskz_loadu_ps(lanes(-s0, width - s0), row + s0);
            } else {
                __m512 lo = _mm512_maskz_loadu_ps(lanes(-s0, width - s0), row + s0);
                __m512 hi = _mm512_maskz_loadu_ps(lanes(-s0 - 16, width - s0 - 16), row + s0 + 16);
                v = _mm512_permutex2var_ps(lo, idx, hi);
            }
            _mm512_mask_storeu_ps(dst + t, keep, v);
        }
        return;
    }
    for (int t = 0; t < len; t++) {
        long s = (long)(ox + t) * stride + q;
        dst[t] = s >= 0 && s < width ? row[s] : 0.0f;
    }
}

/*
 * B panels of a chunk's columns: element (kk, pixel j of the chunk) at
 * bp[(j / 32) * k * 32 + kk * 32 + j % 32]; the unused columns of the last panel are 0.
 */
static void pack_cols(const fast_job *j, const float *images, size_t n, float *bp) {
    const cpu_geom *g = j->g;
    const size_t k = j->z.k, plane = j->z.plane, cn = n * plane, pstride = k * NR;
    const int H = g->height, W = g->width, oh = g->out_h, ow = g->out_w;
    if (cn % NR) zero_tails(bp + (cn / NR) * pstride, k, cn % NR);
    for (int c = 0; c < g->channels; c++)
        for (int ky = 0; ky < g->k_h; ky++)
            for (int kx = 0; kx < g->k_w; kx++) {
                size_t kk = ((size_t)c * g->k_h + ky) * g->k_w + kx;
                int q = kx * g->dil_w - g->pad_w;
                for (size_t i = 0; i < n; i++) {
                    const float *chan = images + i * j->img_size + (size_t)c * H * W;
                    int iy = ky * g->dil_h - g->pad_h;
                    size_t jj = i * plane;
                    for (int oy = 0; oy < oh; oy++, iy += g->stride_h) {
                        const float *row = (unsigned)iy < (unsigned)H ? chan + (size_t)iy * W : NULL;
                        /* the row's ow columns, split where they cross a panel */
                        for (int ox = 0; ox < ow;) {
                            size_t off = jj % NR;
                            int len = (int)(NR - off) < ow - ox ? (int)(NR - off) : ow - ox;
                            gather_row(bp + (jj / NR) * pstride + kk * NR + off, row, W,
                                       g->stride_w, q, ox, len);
                            ox += len;
                            jj += (size_t)len;
                        }
                    }
                }
            }
}

/*
 * Small planes (narrow output rows, where gather_row would handle a few floats per call):
 * the same panels by gathers. For each kernel tap and 16-pixel group of the plane, the
 * offsets of its pixels in a channel plane and the mask of those inside the image.
 */
#define GATHER_MAX_ENTRIES 1024 /* taps x 16-pixel groups: 64 KiB of offsets */
#define GATHER_MAX_OW 32 /* measured: gathers beat gather_row up to 32-pixel rows */

typedef struct {
    size_t groups;
    __m512i index[GATHER_MAX_ENTRIES]; /* [tap][group] */
    __mmask16 mask[GATHER_MAX_ENTRIES];
} gather_table;

/*
 * The commonest geometry (stride 2 across, 4 taps across, no dilation, output rows a
 * multiple of 16 wide): each input row is loaded once per 16 outputs and its four taps
 * made by two permutes (even and odd columns) and two lane shifts, about 0.2 instructions
 * per packed float where a gather costs one load per float.
 */
static int use_rows_s2k4(const cpu_geom *g) {
    return g->stride_w == 2 && g->k_w == 4 && g->dil_w == 1 && g->out_w % 16 == 0;
}

static void pack_cols_s2k4(const fast_job *j, const float *images, size_t n, float *bp) {
    const cpu_geom *g = j->g;
    const size_t k = j->z.k, plane = j->z.plane, pstride = k * NR;
    const size_t hw = (size_t)g->height * g->width;
    const int H = g->height, W = g->width, ow = g->out_w;
    static const int even_idx[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    static const int odd_idx[16] = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
    const __m512i even = _mm512_loadu_si512(even_idx), odd = _mm512_loadu_si512(odd_idx);
    /* plane and ow are multiples of 16, so no 16-column block crosses a panel */
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < g->channels; c++) {
            const float *chan = images + i * j->img_size + (size_t)c * hw;
            for (int ky = 0; ky < g->k_h; ky++) {
                size_t kk = ((size_t)c * g->k_h + ky) * 4;
                int iy = ky * g->dil_h - g->pad_h;
                for (int oy = 0; oy < g->out_h; oy++, iy += g->stride_h) {
                    size_t jj = i * plane + (size_t)oy * ow;
                    const float *row = (unsigned)iy < (unsigned)H ? chan + (size_t)iy * W : NULL;
                    for (int ox = 0; ox < ow; ox += 16, jj += 16) {
                        float *d = bp + (jj / NR) * pstride + kk * NR + jj % NR;
                        if (!row) {
                            __m512 z = _mm512_setzero_ps();
                            _mm512_storeu_ps(d, z);
                            _mm512_storeu_ps(d + NR, z);
                            _mm512_storeu_ps(d + 2 * NR, z);
                            _mm512_storeu_ps(d + 3 * NR, z);
                            continue;
                        }
                        long s0 = 2L * ox - g->pad_w; /* source of kx = 0, lane 0 */
                        __m512 lo = _mm512_maskz_loadu_ps(lanes(-s0, W - s0), row + s0);
                        __m512 hi = _mm512_maskz_loadu_ps(lanes(-s0 - 16, W - s0 - 16), row + s0 + 16);
                        __m512 next = _mm512_maskz_loadu_ps(lanes(-s0 - 32, W - s0 - 32) & 0x3,
                                                            row + s0 + 32);
                        __m512 k0 = _mm512_permutex2var_ps(lo, even, hi); /* row[s0 + 2t] */
                        __m512 k1 = _mm512_permutex2var_ps(lo, odd, hi);  /* row[s0 + 2t + 1] */
                        /* kx 2, 3: one column on, the last lane from row[s0 + 32], [s0 + 33] */
                        __m512 k2 = _mm512_castsi512_ps(_mm512_alignr_epi32(
                            _mm512_castps_si512(next), _mm512_castps_si512(k0), 1));
                        __m512 k3 = _mm512_castsi512_ps(_mm512_alignr_epi32(
                            _mm512_castps_si512(_mm512_permutexvar_ps(_mm512_set1_epi32(1), next)),
                            _mm512_castps_si512(k1), 1));
                        _mm512_storeu_ps(d, k0);
                        _mm512_storeu_ps(d + NR, k1);
                        _mm512_storeu_ps(d + 2 * NR, k2);
                        _mm512_storeu_ps(d + 3 * NR, k3);
                    }
                }
            }
        }
}

/*
 * Stride 1 across without dilation, output rows of at most 16 (the deep family's 3x3 and
 * 1x1 layers on 14x14 and 7x7 planes): one masked load per tap and output row yields the
 * row's values of that tap (the mask zeroes the padding), stored in one or two masked
 * stores where the row crosses a panel: about 0.1 instructions per packed float where a
 * gather costs one load per float.
 */
static int use_rows_s1(const cpu_geom *g) {
    return g->stride_w == 1 && g->dil_w == 1 && g->out_w <= 16;
}

static void pack_cols_s1(const fast_job *j, const float *images, size_t n, float *bp) {
    const cpu_geom *g = j->g;
    const size_t k = j->z.k, plane = j->z.plane, cn = n * plane, pstride = k * NR;
    const size_t hw = (size_t)g->height * g->width;
    const int H = g->height, W = g->width, ow = g->out_w;
    if (cn % NR) zero_tails(bp + (cn / NR) * pstride, k, cn % NR);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < g->channels; c++) {
            const float *chan = images + i * j->img_size + (size_t)c * hw;
            for (int ky = 0; ky < g->k_h; ky++) {
                size_t kk = ((size_t)c * g->k_h + ky) * g->k_w;
                int iy = ky * g->dil_h - g->pad_h;
                for (int oy = 0; oy < g->out_h; oy++, iy += g->stride_h) {
                    size_t jj = i * plane + (size_t)oy * ow, off = jj % NR;
                    float *d = bp + (jj / NR) * pstride + kk * NR + off;
                    /* lanes of this panel, and of the next one when the row crosses into it */
                    long first = (long)(NR - off) < ow ? (long)(NR - off) : ow;
                    __mmask16 here = lanes(0, first), there = lanes(first, ow);
                    const float *row = (unsigned)iy < (unsigned)H ? chan + (size_t)iy * W : NULL;
                    for (int kx = 0; kx < g->k_w; kx++, d += NR) {
                        long s0 = (long)kx - g->pad_w; /* source of lane 0 */
                        __m512 v = row ? _mm512_maskz_loadu_ps(lanes(-s0, W - s0), row + s0) : _mm512_setzero_ps();
                        _mm512_mask_storeu_ps(d, here, v);
                        if (first < ow) _mm512_mask_storeu_ps(d + pstride - NR, there, v);
                    }
                }
            }
        }
}

static int use_gathers(const cpu_geom *g) {
    size_t groups = (geom_plane(g) + 15) / 16;
    return g->out_w <= GATHER_MAX_OW && (size_t)g->k_h * g->k_w * groups <= GATHER_MAX_ENTRIES;
}

static void gather_table_init(const cpu_geom *g, gather_table *t) {
    const int plane = g->out_h * g->out_w, taps = g->k_h * g->k_w;
    t->groups = (size_t)(plane + 15) / 16;
    for (int tap = 0; tap < taps; tap++) {
        int ky = tap / g->k_w, kx = tap % g->k_w;
        for (int grp = 0; grp * 16 < plane; grp++) {
            int idx[16];
            unsigned mask = 0;
            for (int l = 0; l < 16; l++) {
                int p = grp * 16 + l;
                idx[l] = 0;
                if (p >= plane) continue;
                int iy = (p / g->out_w) * g->stride_h - g->pad_h + ky * g->dil_h;
                int ix = (p % g->out_w) * g->stride_w - g->pad_w + kx * g->dil_w;
                if ((unsigned)iy < (unsigned)g->height && (unsigned)ix < (unsigned)g->width) {
                    idx[l] = iy * g->width + ix;
                    mask |= 1u << l;
                }
            }
            t->index[tap * t->groups + grp] = _mm512_loadu_si512(idx);
            t->mask[tap * t->groups + grp] = (__mmask16)mask;
        }
    }
}

static void pack_cols_gather(const fast_job *j, const gather_table *t, const float *images,
                             size_t n, float *bp) {
    const cpu_geom *g = j->g;
    const size_t k = j->z.k, plane = j->z.plane, cn = n * plane, pstride = k * NR;
    const size_t hw = (size_t)g->height * g->width, taps = (size_t)g->k_h * g->k_w;
    if (cn % NR) zero_tails(bp + (cn / NR) * pstride, k, cn % NR);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < g->channels; c++) {
            const float *chan = images + i * j->img_size + (size_t)c * hw;
            for (size_t tap = 0; tap < taps; tap++) {
                size_t kk = (size_t)c * taps + tap;
                for (size_t grp = 0; grp * 16 < plane; grp++) {
                    size_t e = tap * t->groups + grp;
                    __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), t->mask[e],
                                                        t->index[e], chan, 4);
                    size_t jj = i * plane + grp * 16, off = jj % NR;
                    size_t len = plane - grp * 16 < 16 ? plane - grp * 16 : 16;
                    float *d = bp + (jj / NR) * pstride + kk * NR + off;
                    if (off + len <= NR) {
                        _mm512_mask_storeu_ps(d, lanes(0, (long)len), v);
                    } else { /* the group crosses into the next panel */
                        long first = (long)(NR - off);
                        _mm512_mask_storeu_ps(d, lanes(0, first), v);
                        _mm512_mask_storeu_ps(bp + (jj / NR + 1) * pstride + kk * NR - first,
                                              lanes(first, (long)len), v);
                    }
                }
            }
        }
}

/* Stores rows [r0, r0 + 8) (those < m) of a tile: columns [j0, j0 + cols) of the chunk. */
/*
 * A run of n <= 16 values with bias and, for ReLU (forward, or its derivative from the
 * gate), the activation in registers; other activations through cpu_epilogue_apply.
 */
static inline void store_run16(const fast_job *j, float *o, __m512 v, float bias, size_t n) {
    __mmask16 k = lanes(0, (long)n);
    v = _mm512_add_ps(v, _mm512_set1_ps(bias));
    const cpu_epilogue *ep = j->ep;
    if (ep && ep->kind == CK_ACT_RELU) {
        if (!ep->gate) {
            v = _mm512_max_ps(v, _mm512_setzero_ps());
        } else {
            __m512 g = _mm512_maskz_loadu_ps(k, ep->gate + (o - j->dst));
            v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(g, _mm512_setzero_ps(), _CMP_GT_OQ), v);
        }
        _mm512_mask_storeu_ps(o, k, v);
        return;
    }
    _mm512_mask_storeu_ps(o, k, v);
    if (ep) cpu_epilogue_apply(ep, o, (size_t)(o - j->dst), n);
}

static void store_forward_tile(const fast_job *j, const float *t, size_t r0, size_t j0,
                               size_t cols, float *out) {
    const size_t m = (size_t)j->m, plane = j->z.plane;
    size_t rows = m - r0 < MR ? m - r0 : MR;
    for (size_t s = 0; s < cols;) {
        size_t img = (j0 + s) / plane, pix = (j0 + s) % plane;
        size_t run = plane - pix < cols - s ? plane - pix : cols - s;
        for (size_t i = 0; i < rows; i++) {
            float *o = out + (img * m + r0 + i) * plane + pix;
            const float *v = t + i * NR + s;
            float bv = j->bias ? j->bias[r0 + i] : 0.0f;
            for (size_t p = 0; p < run; p += 16)
                store_run16(j, o + p, _mm512_loadu_ps(v + p), bv, run - p < 16 ? run - p : 16);
        }
        s += run;
    }
}

/*
 * Forward: per chunk, the columns' B panels, then C tiles accumulated over blocks of KC
 * steps (one B block in L1 serves every A panel), then the tiles stored with bias and
 * activation.
 */
static void forward_task(void *ctx, int tid, int threads) {
    const fast_job *j = ctx;
    const size_t k = j->z.k, plane = j->z.plane, mp = j->m8 / MR;
    float *bp = j->ws + (size_t)tid * j->z.slice;
    float *cbuf = bp + k * round_up(j->z.cap, NR);
    gather_table table;
    int rows_s2k4 = use_rows_s2k4(j->g), rows_s1 = !rows_s2k4 && use_rows_s1(j->g);
    int gathers = !rows_s2k4 && !rows_s1 && use_gathers(j->g);
    if (gathers) gather_table_init(j->g, &table);
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b += j->z.chunk) {
        size_t n = b1 - b < j->z.chunk ? b1 - b : j->z.chunk, cn = n * plane;
        size_t npan = (cn + NR - 1) / NR;
        if (rows_s2k4) pack_cols_s2k4(j, j->src + b * j->img_size, n, bp);
        else if (rows_s1) pack_cols_s1(j, j->src + b * j->img_size, n, bp);
        else if (gathers) pack_cols_gather(j, &table, j->src + b * j->img_size, n, bp);
        else pack_cols(j, j->src + b * j->img_size, n, bp);
        for (size_t k0 = 0; k0 < k; k0 += KC) {
            size_t kc = k - k0 < KC ? k - k0 : KC;
            for (size_t jp = 0; jp < npan; jp++) {
                size_t cols = cn - jp * NR < NR ? cn - jp * NR : NR;
                const float *bb = bp + jp * k * NR + k0 * NR;
                for (size_t p = 0; p < mp; p++)
                    kernel(kc, j->packed + p * k * MR + k0 * MR, bb,
                           cbuf + (jp * mp + p) * MR * NR, NR, k0 > 0, cols);
            }
        }
        float *out = j->dst + b * (size_t)j->m * plane;
        for (size_t jp = 0; jp < npan; jp++) {
            size_t cols = cn - jp * NR < NR ? cn - jp * NR : NR;
            for (size_t p = 0; p < mp; p++)
                store_forward_tile(j, cbuf + (jp * mp + p) * MR * NR, p * MR, jp * NR, cols, out);
        }
    }
}

void cpu_fast_forward(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                      const float *img, const float *bias, float *out, float *ws,
                      const cpu_epilogue *ep) {
    if (cpu_winograd_applies(g, m)) {
        cpu_winograd_forward(st, g, batch, m, a, img, bias, out, ws, ep);
        return;
    }
    if (cpu_direct3_applies(g, m)) {
        cpu_direct3_forward(st, g, batch, m, a, img, bias, out, ep);
        return;
    }
    fast_job j;
    job_init(&j, st, g, batch, m, ws);
    j.a = a;
    j.src = img;
    j.bias = bias;
    j.dst = out;
    j.ep = cpu_epilogue_none(ep) ? NULL : ep;
    cpu_pool_run(st->pool, pack_a_rows_task, &j);
    cpu_pool_run(st->pool, forward_task, &j);
}

/* ---------------------------------------------------------------- backward-data */

/*
 * A panels of a chunk's input gradient in [n, m, plane]: panel p holds pixels 8p..8p+7 as
 * [m][8]; pixels past the chunk are 0.
 */
static void pack_pixels(const fast_job *j, const float *in, size_t n, float *ap) {
    const size_t m = (size_t)j->m, plane = j->z.plane, cn = n * plane;
    if (plane % MR == 0) {
        /* channel by channel, each read once in order (reading 8 pixels of every channel
         * per panel walks planes 4 KiB apart, which share L1 sets and evict each other) */
        for (size_t img = 0; img < n; img++)
            for (size_t r = 0; r < m; r++) {
                const float *s = in + (img * m + r) * plane;
                float *d = ap + (img * plane / MR) * m * MR + r * MR;
                for (size_t x = 0; x < plane; x += MR, d += m * MR)
                    _mm256_storeu_ps(d, _mm256_loadu_ps(s + x));
            }
        if (cn % MR == 0) return;
    }
    for (size_t p = 0; p * MR < cn; p++) {
        float *d = ap + p * m * MR;
        size_t j0 = p * MR, img = j0 / plane, pix = j0 % plane;
        if (pix + MR <= plane) { /* one image: 8 contiguous pixels per channel */
            const float *s = in + img * m * plane + pix;
            for (size_t r = 0; r < m; r++) memcpy(d + r * MR, s + r * plane, MR * sizeof *d);
            continue;
        }
        for (size_t i = 0; i < MR; i++) {
            size_t jj = j0 + i;
            if (jj >= cn) {
                for (size_t r = 0; r < m; r++) d[r * MR + i] = 0;
                continue;
            }
            const float *s = in + (jj / plane) * m * plane + jj % plane;
            for (size_t r = 0; r < m; r++) d[r * MR + i] = s[r * plane];
        }
    }
}

static void add_channel_bias(const float *bias, size_t channels, size_t hw, float *img) {
    for (size_t c = 0; c < channels; c++)
        for (size_t p = 0; p < hw; p++) img[c * hw + p] += bias[c];
}

/*
 * row2im of one tile for 4 x 4 kernels without dilation: tile rows are the pixels
 * j0 .. j0 + nr - 1 of the chunk, its columns the 16 taps of channels 2q and 2q + 1 (one
 * when cols is 16); each tap row is added to the images (zeroed before) as 4 floats.
 * Odd pixels go first, then even ones, so that no add reads the 4 floats its neighbour
 * just stored (overlapping windows would stall store-to-load forwarding).
 */
static void scatter_tile_4x4(const fast_job *j, const float *t, size_t j0, size_t nr, size_t q,
                             size_t cols, float *images) {
    const cpu_geom *g = j->g;
    const size_t plane = j->z.plane, hw = (size_t)g->height * g->width;
    const int H = g->height, W = g->width;
    static const int order[MR] = {1, 3, 5, 7, 0, 2, 4, 6};
    /* the tile's pixels by increments from one division (divisions per pixel cost more
     * than the adds) */
    size_t pimg[MR];
    int poy[MR], pox[MR];
    {
        size_t img = j0 / plane, pix = j0 % plane;
        int oy = (int)(pix / (size_t)g->out_w), ox = (int)(pix % (size_t)g->out_w);
        for (size_t i = 0; i < nr; i++) {
            pimg[i] = img;
            poy[i] = oy;
            pox[i] = ox;
            if (++ox == g->out_w) {
                ox = 0;
                if (++oy == g->out_h) {
                    oy = 0;
                    img++;
                }
            }
        }
    }
    for (int o = 0; o < MR; o++) {
        size_t i = (size_t)order[o];
        if (i >= nr) continue;
        int iy0 = poy[i] * g->stride_h - g->pad_h, ix0 = pox[i] * g->stride_w - g->pad_w;
        __mmask8 mk = (__mmask8)(lanes(-ix0, W - ix0) & 0xF);
        float *img = images + pimg[i] * j->img_size;
        for (size_t h = 0; h * 16 < cols; h++) {
            float *chan = img + (2 * q + h) * hw;
            const float *v = t + i * NR + h * 16;
            for (int ky = 0; ky < 4; ky++) {
                int iy = iy0 + ky;
                if ((unsigned)iy >= (unsigned)H) continue;
                float *d = chan + (size_t)iy * W + ix0;
                if (mk == 0xF) {
                    _mm_storeu_ps(d, _mm_add_ps(_mm_loadu_ps(d), _mm_loadu_ps(v + 4 * ky)));
                } else {
                    __m128 s = _mm_add_ps(_mm_maskz_loadu_ps(mk, d), _mm_loadu_ps(v + 4 * ky));
                    _mm_mask_storeu_ps(d, mk, s);
                }
            }
        }
    }
}

static void data_task(void *ctx, int tid, int threads) {
    const fast_job *j = ctx;
    const size_t k = j->z.k, m = (size_t)j->m, plane = j->z.plane;
    const size_t hw = (size_t)j->g->height * j->g->width;
    const int fused = j->g->k_h == 4 && j->g->k_w == 4 && j->g->dil_h == 1 && j->g->dil_w == 1;
    float *ap = j->ws + (size_t)tid * j->z.slice;
    float *rows = ap + round_up(j->z.cap, MR) * m;
    float tile[MR * NR] __attribute__((aligned(64)));
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b += j->z.chunk) {
        size_t n = b1 - b < j->z.chunk ? b1 - b : j->z.chunk, cn = n * plane;
        float *images = j->dst + b * j->img_size;
        pack_pixels(j, j->src + b * m * plane, n, ap);
        if (fused) { /* tiles go straight into the zeroed images: no rows buffer */
            memset(images, 0, n * j->img_size * sizeof *images);
            for (size_t q = 0; q < j->k32 / NR; q++) {
                size_t cols = k - q * NR < NR ? k - q * NR : NR;
                const float *bq = j->packed + q * m * NR;
                for (size_t p = 0; p * MR < cn; p++) {
                    kernel(m, ap + p * m * MR, bq, tile, NR, 0, cols);
                    scatter_tile_4x4(j, tile, p * MR, cn - p * MR < MR ? cn - p * MR : MR, q,
                                     cols, images);
                }
            }
            for (size_t i = 0; i < n; i++) {
                float *img = images + i * j->img_size;
                if (j->bias) add_channel_bias(j->bias, (size_t)j->g->channels, hw, img);
                cpu_epilogue_apply(j->ep, img, (size_t)(img - j->dst), j->img_size);
            }
            continue;
        }
        for (size_t q = 0; q < j->k32 / NR; q++) {
            size_t c0 = q * NR, cols = k - c0 < NR ? k - c0 : NR;
            const float *bq = j->packed + q * m * NR;
            for (size_t p = 0; p * MR < cn; p++) {
                size_t r0 = p * MR, nr = cn - r0 < MR ? cn - r0 : MR;
                if (nr == MR && (cols == NR || cols == 16)) { /* whole tile: in place */
                    kernel(m, ap + p * m * MR, bq, rows + r0 * k + c0, k, 0, cols);
                    continue;
                }
                kernel(m, ap + p * m * MR, bq, tile, NR, 0, cols);
                for (size_t i = 0; i < nr; i++)
                    memcpy(rows + (r0 + i) * k + c0, tile + i * NR, cols * sizeof *rows);
            }
        }
        for (size_t i = 0; i < n; i++) {
            float *img = j->dst + (b + i) * j->img_size;
            cpu_row2im_image(j->g, rows + i * plane * k, k, img);
            if (j->bias) add_channel_bias(j->bias, (size_t)j->g->channels, hw, img);
            cpu_epilogue_apply(j->ep, img, (size_t)(img - j->dst), j->img_size);
        }
    }
}

/*
 * Backward-data through columns, for the reference models' geometry (4 x 4 kernel, stride 2,
 * padding 1, the image exactly twice the grid, grid rows of 8, 16 or 32, planes a multiple of
 * 32 pixels): tiles of 8 rows of
 * A^T (one channel's taps for two kernel rows) by 32 pixels (whole grid rows), so that the
 * col2im runs in registers: image row 2 oy - 1 + ky takes, at even column 2u, taps kx = 1 of
 * pixel u and kx = 3 of pixel u - 1, at odd column 2u + 1, kx = 2 of u and kx = 0 of u + 1;
 * two lane shifts, two adds and two interleaving permutes make 32 image floats, added to the
 * image as whole rows (the row-tile scatter adds 4 floats at a time).
 */
static int use_data_cols(const cpu_geom *g) {
    return g->k_h == 4 && g->k_w == 4 && g->stride_h == 2 && g->stride_w == 2 && g->pad_h == 1 &&
           g->pad_w == 1 && g->dil_h == 1 && g->dil_w == 1 && g->height == 2 * g->out_h &&
           g->width == 2 * g->out_w && (g->out_w == 8 || g->out_w == 16 || g->out_w == 32) &&
           geom_plane(g) % NR == 0; /* a tile's 32 pixels: whole grid rows of one image */
}

/* A^T panels of A [m, k]: panel p holds columns 8p..8p+7 as [m][8] (k is a multiple of 16). */
static void pack_at_task(void *ctx, int tid, int threads) {
    const fast_job *j = ctx;
    const size_t k = j->z.k, m = (size_t)j->m;
    size_t p0, p1;
    cpu_split(k / MR, tid, threads, &p0, &p1);
    for (size_t p = p0; p < p1; p++)
        for (size_t r = 0; r < m; r++)
            memcpy(j->packed + (p * m + r) * MR, j->a + r * k + p * MR, MR * sizeof(float));
}

/* d[0..15] += v. */
static inline void add_row16(float *d, __m512 v) {
    _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), v));
}

/* One lane up: lane t of the result is lane t - 1 of hi, lane 0 is lane 15 of lo. */
static inline __m512 lanes_up(__m512 hi, __m512 lo) {
    return _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), 15));
}

/* One lane down: lane t of the result is lane t + 1 of lo, lane 15 is lane 0 of hi. */
static inline __m512 lanes_down(__m512 hi, __m512 lo) {
    return _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), 1));
}

/*
 * The col2im of one tile: t rows (ky - 2h) * 4 + kx, columns the 32 pixels from grid row oy0
 * of one image; chan is the image's channel plane (zeroed before the first tile).
 */
static void col2im_tile(const cpu_geom *g, const float *t, int h, int oy0, float *chan) {
    static const int lo_idx[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
    static const int hi_idx[16] = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i lo = _mm512_loadu_si512(lo_idx), hi = _mm512_loadu_si512(hi_idx);
    const __m512 zero = _mm512_setzero_ps();
    const int ow = g->out_w, W = g->width, H = g->height;
    /* lanes that take no shifted tap: the first (E) or last (O) pixel of each grid row */
    const __mmask16 first = ow == 8 ? 0xFEFE : 0xFFFE, last = ow == 8 ? 0x7F7F : 0x7FFF;
    for (int i2 = 0; i2 < 2; i2++) {
        const int ky = 2 * h + i2;
        const float *k0 = t + (i2 * 4 + 0) * NR, *k1 = t + (i2 * 4 + 1) * NR;
        const float *k2 = t + (i2 * 4 + 2) * NR, *k3 = t + (i2 * 4 + 3) * NR;
        if (ow == 32) { /* one grid row, two zmm of pixels */
            int iy = 2 * oy0 - 1 + ky;
            if ((unsigned)iy >= (unsigned)H) continue;
            __m512 a0 = _mm512_loadu_ps(k0), a0h = _mm512_loadu_ps(k0 + 16);
            __m512 a3 = _mm512_loadu_ps(k3), a3h = _mm512_loadu_ps(k3 + 16);
            /* even columns: kx 1 of u, kx 3 of u - 1; odd: kx 2 of u, kx 0 of u + 1 */
            __m512 e0 = _mm512_add_ps(_mm512_loadu_ps(k1), lanes_up(a3, zero));
            __m512 e1 = _mm512_add_ps(_mm512_loadu_ps(k1 + 16), lanes_up(a3h, a3));
            __m512 o0 = _mm512_add_ps(_mm512_loadu_ps(k2), lanes_down(a0h, a0));
            __m512 o1 = _mm512_add_ps(_mm512_loadu_ps(k2 + 16), lanes_down(zero, a0h));
            float *d = chan + (size_t)iy * W;
            add_row16(d, _mm512_permutex2var_ps(e0, lo, o0));
            add_row16(d + 16, _mm512_permutex2var_ps(e0, hi, o0));
            add_row16(d + 32, _mm512_permutex2var_ps(e1, lo, o1));
            add_row16(d + 48, _mm512_permutex2var_ps(e1, hi, o1));
            continue;
        }
        for (int z = 0; z < 2; z++) { /* 16 pixels: one grid row of 16 or two of 8 */
            __m512 a0 = _mm512_loadu_ps(k0 + 16 * z), a3 = _mm512_loadu_ps(k3 + 16 * z);
            __m512 e = _mm512_add_ps(_mm512_loadu_ps(k1 + 16 * z),
                                     _mm512_maskz_mov_ps(first, lanes_up(a3, zero)));
            __m512 o = _mm512_add_ps(_mm512_loadu_ps(k2 + 16 * z),
                                     _mm512_maskz_mov_ps(last, lanes_down(zero, a0)));
            __m512 r0 = _mm512_permutex2var_ps(e, lo, o), r1 = _mm512_permutex2var_ps(e, hi, o);
            if (ow == 16) { /* one image row of 32 */
                int iy = 2 * (oy0 + z) - 1 + ky;
                if ((unsigned)iy >= (unsigned)H) continue;
                float *d = chan + (size_t)iy * W;
                add_row16(d, r0);
                add_row16(d + 16, r1);
            } else { /* two image rows of 16 */
                int iy = 2 * (oy0 + 2 * z) - 1 + ky;
                if ((unsigned)iy < (unsigned)H) add_row16(chan + (size_t)iy * W, r0);
                iy += 2;
                if ((unsigned)iy < (unsigned)H) add_row16(chan + (size_t)iy * W, r1);
            }
        }
    }
}

static void data_cols_task(void *ctx, int tid, int threads) {
    const fast_job *j = ctx;
    const cpu_geom *g = j->g;
    const size_t k = j->z.k, m = (size_t)j->m, plane = j->z.plane;
    const size_t hw = (size_t)g->height * g->width;
    float *bp = j->ws + (size_t)tid * j->z.slice;
    float tile[MR * NR] __attribute__((aligned(64)));
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b += j->z.chunk) {
        size_t n = b1 - b < j->z.chunk ? b1 - b : j->z.chunk, cn = n * plane;
        float *images = j->dst + b * j->img_size;
        const float *in = j->src + b * m * plane;
        /* B panels: 32 pixels of one image (plane is a multiple of 32) per step of m */
        for (size_t jp = 0; jp * NR < cn; jp++) {
            const float *s = in + (jp * NR / plane) * m * plane + (jp * NR) % plane;
            float *d = bp + jp * m * NR;
            for (size_t r = 0; r < m; r++) {
                _mm512_storeu_ps(d + r * NR, _mm512_loadu_ps(s + r * plane));
                _mm512_storeu_ps(d + r * NR + 16, _mm512_loadu_ps(s + r * plane + 16));
            }
        }
        memset(images, 0, n * j->img_size * sizeof *images);
        for (size_t p = 0; p < k / MR; p++) { /* channel p / 2, kernel rows 2 (p % 2) .. + 1 */
            size_t c = p / 2;
            for (size_t jp = 0; jp * NR < cn; jp++) {
                kernel(m, j->packed + p * m * MR, bp + jp * m * NR, tile, NR, 0, NR);
                size_t img = jp * NR / plane, pix = (jp * NR) % plane;
                col2im_tile(g, tile, (int)(p % 2), (int)(pix / (size_t)g->out_w),
                            images + img * j->img_size + c * hw);
            }
        }
        for (size_t i = 0; i < n; i++) {
            float *img = images + i * j->img_size;
            if (j->bias) add_channel_bias(j->bias, (size_t)g->channels, hw, img);
            cpu_epilogue_apply(j->ep, img, (size_t)(img - j->dst), j->img_size);
        }
    }
}

void cpu_fast_data(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                   const float *in, const float *bias, float *img, float *ws,
                   const cpu_epilogue *ep) {
    fast_job j;
    job_init(&j, st, g, batch, m, ws);
    j.a = a;
    j.src = in;
    j.bias = bias;
    j.dst = img;
    j.ep = cpu_epilogue_none(ep) ? NULL : ep;
    if (use_data_cols(g)) {
        cpu_pool_run(st->pool, pack_at_task, &j);
        cpu_pool_run(st->pool, data_cols_task, &j);
        return;
    }
    cpu_pool_run(st->pool, pack_a_cols_task, &j);
    cpu_pool_run(st->pool, data_task, &j);
}

/* ---------------------------------------------------------------- backward-weights */

/*
 * A panels of a chunk's output gradient in [n, m, plane], transposed: panel p holds
 * channels 8p..8p+7 as [pixel][8]; channels past m are 0.
 */
/*
 * o[x * 8 + i] = s[i * ld + x] for x < 16, i < 8: an 8 x 16 block transposed in registers
 * (unpacks and shuffles: about 0.5 instructions per float where the scalar loop takes two).
 */
static inline void transpose_8x16(const float *s, size_t ld, float *o) {
    __m512 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm512_loadu_ps(s + (size_t)i * ld);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);     /* per 128-bit lane: a0 b0 a1 b1 */
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]); /* a2 b2 a3 b3 */
    }
    for (int h = 0; h < 2; h++) { /* rows 4h .. 4h + 3 */
        __m512 lo = t[4 * h], hi = t[4 * h + 1], lo2 = t[4 * h + 2], hi2 = t[4 * h + 3];
        u[4 * h + 0] = _mm512_shuffle_ps(lo, lo2, 0x44); /* x = 4L:     rows 4h..4h+3 */
        u[4 * h + 1] = _mm512_shuffle_ps(lo, lo2, 0xEE); /* x = 4L + 1 */
        u[4 * h + 2] = _mm512_shuffle_ps(hi, hi2, 0x44); /* x = 4L + 2 */
        u[4 * h + 3] = _mm512_shuffle_ps(hi, hi2, 0xEE); /* x = 4L + 3 */
    }
    for (int jx = 0; jx < 4; jx++) { /* x = 4L + jx: rows 0-3 in u[jx], rows 4-7 in u[4 + jx] */
        __m512 p = _mm512_shuffle_f32x4(u[jx], u[4 + jx], 0x44); /* L0 L1 of each */
        __m512 q = _mm512_shuffle_f32x4(u[jx], u[4 + jx], 0xEE); /* L2 L3 of each */
        p = _mm512_shuffle_f32x4(p, p, 0xD8);                     /* u.L0 u4.L0 u.L1 u4.L1 */
        q = _mm512_shuffle_f32x4(q, q, 0xD8);
        _mm256_storeu_ps(o + (size_t)(0 + jx) * 8, _mm512_castps512_ps256(p));
        _mm256_storeu_ps(o + (size_t)(4 + jx) * 8, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(p), 1)));
        _mm256_storeu_ps(o + (size_t)(8 + jx) * 8, _mm512_castps512_ps256(q));
        _mm256_storeu_ps(o + (size_t)(12 + jx) * 8, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(q), 1)));
    }
}

static void pack_channels(const fast_job *j, const float *in, size_t n, float *ap,
                          double *sums) {
    const size_t m = (size_t)j->m, plane = j->z.plane, cn = n * plane;
    /* channel sums (a convolution's dbias): per image in 16 float lanes, then in double, in
     * the fixed order images then threads */
    if (sums)
        for (size_t img = 0; img < n; img++)
            for (size_t r = 0; r < m; r++) {
                sums[r] += cpu_sum_lanes(in + (img * m + r) * plane, plane);
            }
    for (size_t p = 0; p < j->m8 / MR; p++) {
        float *d = ap + p * cn * MR;
        size_t r0 = p * MR;
        if (r0 + MR <= m) {
            for (size_t img = 0; img < n; img++) {
                const float *s = in + (img * m + r0) * plane;
                float *o = d + img * plane * MR;
                size_t x = 0;
                for (; x + 16 <= plane; x += 16) transpose_8x16(s + x, plane, o + x * MR);
                for (; x < plane; x++)
                    for (size_t i = 0; i < MR; i++) o[x * MR + i] = s[i * plane + x];
            }
            continue;
        }
        for (size_t img = 0; img < n; img++) {
            float *o = d + img * plane * MR;
            for (size_t x = 0; x < plane; x++)
                for (size_t i = 0; i < MR; i++)
                    o[x * MR + i] = r0 + i < m ? in[(img * m + r0 + i) * plane + x] : 0.0f;
        }
    }
}

/*
 * pack_rows for 4 x 4 kernels (the reference models) and 3 x 3 kernels (the residual blocks
 * and latent heads) without dilation: a pixel's taps of one channel are k image rows of k,
 * gathered into one zmm by k masked 128-bit loads (3 x 3: compressed to 9 contiguous floats)
 * and written by one masked store, or two where the channel's taps cross into the next panel
 * (separate 16-byte stores, 128 bytes apart, made this the slowest part of the weights pass).
 */
static void pack_rows_small(const fast_job *j, const float *images, size_t n, float *bp, int k) {
    const cpu_geom *g = j->g;
    const size_t plane = j->z.plane, cn = n * plane, pstride = cn * NR, taps = (size_t)k * k;
    const int H = g->height, W = g->width;
    const __mmask8 row_lanes = (__mmask8)((1u << k) - 1);
    for (size_t i = 0; i < n; i++) {
        const float *image = images + i * j->img_size;
        for (int c = 0; c < g->channels; c++) {
            const float *chan = image + (size_t)c * H * W;
            size_t kk0 = (size_t)c * taps, off = kk0 % NR;
            float *base = bp + (kk0 / NR) * pstride + i * plane * NR + off;
            /* lanes of this panel, and of the next one when the taps cross into it */
            long first = (long)(NR - off) < (long)taps ? (long)(NR - off) : (long)taps;
            __mmask16 here = lanes(0, first), there = lanes(first, (long)taps);
            for (int oy = 0; oy < g->out_h; oy++) {
                int iy0 = oy * g->stride_h - g->pad_h;
                const float *rp[4];
                for (int ky = 0; ky < k; ky++)
                    rp[ky] = (unsigned)(iy0 + ky) < (unsigned)H ? chan + (size_t)(iy0 + ky) * W : NULL;
                float *d = base + (size_t)oy * g->out_w * NR;
                for (int ox = 0; ox < g->out_w; ox++, d += NR) {
                    int ix0 = ox * g->stride_w - g->pad_w;
                    __mmask8 mk = (__mmask8)(lanes(-ix0, W - ix0) & row_lanes);
                    __m128 r0 = rp[0] ? _mm_maskz_loadu_ps(mk, rp[0] + ix0) : _mm_setzero_ps();
                    __m128 r1 = rp[1] ? _mm_maskz_loadu_ps(mk, rp[1] + ix0) : _mm_setzero_ps();
                    __m128 r2 = rp[2] ? _mm_maskz_loadu_ps(mk, rp[2] + ix0) : _mm_setzero_ps();
                    __m512 v = _mm512_castps128_ps512(r0);
                    v = _mm512_insertf32x4(v, r1, 1);
                    v = _mm512_insertf32x4(v, r2, 2);
                    if (k == 4) {
                        __m128 r3 = rp[3] ? _mm_maskz_loadu_ps(mk, rp[3] + ix0) : _mm_setzero_ps();
                        v = _mm512_insertf32x4(v, r3, 3);
                    } else {
                        v = _mm512_maskz_compress_ps(0x777, v);
                    }
                    _mm512_mask_storeu_ps(d, here, v);
                    if (first < (long)taps) _mm512_mask_storeu_ps(d + pstride - NR, there, v);
                }
            }
        }
    }
}

/*
 * B panels of a chunk's rows (im2row): element (pixel j, kk) at
 * bp[(kk / 32) * cn * 32 + j * 32 + kk % 32]; columns past k are 0.
 */
static void pack_rows(const fast_job *j, const float *images, size_t n, float *bp) {
    const cpu_geom *g = j->g;
    const size_t k = j->z.k, plane = j->z.plane, cn = n * plane, pstride = cn * NR;
    const size_t H = (size_t)g->height, W = (size_t)g->width, taps = (size_t)g->k_h * g->k_w;
    if (k % NR) zero_tails(bp + (k / NR) * pstride, cn, k % NR);
    if ((g->k_h == 4 || g->k_h == 3) && g->k_w == g->k_h && g->dil_h == 1 && g->dil_w == 1) {
        pack_rows_small(j, images, n, bp, g->k_h);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const float *image = images + i * j->img_size;
        for (int c = 0; c < g->channels; c++) {
            const float *chan = image + (size_t)c * H * W;
            size_t kk0 = (size_t)c * taps;
            if (kk0 % NR + taps <= NR && g->k_h <= 32) {
                /* the channel's taps lie in one panel: im2row with rows NR apart */
                cpu_im2row_channel(g, chan, bp + (kk0 / NR) * pstride + i * plane * NR + kk0 % NR, NR);
                continue;
            }
            for (int oy = 0; oy < g->out_h; oy++)
                for (int ox = 0; ox < g->out_w; ox++) {
                    size_t jj = i * plane + (size_t)oy * g->out_w + ox, kk = kk0;
                    int iy0 = oy * g->stride_h - g->pad_h, ix0 = ox * g->stride_w - g->pad_w;
                    for (int ky = 0; ky < g->k_h; ky++)
                        for (int kx = 0; kx < g->k_w; kx++, kk++) {
                            int iy = iy0 + ky * g->dil_h, ix = ix0 + kx * g->dil_w;
                            bp[(kk / NR) * pstride + jj * NR + kk % NR] =
                                (unsigned)iy < (unsigned)H && (unsigned)ix < (unsigned)W
                                    ? chan[(size_t)iy * W + ix] : 0.0f;
                        }
                }
        }
    }
}

static void weights_task(void *ctx, int tid, int threads) {
    const fast_job *j = ctx;
    const size_t k = j->z.k, m = (size_t)j->m, plane = j->z.plane, total = m * k;
    float *ap = j->ws + (size_t)tid * j->z.slice;
    float *bp = ap + j->m8 * j->z.cap;
    float *da = tid == 0 ? j->dst : j->partials + (size_t)(tid - 1) * total;
    double *sums = j->sums ? j->sums + (size_t)tid * CPU_SCRATCH : NULL;
    float tile[MR * NR] __attribute__((aligned(64)));
    memset(da, 0, total * sizeof *da);
    if (sums) memset(sums, 0, m * sizeof *sums);
    size_t b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b += j->z.chunk) {
        size_t n = b1 - b < j->z.chunk ? b1 - b : j->z.chunk, cn = n * plane;
        pack_channels(j, j->src + b * m * plane, n, ap, sums);
        pack_rows(j, j->img + b * j->img_size, n, bp);
        for (size_t q = 0; q < j->k32 / NR; q++) {
            size_t c0 = q * NR, cols = k - c0 < NR ? k - c0 : NR;
            for (size_t p = 0; p < j->m8 / MR; p++) {
                size_t r0 = p * MR, nr = m - r0 < MR ? m - r0 : MR;
                if (nr == MR && (cols == NR || cols == 16)) { /* whole tile: in place */
                    kernel(cn, ap + p * cn * MR, bp + q * cn * NR, da + r0 * k + c0, k, 1, cols);
                    continue;
                }
                for (size_t i = 0; i < nr; i++)
                    memcpy(tile + i * NR, da + (r0 + i) * k + c0, cols * sizeof *da);
                kernel(cn, ap + p * cn * MR, bp + q * cn * NR, tile, NR, 1, cols);
                for (size_t i = 0; i < nr; i++)
                    memcpy(da + (r0 + i) * k + c0, tile + i * NR, cols * sizeof *da);
            }
        }
    }
}

/* da[i] += partial_1[i] + ... + partial_{T-1}[i], in thread order, split over elements. */
static void reduce_task(void *ctx, int tid, int threads) {
    const fast_job *j = ctx;
    const size_t total = (size_t)j->m * j->z.k;
    size_t e0, e1;
    cpu_split(total, tid, threads, &e0, &e1);
    for (int t = 0; t < j->parts; t++) {
        const float *p = j->partials + (size_t)t * total;
        for (size_t e = e0; e < e1; e++) j->dst[e] += p[e];
    }
}

void cpu_fast_weights(cpu_state *st, const cpu_geom *g, int batch, int m, const float *in,
                      const float *img, float *da, float *dsum, float *ws) {
    if (cpu_winograd_applies(g, m)) {
        cpu_winograd_weights(st, g, batch, m, in, img, da, ws);
        if (dsum) cpu_bias_grad(st, batch, m, geom_plane(g), in, dsum);
        return;
    }
    if (cpu_direct3_applies(g, m)) {
        cpu_direct3_weights(st, g, batch, m, in, img, da);
        if (dsum) cpu_bias_grad(st, batch, m, geom_plane(g), in, dsum);
        return;
    }
    fast_job j;
    job_init(&j, st, g, batch, m, ws);
    j.src = in;
    j.img = img;
    j.dst = da;
    /* channel sums ride along the packing of in when they fit the backend's scratch */
    int fused = dsum && m <= CPU_SCRATCH;
    j.sums = fused ? st->scratch : NULL;
    cpu_pool_run(st->pool, weights_task, &j);
    if (j.parts > 0) cpu_pool_run(st->pool, reduce_task, &j);
    if (fused) {
        for (int r = 0; r < m; r++) {
            double s = 0;
            for (int t = 0; t < st->threads; t++) s += st->scratch[(size_t)t * CPU_SCRATCH + r];
            dsum[r] = (float)s;
        }
    } else if (dsum) {
        cpu_bias_grad(st, batch, m, j.z.plane, in, dsum);
    }
}

CPU_TARGET_END

#endif /* CPU_FAST_CONV */
