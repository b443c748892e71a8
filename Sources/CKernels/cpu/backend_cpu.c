/*
 * backend_cpu.c -- the CPU backend: host buffers (64-byte aligned, zeroed), a persistent
 * thread pool, and the operation table. OpenBLAS is set to one thread: all parallelism
 * comes from the pool, each thread calling a 1-thread sgemm (OpenBLAS's advice for
 * multi-threaded callers), which keeps results deterministic for a thread count.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "cpu.h"

#include <cblas.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void cpu_close(ck_backend *be) {
    cpu_state *st = be->impl;
    if (!st) return;
    cpu_pool_free(st->pool);
    free(st->scratch);
    free(st);
    be->impl = NULL;
}

static ck_status cpu_buffer_new(ck_backend *be, ck_buffer *b) {
    (void)be;
    size_t bytes = b->count * sizeof(float);
    bytes = (bytes + 63) & ~(size_t)63; /* aligned_alloc wants a multiple of the alignment */
    if (bytes < b->count * sizeof(float)) return ck_fail(CK_ERR_MEMORY, "ck_buffer_new: too large");
    b->host = aligned_alloc(64, bytes);
    if (!b->host)
        return ck_fail(CK_ERR_MEMORY, "ck_buffer_new: cannot allocate %zu floats", b->count);
    memset(b->host, 0, bytes);
    return CK_OK;
}

static void cpu_buffer_free(ck_buffer *b) {
    if (!b->parent) free(b->host);
    b->host = NULL;
}

static size_t cpu_view_alignment(const ck_backend *be) {
    (void)be;
    return 16; /* 64 bytes, the alignment of every CPU buffer */
}

static ck_status cpu_buffer_view(ck_buffer *view) {
    view->host = view->parent->host + view->offset;
    return CK_OK;
}

static ck_status cpu_buffer_write(ck_buffer *b, size_t offset, size_t count, const float *src) {
    memcpy(b->host + offset, src, count * sizeof(float));
    return CK_OK;
}

static ck_status cpu_buffer_read(const ck_buffer *b, size_t offset, size_t count, float *dst) {
    memcpy(dst, b->host + offset, count * sizeof(float));
    return CK_OK;
}

static ck_status cpu_copy(ck_buffer *dst, size_t dst_offset, const ck_buffer *src,
                          size_t src_offset, size_t count) {
    memmove(dst->host + dst_offset, src->host + src_offset, count * sizeof(float));
    return CK_OK;
}

static ck_status cpu_copy_rows(ck_buffer *dst, size_t dst_offset, size_t dst_stride,
                               const ck_buffer *src, size_t src_offset, size_t src_stride,
                               size_t rows, size_t count) {
    for (size_t i = 0; i < rows; i++)
        memcpy(dst->host + dst_offset + i * dst_stride, src->host + src_offset + i * src_stride,
               count * sizeof(float));
    return CK_OK;
}

static void fill_range(const cpu_ew *j, size_t b, size_t e) {
    for (size_t i = b; i < e; i++) j->y[i] = j->alpha;
}

static ck_status cpu_fill(ck_buffer *b, size_t offset, size_t count, float value) {
    cpu_ew j = {.range = fill_range, .count = count, .y = b->host + offset, .alpha = value};
    cpu_ew_run(cpu_of(b), &j);
    return CK_OK;
}

/* Every operation runs to completion before it returns. */
static ck_status cpu_synchronize(ck_backend *be) {
    (void)be;
    return CK_OK;
}

static const ck_backend_ops cpu_ops = {
    .close = cpu_close,
    .buffer_new = cpu_buffer_new,
    .buffer_free = cpu_buffer_free,
    .view_alignment = cpu_view_alignment,
    .buffer_view = cpu_buffer_view,
    .buffer_write = cpu_buffer_write,
    .buffer_read = cpu_buffer_read,
    .copy = cpu_copy,
    .copy_rows = cpu_copy_rows,
    .fill = cpu_fill,
    .synchronize = cpu_synchronize,
    .conv_workspace = cpu_conv_workspace,
    .conv2d_forward = cpu_conv2d_forward,
    .conv2d_backward_data = cpu_conv2d_backward_data,
    .conv2d_backward_weights = cpu_conv2d_backward_weights,
    .deconv2d_forward = cpu_deconv2d_forward,
    .deconv2d_backward_data = cpu_deconv2d_backward_data,
    .deconv2d_backward_weights = cpu_deconv2d_backward_weights,
    .im2col = cpu_im2col,
    .col2im = cpu_col2im,
    .dense_forward = cpu_dense_forward,
    .dense_backward_data = cpu_dense_backward_data,
    .dense_backward_weights = cpu_dense_backward_weights,
    .activation_forward = cpu_activation_forward,
    .activation_backward = cpu_activation_backward,
    .bernoulli_nll = cpu_bernoulli_nll,
    .gaussian_nll = cpu_gaussian_nll,
    .logistic_nll = cpu_logistic_nll,
    .softmax_nll = cpu_softmax_nll,
    .kl_normal = cpu_kl_normal,
    .random_normal = cpu_random_normal,
    .random_bernoulli = cpu_random_bernoulli,
    .reparameterize = cpu_reparameterize,
    .reparameterize_backward = cpu_reparameterize_backward,
    .sum = cpu_sum,
    .axpby = cpu_axpby,
    .adam_update = cpu_adam_update,
    .kl_normal_pair = cpu_kl_normal_pair,
    .multiply = cpu_multiply,
    .keep_best_rows = cpu_keep_best_rows,
    .gate_forward = cpu_gate_forward,
    .gate_backward = cpu_gate_backward,
    .vq_assign = cpu_vq_assign,
    .vq_embed = cpu_vq_embed,
    .vq_statistics = cpu_vq_statistics,
    .vq_ema_update = cpu_vq_ema_update,
    .vq_codebook_grad = cpu_vq_codebook_grad,
    .vq_restart = cpu_vq_restart,
    .conv2d_forward_act = cpu_conv2d_forward_act,
    .conv2d_backward_data_act = cpu_conv2d_backward_data_act,
    .deconv2d_forward_act = cpu_deconv2d_forward_act,
    .deconv2d_backward_data_act = cpu_deconv2d_backward_data_act,
    .dense_forward_act = cpu_dense_forward_act,
    .dense_backward_data_act = cpu_dense_backward_data_act,
};

ck_status ck_cpu_open(int threads, ck_backend *backend) {
    if (threads <= 0) {
        /* the cores this process may run on: all of them, or those mpirun binds a rank to */
        cpu_set_t set;
        long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                            : sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    cpu_state *st = calloc(1, sizeof *st);
    if (!st) return ck_fail(CK_ERR_MEMORY, "cpu backend: out of memory");
    st->threads = threads;
    st->scratch = calloc((size_t)threads * CPU_SCRATCH, sizeof *st->scratch);
    st->pool = cpu_pool_new(threads);
    if (!st->scratch || !st->pool) {
        cpu_pool_free(st->pool);
        free(st->scratch);
        free(st);
        return ck_fail(CK_ERR_MEMORY, "cpu backend: cannot start %d threads", threads);
    }
    /* CK_CONV_ENGINE=blas keeps the im2row + OpenBLAS engine on AVX-512 CPUs (tests) */
    const char *engine = getenv("CK_CONV_ENGINE");
    st->fast_conv = cpu_fast_conv_supported() && !(engine && strcmp(engine, "blas") == 0);
    cpu_openblas_tune();
    openblas_set_num_threads(1);
    backend->ops = &cpu_ops;
    backend->kind = "cpu";
    backend->threads = threads;
    backend->impl = st;
    const char *config = openblas_get_config();
    snprintf(backend->description, sizeof backend->description,
             "CPU, %d thread%s, %s convolutions, OpenBLAS %s", threads, threads == 1 ? "" : "s",
             st->fast_conv ? "AVX-512" : "OpenBLAS", config ? config : "");
    return CK_OK;
}
