/*
 * check_conv.c -- convolution and transposed convolution against the naive double loops
 * of refs.c: forward, backward-data, backward-weights and bias, over
 *   - the full grid kernel 1-5 x stride 1-3 x padding 0-2 x dilation 1-2 (square), with
 *     seeded random image sizes (odd and even, 1-12), batch 1-3 and channels 1-8;
 *   - seeded random rectangular cases (each of k, stride, pad, dilation per axis);
 *   - the convolutions of the three reference models at batch 2 ("models").
 * Tolerance: err (ckc.h) <= 1e-5 for every result. Outputs start as NaN (they must be
 * overwritten) and the workspace has a NaN canary after its ck_conv_workspace floats.
 */
#include "ckc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-5
#define CANARY 16

static size_t prod4(int a, int b, int c, int d) { return (size_t)a * b * c * d; }

/* A buffer of n floats set to NaN. */
static ck_buffer *nan_buffer(ckc *c, size_t n) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = NAN;
    ck_buffer *b = ckc_upload(c, x, n);
    free(x);
    return b;
}

/* Compares with tolerance TOL * scale (scale 1: the plain error measure of ckc.h). */
static void compare_scaled(ckc *c, const char *what, const ck_conv_shape *s, const ck_buffer *b,
                           const double *ref, size_t n, double scale) {
    char text[256];
    float *got = ckc_download(c, b, n);
    if (!got) return;
    double e = ckc_err(got, ref, n);
    ckc_expect(c, e <= TOL * scale, "%s: err %.3g > %.0e (%s)", what, e, TOL * scale,
               ckc_shape_text(s, text, sizeof text));
    free(got);
}

static void compare(ckc *c, const char *what, const ck_conv_shape *s, const ck_buffer *b,
                    const double *ref, size_t n) {
    compare_scaled(c, what, s, b, ref, n, 1.0);
}

/* max(1, max |v|): the scale of the error measure of ckc.h. */
static double magnitude(const double *v, size_t n) {
    double m = 1;
    for (size_t i = 0; i < n; i++) m = fabs(v[i]) > m ? fabs(v[i]) : m;
    return m;
}

/* Runs the three passes of one (transposed) convolution and compares with refs.c. */
int ckc_conv_case(ckc *c, const ck_conv_shape *s, int transposed, uint64_t seed) {
    int ho, wo;
    if (ck_conv_output(s, transposed, &ho, &wo) != CK_OK) return 0;
    ckc_rng r = {seed};
    size_t nx = prod4(s->batch, s->c_in, s->h_in, s->w_in);
    size_t ny = prod4(s->batch, s->c_out, ho, wo);
    size_t nw = prod4(s->c_out, s->c_in, s->k_h, s->k_w);
    size_t nws = 0;
    if (!ckc_ok(c, ck_conv_workspace(c->be, s, transposed, &nws), "ck_conv_workspace")) return 0;

    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *dy = malloc(ny * sizeof *dy);
    float *bias = malloc((size_t)s->c_out * sizeof *bias);
    ckc_fill(&r, x, nx, -1, 1);
    ckc_fill(&r, w, nw, -1, 1);
    ckc_fill(&r, dy, ny, -1, 1);
    ckc_fill(&r, bias, (size_t)s->c_out, -1, 1);
    double *xd = ckc_promote(x, nx), *wd = ckc_promote(w, nw), *dyd = ckc_promote(dy, ny);
    double *bd = ckc_promote(bias, (size_t)s->c_out);
    double *yr = malloc(ny * sizeof *yr), *dxr = malloc(nx * sizeof *dxr);
    double *dwr = malloc(nw * sizeof *dwr), *dbr = malloc((size_t)s->c_out * sizeof *dbr);

    ck_buffer *bx = ckc_upload(c, x, nx), *bw = ckc_upload(c, w, nw), *bdy = ckc_upload(c, dy, ny);
    ck_buffer *bb = ckc_upload(c, bias, (size_t)s->c_out);
    ck_buffer *by = nan_buffer(c, ny), *bdx = nan_buffer(c, nx), *bdw = nan_buffer(c, nw);
    ck_buffer *bdb = nan_buffer(c, (size_t)s->c_out), *bws = nan_buffer(c, nws + CANARY);
    if (transposed) {
        ckc_ok(c, ck_deconv2d_forward(s, bx, bw, bb, by, bws), "ck_deconv2d_forward");
        ckc_ok(c, ck_deconv2d_backward_data(s, bdy, bw, bdx, bws), "ck_deconv2d_backward_data");
        ckc_ok(c, ck_deconv2d_backward_weights(s, bx, bdy, bdw, bdb, bws),
               "ck_deconv2d_backward_weights");
        ckc_ref_deconv_forward(s, xd, wd, bd, yr);
        ckc_ref_deconv_backward_data(s, dyd, wd, dxr);
        ckc_ref_deconv_backward_weights(s, xd, dyd, dwr, dbr);
    } else {
        ckc_ok(c, ck_conv2d_forward(s, bx, bw, bb, by, bws), "ck_conv2d_forward");
        ckc_ok(c, ck_conv2d_backward_data(s, bdy, bw, bdx, bws), "ck_conv2d_backward_data");
        ckc_ok(c, ck_conv2d_backward_weights(s, bx, bdy, bdw, bdb, bws),
               "ck_conv2d_backward_weights");
        ckc_ref_conv_forward(s, xd, wd, bd, yr);
        ckc_ref_conv_backward_data(s, dyd, wd, dxr);
        ckc_ref_conv_backward_weights(s, xd, dyd, dwr, dbr);
    }
    const char *kind = transposed ? "deconv" : "conv";
    char what[64];
    snprintf(what, sizeof what, "%s forward", kind);
    compare(c, what, s, by, yr, ny);
    snprintf(what, sizeof what, "%s backward-data", kind);
    compare(c, what, s, bdx, dxr, nx);
    snprintf(what, sizeof what, "%s backward-weights", kind);
    compare(c, what, s, bdw, dwr, nw);
    snprintf(what, sizeof what, "%s backward-bias", kind);
    compare(c, what, s, bdb, dbr, (size_t)s->c_out);

    /* without bias: forward is the plain convolution, dbias NULL is accepted */
    if (transposed) {
        ckc_ok(c, ck_deconv2d_forward(s, bx, bw, NULL, by, bws), "ck_deconv2d_forward");
        ckc_ok(c, ck_deconv2d_backward_weights(s, bx, bdy, bdw, NULL, bws),
               "ck_deconv2d_backward_weights");
        ckc_ref_deconv_forward(s, xd, wd, NULL, yr);
    } else {
        ckc_ok(c, ck_conv2d_forward(s, bx, bw, NULL, by, bws), "ck_conv2d_forward");
        ckc_ok(c, ck_conv2d_backward_weights(s, bx, bdy, bdw, NULL, bws),
               "ck_conv2d_backward_weights");
        ckc_ref_conv_forward(s, xd, wd, NULL, yr);
    }
    snprintf(what, sizeof what, "%s forward without bias", kind);
    compare(c, what, s, by, yr, ny);
    snprintf(what, sizeof what, "%s backward-weights without dbias", kind);
    compare(c, what, s, bdw, dwr, nw);

    /* fused activations: forward f(y) and backward f'(from the input x) * dx, against the
     * references above passed through ckc_ref_activation; the activation rotates with the
     * seed over relu, leaky relu, sigmoid, tanh and elu */
    {
        static const ck_activation kinds[5] = {CK_ACT_RELU, CK_ACT_LEAKY_RELU, CK_ACT_SIGMOID,
                                               CK_ACT_TANH, CK_ACT_ELU};
        ck_activation act = kinds[seed % 5];
        const float alpha = 0.1f;
        if (transposed) {
            ckc_ok(c, ck_deconv2d_forward_act(s, bx, bw, bb, act, alpha, by, bws),
                   "ck_deconv2d_forward_act");
            ckc_ok(c, ck_deconv2d_backward_data_act(s, bdy, bw, act, alpha, bx, bdx, bws),
                   "ck_deconv2d_backward_data_act");
            ckc_ref_deconv_forward(s, xd, wd, bd, yr);
            ckc_ref_deconv_backward_data(s, dyd, wd, dxr);
        } else {
            ckc_ok(c, ck_conv2d_forward_act(s, bx, bw, bb, act, alpha, by, bws),
                   "ck_conv2d_forward_act");
            ckc_ok(c, ck_conv2d_backward_data_act(s, bdy, bw, act, alpha, bx, bdx, bws),
                   "ck_conv2d_backward_data_act");
            ckc_ref_conv_forward(s, xd, wd, bd, yr);
            ckc_ref_conv_backward_data(s, dyd, wd, dxr);
        }
        /* the activations' slopes are at most 1, so the rounding error of the pre-activation
         * (relative to its own magnitude) bounds the error after them */
        double ys = magnitude(yr, ny), dxs = magnitude(dxr, nx);
        ckc_ref_activation(act, alpha, yr, ny);
        ckc_ref_activation_gate(act, alpha, xd, dxr, nx);
        snprintf(what, sizeof what, "%s forward + activation %d", kind, (int)act);
        compare_scaled(c, what, s, by, yr, ny, ys / magnitude(yr, ny));
        snprintf(what, sizeof what, "%s backward-data + activation %d", kind, (int)act);
        compare_scaled(c, what, s, bdx, dxr, nx, dxs / magnitude(dxr, nx));
    }

    float canary[CANARY];
    if (bws && ckc_ok(c, ck_buffer_read(bws, nws, CANARY, canary), "ck_buffer_read")) {
        int intact = 1;
        for (int i = 0; i < CANARY; i++) intact &= isnan(canary[i]);
        char text[256];
        ckc_expect(c, intact, "%s wrote past its %zu workspace floats (%s)", kind, nws,
                   ckc_shape_text(s, text, sizeof text));
    }

    ck_buffer *bufs[] = {bx, bw, bdy, bb, by, bdx, bdw, bdb, bws};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) ck_buffer_free(bufs[i]);
    free(x); free(w); free(dy); free(bias); free(xd); free(wd); free(dyd); free(bd);
    free(yr); free(dxr); free(dwr); free(dbr);
    return 1;
}

/* A random shape around the given kernel geometry whose output is positive. */
static ck_conv_shape random_shape(ckc_rng *r, int transposed, int kh, int kw, int sh, int sw,
                                  int ph, int pw, int dh, int dw) {
    const int lo[3] = {1, 1, 1}, hi[3] = {3, 8, 8};
    int v[3];
    ckc_ints(r, 3, lo, hi, v);
    ck_conv_shape s = ck_conv_shape_make(v[0], v[1], 0, 0, v[2], kh, kw);
    s.stride_h = sh; s.stride_w = sw; s.pad_h = ph; s.pad_w = pw; s.dil_h = dh; s.dil_w = dw;
    int eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1;
    if (transposed) {
        /* smallest input whose output is positive: (h - 1) * stride >= 2 pad - (eh - 1) */
        int nh = 2 * ph - (eh - 1), nw = 2 * pw - (ew - 1);
        int lo_h = 1 + (nh > 0 ? (nh + sh - 1) / sh : 0), lo_w = 1 + (nw > 0 ? (nw + sw - 1) / sw : 0);
        s.h_in = ckc_int(r, lo_h, lo_h + 6);
        s.w_in = ckc_int(r, lo_w, lo_w + 6);
        int mh = sh > dh ? sh : dh, mw = sw > dw ? sw : dw;
        s.out_pad_h = ckc_int(r, 0, mh - 1);
        s.out_pad_w = ckc_int(r, 0, mw - 1);
    } else {
        /* smallest input with an output, up to 12 */
        int lo_h = eh - 2 * ph < 1 ? 1 : eh - 2 * ph, lo_w = ew - 2 * pw < 1 ? 1 : ew - 2 * pw;
        s.h_in = ckc_int(r, lo_h, lo_h + 8 > 12 ? (lo_h > 12 ? lo_h : 12) : lo_h + 8);
        s.w_in = ckc_int(r, lo_w, lo_w + 8 > 12 ? (lo_w > 12 ? lo_w : 12) : lo_w + 8);
    }
    return s;
}

/* The square grid then random rectangular cases. */
static void sweep(ckc *c, int transposed, uint64_t seed) {
    ckc_rng r = {seed};
    int cases = 0;
    for (int k = 1; k <= 5; k++)
        for (int st = 1; st <= 3; st++)
            for (int p = 0; p <= 2; p++)
                for (int d = 1; d <= 2; d++) {
                    ck_conv_shape s = random_shape(&r, transposed, k, k, st, st, p, p, d, d);
                    cases += ckc_conv_case(c, &s, transposed, seed + 1000 + cases);
                }
    for (int i = 0; i < 80; i++) {
        const int lo[8] = {1, 1, 1, 1, 0, 0, 1, 1}, hi[8] = {5, 5, 3, 3, 2, 2, 2, 2};
        int v[8];
        ckc_ints(&r, 8, lo, hi, v);
        ck_conv_shape s = random_shape(&r, transposed, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
        cases += ckc_conv_case(c, &s, transposed, seed + 5000 + i);
    }
    /* the 1x1 path, with and without a batch that splits unevenly */
    for (int b = 1; b <= 3; b++) {
        ck_conv_shape s = ck_conv_shape_make(b, 5, 6, 7, 3, 1, 1);
        cases += ckc_conv_case(c, &s, transposed, seed + 9000 + b);
    }
    /* rows of 16 and 32 grid positions with 4 taps at stride 2 across (the AVX-512 engine's
     * row packing), everything else varied: kernel height, vertical stride, padding on
     * either axis, vertical dilation, output padding */
    for (int i = 0; i < 24; i++) {
        const int lo[9] = {1, 1, 1, 1, 0, 0, 1, 0, 0}, hi[9] = {3, 4, 4, 3, 2, 2, 2, 1, 3};
        int v[9]; /* batch, c_in, c_out, k_h, pad_h, pad_w, dil_h, wide, extra rows */
        ckc_ints(&r, 9, lo, hi, v);
        int ow = v[7] ? 32 : 16, sh = 1 + i % 3, eh = v[6] * (v[3] - 1) + 1;
        ck_conv_shape s = ck_conv_shape_make(v[0], v[1], 0, 0, v[2], v[3], 4);
        s.stride_h = sh; s.stride_w = 2; s.pad_h = v[4]; s.pad_w = v[5]; s.dil_h = v[6];
        if (transposed) {
            s.h_in = 1 + v[8];
            s.w_in = ow;
            s.out_pad_w = i % 2;
            s.out_pad_h = sh > 1 ? i % 2 : 0;
            if (s.h_in - 1 < 0 || (s.h_in - 1) * sh + eh - 2 * s.pad_h <= 0) s.h_in += 2;
        } else {
            s.w_in = 2 * (ow - 1) + 4 - 2 * s.pad_w + i % 2;
            s.h_in = eh - 2 * s.pad_h + sh * v[8];
            if (s.h_in < 1) s.h_in = 1 + v[8];
        }
        cases += ckc_conv_case(c, &s, transposed, seed + 7000 + i);
    }
    /* the reference models' geometry (kernel 4, stride 2, padding 1, the image twice the grid)
     * with grid rows of 8, 16 and 32, 1-5 grid rows, then planes of a multiple of 32 pixels
     * (the AVX-512 engine's column-tile backward-data, whose col2im runs in registers) */
    for (int i = 0; i < 12; i++) {
        const int lo[4] = {1, 1, 1, 1}, hi[4] = {3, 5, 5, 5};
        int v[4]; /* batch, c_in, c_out, grid rows */
        ckc_ints(&r, 4, lo, hi, v);
        int ow = i % 3 == 0 ? 8 : i % 3 == 1 ? 16 : 32;
        if (i >= 6) v[3] = ow == 8 ? 4 * v[3] : ow == 16 ? 2 * v[3] : v[3]; /* planes of 32k pixels */
        ck_conv_shape s = ck_conv_shape_make(v[0], v[1], transposed ? v[3] : 2 * v[3],
                                             transposed ? ow : 2 * ow, v[2], 4, 4);
        s.stride_h = s.stride_w = 2;
        s.pad_h = s.pad_w = 1;
        cases += ckc_conv_case(c, &s, transposed, seed + 8000 + i);
    }
    ckc_expect(c, cases >= 190, "only %d valid cases in the sweep", cases);
}

void ckc_check_conv(ckc *c) { sweep(c, 0, 101); }

void ckc_check_deconv(ckc *c) { sweep(c, 1, 202); }

/* Kernel 4, stride 2, padding 1: every layer of presets A, B, C at batch 2; and the deep
 * family's stride-1 layers (3x3 "same" in residual blocks and latent heads, 1x1 projections),
 * whose backward-data runs as the flipped convolution's forward pass, and the colorization
 * and inpainting heads. */
void ckc_check_models(ckc *c) {
    static const int conv[][3] = {/* c_in, c_out, input size */
        {1, 32, 28}, {32, 64, 14},                             /* A */
        {3, 32, 32}, {32, 64, 16}, {64, 128, 8},               /* B */
        {3, 32, 64}, {32, 64, 32}, {64, 128, 16}, {128, 256, 8} /* C */
    };
    static const int deconv[][3] = {/* c_in, c_out, input size */
        {64, 32, 7}, {32, 1, 14},                              /* A */
        {128, 64, 4}, {64, 32, 8}, {32, 3, 16},                /* B */
        {256, 128, 4}, {128, 64, 8}, {64, 32, 16}, {32, 3, 32} /* C */
    };
    for (size_t i = 0; i < sizeof conv / sizeof conv[0]; i++) {
        ck_conv_shape s = ck_conv_shape_make(2, conv[i][0], conv[i][2], conv[i][2], conv[i][1], 4, 4);
        s.stride_h = s.stride_w = 2;
        s.pad_h = s.pad_w = 1;
        ckc_conv_case(c, &s, 0, 300 + i);
    }
    for (size_t i = 0; i < sizeof deconv / sizeof deconv[0]; i++) {
        ck_conv_shape s =
            ck_conv_shape_make(2, deconv[i][0], deconv[i][2], deconv[i][2], deconv[i][1], 4, 4);
        s.stride_h = s.stride_w = 2;
        s.pad_h = s.pad_w = 1;
        ckc_conv_case(c, &s, 1, 400 + i);
    }
    static const int deep[][4] = {/* c_in, c_out, input size, kernel */
        {32, 32, 14, 3}, {64, 64, 7, 3}, {64, 16, 14, 3}, {128, 16, 7, 3}, {8, 32, 14, 1}, {16, 64, 7, 1},
        {128, 256, 4, 1} /* the colorization head: 1x1 onto 256 color bins */
    };
    for (size_t i = 0; i < sizeof deep / sizeof deep[0]; i++) {
        ck_conv_shape s = ck_conv_shape_make(2, deep[i][0], deep[i][2], deep[i][2], deep[i][1], deep[i][3], deep[i][3]);
        s.pad_h = s.pad_w = deep[i][3] / 2;
        ckc_conv_case(c, &s, 0, 500 + i);
    }
    /* 3x3 "same" convolutions with 16+ channels each way go through Winograd: forward and
     * backward-data (the flipped convolution) by F(4x4, 3x3), or F(2x2, 3x3) on planes 1-2
     * high or wide, the weights pass by F(2x2, 3x3). Odd and even sizes (partial tiles, rows
     * up to 18 wide), 1-5 images (tile ranges split unevenly over threads, chunks that cross
     * images), planes large enough for several chunks per image (30 and 41 wide), and planes
     * of 1 and 2 rows */
    ckc_rng r = {600};
    for (int i = 0; i < 10; i++) {
        const int lo[4] = {1, 16, 16, 1}, hi[4] = {5, 20, 24, 16};
        int v[4]; /* batch, c_in, c_out, size */
        ckc_ints(&r, 4, lo, hi, v);
        ck_conv_shape s = ck_conv_shape_make(v[0], v[1], v[3], v[3] + i % 3, v[2], 3, 3);
        s.pad_h = s.pad_w = 1;
        ckc_conv_case(c, &s, 0, 600 + i);
    }
    for (int i = 0; i < 2; i++) {
        ck_conv_shape s = ck_conv_shape_make(1 + 2 * i, 32, 37 + i, i ? 30 : 41, 32, 3, 3);
        s.pad_h = s.pad_w = 1;
        ckc_conv_case(c, &s, 0, 700 + i);
    }
    for (int i = 0; i < 2; i++) {
        ck_conv_shape s = ck_conv_shape_make(3, 16 + 8 * i, 1 + i, 9 + 4 * i, 24, 3, 3);
        s.pad_h = s.pad_w = 1;
        ckc_conv_case(c, &s, 0, 710 + i);
    }
    /* 3x3 "same" convolutions onto 1-4 channels (inpainting heads) are computed directly:
     * 32 and 64 wide, a masked tail after 64, 32 or 16 columns, planes of 1-2 rows, 1-3 images */
    static const int few[][5] = {/* batch, c_in, c_out, height, width */
        {2, 36, 3, 32, 32}, {1, 36, 3, 9, 64}, {3, 5, 4, 5, 37}, {2, 7, 2, 3, 70}, {1, 4, 1, 1, 1},
        {3, 9, 3, 2, 17}, {2, 33, 1, 6, 48}};
    for (int i = 0; i < 7; i++) {
        ck_conv_shape s = ck_conv_shape_make(few[i][0], few[i][1], few[i][3], few[i][4], few[i][2], 3, 3);
        s.pad_h = s.pad_w = 1;
        ckc_conv_case(c, &s, 0, 730 + i);
    }
    /* 16 or more images: groups of 16 by image lanes, the rest by tile lanes (ReLU inline
     * and gated, and the other activations after) */
    static const int lanes[][5] = {/* batch, c_in, c_out, height, width */
        {19, 16, 24, 14, 14}, {33, 24, 16, 7, 9}, {16, 16, 17, 5, 5}, {17, 20, 16, 3, 12}, {32, 16, 16, 8, 8}};
    for (int i = 0; i < 5; i++) {
        ck_conv_shape s = ck_conv_shape_make(lanes[i][0], lanes[i][1], lanes[i][3], lanes[i][4], lanes[i][2], 3, 3);
        s.pad_h = s.pad_w = 1;
        ckc_conv_case(c, &s, 0, 720 + i);
    }
}
