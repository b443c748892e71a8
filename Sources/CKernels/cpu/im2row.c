/*
 * im2row.c -- the transposed column layout the convolution engine uses: one row per
 * output pixel (oy, ox) holding its receptive field (c, ky, kx) contiguously,
 * rows[p * ld + (c * k_h + ky) * k_w + kx].
 *
 * With dilation 1 the k_w taps of one kernel row are adjacent pixels of one image row, so
 * building a row is a short contiguous copy per (c, ky), and row2im (the adjoint, the weak
 * scatter pass of a convolution) adds short contiguous runs: both vectorise and neither
 * pays a per-output-row set-up, which makes them several times faster than classic
 * im2col/col2im on the small planes of deep layers. The kernel rows' offsets are computed
 * once per output row (-1: outside the image, Caffe's unsigned compare); pixels whose
 * window lies inside the image horizontally take the fast path (k_w = 4: one 16-byte
 * vector per tap row), the others test each tap.
 */
#include "cpu.h"

#include <string.h>

/* Four floats as one vector (GCC/Clang vector extension: SSE on x86, NEON on ARM). */
typedef float v4f __attribute__((vector_size(16)));

static inline void copy4(float *dst, const float *src) { memcpy(dst, src, 4 * sizeof *dst); }

/* dst[0..3] += src[0..3], unaligned, as one vector add. */
static inline void add4(float *dst, const float *src) {
    v4f a, b;
    memcpy(&a, dst, sizeof a);
    memcpy(&b, src, sizeof b);
    a += b;
    memcpy(dst, &a, sizeof a);
}

/* Kernel heights up to this use the precomputed row offsets; taller ones the plain loop. */
#define MAX_KH 32

/* off[ky] = iy * W of kernel row ky at output row oy, or -1 outside the image. */
static void row_offsets(const cpu_geom *g, int oy, long *off) {
    int iy = oy * g->stride_h - g->pad_h;
    for (int ky = 0; ky < g->k_h; ky++, iy += g->dil_h)
        off[ky] = (unsigned)iy < (unsigned)g->height ? (long)iy * g->width : -1;
}

void cpu_im2row_image(const cpu_geom *g, const float *img, float *rows, size_t ld) {
    const int W = g->width, kh = g->k_h, kw = g->k_w, dw = g->dil_w, C = g->channels;
    const size_t hw = (size_t)g->height * W;
    long off[MAX_KH];
    if (kh > MAX_KH) { /* never in practice: generic taps below handle it row by row */
        for (int oy = 0; oy < g->out_h; oy++)
            for (int ox = 0; ox < g->out_w; ox++) {
                float *d = rows + ((size_t)oy * g->out_w + ox) * ld;
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++, d++) {
                            int iy = oy * g->stride_h - g->pad_h + ky * g->dil_h;
                            int ix = ox * g->stride_w - g->pad_w + kx * dw;
                            *d = (unsigned)iy < (unsigned)g->height && (unsigned)ix < (unsigned)W
                                     ? img[c * hw + (size_t)iy * W + ix] : 0.0f;
                        }
            }
        return;
    }
    /* channel by channel: one image plane stays in L1 (planes 4 KiB apart would collide
     * in L1's sets if all channels of a pixel were read together) */
    for (int c = 0; c < C; c++)
        cpu_im2row_channel(g, img + c * hw, rows + (size_t)c * kh * kw, ld);
}

void cpu_im2row_channel(const cpu_geom *g, const float *plane, float *rows, size_t ld) {
    const int W = g->width, kh = g->k_h, kw = g->k_w, dw = g->dil_w;
    long off[MAX_KH];
    for (int oy = 0; oy < g->out_h; oy++) {
        row_offsets(g, oy, off);
        float *restrict d = rows + (size_t)oy * g->out_w * ld;
        for (int ox = 0; ox < g->out_w; ox++, d += ld) {
            const int ix0 = ox * g->stride_w - g->pad_w;
            const int inside = ix0 >= 0 && ix0 + (kw - 1) * dw < W;
            if (inside && dw == 1 && kw == 4) {
                for (int ky = 0; ky < kh; ky++) {
                    if (off[ky] >= 0) copy4(d + 4 * ky, plane + off[ky] + ix0);
                    else memset(d + 4 * ky, 0, 4 * sizeof *d);
                }
                continue;
            }
            for (int ky = 0; ky < kh; ky++) {
                float *t = d + ky * kw;
                if (off[ky] < 0) {
                    for (int kx = 0; kx < kw; kx++) t[kx] = 0;
                    continue;
                }
                const float *s = plane + off[ky];
                for (int kx = 0, ix = ix0; kx < kw; kx++, ix += dw)
                    t[kx] = (unsigned)ix < (unsigned)W ? s[ix] : 0.0f;
            }
        }
    }
}

void cpu_row2im_image(const cpu_geom *g, const float *rows, size_t ld, float *img) {
    const int W = g->width, kh = g->k_h, kw = g->k_w, dw = g->dil_w, C = g->channels;
    const size_t hw = (size_t)g->height * W;
    long off[MAX_KH];
    memset(img, 0, C * hw * sizeof *img);
    if (kh > MAX_KH) {
        for (int oy = 0; oy < g->out_h; oy++)
            for (int ox = 0; ox < g->out_w; ox++) {
                const float *d = rows + ((size_t)oy * g->out_w + ox) * ld;
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++, d++) {
                            int iy = oy * g->stride_h - g->pad_h + ky * g->dil_h;
                            int ix = ox * g->stride_w - g->pad_w + kx * dw;
                            if ((unsigned)iy < (unsigned)g->height && (unsigned)ix < (unsigned)W)
                                img[c * hw + (size_t)iy * W + ix] += *d;
                        }
            }
        return;
    }
    /* windows of neighbouring pixels overlap when kw spans more than a stride; visiting
     * the pixels of a row in phases (every step-th pixel) keeps each add clear of the
     * stores just before it, which would otherwise stall store-to-load forwarding */
    const int extent = (kw - 1) * dw + 1;
    const int step = extent > g->stride_w ? (extent + g->stride_w - 1) / g->stride_w : 1;
    for (int c = 0; c < C; c++) {
        float *plane = img + c * hw;
        for (int oy = 0; oy < g->out_h; oy++) {
            row_offsets(g, oy, off);
            const float *restrict row = rows + (size_t)oy * g->out_w * ld + (size_t)c * kh * kw;
            for (int phase = 0; phase < step; phase++)
            for (int ox = phase; ox < g->out_w; ox += step) {
                const float *restrict d = row + (size_t)ox * ld;
                const int ix0 = ox * g->stride_w - g->pad_w;
                const int inside = ix0 >= 0 && ix0 + (kw - 1) * dw < W;
                if (inside && dw == 1 && kw == 4) {
                    for (int ky = 0; ky < kh; ky++)
                        if (off[ky] >= 0) add4(plane + off[ky] + ix0, d + 4 * ky);
                    continue;
                }
                for (int ky = 0; ky < kh; ky++) {
                    if (off[ky] < 0) continue;
                    float *s = plane + off[ky];
                    const float *t = d + ky * kw;
                    for (int kx = 0, ix = ix0; kx < kw; kx++, ix += dw)
                        if ((unsigned)ix < (unsigned)W) s[ix] += t[kx];
                }
            }
        }
    }
}
