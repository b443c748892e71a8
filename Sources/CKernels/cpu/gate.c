/*
 * gate.c -- the gated activation tanh(a) * sigmoid(b) of a PixelCNN (the two halves of the
 * channels of each image), its gradient, and the elementwise product.
 */
#include "cpu.h"

typedef struct {
    size_t images, half; /* half = channels * plane: the values of one half of an image */
    const float *x, *dy;
    float *y, *dx;
} gate_job;

static void gate_forward_task(void *ctx, int tid, int threads) {
    const gate_job *j = ctx;
    size_t b0, b1;
    cpu_split(j->images, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b++) {
        const float *a = j->x + 2 * b * j->half, *g = a + j->half;
        float *y = j->y + b * j->half;
        for (size_t i = 0; i < j->half; i++) y[i] = tanhf(a[i]) * cpu_sigmoid(g[i]);
    }
}

static void gate_backward_task(void *ctx, int tid, int threads) {
    const gate_job *j = ctx;
    size_t b0, b1;
    cpu_split(j->images, tid, threads, &b0, &b1);
    for (size_t b = b0; b < b1; b++) {
        const float *a = j->x + 2 * b * j->half, *g = a + j->half, *dy = j->dy + b * j->half;
        float *da = j->dx + 2 * b * j->half, *dg = da + j->half;
        for (size_t i = 0; i < j->half; i++) {
            float t = tanhf(a[i]), s = cpu_sigmoid(g[i]), gy = dy[i];
            da[i] = gy * s * (1 - t * t);
            dg[i] = gy * t * s * (1 - s);
        }
    }
}

static void gate_run(cpu_state *st, const gate_job *j, cpu_task task) {
    if (st->threads > 1 && j->images > 1 && j->images * j->half >= CPU_PARALLEL_MIN)
        cpu_pool_run(st->pool, task, (void *)j);
    else task((void *)j, 0, 1);
}

ck_status cpu_gate_forward(int batch, int channels, int plane, const ck_buffer *x, ck_buffer *y) {
    gate_job j = {(size_t)batch, (size_t)channels * plane, x->host, NULL, y->host, NULL};
    gate_run(cpu_of(x), &j, gate_forward_task);
    return CK_OK;
}

ck_status cpu_gate_backward(int batch, int channels, int plane, const ck_buffer *x,
                            const ck_buffer *dy, ck_buffer *dx) {
    gate_job j = {(size_t)batch, (size_t)channels * plane, x->host, dy->host, NULL, dx->host};
    gate_run(cpu_of(x), &j, gate_backward_task);
    return CK_OK;
}

static void multiply_range(const cpu_ew *j, size_t b, size_t e) {
    const float *x = j->a;
    float *y = j->y;
    CPU_IVDEP
    for (size_t i = b; i < e; i++) y[i] *= x[i];
}

ck_status cpu_multiply(size_t count, const ck_buffer *x, ck_buffer *y) {
    cpu_ew j = {.range = multiply_range, .count = count, .a = x->host, .y = y->host};
    cpu_ew_run(cpu_of(y), &j);
    return CK_OK;
}
