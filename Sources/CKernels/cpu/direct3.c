/*
 * direct3.c -- 3x3 stride-1 "same" convolutions onto a few output channels (at most
 * CPU_DIRECT3_MAX_M: an inpainting model's head onto its 1 or 3 pixel means), computed
 * directly, 16 output pixels per vector.
 *
 * Through im2col and the GEMM microkernel such a layer runs its 8-row tiles three-eighths full
 * and packs nine copies of the input for three outputs: about 10 GFLOP/s, a sixth of an
 * inpainting step. Here each tap of each input row is one (masked) load shared by every output
 * channel, and the borders are masked lanes (AVX-512 masked loads do not touch the lanes they
 * leave out), so nothing is padded or packed.
 *
 * Forward: threads split the output rows of the batch. Weights: threads split the input
 * channels (each writes its own columns of da), so the sums' order does not depend on the
 * thread count.
 */
#include "cpu.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <immintrin.h>

CPU_TARGET_BEGIN("avx512f,avx512vl")

#define INLINE static inline __attribute__((always_inline))

int cpu_direct3_applies(const cpu_geom *g, int m) {
    return g->k_h == 3 && g->k_w == 3 && g->stride_h == 1 && g->stride_w == 1 && g->pad_h == 1 &&
           g->pad_w == 1 && g->dil_h == 1 && g->dil_w == 1 && g->out_h == g->height &&
           g->out_w == g->width && m >= 1 && m <= CPU_DIRECT3_MAX_M;
}

/* Lanes of the vector at column x that lie in [0, w). */
INLINE __mmask16 lanes_inside(int x, int w) {
    unsigned k = 0xFFFFu;
    if (x < 0) k = x <= -16 ? 0 : (k << -x) & 0xFFFFu;
    if (x + 16 > w) k &= w - x <= 0 ? 0 : (1u << (w - x)) - 1;
    return (__mmask16)k;
}

typedef struct {
    const cpu_geom *g;
    int batch, m;
    const float *a, *img, *bias, *dy;
    float *out;
    const cpu_epilogue *ep;
} direct3_job;

/* Output row y of one image, columns [x0, x0 + 16 NV), for M output channels. */
INLINE void forward_block(const direct3_job *j, const float *img, float *out, int y, int x0,
                          const int M, const int NV) {
    const cpu_geom *g = j->g;
    const int H = g->height, W = g->width, C = g->channels, K = 9 * C;
    __mmask16 mask[3][4], store[4];
    for (int v = 0; v < NV; v++) {
        store[v] = lanes_inside(x0 + 16 * v, W);
        for (int kx = 0; kx < 3; kx++) mask[kx][v] = lanes_inside(x0 + 16 * v + kx - 1, W);
    }
    __m512 acc[CPU_DIRECT3_MAX_M][4];
    for (int o = 0; o < M; o++)
        for (int v = 0; v < NV; v++) acc[o][v] = _mm512_set1_ps(j->bias ? j->bias[o] : 0.0f);
    for (int c = 0; c < C; c++) {
        const float *plane = img + (size_t)c * H * W;
        for (int ky = 0; ky < 3; ky++) {
            int iy = y + ky - 1;
            if (iy < 0 || iy >= H) continue;
            const float *row = plane + (size_t)iy * W + x0 - 1;
            const float *w = j->a + (size_t)c * 9 + ky * 3;
            for (int kx = 0; kx < 3; kx++) {
                __m512 x[4];
                for (int v = 0; v < NV; v++) x[v] = _mm512_maskz_loadu_ps(mask[kx][v], row + kx + 16 * v);
                for (int o = 0; o < M; o++) {
                    __m512 wo = _mm512_set1_ps(w[(size_t)o * K + kx]);
                    for (int v = 0; v < NV; v++) acc[o][v] = _mm512_fmadd_ps(wo, x[v], acc[o][v]);
                }
            }
        }
    }
    for (int o = 0; o < M; o++)
        for (int v = 0; v < NV; v++)
            _mm512_mask_storeu_ps(out + ((size_t)o * H + y) * W + x0 + 16 * v, store[v], acc[o][v]);
}

INLINE void forward_row(const direct3_job *j, const float *img, float *out, int y, const int M) {
    const int W = j->g->width;
    int x0 = 0;
    for (; x0 + 64 <= W; x0 += 64) forward_block(j, img, out, y, x0, M, 4);
    int left = W - x0;
    if (left > 32) forward_block(j, img, out, y, x0, M, 4);
    else if (left > 16) forward_block(j, img, out, y, x0, M, 2);
    else if (left > 0) forward_block(j, img, out, y, x0, M, 1);
}

static void forward_task(void *ctx, int tid, int threads) {
    const direct3_job *j = ctx;
    const cpu_geom *g = j->g;
    const size_t H = (size_t)g->height, plane = H * g->width;
    size_t r0, r1;
    cpu_split((size_t)j->batch * H, tid, threads, &r0, &r1);
    for (size_t r = r0; r < r1; r++) {
        size_t b = r / H;
        int y = (int)(r % H);
        const float *img = j->img + b * g->channels * plane;
        float *out = j->out + b * (size_t)j->m * plane;
        switch (j->m) {
        case 1: forward_row(j, img, out, y, 1); break;
        case 2: forward_row(j, img, out, y, 2); break;
        case 3: forward_row(j, img, out, y, 3); break;
        default: forward_row(j, img, out, y, 4); break;
        }
        if (j->ep)
            for (int o = 0; o < j->m; o++) {
                float *p = out + o * plane + (size_t)y * g->width;
                cpu_epilogue_apply(j->ep, p, (size_t)(p - j->out), (size_t)g->width);
            }
    }
}

void cpu_direct3_forward(cpu_state *st, const cpu_geom *g, int batch, int m, const float *a,
                         const float *img, const float *bias, float *out,
                         const cpu_epilogue *ep) {
    direct3_job j = {.g = g, .batch = batch, .m = m, .a = a, .img = img, .bias = bias, .out = out,
                     .ep = cpu_epilogue_none(ep) ? NULL : ep};
    cpu_pool_run(st->pool, forward_task, &j);
}

/* da[o][c * 9 + ky * 3 + kx] for one input channel c and one ky, summed over the batch. */
INLINE void weights_row(const direct3_job *j, int c, int ky, float *da, const int M) {
    const cpu_geom *g = j->g;
    const int H = g->height, W = g->width, C = g->channels;
    const size_t plane = (size_t)H * W;
    __m512 acc[CPU_DIRECT3_MAX_M][3];
    for (int o = 0; o < M; o++)
        for (int kx = 0; kx < 3; kx++) acc[o][kx] = _mm512_setzero_ps();
    for (int b = 0; b < j->batch; b++) {
        const float *x = j->img + ((size_t)b * C + c) * plane;
        const float *dy = j->dy + (size_t)b * M * plane;
        for (int y = 0; y < H; y++) {
            int iy = y + ky - 1;
            if (iy < 0 || iy >= H) continue;
            const float *row = x + (size_t)iy * W - 1, *drow = dy + (size_t)y * W;
            for (int x0 = 0; x0 < W; x0 += 16) {
                __mmask16 k = lanes_inside(x0, W);
                __m512 d[CPU_DIRECT3_MAX_M];
                for (int o = 0; o < M; o++) d[o] = _mm512_maskz_loadu_ps(k, drow + (size_t)o * plane + x0);
                for (int kx = 0; kx < 3; kx++) {
                    __m512 v = _mm512_maskz_loadu_ps(lanes_inside(x0 + kx - 1, W) & k, row + x0 + kx);
                    for (int o = 0; o < M; o++) acc[o][kx] = _mm512_fmadd_ps(d[o], v, acc[o][kx]);
                }
            }
        }
    }
    for (int o = 0; o < M; o++)
        for (int kx = 0; kx < 3; kx++)
            da[(size_t)o * 9 * C + (size_t)c * 9 + ky * 3 + kx] = _mm512_reduce_add_ps(acc[o][kx]);
}

static void weights_task(void *ctx, int tid, int threads) {
    const direct3_job *j = ctx;
    size_t c0, c1;
    cpu_split((size_t)j->g->channels, tid, threads, &c0, &c1);
    for (size_t c = c0; c < c1; c++)
        for (int ky = 0; ky < 3; ky++) switch (j->m) {
            case 1: weights_row(j, (int)c, ky, j->out, 1); break;
            case 2: weights_row(j, (int)c, ky, j->out, 2); break;
            case 3: weights_row(j, (int)c, ky, j->out, 3); break;
            default: weights_row(j, (int)c, ky, j->out, 4); break;
            }
}

void cpu_direct3_weights(cpu_state *st, const cpu_geom *g, int batch, int m, const float *in,
                         const float *img, float *da) {
    direct3_job j = {.g = g, .batch = batch, .m = m, .img = img, .dy = in, .out = da};
    cpu_pool_run(st->pool, weights_task, &j);
}

CPU_TARGET_END

#endif
