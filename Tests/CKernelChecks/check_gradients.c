/*
 * check_gradients.c -- the naive backward passes of refs.c against central finite
 * differences of the naive forward, in double: L = <r, forward(x, w, bias)> with random
 * r, so dL/dx = backward_data(r), dL/dw and dL/dbias = backward_weights(x, r). The
 * kernels are compared with these naive backward passes (check_conv.c), so together
 * every kernel backward is checked against finite differences. L is linear in each
 * argument, so central differences are exact up to rounding: tolerance 1e-8 relative.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    const ck_conv_shape *s;
    int transposed;
    double *x, *w, *bias, *y, *r;
    size_t ny;
} fd_ctx;

static double loss(const fd_ctx *f) {
    if (f->transposed) ckc_ref_deconv_forward(f->s, f->x, f->w, f->bias, f->y);
    else ckc_ref_conv_forward(f->s, f->x, f->w, f->bias, f->y);
    double l = 0;
    for (size_t i = 0; i < f->ny; i++) l += f->r[i] * f->y[i];
    return l;
}

/* Central difference of L in *v. */
static double fd(const fd_ctx *f, double *v) {
    const double h = 1e-3;
    double keep = *v;
    *v = keep + h;
    double lp = loss(f);
    *v = keep - h;
    double lm = loss(f);
    *v = keep;
    return (lp - lm) / (2 * h);
}

/* Compares analytic[i] with the finite difference for up to 12 random indices. */
static void probe(ckc *c, const fd_ctx *f, double *values, const double *analytic, size_t n,
                  const char *what, ckc_rng *r) {
    char text[256];
    for (int t = 0; t < 12; t++) {
        size_t i = (size_t)ckc_int(r, 0, (int)n - 1);
        double num = fd(f, &values[i]);
        double tol = 1e-8 * (fabs(num) > 1 ? fabs(num) : 1);
        ckc_expect(c, fabs(num - analytic[i]) <= tol,
                   "%s %s[%zu]: backward %.12g, finite difference %.12g (%s)",
                   f->transposed ? "deconv" : "conv", what, i, analytic[i], num,
                   ckc_shape_text(f->s, text, sizeof text));
    }
}

static void one_case(ckc *c, const ck_conv_shape *s, int transposed, ckc_rng *r) {
    int ho, wo;
    if (ck_conv_output(s, transposed, &ho, &wo) != CK_OK) return;
    size_t nx = (size_t)s->batch * s->c_in * s->h_in * s->w_in;
    size_t ny = (size_t)s->batch * s->c_out * ho * wo;
    size_t nw = (size_t)s->c_out * s->c_in * s->k_h * s->k_w;
    fd_ctx f = {s, transposed, malloc(nx * sizeof(double)), malloc(nw * sizeof(double)),
                malloc((size_t)s->c_out * sizeof(double)), malloc(ny * sizeof(double)),
                malloc(ny * sizeof(double)), ny};
    for (size_t i = 0; i < nx; i++) f.x[i] = ckc_uniform(r, -1, 1);
    for (size_t i = 0; i < nw; i++) f.w[i] = ckc_uniform(r, -1, 1);
    for (int i = 0; i < s->c_out; i++) f.bias[i] = ckc_uniform(r, -1, 1);
    for (size_t i = 0; i < ny; i++) f.r[i] = ckc_uniform(r, -1, 1);
    double *dx = malloc(nx * sizeof *dx), *dw = malloc(nw * sizeof *dw);
    double *db = malloc((size_t)s->c_out * sizeof *db);
    if (transposed) {
        ckc_ref_deconv_backward_data(s, f.r, f.w, dx);
        ckc_ref_deconv_backward_weights(s, f.x, f.r, dw, db);
    } else {
        ckc_ref_conv_backward_data(s, f.r, f.w, dx);
        ckc_ref_conv_backward_weights(s, f.x, f.r, dw, db);
    }
    probe(c, &f, f.x, dx, nx, "dx", r);
    probe(c, &f, f.w, dw, nw, "dw", r);
    probe(c, &f, f.bias, db, (size_t)s->c_out, "dbias", r);
    free(f.x); free(f.w); free(f.bias); free(f.y); free(f.r); free(dx); free(dw); free(db);
}

void ckc_check_gradients(ckc *c) {
    ckc_rng r = {31};
    for (int transposed = 0; transposed <= 1; transposed++)
        for (int i = 0; i < 12; i++) {
            ck_conv_shape s = ckc_random_shape(&r, 2, 3, 3, 7, 4);
            if (transposed) {
                int mh = s.stride_h > s.dil_h ? s.stride_h : s.dil_h;
                int mw = s.stride_w > s.dil_w ? s.stride_w : s.dil_w;
                s.out_pad_h = ckc_int(&r, 0, mh - 1);
                s.out_pad_w = ckc_int(&r, 0, mw - 1);
            }
            one_case(c, &s, transposed, &r);
        }
}
