/*
 * im2col.c -- columns of one image (rows (c, ky, kx), columns (oy, ox)), and the adjoint
 * col2im.
 *
 * im2col writes each row sequentially. For each kernel column kx the valid output
 * columns form one range [ox0, ox1), computed once, so the copy loops have no bounds
 * tests; rows outside the image are caught with Caffe's unsigned compare
 * ((unsigned)iy >= height); strides 1 and 2 get loops with a constant stride, which
 * compilers vectorise.
 *
 * col2im scatters in the same order (Caffe's). These two serve ck_im2col/ck_col2im;
 * the convolution engine uses the transposed layout of im2row.c, which is faster.
 */
#include "cpu.h"

#include <string.h>

/* The output columns ox whose input column ox * stride + q lies in [0, width). */
static void valid_range(int out_w, int width, int stride, int q, int *ox0, int *ox1) {
    int lo = q >= 0 ? 0 : (-q + stride - 1) / stride;
    int hi = width - q <= 0 ? 0 : (width - q + stride - 1) / stride;
    if (hi > out_w) hi = out_w;
    if (lo > hi) lo = hi;
    *ox0 = lo;
    *ox1 = hi;
}

int cpu_geom_is_identity(const cpu_geom *g) {
    return g->k_h == 1 && g->k_w == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_h == 0 &&
           g->pad_w == 0 && g->out_h == g->height && g->out_w == g->width;
}

/* ---------------------------------------------------------------- im2col */

/* dst[ox] = row[ox * stride + q] on [ox0, ox1), zero elsewhere in [0, ow). */
static inline void gather_row(float *restrict dst, const float *restrict row, int q, int stride,
                              int ox0, int ox1, int ow) {
    for (int ox = 0; ox < ox0; ox++) dst[ox] = 0;
    if (stride == 1) {
        for (int ox = ox0; ox < ox1; ox++) dst[ox] = row[ox + q];
    } else if (stride == 2) {
        for (int ox = ox0; ox < ox1; ox++) dst[ox] = row[2 * ox + q];
    } else {
        for (int ox = ox0; ox < ox1; ox++) dst[ox] = row[ox * stride + q];
    }
    for (int ox = ox1; ox < ow; ox++) dst[ox] = 0;
}

void cpu_im2col_image(const cpu_geom *g, const float *img, float *cols, size_t ld) {
    const int H = g->height, W = g->width, oh = g->out_h, ow = g->out_w;
    for (int c = 0; c < g->channels; c++) {
        const float *plane = img + (size_t)c * H * W;
        for (int ky = 0; ky < g->k_h; ky++) {
            for (int kx = 0; kx < g->k_w; kx++) {
                float *dst = cols + ((size_t)(c * g->k_h + ky) * g->k_w + kx) * ld;
                int q = kx * g->dil_w - g->pad_w, ox0, ox1;
                valid_range(ow, W, g->stride_w, q, &ox0, &ox1);
                int iy = ky * g->dil_h - g->pad_h;
                for (int oy = 0; oy < oh; oy++, dst += ow, iy += g->stride_h) {
                    if ((unsigned)iy >= (unsigned)H) {
                        for (int ox = 0; ox < ow; ox++) dst[ox] = 0;
                        continue;
                    }
                    const float *row = plane + (size_t)iy * W;
                    gather_row(dst, row, q, g->stride_w, ox0, ox1, ow);
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- col2im */

void cpu_col2im_image(const cpu_geom *g, const float *cols, size_t ld, float *img) {
    const int H = g->height, W = g->width, oh = g->out_h, ow = g->out_w, sw = g->stride_w;
    memset(img, 0, (size_t)g->channels * H * W * sizeof *img);
    for (int c = 0; c < g->channels; c++) {
        float *plane = img + (size_t)c * H * W;
        for (int ky = 0; ky < g->k_h; ky++)
            for (int kx = 0; kx < g->k_w; kx++) {
                const float *src = cols + ((size_t)(c * g->k_h + ky) * g->k_w + kx) * ld;
                int q = kx * g->dil_w - g->pad_w, ox0, ox1;
                valid_range(ow, W, sw, q, &ox0, &ox1);
                int iy = ky * g->dil_h - g->pad_h;
                for (int oy = 0; oy < oh; oy++, src += ow, iy += g->stride_h) {
                    if ((unsigned)iy >= (unsigned)H) continue;
                    float *dst = plane + (size_t)iy * W;
                    for (int ox = ox0; ox < ox1; ox++) dst[ox * sw + q] += src[ox];
                }
            }
    }
}
