/*
 * activations.c -- elementwise activations and their derivatives, in stable forms
 * (sigmoid and softplus never overflow). Backward uses y where that is cheaper
 * (sigmoid, tanh) and x otherwise.
 */
#include "cpu.h"

static void forward_range(const cpu_ew *j, size_t b, size_t e) {
    const float *x = j->a;
    float *y = j->y, alpha = j->alpha;
    switch ((ck_activation)j->kind) {
    case CK_ACT_IDENTITY:
        if (y != x) for (size_t i = b; i < e; i++) y[i] = x[i];
        break;
    case CK_ACT_RELU:
        for (size_t i = b; i < e; i++) y[i] = x[i] > 0 ? x[i] : 0.0f;
        break;
    case CK_ACT_LEAKY_RELU:
        for (size_t i = b; i < e; i++) y[i] = x[i] > 0 ? x[i] : alpha * x[i];
        break;
    case CK_ACT_SIGMOID:
        for (size_t i = b; i < e; i++) y[i] = cpu_sigmoid(x[i]);
        break;
    case CK_ACT_TANH:
        for (size_t i = b; i < e; i++) y[i] = tanhf(x[i]);
        break;
    case CK_ACT_SOFTPLUS:
        for (size_t i = b; i < e; i++) y[i] = cpu_softplus(x[i]);
        break;
    }
}

static void backward_range(const cpu_ew *j, size_t b, size_t e) {
    const float *x = j->a, *y = j->b, *dy = j->c;
    float *dx = j->y, alpha = j->alpha;
    switch ((ck_activation)j->kind) {
    case CK_ACT_IDENTITY:
        if (dx != dy) for (size_t i = b; i < e; i++) dx[i] = dy[i];
        break;
    case CK_ACT_RELU:
        for (size_t i = b; i < e; i++) dx[i] = x[i] > 0 ? dy[i] : 0.0f;
        break;
    case CK_ACT_LEAKY_RELU:
        for (size_t i = b; i < e; i++) dx[i] = x[i] > 0 ? dy[i] : alpha * dy[i];
        break;
    case CK_ACT_SIGMOID:
        for (size_t i = b; i < e; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case CK_ACT_TANH:
        for (size_t i = b; i < e; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case CK_ACT_SOFTPLUS:
        for (size_t i = b; i < e; i++) dx[i] = dy[i] * cpu_sigmoid(x[i]);
        break;
    }
}

ck_status cpu_activation_forward(ck_activation kind, float alpha, size_t count, const ck_buffer *x,
                                 ck_buffer *y) {
    cpu_ew j = {.range = forward_range, .count = count, .a = x->host, .y = y->host,
                .alpha = alpha, .kind = kind};
    cpu_ew_run(cpu_of(x), &j);
    return CK_OK;
}

ck_status cpu_activation_backward(ck_activation kind, float alpha, size_t count, const ck_buffer *x,
                                  const ck_buffer *y, const ck_buffer *dy, ck_buffer *dx) {
    cpu_ew j = {.range = backward_range, .count = count, .a = x->host, .b = y->host,
                .c = dy->host, .y = dx->host, .alpha = alpha, .kind = kind};
    cpu_ew_run(cpu_of(x), &j);
    return CK_OK;
}
