/*
 * winograd.c -- 3x3 stride-1 "same" convolutions by Winograd's minimal filtering (Lavin and
 * Gray 2016). F(m x m, 3x3) computes an m x m block of outputs from an (m + 2) x (m + 2)
 * block of inputs with (m + 2)^2 multiplications per channel pair instead of 9 m^2: 2.25x
 * fewer than the direct GEMM for F(2x2, 3x3), 4x fewer for F(4x4, 3x3). These passes are the
 * bulk of the deep family's step: its residual blocks' convolutions and, through the flipped
 * convolution of conv.c, their backward-data.
 *
 * With U = G g G^T (weights, per channel pair), V = B^T d B (an input tile) and Y = A^T M A
 * (the outputs), M at each tile position xi is one GEMM
 *   M_xi[m, tiles] = U_xi[m, c] x V_xi[c, tiles],
 * run by convgemm.c's microkernel on its panels (U_xi as A panels, V_xi as B panels).
 * Sixteen tiles are one vector, in one of two ways:
 *   image lanes (16 or more images; F(4x4, 3x3)): the same tile position in 16 images. Each
 *     group of 16 images is interleaved into padded planes [c][Hp][Wp][16], so every tap is
 *     one load; outputs go back into the images' rows through register transposes.
 *   tile lanes (the rest of the batch, and planes too large for the interleaved copy): 16
 *     consecutive tiles of the batch, numbered (image, tile row, tile column); taps are
 *     gathered (padding and tiles past the range masked to 0), outputs scattered.
 * Each thread takes a fixed share (groups of images, then tiles) and walks it in chunks whose
 * V and M stay in L2; bias and ReLU are applied on the way out, other activations in a pass
 * per image.
 *
 * Both passes take F(4x4, 3x3) where it needs fewer products than F(2x2, 3x3) (every plane
 * but those 1-2 rows or columns high). Its transforms (points 0, +-1, +-2) lose more
 * precision than the direct GEMM: measured against double sums (bench/conv_error.c), the
 * forward's largest error is 6e-6 to 7e-6 of the outputs' scale (direct GEMM 5e-7 to 8e-7)
 * and the weights pass's 3e-6 to 8e-6 (direct 3e-7), what the Winograd kernels of oneDNN and
 * cuDNN accept for training.
 * Every output comes from one tile computed the same way whatever the chunking or the lanes,
 * so the forward pass does not depend on the thread count; the weights pass (below) sums
 * per-thread partials in thread order, like convgemm.c's, so it depends on the thread count
 * only.
 */
#include "cpu.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <immintrin.h>

CPU_TARGET_BEGIN("avx512f,avx512vl")

#define MR CPU_FAST_MR
#define NR CPU_FAST_NR
/* Floats of V and M per thread per chunk (256 KiB: both stay in L2 beside the chunk's images). */
#define WINO_CHUNK_FLOATS 65536

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

/* The tile grid of F(m x m, 3x3): ceil(H / m) x ceil(W / m) tiles per image, numbered
 * (image, row, column), each reading alpha x alpha = (m + 2) x (m + 2) inputs. */
typedef struct {
    int H, W, m, alpha;
    size_t tw, per_image;
} wino_grid;

static wino_grid grid_of(const cpu_geom *g, int m) {
    wino_grid t = {g->height, g->width, m, m + 2, ((size_t)g->width + m - 1) / m, 0};
    t.per_image = ((size_t)g->height + m - 1) / m * t.tw;
    return t;
}

/* The forward pass's tile: F(4x4, 3x3) unless its partial tiles make it need more products. */
static int forward_tile(const cpu_geom *g) {
    size_t f2 = ((size_t)g->height + 1) / 2 * (((size_t)g->width + 1) / 2) * 16;
    size_t f4 = ((size_t)g->height + 3) / 4 * (((size_t)g->width + 3) / 4) * 36;
    return f4 < f2 ? 4 : 2;
}

/*
 * Asks for [p, p + n) floats in L2 before the gathers or scatters over it: their lanes hit
 * scattered cache lines that the hardware prefetchers do not foresee, so on data that is not
 * in cache they would wait on memory line by line.
 */
static void prefetch_range(const float *p, size_t n, int write) {
    const char *b = (const char *)p, *e = (const char *)(p + n);
    if (write) for (; b < e; b += 64) __builtin_prefetch(b, 1, 2);
    else for (; b < e; b += 64) __builtin_prefetch(b, 0, 2);
}

/* The images of tiles [t, t + n) of a tensor with channels planes per image, into L2. */
static void prefetch_images(const wino_grid *gr, const float *tensor, size_t channels, size_t t,
                            size_t n, int write) {
    size_t per_image = channels * (size_t)gr->H * gr->W, first = t / gr->per_image;
    size_t images = (t + n - 1) / gr->per_image + 1 - first;
    prefetch_range(tensor + first * per_image, images * per_image, write);
}

int cpu_winograd_applies(const cpu_geom *g, int m) {
    return g->k_h == 3 && g->k_w == 3 && g->stride_h == 1 && g->stride_w == 1 && g->pad_h == 1 &&
           g->pad_w == 1 && g->dil_h == 1 && g->dil_w == 1 && g->out_h == g->height &&
           g->out_w == g->width && g->channels >= 16 && m >= 16 &&
           /* gather and scatter offsets within a chunk's images fit in int32 */
           (size_t)(g->channels > m ? g->channels : m) * g->height * g->width < (1u << 28);
}

typedef struct {
    size_t c, m, m8, chunk, panels;
    int tile, n; /* F(tile x tile, 3x3); n = (tile + 2)^2 tile positions */
} wino_sizes;

static wino_sizes wino_sizes_of(const cpu_geom *g, int m) {
    wino_sizes z;
    z.c = (size_t)g->channels;
    z.m = (size_t)m;
    z.m8 = round_up(z.m, MR);
    z.tile = forward_tile(g);
    z.n = (z.tile + 2) * (z.tile + 2);
    size_t chunk = WINO_CHUNK_FLOATS / ((size_t)z.n * (z.c + z.m8)) / NR * NR;
    z.chunk = chunk < NR ? NR : chunk > 512 ? 512 : chunk;
    z.panels = z.chunk / NR;
    return z;
}

/* The image lanes' X (below): the padded plane Hp x Wp, and X's floats per thread. */
typedef struct {
    size_t hp, wp, x_floats; /* the padded plane; X's floats (0: X too large, tile lanes only) */
} lane_sizes;

/* At most this many floats of X per thread (4 MiB): beyond, the tile lanes need no X. */
#define LANES_X_MAX (1u << 20)

static lane_sizes lane_sizes_of(const cpu_geom *g) {
    lane_sizes l = {0, 0, 0};
    if (forward_tile(g) != 4) return l;
    l.hp = ((size_t)g->height + 3) / 4 * 4 + 2;
    l.wp = ((size_t)g->width + 3) / 4 * 4 + 2;
    size_t x = (size_t)g->channels * l.hp * l.wp * 16;
    l.x_floats = x <= LANES_X_MAX ? x : 0;
    return l;
}

/* Per thread V [n][panels][c][32], M [n][panels][m8/8][8][32] and X (image lanes, below);
 * then U [n][m8/8][c][8]. */
size_t cpu_winograd_ws(const cpu_state *st, const cpu_geom *g, int m) {
    wino_sizes z = wino_sizes_of(g, m);
    size_t slice = (size_t)z.n * z.chunk * (z.c + z.m8) + lane_sizes_of(g).x_floats;
    return (size_t)st->threads * slice + (size_t)z.n * z.m8 * z.c;
}

typedef struct {
    const cpu_geom *g;
    wino_sizes z;
    int batch;
    const float *a, *src, *bias;
    float *dst, *ws, *u;
    const cpu_epilogue *ep; /* NULL: none */
    int relu_inline;
    lane_sizes lanes;
} wino_job;

/* G of F(2x2, 3x3) and of F(4x4, 3x3) (interpolation points 0, 1, -1 and 0, 1, -1, 2, -2). */
static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double G4[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                {-1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};

/*
 * G g G^T and G^T dU G as one 9 x n matrix K: U_xi = sum_k g_k K[k][xi] (k = 3 p + q, xi =
 * alpha y + x, K[k][xi] = G[y][p] G[x][q]) and, for the weights pass, dg_k = sum_xi K[k][xi]
 * dU_xi. Rows padded to 48 with zeros (three vectors).
 */
static void kron_table(int tile, __m512 k[9][3]) {
    const int alpha = tile + 2;
    const double (*G)[3] = tile == 4 ? G4 : G2;
    float t[9][48] = {{0}};
    for (int p = 0; p < 3; p++)
        for (int q = 0; q < 3; q++)
            for (int y = 0; y < alpha; y++)
                for (int x = 0; x < alpha; x++) t[3 * p + q][alpha * y + x] = (float)(G[y][p] * G[x][q]);
    for (int r = 0; r < 9; r++)
        for (int v = 0; v < 3; v++) k[r][v] = _mm512_loadu_ps(t[r] + 16 * v);
}

/* U_xi = G g G^T for every channel pair, into A panels; split over the panels (8 output
 * channels), each walked by input channel so that the 8 values of a panel row are written
 * together. */
static void transform_weights_task(void *ctx, int tid, int threads) {
    const wino_job *j = ctx;
    const size_t c = j->z.c, m = j->z.m, mp = j->z.m8 / MR;
    __m512 k[9][3];
    kron_table(j->z.tile, k);
    size_t p0, p1;
    cpu_split(mp, tid, threads, &p0, &p1);
    for (size_t p = p0; p < p1; p++)
        for (size_t ci = 0; ci < c; ci++) {
            float out[MR][48];
            for (size_t rr = 0; rr < MR; rr++) {
                __m512 u[3] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
                if (p * MR + rr < m) {
                    const float *w = j->a + ((p * MR + rr) * c + ci) * 9;
                    for (int q = 0; q < 9; q++) {
                        __m512 b = _mm512_set1_ps(w[q]);
                        for (int v = 0; v < 3; v++) u[v] = _mm512_fmadd_ps(b, k[q][v], u[v]);
                    }
                }
                for (int v = 0; v < 3; v++) _mm512_storeu_ps(out[rr] + 16 * v, u[v]);
            }
            float *row = j->u + (p * c + ci) * MR;
            for (int xi = 0; xi < j->z.n; xi++)
                for (size_t rr = 0; rr < MR; rr++) row[(size_t)xi * mp * c * MR + rr] = out[rr][xi];
        }
}

/* ---------------------------------------------------------------- transforms */

/*
 * Offsets (relative to the channel plane of image image0) and masks of the alpha^2 input
 * taps (rows m ty - 1 + y, columns m tx - 1 + x) of tiles t0 + [0, 16), images image_stride
 * floats apart; taps in the padding and tiles from t_end on are masked out.
 */
static void input_taps(const wino_grid *gr, size_t t0, size_t t_end, size_t image0,
                       size_t image_stride, __m512i idx[36], __mmask16 mask[36]) {
    int base[16], oy[16], ox[16];
    __mmask16 live = 0;
    for (int l = 0; l < 16; l++) {
        size_t t = t0 + (size_t)l;
        base[l] = oy[l] = ox[l] = 0;
        if (t >= t_end) continue;
        size_t q = t % gr->per_image;
        live |= (__mmask16)(1u << l);
        base[l] = (int)((t / gr->per_image - image0) * image_stride);
        oy[l] = gr->m * (int)(q / gr->tw);
        ox[l] = gr->m * (int)(q % gr->tw);
    }
    const __m512i H = _mm512_set1_epi32(gr->H), W = _mm512_set1_epi32(gr->W), zero = _mm512_setzero_si512();
    __m512i b = _mm512_loadu_si512(base), y0 = _mm512_loadu_si512(oy), x0 = _mm512_loadu_si512(ox);
    const int a = gr->alpha;
    for (int y = 0; y < a; y++) {
        __m512i row = _mm512_add_epi32(y0, _mm512_set1_epi32(y - 1));
        __mmask16 my = live & _mm512_cmpge_epi32_mask(row, zero) & _mm512_cmplt_epi32_mask(row, H);
        __m512i rb = _mm512_add_epi32(b, _mm512_mullo_epi32(row, W));
        for (int x = 0; x < a; x++) {
            __m512i col = _mm512_add_epi32(x0, _mm512_set1_epi32(x - 1));
            mask[y * a + x] = my & _mm512_cmpge_epi32_mask(col, zero) & _mm512_cmplt_epi32_mask(col, W);
            idx[y * a + x] = _mm512_add_epi32(rb, col);
        }
    }
}

/* The same for the m x m outputs (rows m ty + y, columns m tx + x, y, x < m). */
static void output_taps(const wino_grid *gr, size_t t0, size_t t_end, size_t image0,
                        size_t image_stride, __m512i idx[16], __mmask16 mask[16]) {
    __m512i in[36];
    __mmask16 in_mask[36];
    input_taps(gr, t0, t_end, image0, image_stride, in, in_mask);
    /* output (y, x) is input tap (y + 1, x + 1), inside the image or past its last row/column */
    for (int y = 0; y < gr->m; y++)
        for (int x = 0; x < gr->m; x++) {
            idx[gr->m * y + x] = in[(y + 1) * gr->alpha + x + 1];
            mask[gr->m * y + x] = in_mask[(y + 1) * gr->alpha + x + 1];
        }
}

/* V = B^T d B of a 4x4 tile (row-major), B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
static inline void input_transform(const __m512 d[16], __m512 v[16]) {
    __m512 r[16];
    for (int x = 0; x < 4; x++) {
        r[0 + x] = _mm512_sub_ps(d[0 + x], d[8 + x]);
        r[4 + x] = _mm512_add_ps(d[4 + x], d[8 + x]);
        r[8 + x] = _mm512_sub_ps(d[8 + x], d[4 + x]);
        r[12 + x] = _mm512_sub_ps(d[4 + x], d[12 + x]);
    }
    for (int y = 0; y < 4; y++) {
        const __m512 *s = r + 4 * y;
        v[4 * y + 0] = _mm512_sub_ps(s[0], s[2]);
        v[4 * y + 1] = _mm512_add_ps(s[1], s[2]);
        v[4 * y + 2] = _mm512_sub_ps(s[2], s[1]);
        v[4 * y + 3] = _mm512_sub_ps(s[1], s[3]);
    }
}

/*
 * B^T of F(4x4, 3x3) on six values s floats apart, into o (os apart):
 * B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
 */
static inline void input_transform6(const __m512 *d, int s, __m512 *o, int os) {
    const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), five = _mm512_set1_ps(5);
    __m512 d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s];
    __m512 a = _mm512_fnmadd_ps(four, d2, d4), b = _mm512_fnmadd_ps(four, d1, d3);
    __m512 e = _mm512_sub_ps(d4, d2), f = _mm512_mul_ps(two, _mm512_sub_ps(d3, d1));
    o[0] = _mm512_fmadd_ps(four, d0, _mm512_fnmadd_ps(five, d2, d4));
    o[os] = _mm512_add_ps(a, b);
    o[2 * os] = _mm512_sub_ps(a, b);
    o[3 * os] = _mm512_add_ps(e, f);
    o[4 * os] = _mm512_sub_ps(e, f);
    o[5 * os] = _mm512_fmadd_ps(four, d1, _mm512_fnmadd_ps(five, d3, d5));
}

/* V = B^T d B of a 6x6 tile (row-major): columns, then rows. */
static inline void input_transform4(const __m512 d[36], __m512 v[36]) {
    __m512 r[36];
    for (int x = 0; x < 6; x++) input_transform6(d + x, 6, r + x, 6);
    for (int y = 0; y < 6; y++) input_transform6(r + 6 * y, 1, v + 6 * y, 1);
}

/* Y = A^T M A (2x2 from 4x4), A^T = [1 1 1 0; 0 1 -1 -1]. */
static inline void output_transform(const __m512 m[16], __m512 y[4]) {
    __m512 s[8];
    for (int x = 0; x < 4; x++) {
        s[x] = _mm512_add_ps(_mm512_add_ps(m[x], m[4 + x]), m[8 + x]);
        s[4 + x] = _mm512_sub_ps(_mm512_sub_ps(m[4 + x], m[8 + x]), m[12 + x]);
    }
    for (int h = 0; h < 2; h++) {
        const __m512 *q = s + 4 * h;
        y[2 * h] = _mm512_add_ps(_mm512_add_ps(q[0], q[1]), q[2]);
        y[2 * h + 1] = _mm512_sub_ps(_mm512_sub_ps(q[1], q[2]), q[3]);
    }
}

/* A^T of F(4x4, 3x3) on six values s apart, into four os apart:
 * A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]. */
static inline void output_transform6(const __m512 *m, int s, __m512 *o, int os) {
    __m512 p = _mm512_add_ps(m[s], m[2 * s]), q = _mm512_sub_ps(m[s], m[2 * s]);
    __m512 p2 = _mm512_add_ps(m[3 * s], m[4 * s]), q2 = _mm512_sub_ps(m[3 * s], m[4 * s]);
    o[0] = _mm512_add_ps(_mm512_add_ps(m[0], p), p2);
    o[os] = _mm512_fmadd_ps(_mm512_set1_ps(2), q2, q);
    o[2 * os] = _mm512_fmadd_ps(_mm512_set1_ps(4), p2, p);
    o[3 * os] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8), q2, q), m[5 * s]);
}

/* Y = A^T M A (4x4 from 6x6): columns, then rows. */
static inline void output_transform4(const __m512 m[36], __m512 y[16]) {
    __m512 s[24];
    for (int x = 0; x < 6; x++) output_transform6(m + x, 6, s + x, 6);
    for (int h = 0; h < 4; h++) output_transform6(s + 6 * h, 1, y + 4 * h, 1);
}

/* dM = A dY A^T (4x4 from 2x2), the adjoint of output_transform. */
static inline void output_adjoint(const __m512 dy[4], __m512 dm[16]) {
    const __m512 zero = _mm512_setzero_ps();
    __m512 r[8]; /* A dY: rows y0, y0 + y1, y0 - y1, -y1 of two columns */
    for (int x = 0; x < 2; x++) {
        r[x] = dy[x];
        r[2 + x] = _mm512_add_ps(dy[x], dy[2 + x]);
        r[4 + x] = _mm512_sub_ps(dy[x], dy[2 + x]);
        r[6 + x] = _mm512_sub_ps(zero, dy[2 + x]);
    }
    for (int y = 0; y < 4; y++) {
        __m512 a0 = r[2 * y], a1 = r[2 * y + 1];
        dm[4 * y + 0] = a0;
        dm[4 * y + 1] = _mm512_add_ps(a0, a1);
        dm[4 * y + 2] = _mm512_sub_ps(a0, a1);
        dm[4 * y + 3] = _mm512_sub_ps(zero, a1);
    }
}

/* A of F(4x4, 3x3) (6x4, the transpose of A^T) on four values s apart, into six os apart. */
static inline void output_adjoint6(const __m512 *d, int s, __m512 *o, int os) {
    __m512 d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s];
    __m512 e = _mm512_add_ps(d0, d2), f = _mm512_add_ps(d1, d3);
    __m512 g = _mm512_fmadd_ps(_mm512_set1_ps(4), d2, d0);
    __m512 h = _mm512_fmadd_ps(_mm512_set1_ps(8), d3, _mm512_add_ps(d1, d1));
    o[0] = d0;
    o[os] = _mm512_add_ps(e, f);
    o[2 * os] = _mm512_sub_ps(e, f);
    o[3 * os] = _mm512_add_ps(g, h);
    o[4 * os] = _mm512_sub_ps(g, h);
    o[5 * os] = d3;
}

/* dM = A dY A^T (6x6 from 4x4), the adjoint of output_transform4: columns, then rows. */
static inline void output_adjoint4(const __m512 dy[16], __m512 dm[36]) {
    __m512 r[24];
    for (int x = 0; x < 4; x++) output_adjoint6(dy + x, 4, r + x, 4);
    for (int y = 0; y < 6; y++) output_adjoint6(r + 4 * y, 1, dm + 6 * y, 1);
}

/* Transposes 16 rows of 16 floats in registers. */
static inline void transpose16(__m512 r[16]) {
    __m512 a[16], b[16];
    for (int i = 0; i < 8; i++) {
        a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        __m512d a0 = _mm512_castps_pd(a[i]), a1 = _mm512_castps_pd(a[i + 1]);
        __m512d a2 = _mm512_castps_pd(a[i + 2]), a3 = _mm512_castps_pd(a[i + 3]);
        b[i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
        b[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
        b[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
        b[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
    }
    /* b[i + k], 128-bit lane L: column 4L + k of rows i..i+3 */
    for (int k = 0; k < 4; k++) {
        __m512 c0 = _mm512_shuffle_f32x4(b[k], b[4 + k], 0x88), c1 = _mm512_shuffle_f32x4(b[k], b[4 + k], 0xDD);
        __m512 d0 = _mm512_shuffle_f32x4(b[8 + k], b[12 + k], 0x88), d1 = _mm512_shuffle_f32x4(b[8 + k], b[12 + k], 0xDD);
        r[k] = _mm512_shuffle_f32x4(c0, d0, 0x88);
        r[8 + k] = _mm512_shuffle_f32x4(c0, d0, 0xDD);
        r[4 + k] = _mm512_shuffle_f32x4(c1, d1, 0x88);
        r[12 + k] = _mm512_shuffle_f32x4(c1, d1, 0xDD);
    }
}

/* ---------------------------------------------------------------- forward */

/* V of tiles [t, t_end) (at most one chunk) into the thread's B panels. */
static void transform_inputs(const wino_job *j, size_t t, size_t t_end, size_t image0, float *v) {
    const wino_grid gr = grid_of(j->g, j->z.tile);
    const int n = j->z.n;
    const size_t c = j->z.c, plane = (size_t)gr.H * gr.W, per_xi = j->z.panels * c * NR;
    const float *images = j->src + image0 * c * plane;
    for (size_t t0 = t, grp = 0; t0 < t_end; t0 += 16, grp++) {
        __m512i idx[36];
        __mmask16 mask[36];
        input_taps(&gr, t0, t_end, image0, c * plane, idx, mask);
        float *out = v + (grp / 2) * c * NR + (grp % 2) * 16;
        for (size_t ci = 0; ci < c; ci++) {
            const float *p = images + ci * plane;
            __m512 d[36], vx[36];
            for (int k = 0; k < n; k++)
                d[k] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask[k], idx[k], p, 4);
            if (n == 36) input_transform4(d, vx);
            else input_transform(d, vx);
            for (int xi = 0; xi < n; xi++) _mm512_storeu_ps(out + ci * NR + (size_t)xi * per_xi, vx[xi]);
        }
    }
}

/* Y = A^T M A of tiles [t, t_end) with bias (and inline ReLU) scattered into the output. */
static void transform_outputs(const wino_job *j, size_t t, size_t t_end, size_t image0,
                              const float *mbuf) {
    const wino_grid gr = grid_of(j->g, j->z.tile);
    const int n = j->z.n, outputs = gr.m * gr.m;
    const size_t m = j->z.m, mp = j->z.m8 / MR, plane = (size_t)gr.H * gr.W;
    const size_t per_xi = j->z.panels * mp * MR * NR;
    float *outs = j->dst + image0 * m * plane;
    const float *gates = j->relu_inline && j->ep->gate ? j->ep->gate + image0 * m * plane : NULL;
    for (size_t t0 = t, grp = 0; t0 < t_end; t0 += 16, grp++) {
        __m512i idx[16];
        __mmask16 mask[16];
        output_taps(&gr, t0, t_end, image0, m * plane, idx, mask);
        const float *in = mbuf + (grp / 2) * mp * MR * NR + (grp % 2) * 16;
        for (size_t r = 0; r < m; r++) {
            const float *p = in + (r / MR) * MR * NR + (r % MR) * NR;
            __m512 mx[36], y[16];
            for (int xi = 0; xi < n; xi++) mx[xi] = _mm512_loadu_ps(p + (size_t)xi * per_xi);
            if (n == 36) output_transform4(mx, y);
            else output_transform(mx, y);
            __m512 bv = _mm512_set1_ps(j->bias ? j->bias[r] : 0.0f);
            float *o = outs + r * plane;
            for (int k = 0; k < outputs; k++) {
                __m512 v = _mm512_add_ps(y[k], bv);
                if (j->relu_inline) {
                    if (gates) {
                        __m512 gv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask[k], idx[k],
                                                             gates + r * plane, 4);
                        v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(gv, _mm512_setzero_ps(), _CMP_GT_OQ), v);
                    } else {
                        v = _mm512_max_ps(v, _mm512_setzero_ps());
                    }
                }
                _mm512_mask_i32scatter_ps(o, mask[k], idx[k], v, 4);
            }
        }
    }
}

/* M_xi = U_xi x V_xi for the n tiles (columns) of a chunk, every tile position xi. */
static void chunk_products(const wino_job *j, size_t n, const float *v, float *mbuf) {
    const wino_sizes *z = &j->z;
    const size_t c = z->c, mp = z->m8 / MR, npan = (n + NR - 1) / NR;
    for (int xi = 0; xi < z->n; xi++) {
        const float *u = j->u + (size_t)xi * mp * c * MR;
        const float *vx = v + (size_t)xi * z->panels * c * NR;
        float *mx = mbuf + (size_t)xi * z->panels * mp * MR * NR;
        for (size_t jp = 0; jp < npan; jp++) {
            size_t cols = n - jp * NR < NR ? n - jp * NR : NR;
            for (size_t p = 0; p < mp; p++)
                cpu_fast_kernel(c, u + p * c * MR, vx + jp * c * NR, mx + (jp * mp + p) * MR * NR, NR, 0,
                                cols);
        }
    }
}

/* ---------------------------------------------------------------- image lanes */

/*
 * With 16 or more images, F(4x4, 3x3) takes 16 images per vector instead of 16 tiles: each
 * group of 16 images is first interleaved into X [c][Hp][Wp][16] (the padded planes, Hp =
 * 4 ceil(H / 4) + 2, the border zero), so one tap of a tile position in all 16 images is one
 * load, and the outputs of a tile position are transposed in registers back into the
 * images' rows: no gathers or scatters. A chunk is an even number of tile positions (its
 * panel columns: 16 images at one position, then 16 at the next). Each tile is computed by
 * the same arithmetic as with tile lanes, so the results do not depend on the lanes either.
 */
/* A lane buffer [channels][hp][wp][16]: the planes (H x W) of 16 images at row and column
 * offset pad, the rest zero. */
typedef struct {
    size_t channels, H, W, hp, wp, pad;
} lane_buffer;

/* What lies outside the planes to 0, once per task (the interleaving writes only inside). */
static void zero_border(const lane_buffer *b, float *x) {
    const size_t row = b->wp * 16, right = b->W + b->pad;
    for (size_t ci = 0; ci < b->channels; ci++)
        for (size_t y = 0; y < b->hp; y++) {
            float *r = x + (ci * b->hp + y) * row;
            if (y < b->pad || y >= b->H + b->pad) {
                memset(r, 0, row * sizeof *r);
            } else {
                memset(r, 0, b->pad * 16 * sizeof *r);
                memset(r + right * 16, 0, (b->wp - right) * 16 * sizeof *r);
            }
        }
}

/* The 16 images from src on (NCHW) into the buffer: 16 pixels of 16 images per transpose. */
static void interleave_images(const lane_buffer *b, const float *src, float *x) {
    const size_t plane = b->H * b->W, image = b->channels * plane;
    for (size_t ci = 0; ci < b->channels; ci++) {
        const float *s = src + ci * plane;
        float *xc = x + ci * b->hp * b->wp * 16;
        for (size_t q0 = 0; q0 < plane; q0 += 16) {
            size_t count = plane - q0 < 16 ? plane - q0 : 16;
            __mmask16 live = (__mmask16)((1u << count) - 1);
            __m512 r[16];
            for (int i = 0; i < 16; i++) r[i] = _mm512_maskz_loadu_ps(live, s + (size_t)i * image + q0);
            transpose16(r);
            for (size_t k = 0, y = q0 / b->W, xx = q0 % b->W; k < count; k++) {
                _mm512_storeu_ps(xc + ((y + b->pad) * b->wp + xx + b->pad) * 16, r[k]);
                if (++xx == b->W) xx = 0, y++;
            }
        }
    }
}

/* The forward's input lanes: X, padded by 1. */
static lane_buffer input_lanes(const cpu_geom *g, const lane_sizes *l) {
    lane_buffer b = {(size_t)g->channels, (size_t)g->height, (size_t)g->width, l->hp, l->wp, 1};
    return b;
}

/* The 6x6 input taps of tile position (ty, tx) of channel ci in X, for all 16 images. */
static inline void lane_taps(const float *x, const lane_sizes *l, size_t ci, size_t ty, size_t tx,
                             __m512 d[36]) {
    const size_t row = l->wp * 16;
    const float *base = x + ci * l->hp * row + 4 * ty * row + 4 * tx * 16;
    for (int y = 0; y < 6; y++)
        for (int k = 0; k < 6; k++) d[6 * y + k] = _mm512_loadu_ps(base + y * row + k * 16);
}

/* V of tile positions [p0, p0 + np) of the group in X, into the thread's B panels. */
static void lane_inputs(const wino_job *j, const wino_grid *gr, const lane_sizes *l,
                        const float *x, size_t p0, size_t np, float *v) {
    const size_t c = j->z.c, per_xi = j->z.panels * c * NR;
    for (size_t p = 0; p < np; p++) {
        size_t ty = (p0 + p) / gr->tw, tx = (p0 + p) % gr->tw;
        float *out = v + (p / 2) * c * NR + (p % 2) * 16;
        for (size_t ci = 0; ci < c; ci++) {
            __m512 d[36], vx[36];
            lane_taps(x, l, ci, ty, tx, d);
            input_transform4(d, vx);
            for (int xi = 0; xi < 36; xi++) _mm512_storeu_ps(out + ci * NR + (size_t)xi * per_xi, vx[xi]);
        }
    }
}

/* One image's 4x4 outputs v (row-major) at o, rows and columns past the plane left out,
 * zeroed where the gate (if any) is not positive. */
static inline void store_tile_rows(float *o, const float *gate, size_t W, __m512 v, int rows,
                                   __mmask8 cols) {
    const __m128 q[4] = {_mm512_castps512_ps128(v), _mm512_extractf32x4_ps(v, 1),
                         _mm512_extractf32x4_ps(v, 2), _mm512_extractf32x4_ps(v, 3)};
    for (int a = 0; a < rows; a++) {
        __m128 w = q[a];
        if (gate) {
            __m128 gv = _mm_maskz_loadu_ps(cols, gate + (size_t)a * W);
            w = _mm_maskz_mov_ps(_mm_cmp_ps_mask(gv, _mm_setzero_ps(), _CMP_GT_OQ), w);
        }
        _mm_mask_storeu_ps(o + (size_t)a * W, cols, w);
    }
}

/* Y = A^T M A of tile positions [p0, p0 + np) of images image0 + [0, 16), bias (and ReLU)
 * applied, into the output. */
static void lane_outputs(const wino_job *j, const wino_grid *gr, size_t image0, size_t p0,
                         size_t np, const float *mbuf) {
    const size_t m = j->z.m, mp = j->z.m8 / MR, W = (size_t)gr->W, plane = (size_t)gr->H * W;
    const size_t per_xi = j->z.panels * mp * MR * NR;
    const float *gates = j->relu_inline && j->ep->gate ? j->ep->gate : NULL;
    for (size_t p = 0; p < np; p++) {
        size_t ty = (p0 + p) / gr->tw, tx = (p0 + p) % gr->tw;
        int rows = gr->H - 4 * (int)ty < 4 ? gr->H - 4 * (int)ty : 4;
        int ncols = gr->W - 4 * (int)tx < 4 ? gr->W - 4 * (int)tx : 4;
        __mmask8 cols = (__mmask8)((1u << ncols) - 1);
        const float *in = mbuf + (p / 2) * mp * MR * NR + (p % 2) * 16;
        for (size_t r = 0; r < m; r++) {
            const float *q = in + (r / MR) * MR * NR + (r % MR) * NR;
            __m512 mx[36], y[16];
            for (int xi = 0; xi < 36; xi++) mx[xi] = _mm512_loadu_ps(q + (size_t)xi * per_xi);
            output_transform4(mx, y);
            __m512 bv = _mm512_set1_ps(j->bias ? j->bias[r] : 0.0f);
            for (int k = 0; k < 16; k++) {
                y[k] = _mm512_add_ps(y[k], bv);
                if (j->relu_inline && !gates) y[k] = _mm512_max_ps(y[k], _mm512_setzero_ps());
            }
            transpose16(y); /* y[i]: image i's 4x4 outputs */
            size_t at = r * plane + 4 * ty * W + 4 * tx;
            for (size_t i = 0; i < 16; i++) {
                size_t off = (image0 + i) * m * plane + at;
                store_tile_rows(j->dst + off, gates ? gates + off : NULL, W, y[i], rows, cols);
            }
        }
    }
}

/* ---------------------------------------------------------------- forward */

/*
 * A thread's share: whole groups of 16 images by image lanes where they apply, then its
 * share of the remaining tiles (all of them otherwise) by tile lanes, in chunks.
 */
static void forward_task(void *ctx, int tid, int threads) {
    const wino_job *j = ctx;
    const wino_sizes *z = &j->z;
    const size_t c = z->c;
    float *v = j->ws + (size_t)tid * (z->n * z->chunk * (c + z->m8) + j->lanes.x_floats);
    float *mbuf = v + z->n * z->chunk * c, *x = mbuf + z->n * z->chunk * z->m8;
    const wino_grid gr = grid_of(j->g, z->tile);
    size_t groups = j->lanes.x_floats ? (size_t)j->batch / 16 : 0, g0, g1;
    cpu_split(groups, tid, threads, &g0, &g1);
    const lane_buffer xb = input_lanes(j->g, &j->lanes);
    if (g1 > g0) zero_border(&xb, x);
    for (size_t grp = g0; grp < g1; grp++) {
        interleave_images(&xb, j->src + 16 * grp * c * xb.H * xb.W, x);
        for (size_t p0 = 0, per = z->chunk / 16; p0 < gr.per_image; p0 += per) {
            size_t np = gr.per_image - p0 < per ? gr.per_image - p0 : per;
            lane_inputs(j, &gr, &j->lanes, x, p0, np, v);
            chunk_products(j, 16 * np, v, mbuf);
            lane_outputs(j, &gr, 16 * grp, p0, np, mbuf);
        }
    }
    size_t t_first = groups * 16 * gr.per_image, t_begin, t_end;
    cpu_split((size_t)j->batch * gr.per_image - t_first, tid, threads, &t_begin, &t_end);
    for (size_t t = t_first + t_begin; t < t_first + t_end; t += z->chunk) {
        size_t n = t_first + t_end - t < z->chunk ? t_first + t_end - t : z->chunk;
        size_t image0 = t / gr.per_image;
        prefetch_images(&gr, j->src, c, t, n, 0);
        prefetch_images(&gr, j->dst, z->m, t, n, 1);
        transform_inputs(j, t, t + n, image0, v);
        chunk_products(j, n, v, mbuf);
        transform_outputs(j, t, t + n, image0, mbuf);
    }
}

/* Activations other than ReLU, over whole images after every tile is stored. */
static void epilogue_task(void *ctx, int tid, int threads) {
    const wino_job *j = ctx;
    size_t per_image = j->z.m * (size_t)j->g->height * j->g->width, b0, b1;
    cpu_split((size_t)j->batch, tid, threads, &b0, &b1);
    if (b1 > b0) cpu_epilogue_apply(j->ep, j->dst + b0 * per_image, b0 * per_image, (b1 - b0) * per_image);
}

void cpu_winograd_forward(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                          const float *img, const float *bias, float *out, float *ws,
                          const cpu_epilogue *ep) {
    wino_job j = {.g = g, .z = wino_sizes_of(g, m), .batch = batch, .a = a, .src = img,
                  .bias = bias, .dst = out, .ws = ws};
    j.lanes = lane_sizes_of(g);
    j.u = ws + (size_t)st->threads * (j.z.n * j.z.chunk * (j.z.c + j.z.m8) + j.lanes.x_floats);
    j.ep = cpu_epilogue_none(ep) ? NULL : ep;
    j.relu_inline = j.ep && j.ep->kind == CK_ACT_RELU;
    cpu_pool_run(st->pool, transform_weights_task, &j);
    cpu_pool_run(st->pool, forward_task, &j);
    if (j.ep && !j.relu_inline) cpu_pool_run(st->pool, epilogue_task, &j);
}

/* ---------------------------------------------------------------- weights pass */

/*
 * dA = G^T dU G with dU_xi[m, c] = sum over tiles of dM_xi[m, tile] V_xi[c, tile], where
 * dM = A dY A^T is the adjoint transform of a tile's output gradient (0 past the image) and
 * V the forward's input transform, with the forward's tile. Here the tiles are the GEMM's
 * inner dimension: the transforms run as in the forward pass (16 tiles per vector, tile or
 * image lanes; dY interleaved like X, unpadded) for 16 channels, then each 16 x 16 block is
 * transposed in registers into the panels, dM as A panels [tiles][8] and V as B panels
 * [tiles][32]. Each thread accumulates dU over its tiles; the partials are summed in thread
 * order.
 */
typedef struct {
    size_t c, m, m16, c32, chunk, du, slice;
    int tile, n;
    lane_sizes lanes;
    size_t dy_floats; /* the image lanes' dY buffer per thread */
} wgrad_sizes;

static wgrad_sizes wgrad_sizes_of(const cpu_geom *g, int m) {
    wgrad_sizes z;
    z.c = (size_t)g->channels;
    z.m = (size_t)m;
    z.m16 = round_up(z.m, 16);
    z.c32 = round_up(z.c, NR);
    z.tile = forward_tile(g);
    z.n = (z.tile + 2) * (z.tile + 2);
    size_t chunk = 2 * WINO_CHUNK_FLOATS / ((size_t)z.n * (z.c32 + z.m16)) / 16 * 16;
    z.chunk = chunk < 16 ? 16 : chunk > 512 ? 512 : chunk;
    z.du = (size_t)z.n * z.m16 * z.c32;
    z.lanes = lane_sizes_of(g);
    z.dy_floats = z.lanes.x_floats ? z.m * (z.lanes.hp - 2) * (z.lanes.wp - 2) * 16 : 0;
    z.slice = (size_t)z.n * z.chunk * (z.c32 + z.m16) + z.du + z.lanes.x_floats + z.dy_floats;
    return z;
}

size_t cpu_winograd_weights_ws(const cpu_state *st, const cpu_geom *g, int m) {
    return (size_t)st->threads * wgrad_sizes_of(g, m).slice;
}

typedef struct {
    const cpu_geom *g;
    wgrad_sizes z;
    int batch;
    const float *dy, *x;
    float *da, *ws;
} wgrad_job;

/* Thread tid's slice of the workspace: V panels, dM panels, its dU partial [n][m16][c32],
 * then the image lanes' X and dY. */
static float *wgrad_slice(const wgrad_job *j, int tid) { return j->ws + (size_t)tid * j->z.slice; }
static float *wgrad_partial(const wgrad_job *j, int tid) {
    return wgrad_slice(j, tid) + (size_t)j->z.n * j->z.chunk * (j->z.c32 + j->z.m16);
}

/* dY's lanes: 4x4 output tiles, unpadded. */
static lane_buffer gradient_lanes(const cpu_geom *g, const wgrad_sizes *z) {
    lane_buffer b = {z->m, (size_t)g->height, (size_t)g->width, z->lanes.hp - 2, z->lanes.wp - 2, 0};
    return b;
}

/* The n transforms of 16 channels' 16-tile vectors (block[xi][channel]), transposed into
 * panels of width w at o: rows of tiles, xi_stride floats apart. */
static void store_block(__m512 block[36][16], int n, float *o, size_t w, size_t xi_stride,
                        size_t half) {
    for (int xi = 0; xi < n; xi++) {
        transpose16(block[xi]);
        float *d = o + (size_t)xi * xi_stride;
        for (int l = 0; l < 16; l++) {
            if (w == NR) {
                _mm512_storeu_ps(d + (size_t)l * w, block[xi][l]);
            } else { /* two A panels of 8: channels 0-7 and 8-15, half floats apart */
                _mm256_storeu_ps(d + (size_t)l * w, _mm512_castps512_ps256(block[xi][l]));
                _mm256_storeu_ps(d + half + (size_t)l * w,
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(block[xi][l]), 1)));
            }
        }
    }
}

/* V of a chunk's tiles [t, t_end) (tile lanes) into B panels [c32 / 32][chunk][32] per xi. */
static void wgrad_inputs(const wgrad_job *j, const wino_grid *gr, size_t t, size_t t_end,
                         size_t image0, float *vbuf) {
    const int n = j->z.n;
    const size_t c = j->z.c, plane = (size_t)gr->H * gr->W, v_xi = j->z.c32 * j->z.chunk;
    const float *images = j->x + image0 * c * plane;
    for (size_t t0 = t; t0 < t_end; t0 += 16) {
        __m512i idx[36];
        __mmask16 mask[36];
        input_taps(gr, t0, t_end, image0, c * plane, idx, mask);
        for (size_t c0 = 0; c0 < c; c0 += 16) {
            __m512 block[36][16]; /* [xi][channel]: 16 tiles each */
            for (size_t i = 0; i < 16; i++) {
                __m512 d[36], v[36];
                for (int k = 0; k < n; k++)
                    d[k] = c0 + i < c ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask[k], idx[k],
                                                                 images + (c0 + i) * plane, 4)
                                      : _mm512_setzero_ps();
                if (n == 36) input_transform4(d, v);
                else input_transform(d, v);
                for (int xi = 0; xi < n; xi++) block[xi][i] = v[xi];
            }
            store_block(block, n, vbuf + (c0 / NR) * j->z.chunk * NR + (t0 - t) * NR + c0 % NR, NR, v_xi, 0);
        }
    }
}

/* dM of a chunk's tiles (tile lanes) into A panels [m16 / 8][chunk][8] per xi. */
static void wgrad_outputs(const wgrad_job *j, const wino_grid *gr, size_t t, size_t t_end,
                          size_t image0, float *mbuf) {
    const int n = j->z.n, outputs = gr->m * gr->m;
    const size_t m = j->z.m, plane = (size_t)gr->H * gr->W, m_xi = j->z.m16 * j->z.chunk;
    const float *grads = j->dy + image0 * m * plane;
    for (size_t t0 = t; t0 < t_end; t0 += 16) {
        __m512i idx[16];
        __mmask16 mask[16];
        output_taps(gr, t0, t_end, image0, m * plane, idx, mask);
        for (size_t c0 = 0; c0 < j->z.m16; c0 += 16) {
            __m512 block[36][16];
            for (size_t i = 0; i < 16; i++) {
                __m512 dy[16], dm[36];
                for (int k = 0; k < outputs; k++)
                    dy[k] = c0 + i < m ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask[k], idx[k],
                                                                  grads + (c0 + i) * plane, 4)
                                       : _mm512_setzero_ps();
                if (n == 36) output_adjoint4(dy, dm);
                else output_adjoint(dy, dm);
                for (int xi = 0; xi < n; xi++) block[xi][i] = dm[xi];
            }
            store_block(block, n, mbuf + (c0 / MR) * j->z.chunk * MR + (t0 - t) * MR, MR, m_xi,
                        j->z.chunk * MR);
        }
    }
}

/* V of tile positions [p0, p0 + np) of a group in X (image lanes), tile p * 16 + image. */
static void wgrad_lane_inputs(const wgrad_job *j, const wino_grid *gr, const float *x, size_t p0,
                              size_t np, float *vbuf) {
    const size_t c = j->z.c, v_xi = j->z.c32 * j->z.chunk;
    for (size_t p = 0; p < np; p++) {
        size_t ty = (p0 + p) / gr->tw, tx = (p0 + p) % gr->tw;
        for (size_t c0 = 0; c0 < c; c0 += 16) {
            __m512 block[36][16];
            for (size_t i = 0; i < 16; i++) {
                __m512 d[36], v[36];
                if (c0 + i < c) {
                    lane_taps(x, &j->z.lanes, c0 + i, ty, tx, d);
                    input_transform4(d, v);
                }
                for (int xi = 0; xi < 36; xi++) block[xi][i] = c0 + i < c ? v[xi] : _mm512_setzero_ps();
            }
            store_block(block, 36, vbuf + (c0 / NR) * j->z.chunk * NR + p * 16 * NR + c0 % NR, NR, v_xi, 0);
        }
    }
}

/* dM of tile positions [p0, p0 + np) of a group in the dY buffer (image lanes). */
static void wgrad_lane_outputs(const wgrad_job *j, const wino_grid *gr, const lane_buffer *b,
                               const float *dyb, size_t p0, size_t np, float *mbuf) {
    const size_t m = j->z.m, m_xi = j->z.m16 * j->z.chunk, row = b->wp * 16;
    for (size_t p = 0; p < np; p++) {
        size_t ty = (p0 + p) / gr->tw, tx = (p0 + p) % gr->tw;
        for (size_t c0 = 0; c0 < j->z.m16; c0 += 16) {
            __m512 block[36][16];
            for (size_t i = 0; i < 16; i++) {
                __m512 dy[16], dm[36];
                const float *base = dyb + (c0 + i) * b->hp * row + 4 * ty * row + 4 * tx * 16;
                for (int y = 0; y < 4; y++)
                    for (int k = 0; k < 4; k++)
                        dy[4 * y + k] = c0 + i < m ? _mm512_loadu_ps(base + y * row + k * 16) : _mm512_setzero_ps();
                output_adjoint4(dy, dm);
                for (int xi = 0; xi < 36; xi++) block[xi][i] = dm[xi];
            }
            store_block(block, 36, mbuf + (c0 / MR) * j->z.chunk * MR + p * 16 * MR, MR, m_xi,
                        j->z.chunk * MR);
        }
    }
}

/* du (+)= dM x V^T over the chunk's n tiles, every tile position xi. */
static void wgrad_products(const wgrad_job *j, size_t n, const float *mbuf, const float *vbuf,
                           float *du) {
    const wgrad_sizes *z = &j->z;
    for (int xi = 0; xi < z->n; xi++) {
        const float *a = mbuf + (size_t)xi * z->m16 * z->chunk, *b = vbuf + (size_t)xi * z->c32 * z->chunk;
        float *d = du + (size_t)xi * z->m16 * z->c32;
        for (size_t q = 0; q < z->c32 / NR; q++) {
            size_t cols = z->c - q * NR < NR ? z->c - q * NR : NR;
            for (size_t p = 0; p < z->m16 / MR; p++)
                cpu_fast_kernel(n, a + p * z->chunk * MR, b + q * z->chunk * NR,
                                d + p * MR * z->c32 + q * NR, z->c32, 1, cols);
        }
    }
}

/* A thread's share: whole groups of 16 images by image lanes where they apply, then its share
 * of the remaining tiles by tile lanes. */
static void wgrad_task(void *ctx, int tid, int threads) {
    const wgrad_job *j = ctx;
    const wgrad_sizes *z = &j->z;
    const wino_grid gr = grid_of(j->g, z->tile);
    float *vbuf = wgrad_slice(j, tid);
    float *mbuf = vbuf + (size_t)z->n * z->chunk * z->c32;
    float *du = wgrad_partial(j, tid), *x = du + z->du, *dyb = x + z->lanes.x_floats;
    memset(du, 0, z->du * sizeof *du);
    size_t groups = z->lanes.x_floats ? (size_t)j->batch / 16 : 0, g0, g1;
    cpu_split(groups, tid, threads, &g0, &g1);
    const lane_buffer xb = input_lanes(j->g, &z->lanes), db = gradient_lanes(j->g, z);
    if (g1 > g0) zero_border(&xb, x), zero_border(&db, dyb);
    for (size_t grp = g0; grp < g1; grp++) {
        interleave_images(&xb, j->x + 16 * grp * z->c * xb.H * xb.W, x);
        interleave_images(&db, j->dy + 16 * grp * z->m * db.H * db.W, dyb);
        for (size_t p0 = 0, per = z->chunk / 16; p0 < gr.per_image; p0 += per) {
            size_t np = gr.per_image - p0 < per ? gr.per_image - p0 : per;
            wgrad_lane_inputs(j, &gr, x, p0, np, vbuf);
            wgrad_lane_outputs(j, &gr, &db, dyb, p0, np, mbuf);
            wgrad_products(j, 16 * np, mbuf, vbuf, du);
        }
    }
    size_t t_first = groups * 16 * gr.per_image, t_begin, t_end;
    cpu_split((size_t)j->batch * gr.per_image - t_first, tid, threads, &t_begin, &t_end);
    for (size_t t = t_first + t_begin; t < t_first + t_end; t += z->chunk) {
        size_t n = t_first + t_end - t < z->chunk ? t_first + t_end - t : z->chunk, image0 = t / gr.per_image;
        prefetch_images(&gr, j->x, z->c, t, n, 0);
        prefetch_images(&gr, j->dy, z->m, t, n, 0);
        wgrad_inputs(j, &gr, t, t + n, image0, vbuf);
        wgrad_outputs(j, &gr, t, t + n, image0, mbuf);
        wgrad_products(j, n, mbuf, vbuf, du);
    }
}

/* dA = G^T (sum of the threads' dU, in thread order) G, 16 input channels per vector; split
 * over output channels. */
static void wgrad_finish_task(void *ctx, int tid, int threads) {
    const wgrad_job *j = ctx;
    const wgrad_sizes *z = &j->z;
    __m512 k[9][3];
    kron_table(z->tile, k);
    float kt[9][48];
    for (int q = 0; q < 9; q++)
        for (int v = 0; v < 3; v++) _mm512_storeu_ps(kt[q] + 16 * v, k[q][v]);
    size_t r0, r1;
    cpu_split(z->m, tid, threads, &r0, &r1);
    for (size_t r = r0; r < r1; r++)
        for (size_t c0 = 0; c0 < z->c; c0 += 16) {
            size_t lanes = z->c - c0 < 16 ? z->c - c0 : 16;
            __mmask16 live = (__mmask16)((1u << lanes) - 1);
            __m512 dg[9];
            for (int q = 0; q < 9; q++) dg[q] = _mm512_setzero_ps();
            for (int xi = 0; xi < z->n; xi++) {
                size_t at = ((size_t)xi * z->m16 + r) * z->c32 + c0;
                __m512 du = _mm512_setzero_ps();
                for (int t = 0; t < threads; t++) du = _mm512_add_ps(du, _mm512_maskz_loadu_ps(live, wgrad_partial(j, t) + at));
                for (int q = 0; q < 9; q++) dg[q] = _mm512_fmadd_ps(_mm512_set1_ps(kt[q][xi]), du, dg[q]);
            }
            float out[9][16];
            for (int q = 0; q < 9; q++) _mm512_storeu_ps(out[q], dg[q]);
            float *w = j->da + (r * z->c + c0) * 9;
            for (size_t l = 0; l < lanes; l++)
                for (int q = 0; q < 9; q++) w[9 * l + q] = out[q][l];
        }
}

void cpu_winograd_weights(cpu_state *st, const cpu_geom *g, int batch, int m, const float *in,
                          const float *img, float *da, float *ws) {
    wgrad_job j = {.g = g, .z = wgrad_sizes_of(g, m), .batch = batch, .dy = in, .x = img,
                   .da = da, .ws = ws};
    cpu_pool_run(st->pool, wgrad_task, &j);
    cpu_pool_run(st->pool, wgrad_finish_task, &j);
}

CPU_TARGET_END

#endif
