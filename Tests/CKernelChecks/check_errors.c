/*
 * check_errors.c -- every public entry point with bad arguments: NULL buffers and
 * pointers, non-positive sizes, output sizes <= 0, buffers too small, buffers of another
 * backend, out-of-range hyper-parameters. Each must return the expected error status,
 * leave a fresh non-empty ck_last_error() and not crash. Buffer arguments are varied
 * one at a time from a valid call (which must succeed) to NULL (CK_ERR_ARGUMENT, or
 * CK_OK for optional ones), a 1-float buffer (CK_ERR_SHAPE) and a buffer of a second
 * backend (CK_ERR_MISMATCH).
 */
#include "ckc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ANY (-1)
#define MAXARGS 8
#define BIG 200000

/* Leaves a known message so that a call that fails without a message is caught. */
static void mark(void) {
    ck_backend *be = NULL;
    ck_backend_open("ckc-marker", 0, &be);
}

static void expect_error(ckc *c, const char *what, ck_status got, int expected) {
    const char *msg = ck_last_error();
    ckc_expect(c, got != CK_OK && (expected == ANY || (int)got == expected),
               "%s returned %s, expected %s", what, ck_status_name(got),
               expected == ANY ? "an error" : ck_status_name((ck_status)expected));
    ckc_expect(c, msg && msg[0] && !strstr(msg, "ckc-marker"), "%s left no message of its own ('%s')",
               what, msg ? msg : "(null)");
}

#define BAD(expected, call)                                                                \
    do {                                                                                   \
        mark();                                                                            \
        ck_status s_ = (call);                                                             \
        expect_error(c, #call, s_, expected);                                              \
    } while (0)

/* Fixed small geometry: every BIG buffer is large enough for any operation below. */
static ck_conv_shape shape(void) {
    ck_conv_shape s = ck_conv_shape_make(2, 3, 8, 8, 4, 3, 3);
    s.pad_h = s.pad_w = 1;
    return s;
}

typedef ck_status (*op_fn)(ck_buffer **a);
typedef struct {
    const char *name;
    op_fn call;
    int nargs;
    unsigned optional; /* bit i: argument i may be NULL */
} op_entry;

static ck_conv_shape S;
static ck_adam_params ADAM = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 1.0f, 1};

static ck_status op_conv_fwd(ck_buffer **a) { return ck_conv2d_forward(&S, a[0], a[1], a[2], a[3], a[4]); }
static ck_status op_conv_bd(ck_buffer **a) { return ck_conv2d_backward_data(&S, a[0], a[1], a[2], a[3]); }
static ck_status op_conv_bw(ck_buffer **a) { return ck_conv2d_backward_weights(&S, a[0], a[1], a[2], a[3], a[4]); }
static ck_status op_deconv_fwd(ck_buffer **a) { return ck_deconv2d_forward(&S, a[0], a[1], a[2], a[3], a[4]); }
static ck_status op_deconv_bd(ck_buffer **a) { return ck_deconv2d_backward_data(&S, a[0], a[1], a[2], a[3]); }
static ck_status op_deconv_bw(ck_buffer **a) { return ck_deconv2d_backward_weights(&S, a[0], a[1], a[2], a[3], a[4]); }
static ck_status op_im2col(ck_buffer **a) { return ck_im2col(&S, a[0], a[1]); }
static ck_status op_col2im(ck_buffer **a) { return ck_col2im(&S, a[0], a[1]); }
static ck_status op_dense_fwd(ck_buffer **a) { return ck_dense_forward(4, 5, 6, a[0], a[1], a[2], a[3]); }
static ck_status op_dense_bd(ck_buffer **a) { return ck_dense_backward_data(4, 5, 6, a[0], a[1], a[2]); }
static ck_status op_dense_bw(ck_buffer **a) { return ck_dense_backward_weights(4, 5, 6, a[0], a[1], a[2], a[3]); }
static ck_status op_act_fwd(ck_buffer **a) { return ck_activation_forward(CK_ACT_RELU, 0, 10, a[0], a[1]); }
static ck_status op_act_bwd(ck_buffer **a) { return ck_activation_backward(CK_ACT_RELU, 0, 10, a[0], a[1], a[2], a[3]); }
static ck_status op_bern(ck_buffer **a) { return ck_bernoulli_nll(2, 5, a[0], a[1], a[2], a[3], a[4], 1); }
static ck_status op_gauss(ck_buffer **a) { return ck_gaussian_nll(2, 3, 4, a[0], a[1], a[2], a[3], a[4], a[5], a[6], 1); }
static ck_status op_logistic(ck_buffer **a) { return ck_logistic_nll(2, 3, 4, a[0], a[1], a[2], a[3], a[4], a[5], a[6], 1); }
static ck_status op_kl(ck_buffer **a) { return ck_kl_normal(2, 3, a[0], a[1], a[2], 1, 0); }
static ck_status op_normal(ck_buffer **a) { return ck_random_normal(10, 1, 0, a[0]); }
static ck_status op_bernoulli(ck_buffer **a) { return ck_random_bernoulli(10, 1, 0, a[0], a[1]); }
static ck_status op_reparam(ck_buffer **a) { return ck_reparameterize(2, 3, a[0], a[1], a[2]); }
static ck_status op_reparam_bwd(ck_buffer **a) { return ck_reparameterize_backward(2, 3, a[0], a[1], a[2], a[3]); }
static ck_status op_keep_best(ck_buffer **a) { return ck_keep_best_rows(2, 3, a[0], a[1], a[2], a[3]); }
static ck_status op_axpby(ck_buffer **a) { return ck_axpby(10, 1, a[0], 0, a[1]); }
static ck_status op_adam(ck_buffer **a) { return ck_adam_update(10, &ADAM, a[0], a[1], a[2], a[3]); }
static ck_status op_copy(ck_buffer **a) { return ck_copy(a[0], 0, a[1], 0, 10); }
static ck_status op_copy_rows(ck_buffer **a) { return ck_copy_rows(a[0], 1, 7, a[1], 2, 5, 3, 4); }
static ck_status op_conv_fwd_act(ck_buffer **a) { return ck_conv2d_forward_act(&S, a[0], a[1], a[2], CK_ACT_RELU, 0, a[3], a[4]); }
static ck_status op_conv_bd_act(ck_buffer **a) { return ck_conv2d_backward_data_act(&S, a[0], a[1], CK_ACT_RELU, 0, a[2], a[3], a[4]); }
static ck_status op_deconv_fwd_act(ck_buffer **a) { return ck_deconv2d_forward_act(&S, a[0], a[1], a[2], CK_ACT_TANH, 0, a[3], a[4]); }
static ck_status op_deconv_bd_act(ck_buffer **a) { return ck_deconv2d_backward_data_act(&S, a[0], a[1], CK_ACT_SIGMOID, 0, a[2], a[3], a[4]); }
static ck_status op_dense_fwd_act(ck_buffer **a) { return ck_dense_forward_act(4, 5, 6, a[0], a[1], a[2], CK_ACT_LEAKY_RELU, 0.1f, a[3]); }
static ck_status op_dense_bd_act(ck_buffer **a) { return ck_dense_backward_data_act(4, 5, 6, a[0], a[1], CK_ACT_RELU, 0, a[2], a[3]); }

static const op_entry ops[] = {
    {"ck_conv2d_forward", op_conv_fwd, 5, 1u << 2},
    {"ck_conv2d_backward_data", op_conv_bd, 4, 0},
    {"ck_conv2d_backward_weights", op_conv_bw, 5, 1u << 3},
    {"ck_deconv2d_forward", op_deconv_fwd, 5, 1u << 2},
    {"ck_deconv2d_backward_data", op_deconv_bd, 4, 0},
    {"ck_deconv2d_backward_weights", op_deconv_bw, 5, 1u << 3},
    {"ck_im2col", op_im2col, 2, 0},
    {"ck_col2im", op_col2im, 2, 0},
    {"ck_dense_forward", op_dense_fwd, 4, 1u << 2},
    {"ck_dense_backward_data", op_dense_bd, 3, 0},
    {"ck_dense_backward_weights", op_dense_bw, 4, 1u << 3},
    {"ck_activation_forward", op_act_fwd, 2, 0},
    {"ck_activation_backward", op_act_bwd, 4, 0},
    {"ck_bernoulli_nll", op_bern, 5, 1u << 2 | 1u << 4},
    {"ck_gaussian_nll", op_gauss, 7, 1u << 3 | 1u << 5 | 1u << 6},
    {"ck_logistic_nll", op_logistic, 7, 1u << 3 | 1u << 5 | 1u << 6},
    {"ck_kl_normal", op_kl, 3, 1u << 2},
    {"ck_random_normal", op_normal, 1, 0},
    {"ck_random_bernoulli", op_bernoulli, 2, 0},
    {"ck_reparameterize", op_reparam, 3, 0},
    {"ck_reparameterize_backward", op_reparam_bwd, 4, 0},
    {"ck_keep_best_rows", op_keep_best, 4, 0},
    {"ck_axpby", op_axpby, 2, 0},
    {"ck_adam_update", op_adam, 4, 0},
    {"ck_copy", op_copy, 2, 0},
    {"ck_copy_rows", op_copy_rows, 2, 0},
    {"ck_conv2d_forward_act", op_conv_fwd_act, 5, 1u << 2},
    {"ck_conv2d_backward_data_act", op_conv_bd_act, 5, 0},
    {"ck_deconv2d_forward_act", op_deconv_fwd_act, 5, 1u << 2},
    {"ck_deconv2d_backward_data_act", op_deconv_bd_act, 5, 0},
    {"ck_dense_forward_act", op_dense_fwd_act, 4, 1u << 2},
    {"ck_dense_backward_data_act", op_dense_bd_act, 4, 0},
};

/* Each buffer argument of each operation: NULL, too small, foreign. */
static void buffer_arguments(ckc *c, ck_buffer **big, ck_buffer *tiny, ck_buffer *foreign) {
    S = shape();
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        const op_entry *op = &ops[k];
        ck_buffer *a[MAXARGS];
        for (int i = 0; i < op->nargs; i++) a[i] = big[i];
        ck_status s = op->call(a);
        ckc_expect(c, s == CK_OK, "%s with valid arguments returned %s: %s", op->name,
                   ck_status_name(s), ck_last_error());
        for (int i = 0; i < op->nargs; i++) {
            char what[128];
            ck_buffer *keep = a[i];
            a[i] = NULL;
            mark();
            s = op->call(a);
            if (op->optional >> i & 1) {
                ckc_expect(c, s == CK_OK, "%s with optional argument %d NULL returned %s", op->name, i,
                           ck_status_name(s));
            } else {
                snprintf(what, sizeof what, "%s(argument %d NULL)", op->name, i);
                expect_error(c, what, s, CK_ERR_ARGUMENT);
            }
            a[i] = tiny;
            mark();
            s = op->call(a);
            snprintf(what, sizeof what, "%s(argument %d of 1 float)", op->name, i);
            expect_error(c, what, s, CK_ERR_SHAPE);
            /* the first buffer defines the backend, so any other one mismatches it */
            if (op->nargs > 1) {
                a[i] = foreign;
                mark();
                s = op->call(a);
                snprintf(what, sizeof what, "%s(argument %d of another backend)", op->name, i);
                expect_error(c, what, s, CK_ERR_MISMATCH);
            }
            a[i] = keep;
        }
    }
}

/* Geometry errors for every convolution entry point. */
static void shape_arguments(ckc *c, ck_buffer **big) {
    int h, w;
    size_t n;
    ck_conv_shape s = shape(), bad;
    BAD(CK_ERR_ARGUMENT, ck_conv_output(NULL, 0, &h, &w));
    BAD(CK_ERR_ARGUMENT, ck_conv_output(&s, 0, NULL, &w));
    BAD(CK_ERR_ARGUMENT, ck_conv_workspace(NULL, &s, 0, &n));
    BAD(CK_ERR_ARGUMENT, ck_conv_workspace(c->be, &s, 0, NULL));
    BAD(CK_ERR_ARGUMENT, ck_conv_workspace(c->be, NULL, 0, &n));
    BAD(CK_ERR_ARGUMENT, ck_conv2d_forward(NULL, big[0], big[1], NULL, big[3], big[4]));
    BAD(CK_ERR_ARGUMENT, ck_deconv2d_backward_weights(NULL, big[0], big[1], big[2], NULL, big[4]));
    BAD(CK_ERR_ARGUMENT, ck_im2col(NULL, big[0], big[1]));
    BAD(CK_ERR_ARGUMENT, ck_col2im(NULL, big[0], big[1]));
    /* each field out of range, for both kinds of convolution */
    for (int t = 0; t <= 1; t++) {
        int *fields[] = {&bad.batch, &bad.c_in, &bad.h_in, &bad.w_in, &bad.c_out, &bad.k_h,
                         &bad.k_w, &bad.stride_h, &bad.stride_w, &bad.dil_h, &bad.dil_w};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            bad = s;
            *fields[f] = f % 2 ? 0 : -1;
            BAD(CK_ERR_ARGUMENT, ck_conv_output(&bad, t, &h, &w));
            BAD(CK_ERR_ARGUMENT, ck_conv_workspace(c->be, &bad, t, &n));
        }
        bad = s;
        bad.pad_w = -1;
        BAD(CK_ERR_ARGUMENT, ck_conv_output(&bad, t, &h, &w));
    }
    bad = s;
    bad.out_pad_h = 1; /* convolutions have no output padding */
    BAD(CK_ERR_ARGUMENT, ck_conv_output(&bad, 0, &h, &w));
    BAD(CK_ERR_ARGUMENT, ck_conv2d_forward(&bad, big[0], big[1], NULL, big[3], big[4]));
    bad.out_pad_h = 1; /* stride 1 and dilation 1: must be 0 */
    BAD(CK_ERR_ARGUMENT, ck_deconv2d_forward(&bad, big[0], big[1], NULL, big[3], big[4]));
    /* output size <= 0: a 20x20 kernel on an 8x8 image; a transposed output below 1 */
    bad = s;
    bad.k_h = bad.k_w = 20;
    BAD(CK_ERR_SHAPE, ck_conv_output(&bad, 0, &h, &w));
    BAD(CK_ERR_SHAPE, ck_conv_workspace(c->be, &bad, 0, &n));
    BAD(CK_ERR_SHAPE, ck_conv2d_forward(&bad, big[0], big[1], NULL, big[3], big[4]));
    BAD(CK_ERR_SHAPE, ck_conv2d_backward_data(&bad, big[0], big[1], big[2], big[3]));
    BAD(CK_ERR_SHAPE, ck_conv2d_backward_weights(&bad, big[0], big[1], big[2], NULL, big[4]));
    BAD(CK_ERR_SHAPE, ck_im2col(&bad, big[0], big[1]));
    BAD(CK_ERR_SHAPE, ck_col2im(&bad, big[0], big[1]));
    bad = ck_conv_shape_make(1, 1, 1, 1, 1, 1, 1);
    bad.pad_h = 1;
    BAD(CK_ERR_SHAPE, ck_conv_output(&bad, 1, &h, &w));
    BAD(CK_ERR_SHAPE, ck_deconv2d_forward(&bad, big[0], big[1], NULL, big[3], big[4]));
    BAD(CK_ERR_SHAPE, ck_deconv2d_backward_data(&bad, big[0], big[1], big[2], big[3]));
    BAD(CK_ERR_SHAPE, ck_deconv2d_backward_weights(&bad, big[0], big[1], big[2], NULL, big[4]));
}

/* Scalars out of range, and the entry points that take no buffer arguments. */
static void scalar_arguments(ckc *c, ck_buffer **a, ck_buffer *foreign) {
    ck_backend *be = NULL;
    ck_buffer *b = NULL;
    float f[4] = {0};
    double d;
    BAD(CK_ERR_ARGUMENT, ck_backend_open(NULL, 0, &be));
    BAD(CK_ERR_ARGUMENT, ck_backend_open("cpu", 0, NULL));
    BAD(CK_ERR_ARGUMENT, ck_backend_open("cpu", -1, &be));
    BAD(CK_ERR_ARGUMENT, ck_backend_open("no-such-device", 0, &be));
    ckc_expect(c, be == NULL, "a failed ck_backend_open left a backend");
    BAD(ANY, ck_backend_open("opencl:99.99", 0, &be));
    BAD(CK_ERR_ARGUMENT, ck_backend_synchronize(NULL));
    ck_backend_close(NULL);
    ckc_expect(c, strcmp(ck_backend_kind(NULL), "") == 0 && strcmp(ck_backend_description(NULL), "") == 0 &&
                      ck_backend_threads(NULL) == 0,
               "backend getters on NULL");
    ckc_expect(c, ck_backend_description(c->be)[0] != 0, "empty backend description");
    char text[4096];
    mark();
    ck_status s = ck_opencl_list_devices(text, sizeof text);
    if (s != CK_OK) expect_error(c, "ck_opencl_list_devices", s, CK_ERR_UNAVAILABLE);
    ck_opencl_list_devices(NULL, 0); /* must not crash */
    ckc_expect(c, strcmp(ck_status_name(CK_OK), "ok") == 0 && ck_status_name((ck_status)99)[0],
               "ck_status_name");

    BAD(CK_ERR_ARGUMENT, ck_buffer_new(NULL, 4, &b));
    BAD(CK_ERR_ARGUMENT, ck_buffer_new(c->be, 0, &b));
    BAD(CK_ERR_ARGUMENT, ck_buffer_new(c->be, 4, NULL));
    BAD(CK_ERR_MEMORY, ck_buffer_new(c->be, SIZE_MAX / 2, &b));
    ckc_expect(c, b == NULL, "a failed ck_buffer_new left a buffer");
    ck_buffer_free(NULL);
    ckc_expect(c, ck_buffer_count(NULL) == 0 && ck_buffer_host(NULL) == NULL, "buffer getters on NULL");
    BAD(CK_ERR_ARGUMENT, ck_buffer_write(NULL, 0, 1, f));
    BAD(CK_ERR_ARGUMENT, ck_buffer_write(a[0], 0, 1, NULL));
    BAD(CK_ERR_SHAPE, ck_buffer_write(a[0], BIG, 1, f));
    BAD(CK_ERR_SHAPE, ck_buffer_write(a[0], 1, BIG, f));
    BAD(CK_ERR_SHAPE, ck_buffer_write(a[0], SIZE_MAX, 2, f));
    BAD(CK_ERR_ARGUMENT, ck_buffer_read(NULL, 0, 1, f));
    BAD(CK_ERR_ARGUMENT, ck_buffer_read(a[0], 0, 1, NULL));
    BAD(CK_ERR_SHAPE, ck_buffer_read(a[0], BIG - 1, 2, f));
    BAD(CK_ERR_ARGUMENT, ck_copy(NULL, 0, a[0], 0, 1));
    BAD(CK_ERR_SHAPE, ck_copy(a[1], BIG, a[0], 0, 1));
    BAD(CK_ERR_SHAPE, ck_copy(a[1], 0, a[0], 1, BIG));
    BAD(CK_ERR_MISMATCH, ck_copy(a[1], 0, foreign, 0, 1));
    BAD(CK_ERR_ARGUMENT, ck_copy_rows(a[1], 0, 3, a[0], 0, 4, 2, 4));  /* blocks overlap */
    BAD(CK_ERR_SHAPE, ck_copy_rows(a[1], 0, BIG, a[0], 0, 4, 2, 4));   /* second block past the end */
    BAD(CK_ERR_SHAPE, ck_copy_rows(a[1], 0, SIZE_MAX, a[0], 0, 4, 3, 1));
    BAD(CK_ERR_ARGUMENT, ck_copy_rows(a[0], 0, 8, a[0], 4, 8, 2, 4)); /* one buffer */
    ckc_expect(c, ck_copy_rows(a[1], 0, 0, a[0], 0, 0, 5, 0) == CK_OK, "ck_copy_rows of empty blocks refused");
    BAD(CK_ERR_ARGUMENT, ck_fill(NULL, 0, 1, 0));
    BAD(CK_ERR_SHAPE, ck_fill(a[0], 1, BIG, 0));

    BAD(CK_ERR_ARGUMENT, ck_dense_forward(0, 5, 6, a[0], a[1], NULL, a[3]));
    BAD(CK_ERR_ARGUMENT, ck_dense_forward(4, -5, 6, a[0], a[1], NULL, a[3]));
    BAD(CK_ERR_ARGUMENT, ck_dense_backward_data(4, 5, 0, a[0], a[1], a[2]));
    /* fused activations: unknown kinds, derivatives that the output does not give, dx = x */
    BAD(CK_ERR_ARGUMENT, ck_dense_forward_act(4, 5, 6, a[0], a[1], NULL, (ck_activation)99, 0, a[3]));
    BAD(CK_ERR_ARGUMENT, ck_dense_backward_data_act(4, 5, 6, a[0], a[1], CK_ACT_SOFTPLUS, 0, a[2], a[3]));
    BAD(CK_ERR_ARGUMENT, ck_dense_backward_data_act(4, 5, 6, a[0], a[1], CK_ACT_LEAKY_RELU, -0.5f, a[2], a[3]));
    BAD(CK_ERR_ARGUMENT, ck_dense_backward_data_act(4, 5, 6, a[0], a[1], CK_ACT_RELU, 0, a[2], a[2]));
    BAD(CK_ERR_ARGUMENT, ck_dense_backward_weights(-1, 5, 6, a[0], a[1], a[2], NULL));
    BAD(CK_ERR_ARGUMENT, ck_activation_forward((ck_activation)99, 0, 10, a[0], a[1]));
    BAD(CK_ERR_ARGUMENT, ck_activation_forward(CK_ACT_RELU, 0, 0, a[0], a[1]));
    BAD(CK_ERR_ARGUMENT, ck_activation_backward((ck_activation)-1, 0, 10, a[0], a[1], a[2], a[3]));
    BAD(CK_ERR_ARGUMENT, ck_activation_backward(CK_ACT_TANH, 0, 0, a[0], a[1], a[2], a[3]));
    BAD(CK_ERR_ARGUMENT, ck_bernoulli_nll(0, 5, a[0], a[1], NULL, a[2], NULL, 1));
    BAD(CK_ERR_ARGUMENT, ck_bernoulli_nll(2, -5, a[0], a[1], NULL, a[2], NULL, 1));
    BAD(CK_ERR_ARGUMENT, ck_gaussian_nll(2, 0, 4, a[0], a[1], a[2], NULL, a[3], NULL, NULL, 1));
    BAD(CK_ERR_ARGUMENT, ck_gaussian_nll(2, 3, -4, a[0], a[1], a[2], NULL, a[3], NULL, NULL, 1));
    BAD(CK_ERR_ARGUMENT, ck_logistic_nll(-2, 3, 4, a[0], a[1], a[2], NULL, a[3], NULL, NULL, 1));
    BAD(CK_ERR_ARGUMENT, ck_logistic_nll(2, 3, 0, a[0], a[1], a[2], NULL, a[3], NULL, NULL, 1));
    BAD(CK_ERR_ARGUMENT, ck_kl_normal(0, 3, a[0], a[1], NULL, 1, 0));
    BAD(CK_ERR_ARGUMENT, ck_kl_normal(2, 0, a[0], a[1], NULL, 1, 0));
    BAD(CK_ERR_ARGUMENT, ck_kl_normal(2, 3, a[0], a[1], NULL, 1, -0.5f));
    BAD(CK_ERR_ARGUMENT, ck_kl_normal(2, 3, a[0], a[1], NULL, 1, NAN));
    BAD(CK_ERR_ARGUMENT, ck_random_normal(0, 1, 0, a[0]));
    BAD(CK_ERR_ARGUMENT, ck_random_bernoulli(0, 1, 0, a[0], a[1]));
    BAD(CK_ERR_ARGUMENT, ck_reparameterize(0, 3, a[0], a[1], a[2]));
    BAD(CK_ERR_ARGUMENT, ck_reparameterize_backward(2, -3, a[0], a[1], a[2], a[3]));
    BAD(CK_ERR_ARGUMENT, ck_sum(NULL, 0, 1, &d));
    BAD(CK_ERR_ARGUMENT, ck_sum(a[0], 0, 1, NULL));
    BAD(CK_ERR_SHAPE, ck_sum(a[0], 1, BIG, &d));
    BAD(CK_ERR_ARGUMENT, ck_sum_squares(NULL, 0, 1, &d));
    BAD(CK_ERR_ARGUMENT, ck_sum_squares(a[0], 0, 1, NULL));
    BAD(CK_ERR_SHAPE, ck_sum_squares(a[0], BIG + 1, 0, &d));
    BAD(CK_ERR_ARGUMENT, ck_axpby(0, 1, a[0], 0, a[1]));
    ck_adam_params p = ADAM;
    BAD(CK_ERR_ARGUMENT, ck_adam_update(0, &p, a[0], a[1], a[2], a[3]));
    BAD(CK_ERR_ARGUMENT, ck_adam_update(10, NULL, a[0], a[1], a[2], a[3]));
    p.step = 0;
    BAD(CK_ERR_ARGUMENT, ck_adam_update(10, &p, a[0], a[1], a[2], a[3]));
    p = ADAM;
    p.beta1 = 1.0f;
    BAD(CK_ERR_ARGUMENT, ck_adam_update(10, &p, a[0], a[1], a[2], a[3]));
    p = ADAM;
    p.beta2 = -0.1f;
    BAD(CK_ERR_ARGUMENT, ck_adam_update(10, &p, a[0], a[1], a[2], a[3]));
    p = ADAM;
    p.eps = 0;
    BAD(CK_ERR_ARGUMENT, ck_adam_update(10, &p, a[0], a[1], a[2], a[3]));
    p = ADAM;
    p.lr = -1;
    BAD(CK_ERR_ARGUMENT, ck_adam_update(10, &p, a[0], a[1], a[2], a[3]));
    /* a conv workspace that is too small or missing */
    S = shape();
    size_t need = 0;
    if (ckc_ok(c, ck_conv_workspace(c->be, &S, 0, &need), "ck_conv_workspace") && need > 1) {
        ck_buffer *small = NULL;
        if (ckc_ok(c, ck_buffer_new(c->be, need - 1, &small), "ck_buffer_new")) {
            BAD(CK_ERR_SHAPE, ck_conv2d_forward(&S, a[0], a[1], NULL, a[3], small));
            BAD(CK_ERR_ARGUMENT, ck_conv2d_forward(&S, a[0], a[1], NULL, a[3], NULL));
            ck_buffer_free(small);
        }
    }
}

/*
 * The likelihoods' weight: one float fewer than target holds (the values it must cover)
 * is CK_ERR_SHAPE, a weight of another backend CK_ERR_MISMATCH, each with a message that
 * names the weight; exactly as many floats as target passes.
 */
static void weight_arguments(ckc *c, ck_buffer **a, ck_buffer *foreign) {
    ck_buffer *w10 = ckc_upload(c, NULL, 10), *w9 = ckc_upload(c, NULL, 9);
    ck_buffer *w24 = ckc_upload(c, NULL, 24), *w23 = ckc_upload(c, NULL, 23);
    if (w10 && w9 && w24 && w23) {
        ckc_ok(c, ck_bernoulli_nll(2, 5, a[0], a[1], w10, a[2], a[3], 1), "ck_bernoulli_nll(weight of 10)");
        ckc_ok(c, ck_gaussian_nll(2, 3, 4, a[0], a[1], a[2], w24, a[3], a[4], a[5], 1), "ck_gaussian_nll(weight of 24)");
        ckc_ok(c, ck_logistic_nll(2, 3, 4, a[0], a[1], a[2], w24, a[3], a[4], a[5], 1), "ck_logistic_nll(weight of 24)");
        BAD(CK_ERR_SHAPE, ck_bernoulli_nll(2, 5, a[0], a[1], w9, a[2], a[3], 1));
        ckc_expect(c, strstr(ck_last_error(), "weight") != NULL, "bernoulli small weight message: '%s'", ck_last_error());
        BAD(CK_ERR_SHAPE, ck_gaussian_nll(2, 3, 4, a[0], a[1], a[2], w23, a[3], a[4], a[5], 1));
        ckc_expect(c, strstr(ck_last_error(), "weight") != NULL, "gaussian small weight message: '%s'", ck_last_error());
        BAD(CK_ERR_SHAPE, ck_logistic_nll(2, 3, 4, a[0], a[1], a[2], w23, a[3], NULL, NULL, 1));
        ckc_expect(c, strstr(ck_last_error(), "weight") != NULL, "logistic small weight message: '%s'", ck_last_error());
        BAD(CK_ERR_MISMATCH, ck_bernoulli_nll(2, 5, a[0], a[1], foreign, a[2], NULL, 1));
        ckc_expect(c, strstr(ck_last_error(), "weight") != NULL, "bernoulli foreign weight message: '%s'", ck_last_error());
        BAD(CK_ERR_MISMATCH, ck_gaussian_nll(2, 3, 4, a[0], a[1], a[2], foreign, a[3], NULL, NULL, 1));
        ckc_expect(c, strstr(ck_last_error(), "weight") != NULL, "gaussian foreign weight message: '%s'", ck_last_error());
        BAD(CK_ERR_MISMATCH, ck_logistic_nll(2, 3, 4, a[0], a[1], a[2], foreign, a[3], a[4], a[5], 1));
        ckc_expect(c, strstr(ck_last_error(), "weight") != NULL, "logistic foreign weight message: '%s'", ck_last_error());
    }
    ck_buffer_free(w10); ck_buffer_free(w9); ck_buffer_free(w24); ck_buffer_free(w23);
}

void ckc_check_errors(ckc *c) {
    ck_buffer *big[MAXARGS] = {0}, *tiny = NULL, *foreign = NULL;
    ck_backend *other = NULL;
    if (!ckc_ok(c, ck_backend_open(c->device, 1, &other), "ck_backend_open")) return;
    for (int i = 0; i < MAXARGS; i++) big[i] = ckc_upload(c, NULL, BIG);
    tiny = ckc_upload(c, NULL, 1);
    ckc_ok(c, ck_buffer_new(other, BIG, &foreign), "ck_buffer_new");
    int ready = tiny && foreign;
    for (int i = 0; i < MAXARGS; i++) ready &= big[i] != NULL;
    if (ready) {
        /* valid adam moments need v >= 0 and step >= 1 only: zeros are fine */
        buffer_arguments(c, big, tiny, foreign);
        shape_arguments(c, big);
        scalar_arguments(c, big, foreign);
        weight_arguments(c, big, foreign);
    }
    for (int i = 0; i < MAXARGS; i++) ck_buffer_free(big[i]);
    ck_buffer_free(tiny);
    ck_buffer_free(foreign);
    ck_backend_close(other);
}
