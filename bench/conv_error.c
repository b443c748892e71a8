/*
 * conv_error.c -- how far the CPU backend's 3x3 "same" convolution (forward and weights
 * pass) is from sums in double: largest error against the largest reference value, and the
 * forward's rms error. Inputs uniform in [-1, 1], weights scaled by 1/sqrt(9 c) (unit-scale
 * outputs), output gradients uniform in [-1, 1]. With CK_CONV_ENGINE=blas the same shape runs
 * through im2col and OpenBLAS (the direct GEMM), for comparison with Winograd's transforms.
 *
 *   cmake -S . -B build && cmake --build build --target ckernels_static
 *   cc -O2 -I Sources/CKernels/include bench/conv_error.c build/libckernels.a -lopenblas -lm -lpthread -ldl -o /tmp/conv_error
 *   /tmp/conv_error BATCH C_IN C_OUT SIZE          e.g. 32 64 64 7
 */
#include "ckernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float uniform(void) { return (float)rand() / RAND_MAX * 2 - 1; }

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: conv_error BATCH C_IN C_OUT SIZE\n");
        return 2;
    }
    int batch = atoi(argv[1]), c = atoi(argv[2]), m = atoi(argv[3]), h = atoi(argv[4]);
    ck_backend *be;
    if (ck_backend_open("cpu", 1, &be) != CK_OK) return 1;
    ck_conv_shape s = ck_conv_shape_make(batch, c, h, h, m, 3, 3);
    s.pad_h = s.pad_w = 1;
    size_t nx = (size_t)batch * c * h * h, nw = (size_t)m * c * 9, ny = (size_t)batch * m * h * h, nws;
    if (ck_conv_workspace(be, &s, 0, &nws) != CK_OK) return 1;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *y = malloc(ny * 4), *dy = malloc(ny * 4), *dw = malloc(nw * 4);
    srand(1);
    for (size_t i = 0; i < nx; i++) x[i] = uniform();
    for (size_t i = 0; i < nw; i++) w[i] = uniform() / sqrtf(9.0f * c);
    for (size_t i = 0; i < ny; i++) dy[i] = uniform();
    ck_buffer *bx, *bw, *by, *bws, *bdy, *bdw, *bdb;
    ck_buffer_new(be, nx, &bx), ck_buffer_new(be, nw, &bw), ck_buffer_new(be, ny, &by);
    ck_buffer_new(be, nws + 1, &bws), ck_buffer_new(be, ny, &bdy), ck_buffer_new(be, nw, &bdw);
    ck_buffer_new(be, (size_t)m, &bdb);
    ck_buffer_write(bx, 0, nx, x), ck_buffer_write(bw, 0, nw, w), ck_buffer_write(bdy, 0, ny, dy);
    if (ck_conv2d_forward(&s, bx, bw, NULL, by, bws) != CK_OK ||
        ck_conv2d_backward_weights(&s, bx, bdy, bdw, bdb, bws) != CK_OK) {
        fprintf(stderr, "conv_error: %s\n", ck_last_error());
        return 1;
    }
    ck_buffer_read(by, 0, ny, y), ck_buffer_read(bdw, 0, nw, dw);
#define X(b, ci, i, j) x[(((size_t)(b) * c + (ci)) * h + (i)) * h + (j)]
    double fmax = 0, fref = 0, fsq = 0, wmax = 0, wref = 0;
    for (int b = 0; b < batch; b++)
        for (int o = 0; o < m; o++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < h; j++) {
                    double r = 0;
                    for (int ci = 0; ci < c; ci++)
                        for (int p = 0; p < 3; p++)
                            for (int q = 0; q < 3; q++)
                                if (i + p - 1 >= 0 && i + p - 1 < h && j + q - 1 >= 0 && j + q - 1 < h)
                                    r += (double)w[((o * c + ci) * 3 + p) * 3 + q] * X(b, ci, i + p - 1, j + q - 1);
                    double e = fabs(r - y[(((size_t)b * m + o) * h + i) * h + j]);
                    fmax = e > fmax ? e : fmax, fref = fabs(r) > fref ? fabs(r) : fref, fsq += e * e;
                }
    for (int o = 0; o < m; o++)
        for (int ci = 0; ci < c; ci++)
            for (int p = 0; p < 3; p++)
                for (int q = 0; q < 3; q++) {
                    double r = 0;
                    for (int b = 0; b < batch; b++)
                        for (int i = 0; i < h; i++)
                            for (int j = 0; j < h; j++)
                                if (i + p - 1 >= 0 && i + p - 1 < h && j + q - 1 >= 0 && j + q - 1 < h)
                                    r += (double)dy[(((size_t)b * m + o) * h + i) * h + j] * X(b, ci, i + p - 1, j + q - 1);
                    double e = fabs(r - dw[((o * c + ci) * 3 + p) * 3 + q]);
                    wmax = e > wmax ? e : wmax, wref = fabs(r) > wref ? fabs(r) : wref;
                }
    printf("batch %d, %d -> %d on %dx%d: forward max error %.1e of max |y| %.2f (%.1e; rms %.1e), "
           "weights max error %.1e of max |dw| %.1f (%.1e)\n",
           batch, c, m, h, h, fmax, fref, fmax / fref, sqrt(fsq / ny), wmax, wref, wmax / wref);
    return 0;
}
