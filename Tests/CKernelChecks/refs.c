/*
 * refs.c -- naive double-precision convolutions: seven nested loops, no tricks, written
 * from the definitions (PyTorch's Conv2d and ConvTranspose2d) rather than from im2col.
 */
#include "ckc.h"

#include <math.h>

#include <stdio.h>
#include <string.h>

void ckc_out_size(const ck_conv_shape *s, int transposed, int *h_out, int *w_out) {
    if (transposed) {
        *h_out = (s->h_in - 1) * s->stride_h - 2 * s->pad_h + s->dil_h * (s->k_h - 1) + s->out_pad_h + 1;
        *w_out = (s->w_in - 1) * s->stride_w - 2 * s->pad_w + s->dil_w * (s->k_w - 1) + s->out_pad_w + 1;
    } else {
        int eh = s->h_in + 2 * s->pad_h - s->dil_h * (s->k_h - 1) - 1;
        int ew = s->w_in + 2 * s->pad_w - s->dil_w * (s->k_w - 1) - 1;
        *h_out = eh < 0 ? 0 : eh / s->stride_h + 1;
        *w_out = ew < 0 ? 0 : ew / s->stride_w + 1;
    }
}

const char *ckc_shape_text(const ck_conv_shape *s, char *text, size_t capacity) {
    snprintf(text, capacity,
             "batch %d c_in %d %dx%d c_out %d k %dx%d stride %d,%d pad %d,%d dil %d,%d outpad %d,%d",
             s->batch, s->c_in, s->h_in, s->w_in, s->c_out, s->k_h, s->k_w, s->stride_h,
             s->stride_w, s->pad_h, s->pad_w, s->dil_h, s->dil_w, s->out_pad_h, s->out_pad_w);
    return text;
}

/*
 * Visits every (image, in channel, out channel, output pixel, kernel tap) of a convolution
 * whose input pixel lies inside, with flat indices into x [b, ci, h_in, w_in],
 * w [co, ci, kh, kw] and y [b, co, h_out, w_out].
 */
#define FOR_EACH_TAP(s, ho, wo, BODY)                                                        \
    for (int b = 0; b < s->batch; b++)                                                       \
        for (int co = 0; co < s->c_out; co++)                                                \
            for (int ci = 0; ci < s->c_in; ci++)                                             \
                for (int oy = 0; oy < ho; oy++)                                              \
                    for (int ox = 0; ox < wo; ox++)                                          \
                        for (int ky = 0; ky < s->k_h; ky++)                                  \
                            for (int kx = 0; kx < s->k_w; kx++) {                            \
                                int iy = oy * s->stride_h - s->pad_h + ky * s->dil_h;        \
                                int ix = ox * s->stride_w - s->pad_w + kx * s->dil_w;        \
                                if (iy < 0 || iy >= s->h_in || ix < 0 || ix >= s->w_in)      \
                                    continue;                                                \
                                size_t xi = (((size_t)b * s->c_in + ci) * s->h_in + iy) * s->w_in + ix; \
                                size_t wi = (((size_t)co * s->c_in + ci) * s->k_h + ky) * s->k_w + kx;  \
                                size_t yi = (((size_t)b * s->c_out + co) * ho + oy) * wo + ox;          \
                                BODY;                                                        \
                            }

void ckc_ref_conv_forward(const ck_conv_shape *s, const double *x, const double *w,
                          const double *bias, double *y) {
    int ho, wo;
    ckc_out_size(s, 0, &ho, &wo);
    size_t plane = (size_t)ho * wo;
    for (int b = 0; b < s->batch; b++)
        for (int co = 0; co < s->c_out; co++)
            for (size_t p = 0; p < plane; p++)
                y[((size_t)b * s->c_out + co) * plane + p] = bias ? bias[co] : 0.0;
    FOR_EACH_TAP(s, ho, wo, y[yi] += x[xi] * w[wi])
}

void ckc_ref_conv_backward_data(const ck_conv_shape *s, const double *dy, const double *w,
                                double *dx) {
    int ho, wo;
    ckc_out_size(s, 0, &ho, &wo);
    memset(dx, 0, (size_t)s->batch * s->c_in * s->h_in * s->w_in * sizeof *dx);
    FOR_EACH_TAP(s, ho, wo, dx[xi] += dy[yi] * w[wi])
}

void ckc_ref_conv_backward_weights(const ck_conv_shape *s, const double *x, const double *dy,
                                   double *dw, double *dbias) {
    int ho, wo;
    ckc_out_size(s, 0, &ho, &wo);
    memset(dw, 0, (size_t)s->c_out * s->c_in * s->k_h * s->k_w * sizeof *dw);
    FOR_EACH_TAP(s, ho, wo, dw[wi] += x[xi] * dy[yi])
    if (!dbias) return;
    size_t plane = (size_t)ho * wo;
    for (int co = 0; co < s->c_out; co++) {
        dbias[co] = 0;
        for (int b = 0; b < s->batch; b++)
            for (size_t p = 0; p < plane; p++) dbias[co] += dy[((size_t)b * s->c_out + co) * plane + p];
    }
}

/*
 * Transposed convolution: input pixel (iy, ix) of channel ci adds x * w[ci, co, ky, kx] to
 * output pixel (iy * stride - pad + ky * dil, ...) of channel co when that lies inside.
 */
#define FOR_EACH_DECONV_TAP(s, ho, wo, BODY)                                                 \
    for (int b = 0; b < s->batch; b++)                                                       \
        for (int ci = 0; ci < s->c_in; ci++)                                                 \
            for (int co = 0; co < s->c_out; co++)                                            \
                for (int iy = 0; iy < s->h_in; iy++)                                         \
                    for (int ix = 0; ix < s->w_in; ix++)                                     \
                        for (int ky = 0; ky < s->k_h; ky++)                                  \
                            for (int kx = 0; kx < s->k_w; kx++) {                            \
                                int oy = iy * s->stride_h - s->pad_h + ky * s->dil_h;        \
                                int ox = ix * s->stride_w - s->pad_w + kx * s->dil_w;        \
                                if (oy < 0 || oy >= ho || ox < 0 || ox >= wo) continue;      \
                                size_t xi = (((size_t)b * s->c_in + ci) * s->h_in + iy) * s->w_in + ix; \
                                size_t wi = (((size_t)ci * s->c_out + co) * s->k_h + ky) * s->k_w + kx; \
                                size_t yi = (((size_t)b * s->c_out + co) * ho + oy) * wo + ox;          \
                                BODY;                                                        \
                            }

void ckc_ref_deconv_forward(const ck_conv_shape *s, const double *x, const double *w,
                            const double *bias, double *y) {
    int ho, wo;
    ckc_out_size(s, 1, &ho, &wo);
    size_t plane = (size_t)ho * wo;
    for (int b = 0; b < s->batch; b++)
        for (int co = 0; co < s->c_out; co++)
            for (size_t p = 0; p < plane; p++)
                y[((size_t)b * s->c_out + co) * plane + p] = bias ? bias[co] : 0.0;
    FOR_EACH_DECONV_TAP(s, ho, wo, y[yi] += x[xi] * w[wi])
}

void ckc_ref_deconv_backward_data(const ck_conv_shape *s, const double *dy, const double *w,
                                  double *dx) {
    int ho, wo;
    ckc_out_size(s, 1, &ho, &wo);
    memset(dx, 0, (size_t)s->batch * s->c_in * s->h_in * s->w_in * sizeof *dx);
    FOR_EACH_DECONV_TAP(s, ho, wo, dx[xi] += dy[yi] * w[wi])
}

void ckc_ref_deconv_backward_weights(const ck_conv_shape *s, const double *x, const double *dy,
                                     double *dw, double *dbias) {
    int ho, wo;
    ckc_out_size(s, 1, &ho, &wo);
    memset(dw, 0, (size_t)s->c_in * s->c_out * s->k_h * s->k_w * sizeof *dw);
    FOR_EACH_DECONV_TAP(s, ho, wo, dw[wi] += x[xi] * dy[yi])
    if (!dbias) return;
    size_t plane = (size_t)ho * wo;
    for (int co = 0; co < s->c_out; co++) {
        dbias[co] = 0;
        for (int b = 0; b < s->batch; b++)
            for (size_t p = 0; p < plane; p++) dbias[co] += dy[((size_t)b * s->c_out + co) * plane + p];
    }
}

void ckc_ref_im2col(const ck_conv_shape *s, const double *x, double *cols) {
    int ho, wo;
    ckc_out_size(s, 0, &ho, &wo);
    size_t ncols = (size_t)s->batch * ho * wo;
    for (int ci = 0; ci < s->c_in; ci++)
        for (int ky = 0; ky < s->k_h; ky++)
            for (int kx = 0; kx < s->k_w; kx++) {
                size_t row = ((size_t)ci * s->k_h + ky) * s->k_w + kx;
                for (int b = 0; b < s->batch; b++)
                    for (int oy = 0; oy < ho; oy++)
                        for (int ox = 0; ox < wo; ox++) {
                            int iy = oy * s->stride_h - s->pad_h + ky * s->dil_h;
                            int ix = ox * s->stride_w - s->pad_w + kx * s->dil_w;
                            size_t col = ((size_t)b * ho + oy) * wo + ox;
                            cols[row * ncols + col] =
                                (iy < 0 || iy >= s->h_in || ix < 0 || ix >= s->w_in)
                                    ? 0.0
                                    : x[(((size_t)b * s->c_in + ci) * s->h_in + iy) * s->w_in + ix];
                        }
            }
}

/* ---------------------------------------------------------------- fused activations */

void ckc_ref_activation(ck_activation kind, double alpha, double *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double v = y[i];
        switch (kind) {
        case CK_ACT_RELU: y[i] = v > 0 ? v : 0; break;
        case CK_ACT_LEAKY_RELU: y[i] = v > 0 ? v : alpha * v; break;
        case CK_ACT_SIGMOID: y[i] = 1 / (1 + exp(-v)); break;
        case CK_ACT_TANH: y[i] = tanh(v); break;
        case CK_ACT_SOFTPLUS: y[i] = (v > 0 ? v : 0) + log1p(exp(-fabs(v))); break;
        case CK_ACT_ELU: y[i] = v > 0 ? v : expm1(v); break;
        default: break;
        }
    }
}

void ckc_ref_activation_gate(ck_activation kind, double alpha, const double *gate, double *g,
                             size_t n) {
    for (size_t i = 0; i < n; i++) {
        double o = gate[i];
        switch (kind) {
        case CK_ACT_RELU: g[i] *= o > 0 ? 1 : 0; break;
        case CK_ACT_LEAKY_RELU: g[i] *= o > 0 ? 1 : alpha; break;
        case CK_ACT_SIGMOID: g[i] *= o * (1 - o); break;
        case CK_ACT_TANH: g[i] *= 1 - o * o; break;
        case CK_ACT_ELU: g[i] *= o > 0 ? 1 : o + 1; break;
        default: break;
        }
    }
}
