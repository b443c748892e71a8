/*
 * ckc.h -- private helpers of the kernel checks: a failure counter that prints each
 * failure with its parameters, test data from a seeded generator, buffer round trips,
 * and the error measure used everywhere:
 *     err = max_i |got_i - ref_i| / max(1, max_i |ref_i|)
 * (absolute for values of order 1 and below, relative to the largest reference value
 * above that).
 */
#ifndef CKC_H
#define CKC_H

#include "ckernels.h"
#include "ckernel_checks.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ckc {
    ck_backend *be;
    const char *device;
    const char *check;
    int failures;
    int checks;   /* comparisons made */
    int skipped;  /* set by ckc_skip */
} ckc;

/* Records one failure: prints "check/device: message" to stderr. */
void ckc_fail(ckc *c, const char *format, ...);
/* Marks the group skipped, for a device or operation that answers CK_ERR_UNAVAILABLE here:
 * prints "SKIP check/device: message" to stderr. The group then stops checking what needs
 * it; ckc_run reports CKC_SKIPPED unless something else failed. */
void ckc_skip(ckc *c, const char *format, ...);
/* Counts a comparison; on !ok records a failure with the message. Returns ok. */
int ckc_expect(ckc *c, int ok, const char *format, ...);
/* Expects status == CK_OK; otherwise a failure naming what and ck_last_error(). */
int ckc_ok(ckc *c, ck_status status, const char *what);

/* The error measure above between floats and a double reference. */
double ckc_err(const float *got, const double *ref, size_t n);
double ckc_err_ff(const float *got, const float *ref, size_t n);

/* Seeded uniform numbers in [lo, hi). */
typedef struct { uint64_t s; } ckc_rng;
double ckc_uniform(ckc_rng *r, double lo, double hi);
int ckc_int(ckc_rng *r, int lo, int hi); /* in [lo, hi] */
void ckc_fill(ckc_rng *r, float *x, size_t n, double lo, double hi);
/* n integers, v[i] in [lo[i], hi[i]], drawn in order (never inside one argument list:
 * C leaves the order of argument evaluation open, and gcc and clang differ). */
void ckc_ints(ckc_rng *r, int n, const int *lo, const int *hi, int *v);
/* A random geometry: batch 1..max_batch, channels 1..max_channels, image sizes
 * min_size..max_size, kernel 1..max_k, stride 1-3, padding 0-2, dilation 1-2 per axis. */
ck_conv_shape ckc_random_shape(ckc_rng *r, int max_batch, int max_channels, int min_size,
                               int max_size, int max_k);

/* A new buffer holding n floats copied from x (x NULL: zeros); NULL after a failure. */
ck_buffer *ckc_upload(ckc *c, const float *x, size_t n);
/* n floats of b copied into a malloc'ed array (NULL after a failure). */
float *ckc_download(ckc *c, const ck_buffer *b, size_t n);
/* Promotes floats to doubles (malloc'ed). */
double *ckc_promote(const float *x, size_t n);

/* ---------------------------------------------------------------- naive references (double) */

/* Output size of a convolution (transposed 0) or transposed convolution (1); <= 0 invalid. */
void ckc_out_size(const ck_conv_shape *s, int transposed, int *h_out, int *w_out);
/* Convolution by direct loops; bias may be NULL. Outputs overwritten. */
void ckc_ref_conv_forward(const ck_conv_shape *s, const double *x, const double *w,
                          const double *bias, double *y);
void ckc_ref_conv_backward_data(const ck_conv_shape *s, const double *dy, const double *w,
                                double *dx);
void ckc_ref_conv_backward_weights(const ck_conv_shape *s, const double *x, const double *dy,
                                   double *dw, double *dbias);
/* Transposed convolution by direct loops, from its own definition (scatter of each input). */
void ckc_ref_deconv_forward(const ck_conv_shape *s, const double *x, const double *w,
                            const double *bias, double *y);
void ckc_ref_deconv_backward_data(const ck_conv_shape *s, const double *dy, const double *w,
                                  double *dx);
void ckc_ref_deconv_backward_weights(const ck_conv_shape *s, const double *x, const double *dy,
                                     double *dw, double *dbias);
/* y = f(y) in place, in double (the fused _act forward forms). */
void ckc_ref_activation(ck_activation kind, double alpha, double *y, size_t n);
/* g *= f'(.) taken from the activation's output gate (the fused backward-data forms). */
void ckc_ref_activation_gate(ck_activation kind, double alpha, const double *gate, double *g,
                             size_t n);
/* Columns [c_in k_h k_w, batch h_out w_out] as ck_im2col lays them out. */
void ckc_ref_im2col(const ck_conv_shape *s, const double *x, double *cols);

/* Prints a shape into text (for failure messages). */
const char *ckc_shape_text(const ck_conv_shape *s, char *text, size_t capacity);

/* Runs and compares the three passes of one shape (check_conv.c); 0 when the shape is invalid. */
int ckc_conv_case(ckc *c, const ck_conv_shape *s, int transposed, uint64_t seed);

/* Check groups (one per file). */
void ckc_check_im2col(ckc *c);
void ckc_check_conv(ckc *c);
void ckc_check_deconv(ckc *c);
void ckc_check_models(ckc *c);
void ckc_check_gradients(ckc *c);
void ckc_check_dense(ckc *c);
void ckc_check_activations(ckc *c);
void ckc_check_losses(ckc *c);
void ckc_check_kl(ckc *c);
void ckc_check_kl_pair(ckc *c);
void ckc_check_softmax(ckc *c);
void ckc_check_vq(ckc *c);
void ckc_check_linalg(ckc *c);
void ckc_check_random(ckc *c);
void ckc_check_elementwise(ckc *c);
void ckc_check_adam(ckc *c);
void ckc_check_determinism(ckc *c);
void ckc_check_errors(ckc *c);
void ckc_check_dist(ckc *c);

#endif /* CKC_H */
