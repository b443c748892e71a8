/*
 * activations.c -- elementwise activations and their derivatives, in stable forms
 * (sigmoid and softplus never overflow). Backward uses y where that is cheaper
 * (sigmoid, tanh, elu) and x otherwise.
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
        CPU_IVDEP
        for (size_t i = b; i < e; i++) y[i] = x[i] > 0 ? x[i] : 0.0f;
        break;
    case CK_ACT_LEAKY_RELU:
        CPU_IVDEP
        for (size_t i = b; i < e; i++) y[i] = x[i] > 0 ? x[i] : alpha * x[i];
        break;
    case CK_ACT_SIGMOID:
        CPU_IVDEP
        for (size_t i = b; i < e; i++) y[i] = cpu_sigmoid(x[i]);
        break;
    case CK_ACT_TANH:
        CPU_IVDEP
        for (size_t i = b; i < e; i++) y[i] = tanhf(x[i]);
        break;
    case CK_ACT_SOFTPLUS:
        CPU_IVDEP
        for (size_t i = b; i < e; i++) y[i] = cpu_softplus(x[i]);
        break;
    case CK_ACT_ELU:
        CPU_IVDEP
        for (size_t i = b; i < e; i++) y[i] = cpu_elu(x[i]);
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
        CPU_IVDEP
        for (size_t i = b; i < e; i++) dx[i] = x[i] > 0 ? dy[i] : 0.0f;
        break;
    case CK_ACT_LEAKY_RELU:
        CPU_IVDEP
        for (size_t i = b; i < e; i++) dx[i] = x[i] > 0 ? dy[i] : alpha * dy[i];
        break;
    case CK_ACT_SIGMOID:
        CPU_IVDEP
        for (size_t i = b; i < e; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case CK_ACT_TANH:
        CPU_IVDEP
        for (size_t i = b; i < e; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case CK_ACT_SOFTPLUS:
        CPU_IVDEP
        for (size_t i = b; i < e; i++) dx[i] = dy[i] * cpu_sigmoid(x[i]);
        break;
    case CK_ACT_ELU:
        CPU_IVDEP
        for (size_t i = b; i < e; i++) dx[i] = y[i] > 0 ? dy[i] : dy[i] * (y[i] + 1.0f);
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

/* ---------------------------------------------------------------- fused epilogues */

void cpu_epilogue_apply(const cpu_epilogue *e, float *restrict y, size_t offset, size_t n) {
    if (cpu_epilogue_none(e)) return;
    const float alpha = e->alpha;
    if (!e->gate) {
        switch (e->kind) {
        case CK_ACT_RELU:
            for (size_t i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0.0f;
            break;
        case CK_ACT_LEAKY_RELU:
            for (size_t i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : alpha * y[i];
            break;
        case CK_ACT_SIGMOID:
            for (size_t i = 0; i < n; i++) y[i] = cpu_sigmoid(y[i]);
            break;
        case CK_ACT_TANH:
            for (size_t i = 0; i < n; i++) y[i] = tanhf(y[i]);
            break;
        case CK_ACT_SOFTPLUS:
            for (size_t i = 0; i < n; i++) y[i] = cpu_softplus(y[i]);
            break;
        case CK_ACT_ELU:
            for (size_t i = 0; i < n; i++) y[i] = cpu_elu(y[i]);
            break;
        default:
            break;
        }
        return;
    }
    /* derivatives from the activation's output g: relu and leaky relu (alpha >= 0) by its
     * sign, sigmoid g (1 - g), tanh 1 - g^2, elu 1 or g + 1 (softplus is refused by api.c) */
    const float *restrict g = e->gate + offset;
    switch (e->kind) {
    case CK_ACT_RELU:
        for (size_t i = 0; i < n; i++) y[i] = g[i] > 0 ? y[i] : 0.0f;
        break;
    case CK_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) y[i] = g[i] > 0 ? y[i] : alpha * y[i];
        break;
    case CK_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) y[i] *= g[i] * (1.0f - g[i]);
        break;
    case CK_ACT_TANH:
        for (size_t i = 0; i < n; i++) y[i] *= 1.0f - g[i] * g[i];
        break;
    case CK_ACT_ELU:
        for (size_t i = 0; i < n; i++) y[i] *= g[i] > 0 ? 1.0f : g[i] + 1.0f;
        break;
    default:
        break;
    }
}
