/*
 * dense.c -- fully connected layers as split 1-thread sgemms over the pool: every output
 * element is computed by one call with a fixed split, so results depend only on the
 * thread count.
 */
#include "cpu.h"

#include <cblas.h>

typedef struct {
    int batch, in, out;
    const float *x, *w, *bias, *dy;
    float *y, *dx, *dw, *dbias;
    const cpu_epilogue *ep; /* on y (forward) or dx (backward-data); NULL: none */
    double *scratch;        /* the backend's per-thread scratch (dbias sums) */
} dense_job;

/* Runs task over the pool unless the layer is too small to share. */
static void dense_run(cpu_state *st, const dense_job *j, cpu_task task) {
    size_t macs = (size_t)j->batch * j->in * j->out;
    if (macs < 65536 || st->threads == 1) task((void *)j, 0, 1);
    else cpu_pool_run(st->pool, task, (void *)j);
}

/* y rows [r0, r1) = x rows w^T + bias. */
static void forward_task(void *ctx, int tid, int threads) {
    const dense_job *j = ctx;
    size_t r0, r1;
    cpu_split((size_t)j->batch, tid, threads, &r0, &r1);
    if (r1 == r0) return;
    float *y = j->y + r0 * j->out;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), j->out, j->in, 1.0f,
                j->x + r0 * j->in, j->in, j->w, j->in, 0.0f, y, j->out);
    /* bias and activation row by row while the row is in L1 (a bias pre-fill and beta = 1
     * would make the sgemm read the output back) */
    const size_t out = (size_t)j->out;
    for (size_t r = r0; r < r1; r++) {
        float *row = y + (r - r0) * out;
        if (j->bias) {
            const float *bias = j->bias;
            for (size_t o = 0; o < out; o++) row[o] += bias[o];
        }
        cpu_epilogue_apply(j->ep, row, r * out, out);
    }
}

/* dx rows [r0, r1) = dy rows w. */
static void backward_data_task(void *ctx, int tid, int threads) {
    const dense_job *j = ctx;
    size_t r0, r1;
    cpu_split((size_t)j->batch, tid, threads, &r0, &r1);
    if (r1 == r0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), j->in, j->out, 1.0f,
                j->dy + r0 * j->out, j->out, j->w, j->in, 0.0f, j->dx + r0 * j->in, j->in);
    cpu_epilogue_apply(j->ep, j->dx + r0 * j->in, r0 * j->in, (r1 - r0) * j->in);
}

/*
 * dw = dy^T x split along its longer side: rows [o0, o1) = dy[:, o0:o1]^T x, or columns
 * [c0, c1) = dy^T x[:, c0:c1]. Each thread also sums its share of dbias in double.
 */
static void backward_weights_task(void *ctx, int tid, int threads) {
    const dense_job *j = ctx;
    size_t a, b;
    if (j->out >= j->in) {
        cpu_split((size_t)j->out, tid, threads, &a, &b);
        if (b > a)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(b - a), j->in, j->batch,
                        1.0f, j->dy + a, j->out, j->x, j->in, 0.0f, j->dw + a * j->in, j->in);
    } else {
        cpu_split((size_t)j->in, tid, threads, &a, &b);
        if (b > a)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, j->out, (int)(b - a), j->batch,
                        1.0f, j->dy, j->out, j->x + a, j->in, 0.0f, j->dw + a, j->in);
    }
    if (!j->dbias) return;
    /* column sums of dy in double, a block of columns at a time in this thread's scratch,
     * rows outermost so that the adds run along rows (vectorised) in a fixed order */
    cpu_split((size_t)j->out, tid, threads, &a, &b);
    double *acc = j->scratch + (size_t)tid * CPU_SCRATCH;
    for (size_t o0 = a; o0 < b; o0 += CPU_SCRATCH) {
        size_t n = b - o0 < CPU_SCRATCH ? b - o0 : CPU_SCRATCH;
        for (size_t o = 0; o < n; o++) acc[o] = 0;
        for (int r = 0; r < j->batch; r++) {
            const float *row = j->dy + (size_t)r * j->out + o0;
            for (size_t o = 0; o < n; o++) acc[o] += row[o];
        }
        for (size_t o = 0; o < n; o++) j->dbias[o0 + o] = (float)acc[o];
    }
}

ck_status cpu_dense_forward_act(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                                const ck_buffer *bias, ck_activation act, float alpha,
                                ck_buffer *y) {
    cpu_epilogue ep = {act, alpha, NULL};
    dense_job j = {batch, in, out, .x = x->host, .w = w->host, .bias = bias ? bias->host : NULL,
                   .y = y->host, .ep = cpu_epilogue_none(&ep) ? NULL : &ep};
    dense_run(cpu_of(x), &j, forward_task);
    return CK_OK;
}

ck_status cpu_dense_forward(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                            const ck_buffer *bias, ck_buffer *y) {
    return cpu_dense_forward_act(batch, in, out, x, w, bias, CK_ACT_IDENTITY, 0, y);
}

ck_status cpu_dense_backward_data_act(int batch, int in, int out, const ck_buffer *dy,
                                      const ck_buffer *w, ck_activation act, float alpha,
                                      const ck_buffer *gate, ck_buffer *dx) {
    cpu_epilogue ep = {act, alpha, gate ? gate->host : NULL};
    dense_job j = {batch, in, out, .w = w->host, .dy = dy->host, .dx = dx->host,
                   .ep = cpu_epilogue_none(&ep) ? NULL : &ep};
    dense_run(cpu_of(dy), &j, backward_data_task);
    return CK_OK;
}

ck_status cpu_dense_backward_data(int batch, int in, int out, const ck_buffer *dy,
                                  const ck_buffer *w, ck_buffer *dx) {
    return cpu_dense_backward_data_act(batch, in, out, dy, w, CK_ACT_IDENTITY, 0, NULL, dx);
}

ck_status cpu_dense_backward_weights(int batch, int in, int out, const ck_buffer *x,
                                     const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias) {
    dense_job j = {batch, in, out, .x = x->host, .dy = dy->host, .dw = dw->host,
                   .dbias = dbias ? dbias->host : NULL, .scratch = cpu_of(x)->scratch};
    dense_run(cpu_of(x), &j, backward_weights_task);
    return CK_OK;
}
