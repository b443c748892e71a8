/*
 * check_im2col.c -- ck_im2col against the naive column builder (exact: it only copies),
 * ck_col2im against a naive scatter (err <= 1e-5), and the adjoint identity
 * <col2im(c), x> == <c, im2col(x)> (relative difference <= 1e-5), over seeded random
 * geometries with kernel 1-5, stride 1-3, padding 0-2, dilation 1-2, batch 1-3.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* x = sum of columns back at the pixels they were read from. */
static void ref_col2im(const ck_conv_shape *s, const double *cols, double *x) {
    int ho, wo;
    ckc_out_size(s, 0, &ho, &wo);
    size_t ncols = (size_t)s->batch * ho * wo;
    memset(x, 0, (size_t)s->batch * s->c_in * s->h_in * s->w_in * sizeof *x);
    for (int ci = 0; ci < s->c_in; ci++)
        for (int ky = 0; ky < s->k_h; ky++)
            for (int kx = 0; kx < s->k_w; kx++)
                for (int b = 0; b < s->batch; b++)
                    for (int oy = 0; oy < ho; oy++)
                        for (int ox = 0; ox < wo; ox++) {
                            int iy = oy * s->stride_h - s->pad_h + ky * s->dil_h;
                            int ix = ox * s->stride_w - s->pad_w + kx * s->dil_w;
                            if (iy < 0 || iy >= s->h_in || ix < 0 || ix >= s->w_in) continue;
                            size_t row = ((size_t)ci * s->k_h + ky) * s->k_w + kx;
                            size_t col = ((size_t)b * ho + oy) * wo + ox;
                            x[(((size_t)b * s->c_in + ci) * s->h_in + iy) * s->w_in + ix] +=
                                cols[row * ncols + col];
                        }
}

static void one_case(ckc *c, const ck_conv_shape *s, ckc_rng *r) {
    int ho, wo;
    if (ck_conv_output(s, 0, &ho, &wo) != CK_OK) return;
    char text[256];
    ckc_shape_text(s, text, sizeof text);
    size_t nx = (size_t)s->batch * s->c_in * s->h_in * s->w_in;
    size_t nc = (size_t)s->c_in * s->k_h * s->k_w * s->batch * ho * wo;
    float *x = malloc(nx * sizeof *x), *cols = malloc(nc * sizeof *cols);
    ckc_fill(r, x, nx, -1, 1);
    ckc_fill(r, cols, nc, -1, 1);
    double *xd = ckc_promote(x, nx), *cd = ckc_promote(cols, nc);
    double *ref_cols = malloc(nc * sizeof *ref_cols), *ref_x = malloc(nx * sizeof *ref_x);
    ckc_ref_im2col(s, xd, ref_cols);
    ref_col2im(s, cd, ref_x);

    ck_buffer *bx = ckc_upload(c, x, nx), *bc = ckc_upload(c, cols, nc);
    ck_buffer *out_c = ckc_upload(c, NULL, nc), *out_x = ckc_upload(c, NULL, nx);
    ckc_ok(c, ck_im2col(s, bx, out_c), "ck_im2col");
    ckc_ok(c, ck_col2im(s, bc, out_x), "ck_col2im");
    float *got_c = ckc_download(c, out_c, nc), *got_x = ckc_download(c, out_x, nx);
    if (got_c && got_x) {
        double e = ckc_err(got_c, ref_cols, nc);
        ckc_expect(c, e == 0, "im2col: err %.3g, expected exact (%s)", e, text);
        e = ckc_err(got_x, ref_x, nx);
        ckc_expect(c, e <= 1e-5, "col2im: err %.3g (%s)", e, text);
        /* adjoint identity, on the kernel's own outputs */
        double lhs = 0, rhs = 0, mag = 0;
        for (size_t i = 0; i < nx; i++) lhs += (double)got_x[i] * x[i], mag += fabs((double)got_x[i] * x[i]);
        for (size_t i = 0; i < nc; i++) rhs += (double)cols[i] * got_c[i];
        ckc_expect(c, fabs(lhs - rhs) <= 1e-5 * (mag > 1 ? mag : 1),
                   "adjoint: <col2im(c), x> = %.9g but <c, im2col(x)> = %.9g (%s)", lhs, rhs, text);
    }
    ck_buffer_free(bx); ck_buffer_free(bc); ck_buffer_free(out_c); ck_buffer_free(out_x);
    free(x); free(cols); free(xd); free(cd); free(ref_cols); free(ref_x); free(got_c); free(got_x);
}

void ckc_check_im2col(ckc *c) {
    ckc_rng r = {7};
    for (int i = 0; i < 150; i++) {
        ck_conv_shape s = ckc_random_shape(&r, 3, 4, 1, 13, 5);
        one_case(c, &s, &r);
    }
    /* a batch big enough for every pool thread, at a reference-model geometry */
    ck_conv_shape s = ck_conv_shape_make(9, 3, 32, 32, 1, 4, 4);
    s.stride_h = s.stride_w = 2;
    s.pad_h = s.pad_w = 1;
    one_case(c, &s, &r);
}
