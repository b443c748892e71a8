/*
 * elementwise.c -- sums in double (per-thread partials added in thread order) and axpby.
 */
#include "cpu.h"

typedef struct {
    const float *x;
    size_t count;
    int squares;
    double *partial; /* one per thread: the backend's scratch rows */
} sum_job;

static void sum_task(void *ctx, int tid, int threads) {
    const sum_job *j = ctx;
    size_t b, e;
    cpu_split(j->count, tid, threads, &b, &e);
    /* four independent accumulators: faster, and a fixed order */
    double s[4] = {0, 0, 0, 0};
    size_t i = b;
    if (j->squares) {
        for (; i + 4 <= e; i += 4)
            for (int k = 0; k < 4; k++) s[k] += (double)j->x[i + k] * j->x[i + k];
        for (; i < e; i++) s[0] += (double)j->x[i] * j->x[i];
    } else {
        for (; i + 4 <= e; i += 4)
            for (int k = 0; k < 4; k++) s[k] += j->x[i + k];
        for (; i < e; i++) s[0] += j->x[i];
    }
    j->partial[(size_t)tid * CPU_SCRATCH] = (s[0] + s[1]) + (s[2] + s[3]);
}

ck_status cpu_sum(const ck_buffer *buf, size_t offset, size_t count, int squares, double *result) {
    cpu_state *st = cpu_of(buf);
    sum_job j = {buf->host + offset, count, squares, st->scratch};
    int threads = count >= CPU_PARALLEL_MIN ? st->threads : 1;
    cpu_parallel(st, count, sum_task, &j);
    double s = 0;
    for (int t = 0; t < threads; t++) s += st->scratch[(size_t)t * CPU_SCRATCH];
    *result = s;
    return CK_OK;
}

static void axpby_range(const cpu_ew *j, size_t b, size_t e) {
    const float *x = j->a;
    float *y = j->y, alpha = j->alpha, beta = j->beta;
    if (beta == 0.0f) {
        CPU_IVDEP
        for (size_t i = b; i < e; i++) y[i] = alpha * x[i];
    } else if (beta == 1.0f) {
        CPU_IVDEP
        for (size_t i = b; i < e; i++) y[i] += alpha * x[i];
    } else {
        CPU_IVDEP
        for (size_t i = b; i < e; i++) y[i] = alpha * x[i] + beta * y[i];
    }
}

ck_status cpu_axpby(size_t count, float alpha, const ck_buffer *x, float beta, ck_buffer *y) {
    cpu_ew j = {.range = axpby_range, .count = count, .a = x->host, .y = y->host,
                .alpha = alpha, .beta = beta};
    cpu_ew_run(cpu_of(y), &j);
    return CK_OK;
}
