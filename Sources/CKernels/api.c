/*
 * api.c -- the public entry points: validate, then dispatch to the buffers' backend.
 */
#include "backend_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- errors */

static _Thread_local char last_error[512];

const char *ck_last_error(void) { return last_error; }

ck_status ck_fail(ck_status status, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(last_error, sizeof last_error, format, args);
    va_end(args);
    return status;
}

const char *ck_status_name(ck_status status) {
    switch (status) {
    case CK_OK: return "ok";
    case CK_ERR_ARGUMENT: return "invalid argument";
    case CK_ERR_SHAPE: return "shape mismatch";
    case CK_ERR_MEMORY: return "out of memory";
    case CK_ERR_UNAVAILABLE: return "unavailable";
    case CK_ERR_BACKEND: return "backend failure";
    case CK_ERR_MISMATCH: return "buffers of different backends";
    }
    return "unknown status";
}

/* ---------------------------------------------------------------- validation helpers */

#define CHECK(cond, status, ...)                                                          \
    do {                                                                                  \
        if (!(cond)) return ck_fail(status, __VA_ARGS__);                                  \
    } while (0)

/* A required buffer of at least need floats on backend be (be NULL: take this one's). */
static ck_status need(const char *fn, const char *name, const ck_buffer *b, size_t count,
                      ck_backend **be) {
    CHECK(b != NULL, CK_ERR_ARGUMENT, "%s: %s is NULL", fn, name);
    if (*be == NULL) *be = b->backend;
    CHECK(b->backend == *be, CK_ERR_MISMATCH, "%s: %s belongs to another backend", fn, name);
    CHECK(b->count >= count, CK_ERR_SHAPE, "%s: %s holds %zu floats, needs %zu", fn, name,
          b->count, count);
    return CK_OK;
}

/* An optional buffer: NULL passes. */
static ck_status maybe(const char *fn, const char *name, const ck_buffer *b, size_t count,
                       ck_backend **be) {
    return b == NULL ? CK_OK : need(fn, name, b, count, be);
}

#define NEED(name, b, count)                                                               \
    do {                                                                                   \
        ck_status s_ = need(__func__, name, b, count, &be);                                \
        if (s_) return s_;                                                                 \
    } while (0)
#define MAYBE(name, b, count)                                                              \
    do {                                                                                   \
        ck_status s_ = maybe(__func__, name, b, count, &be);                               \
        if (s_) return s_;                                                                 \
    } while (0)

static size_t mul(size_t a, size_t b) { return a * b; }

/* ---------------------------------------------------------------- backends and buffers */

ck_status ck_backend_open(const char *name, int threads, ck_backend **out) {
    CHECK(out != NULL, CK_ERR_ARGUMENT, "ck_backend_open: out is NULL");
    *out = NULL;
    CHECK(name != NULL, CK_ERR_ARGUMENT, "ck_backend_open: name is NULL");
    CHECK(threads >= 0, CK_ERR_ARGUMENT, "ck_backend_open: threads %d < 0", threads);
    ck_profile_init();
    ck_backend *be = calloc(1, sizeof *be);
    CHECK(be != NULL, CK_ERR_MEMORY, "ck_backend_open: out of memory");
    ck_status s;
    if (strcmp(name, "cpu") == 0) {
        s = ck_cpu_open(threads, be);
    } else if (strcmp(name, "opencl") == 0 || strncmp(name, "opencl:", 7) == 0) {
        s = ck_opencl_open(name[6] == ':' ? name + 7 : "", threads, be);
    } else if (strcmp(name, "auto") == 0) {
        s = ck_opencl_open("gpu", threads, be);
        if (s != CK_OK) {
            memset(be, 0, sizeof *be);
            s = ck_cpu_open(threads, be);
        }
    } else {
        free(be);
        return ck_fail(CK_ERR_ARGUMENT,
                       "unknown device '%s' (use auto, cpu, opencl or opencl:P.D)", name);
    }
    if (s != CK_OK) {
        free(be);
        return s;
    }
    *out = be;
    return CK_OK;
}

void ck_backend_close(ck_backend *backend) {
    if (!backend) return;
    if (backend->ops && backend->ops->close) backend->ops->close(backend);
    free(backend);
}

const char *ck_backend_kind(const ck_backend *backend) { return backend ? backend->kind : ""; }

const char *ck_backend_description(const ck_backend *backend) {
    return backend ? backend->description : "";
}

int ck_backend_threads(const ck_backend *backend) { return backend ? backend->threads : 0; }

ck_status ck_backend_synchronize(ck_backend *backend) {
    CHECK(backend != NULL, CK_ERR_ARGUMENT, "ck_backend_synchronize: backend is NULL");
    PROFILED(backend->ops->synchronize(backend),
             "%s", __func__);
}

ck_status ck_buffer_new(ck_backend *backend, size_t count, ck_buffer **out) {
    CHECK(out != NULL, CK_ERR_ARGUMENT, "ck_buffer_new: out is NULL");
    *out = NULL;
    CHECK(backend != NULL, CK_ERR_ARGUMENT, "ck_buffer_new: backend is NULL");
    CHECK(count > 0, CK_ERR_ARGUMENT, "ck_buffer_new: count is 0");
    CHECK(count <= SIZE_MAX / sizeof(float), CK_ERR_MEMORY, "ck_buffer_new: %zu floats is too many",
          count);
    ck_buffer *b = calloc(1, sizeof *b);
    CHECK(b != NULL, CK_ERR_MEMORY, "ck_buffer_new: out of memory");
    b->backend = backend;
    b->count = count;
    ck_status s = backend->ops->buffer_new(backend, b);
    if (s != CK_OK) {
        free(b);
        return s;
    }
    *out = b;
    return CK_OK;
}

size_t ck_buffer_view_alignment(const ck_backend *backend) {
    return backend ? backend->ops->view_alignment(backend) : 0;
}

ck_status ck_buffer_view(ck_buffer *parent, size_t offset, size_t count, ck_buffer **out) {
    CHECK(out != NULL, CK_ERR_ARGUMENT, "ck_buffer_view: out is NULL");
    *out = NULL;
    CHECK(parent != NULL, CK_ERR_ARGUMENT, "ck_buffer_view: parent is NULL");
    CHECK(parent->parent == NULL, CK_ERR_ARGUMENT, "ck_buffer_view: parent is itself a view");
    CHECK(count > 0, CK_ERR_ARGUMENT, "ck_buffer_view: count is 0");
    CHECK(offset <= parent->count && count <= parent->count - offset, CK_ERR_SHAPE,
          "ck_buffer_view: range [%zu, %zu) outside a buffer of %zu floats", offset,
          offset + count, parent->count);
    size_t align = parent->backend->ops->view_alignment(parent->backend);
    CHECK(offset % align == 0, CK_ERR_ARGUMENT,
          "ck_buffer_view: offset %zu is not a multiple of the backend's alignment (%zu floats)",
          offset, align);
    ck_buffer *b = calloc(1, sizeof *b);
    CHECK(b != NULL, CK_ERR_MEMORY, "ck_buffer_view: out of memory");
    b->backend = parent->backend;
    b->count = count;
    b->parent = parent;
    b->offset = offset;
    ck_status s = parent->backend->ops->buffer_view(b);
    if (s != CK_OK) {
        free(b);
        return s;
    }
    *out = b;
    return CK_OK;
}

void ck_buffer_free(ck_buffer *buffer) {
    if (!buffer) return;
    buffer->backend->ops->buffer_free(buffer);
    free(buffer);
}

size_t ck_buffer_count(const ck_buffer *buffer) { return buffer ? buffer->count : 0; }

float *ck_buffer_host(ck_buffer *buffer) { return buffer ? buffer->host : NULL; }

static ck_status range(const char *fn, const ck_buffer *b, size_t offset, size_t count) {
    CHECK(b != NULL, CK_ERR_ARGUMENT, "%s: buffer is NULL", fn);
    CHECK(offset <= b->count && count <= b->count - offset, CK_ERR_SHAPE,
          "%s: range [%zu, %zu) outside a buffer of %zu floats", fn, offset, offset + count,
          b->count);
    return CK_OK;
}

ck_status ck_buffer_write(ck_buffer *buffer, size_t offset, size_t count, const float *src) {
    ck_status s = range(__func__, buffer, offset, count);
    if (s) return s;
    CHECK(src != NULL || count == 0, CK_ERR_ARGUMENT, "ck_buffer_write: src is NULL");
    if (count == 0) return CK_OK;
    PROFILED(buffer->backend->ops->buffer_write(buffer, offset, count, src),
             "%s", __func__);
}

ck_status ck_buffer_read(const ck_buffer *buffer, size_t offset, size_t count, float *dst) {
    ck_status s = range(__func__, buffer, offset, count);
    if (s) return s;
    CHECK(dst != NULL || count == 0, CK_ERR_ARGUMENT, "ck_buffer_read: dst is NULL");
    if (count == 0) return CK_OK;
    PROFILED(buffer->backend->ops->buffer_read(buffer, offset, count, dst),
             "%s", __func__);
}

ck_status ck_copy(ck_buffer *dst, size_t dst_offset, const ck_buffer *src, size_t src_offset,
                  size_t count) {
    ck_status s = range(__func__, dst, dst_offset, count);
    if (s) return s;
    s = range(__func__, src, src_offset, count);
    if (s) return s;
    CHECK(dst->backend == src->backend, CK_ERR_MISMATCH,
          "ck_copy: src and dst belong to different backends");
    if (count == 0) return CK_OK;
    PROFILED(dst->backend->ops->copy(dst, dst_offset, src, src_offset, count),
             "%s", __func__);
}

/* rows blocks of count floats, stride apart from offset, inside b. */
static ck_status rows_range(const char *fn, const ck_buffer *b, size_t offset, size_t stride,
                            size_t rows, size_t count) {
    ck_status s = range(fn, b, offset, count);
    if (s || rows <= 1 || count == 0) return s;
    CHECK(count <= stride, CK_ERR_ARGUMENT, "%s: blocks of %zu floats %zu apart overlap", fn, count,
          stride);
    CHECK((rows - 1) <= (b->count - offset - count) / stride, CK_ERR_SHAPE,
          "%s: %zu blocks %zu floats apart from %zu outside a buffer of %zu floats", fn, rows, stride,
          offset, b->count);
    return CK_OK;
}

ck_status ck_copy_rows(ck_buffer *dst, size_t dst_offset, size_t dst_stride, const ck_buffer *src,
                       size_t src_offset, size_t src_stride, size_t rows, size_t count) {
    ck_status s = rows_range(__func__, dst, dst_offset, dst_stride, rows, count);
    if (s) return s;
    s = rows_range(__func__, src, src_offset, src_stride, rows, count);
    if (s) return s;
    CHECK(dst->backend == src->backend, CK_ERR_MISMATCH,
          "ck_copy_rows: src and dst belong to different backends");
    CHECK(dst != src, CK_ERR_ARGUMENT, "ck_copy_rows: src and dst must be different buffers");
    if (rows == 0 || count == 0) return CK_OK;
    PROFILED(dst->backend->ops->copy_rows(dst, dst_offset, dst_stride, src, src_offset, src_stride,
                                          rows, count),
             "%s", __func__);
}

ck_status ck_fill(ck_buffer *buffer, size_t offset, size_t count, float value) {
    ck_status s = range(__func__, buffer, offset, count);
    if (s) return s;
    if (count == 0) return CK_OK;
    PROFILED(buffer->backend->ops->fill(buffer, offset, count, value),
             "%s", __func__);
}

/* ---------------------------------------------------------------- convolution */

ck_conv_shape ck_conv_shape_make(int batch, int c_in, int h_in, int w_in, int c_out, int k_h,
                                 int k_w) {
    ck_conv_shape s = {batch, c_in, h_in, w_in, c_out, k_h, k_w, 1, 1, 0, 0, 1, 1, 0, 0};
    return s;
}

static ck_status check_shape(const char *fn, const ck_conv_shape *s, int transposed, int *h_out,
                             int *w_out) {
    CHECK(s != NULL, CK_ERR_ARGUMENT, "%s: shape is NULL", fn);
    CHECK(s->batch > 0 && s->c_in > 0 && s->h_in > 0 && s->w_in > 0 && s->c_out > 0,
          CK_ERR_ARGUMENT, "%s: batch, channels and input size must be positive", fn);
    CHECK(s->k_h > 0 && s->k_w > 0, CK_ERR_ARGUMENT, "%s: kernel size must be positive", fn);
    CHECK(s->stride_h > 0 && s->stride_w > 0, CK_ERR_ARGUMENT, "%s: stride must be positive", fn);
    CHECK(s->dil_h > 0 && s->dil_w > 0, CK_ERR_ARGUMENT, "%s: dilation must be positive", fn);
    CHECK(s->pad_h >= 0 && s->pad_w >= 0, CK_ERR_ARGUMENT, "%s: padding must be >= 0", fn);
    long eh = (long)s->dil_h * (s->k_h - 1) + 1, ew = (long)s->dil_w * (s->k_w - 1) + 1;
    long ho, wo;
    if (transposed) {
        CHECK(s->out_pad_h >= 0 && s->out_pad_w >= 0 &&
                  (s->out_pad_h < s->stride_h || s->out_pad_h < s->dil_h) &&
                  (s->out_pad_w < s->stride_w || s->out_pad_w < s->dil_w),
              CK_ERR_ARGUMENT, "%s: output padding must be >= 0 and below stride or dilation", fn);
        ho = (long)(s->h_in - 1) * s->stride_h - 2L * s->pad_h + eh + s->out_pad_h;
        wo = (long)(s->w_in - 1) * s->stride_w - 2L * s->pad_w + ew + s->out_pad_w;
    } else {
        CHECK(s->out_pad_h == 0 && s->out_pad_w == 0, CK_ERR_ARGUMENT,
              "%s: output padding applies to transposed convolutions only", fn);
        ho = (s->h_in + 2L * s->pad_h - eh) / s->stride_h + 1;
        wo = (s->w_in + 2L * s->pad_w - ew) / s->stride_w + 1;
        if (s->h_in + 2L * s->pad_h < eh) ho = 0;
        if (s->w_in + 2L * s->pad_w < ew) wo = 0;
    }
    CHECK(ho > 0 && wo > 0 && ho < (1L << 30) && wo < (1L << 30), CK_ERR_SHAPE,
          "%s: output size %ldx%ld is not positive", fn, ho, wo);
    *h_out = (int)ho;
    *w_out = (int)wo;
    return CK_OK;
}

ck_status ck_conv_output(const ck_conv_shape *shape, int transposed, int *h_out, int *w_out) {
    CHECK(h_out != NULL && w_out != NULL, CK_ERR_ARGUMENT, "ck_conv_output: NULL output");
    return check_shape(__func__, shape, transposed, h_out, w_out);
}

ck_status ck_conv_workspace(const ck_backend *backend, const ck_conv_shape *shape, int transposed,
                            size_t *count) {
    CHECK(backend != NULL && count != NULL, CK_ERR_ARGUMENT,
          "ck_conv_workspace: backend or count is NULL");
    int ho, wo;
    ck_status s = check_shape(__func__, shape, transposed, &ho, &wo);
    if (s) return s;
    *count = backend->ops->conv_workspace(backend, shape, transposed);
    return CK_OK;
}

/* Sizes of a (transposed) convolution's tensors. */
typedef struct { size_t x, w, y, bias, ws; } conv_sizes;

static ck_status conv_sizes_of(const char *fn, const ck_conv_shape *s, int transposed,
                               const ck_buffer *any, conv_sizes *z) {
    int ho, wo;
    ck_status st = check_shape(fn, s, transposed, &ho, &wo);
    if (st) return st;
    CHECK(any != NULL, CK_ERR_ARGUMENT, "%s: a buffer is NULL", fn);
    z->x = mul(mul(s->batch, s->c_in), mul(s->h_in, s->w_in));
    z->y = mul(mul(s->batch, s->c_out), mul(ho, wo));
    z->w = mul(mul(s->c_out, s->c_in), mul(s->k_h, s->k_w));
    z->bias = s->c_out;
    z->ws = any->backend->ops->conv_workspace(any->backend, s, transposed);
    return CK_OK;
}

#define CONV_PRELUDE(transposed, first)                                                    \
    conv_sizes z;                                                                          \
    ck_backend *be = NULL;                                                                 \
    ck_status st_ = conv_sizes_of(__func__, shape, transposed, first, &z);                 \
    if (st_) return st_;

ck_status ck_conv2d_forward(const ck_conv_shape *shape, const ck_buffer *x, const ck_buffer *w,
                            const ck_buffer *bias, ck_buffer *y, ck_buffer *workspace) {
    CONV_PRELUDE(0, x)
    NEED("x", x, z.x); NEED("w", w, z.w); MAYBE("bias", bias, z.bias); NEED("y", y, z.y);
    if (z.ws) NEED("workspace", workspace, z.ws);
    PROFILED(be->ops->conv2d_forward(shape, x, w, bias, y, workspace),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

ck_status ck_conv2d_backward_data(const ck_conv_shape *shape, const ck_buffer *dy,
                                  const ck_buffer *w, ck_buffer *dx, ck_buffer *workspace) {
    CONV_PRELUDE(0, dy)
    NEED("dy", dy, z.y); NEED("w", w, z.w); NEED("dx", dx, z.x);
    if (z.ws) NEED("workspace", workspace, z.ws);
    PROFILED(be->ops->conv2d_backward_data(shape, dy, w, dx, workspace),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

ck_status ck_conv2d_backward_weights(const ck_conv_shape *shape, const ck_buffer *x,
                                     const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                     ck_buffer *workspace) {
    CONV_PRELUDE(0, x)
    NEED("x", x, z.x); NEED("dy", dy, z.y); NEED("dw", dw, z.w); MAYBE("dbias", dbias, z.bias);
    if (z.ws) NEED("workspace", workspace, z.ws);
    PROFILED(be->ops->conv2d_backward_weights(shape, x, dy, dw, dbias, workspace),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

ck_status ck_deconv2d_forward(const ck_conv_shape *shape, const ck_buffer *x, const ck_buffer *w,
                              const ck_buffer *bias, ck_buffer *y, ck_buffer *workspace) {
    CONV_PRELUDE(1, x)
    NEED("x", x, z.x); NEED("w", w, z.w); MAYBE("bias", bias, z.bias); NEED("y", y, z.y);
    if (z.ws) NEED("workspace", workspace, z.ws);
    PROFILED(be->ops->deconv2d_forward(shape, x, w, bias, y, workspace),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

ck_status ck_deconv2d_backward_data(const ck_conv_shape *shape, const ck_buffer *dy,
                                    const ck_buffer *w, ck_buffer *dx, ck_buffer *workspace) {
    CONV_PRELUDE(1, dy)
    NEED("dy", dy, z.y); NEED("w", w, z.w); NEED("dx", dx, z.x);
    if (z.ws) NEED("workspace", workspace, z.ws);
    PROFILED(be->ops->deconv2d_backward_data(shape, dy, w, dx, workspace),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

ck_status ck_deconv2d_backward_weights(const ck_conv_shape *shape, const ck_buffer *x,
                                       const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias,
                                       ck_buffer *workspace) {
    CONV_PRELUDE(1, x)
    NEED("x", x, z.x); NEED("dy", dy, z.y); NEED("dw", dw, z.w); MAYBE("dbias", dbias, z.bias);
    if (z.ws) NEED("workspace", workspace, z.ws);
    PROFILED(be->ops->deconv2d_backward_weights(shape, x, dy, dw, dbias, workspace),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

static size_t cols_count(const ck_conv_shape *s, int ho, int wo) {
    return mul(mul(s->c_in, mul(s->k_h, s->k_w)), mul(s->batch, mul(ho, wo)));
}

ck_status ck_im2col(const ck_conv_shape *shape, const ck_buffer *x, ck_buffer *cols) {
    int ho, wo;
    ck_status st = check_shape(__func__, shape, 0, &ho, &wo);
    if (st) return st;
    ck_backend *be = NULL;
    NEED("x", x, mul(mul(shape->batch, shape->c_in), mul(shape->h_in, shape->w_in)));
    NEED("cols", cols, cols_count(shape, ho, wo));
    PROFILED(be->ops->im2col(shape, x, cols),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

ck_status ck_col2im(const ck_conv_shape *shape, const ck_buffer *cols, ck_buffer *x) {
    int ho, wo;
    ck_status st = check_shape(__func__, shape, 0, &ho, &wo);
    if (st) return st;
    ck_backend *be = NULL;
    NEED("cols", cols, cols_count(shape, ho, wo));
    NEED("x", x, mul(mul(shape->batch, shape->c_in), mul(shape->h_in, shape->w_in)));
    PROFILED(be->ops->col2im(shape, cols, x),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

/* ---------------------------------------------------------------- dense */

#define DENSE_CHECK()                                                                      \
    CHECK(batch > 0 && in > 0 && out > 0, CK_ERR_ARGUMENT,                                 \
          "%s: batch, in and out must be positive", __func__);                             \
    ck_backend *be = NULL;

ck_status ck_dense_forward(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                           const ck_buffer *bias, ck_buffer *y) {
    DENSE_CHECK()
    NEED("x", x, mul(batch, in)); NEED("w", w, mul(out, in)); MAYBE("bias", bias, out);
    NEED("y", y, mul(batch, out));
    PROFILED(be->ops->dense_forward(batch, in, out, x, w, bias, y),
             "%s %d->%d", __func__, in, out);
}

ck_status ck_dense_backward_data(int batch, int in, int out, const ck_buffer *dy,
                                 const ck_buffer *w, ck_buffer *dx) {
    DENSE_CHECK()
    NEED("dy", dy, mul(batch, out)); NEED("w", w, mul(out, in)); NEED("dx", dx, mul(batch, in));
    PROFILED(be->ops->dense_backward_data(batch, in, out, dy, w, dx),
             "%s %d->%d", __func__, in, out);
}

ck_status ck_dense_backward_weights(int batch, int in, int out, const ck_buffer *x,
                                    const ck_buffer *dy, ck_buffer *dw, ck_buffer *dbias) {
    DENSE_CHECK()
    NEED("x", x, mul(batch, in)); NEED("dy", dy, mul(batch, out)); NEED("dw", dw, mul(out, in));
    MAYBE("dbias", dbias, out);
    PROFILED(be->ops->dense_backward_weights(batch, in, out, x, dy, dw, dbias),
             "%s %d->%d", __func__, in, out);
}

/* ---------------------------------------------------------------- activations */

static int valid_activation(ck_activation k) {
    return k >= CK_ACT_IDENTITY && k <= CK_ACT_ELU;
}

ck_status ck_activation_forward(ck_activation kind, float alpha, size_t count, const ck_buffer *x,
                                ck_buffer *y) {
    CHECK(valid_activation(kind), CK_ERR_ARGUMENT, "ck_activation_forward: unknown kind %d",
          (int)kind);
    CHECK(count > 0, CK_ERR_ARGUMENT, "ck_activation_forward: count is 0");
    ck_backend *be = NULL;
    NEED("x", x, count); NEED("y", y, count);
    PROFILED(be->ops->activation_forward(kind, alpha, count, x, y),
             "%s %d n=%zu", __func__, (int)kind, count);
}

ck_status ck_activation_backward(ck_activation kind, float alpha, size_t count, const ck_buffer *x,
                                 const ck_buffer *y, const ck_buffer *dy, ck_buffer *dx) {
    CHECK(valid_activation(kind), CK_ERR_ARGUMENT, "ck_activation_backward: unknown kind %d",
          (int)kind);
    CHECK(count > 0, CK_ERR_ARGUMENT, "ck_activation_backward: count is 0");
    ck_backend *be = NULL;
    NEED("x", x, count); NEED("y", y, count); NEED("dy", dy, count); NEED("dx", dx, count);
    PROFILED(be->ops->activation_backward(kind, alpha, count, x, y, dy, dx),
             "%s %d n=%zu", __func__, (int)kind, count);
}

/* ---------------------------------------------------------------- fused activations */

/* An activation a fused backward form accepts: its derivative follows from its output. */
static ck_status check_gate_activation(const char *fn, ck_activation act, float alpha) {
    CHECK(valid_activation(act), CK_ERR_ARGUMENT, "%s: unknown activation %d", fn, (int)act);
    CHECK(act != CK_ACT_SOFTPLUS, CK_ERR_ARGUMENT,
          "%s: softplus's derivative needs its input; use ck_activation_backward", fn);
    CHECK(act != CK_ACT_LEAKY_RELU || (alpha >= 0 && isfinite(alpha)), CK_ERR_ARGUMENT,
          "%s: leaky ReLU slope %g must be >= 0 to be read from the output", fn, (double)alpha);
    return CK_OK;
}

/* The unfused forward: f applied in place to the count floats just written. */
static ck_status then_activation(ck_backend *be, ck_status s, ck_activation act, float alpha,
                                 size_t count, ck_buffer *y) {
    if (s != CK_OK || act == CK_ACT_IDENTITY) return s;
    return be->ops->activation_forward(act, alpha, count, y, y);
}

/* The unfused backward: dx *= f'(from the output gate), in place. */
static ck_status then_derivative(ck_backend *be, ck_status s, ck_activation act, float alpha,
                                 size_t count, const ck_buffer *gate, ck_buffer *dx) {
    if (s != CK_OK || act == CK_ACT_IDENTITY) return s;
    /* relu and leaky relu (alpha >= 0) test x > 0, which equals gate > 0; sigmoid, tanh and
     * elu read y: so the gate serves as both */
    return be->ops->activation_backward(act, alpha, count, gate, gate, dx, dx);
}

ck_status ck_conv2d_forward_act(const ck_conv_shape *shape, const ck_buffer *x,
                                const ck_buffer *w, const ck_buffer *bias, ck_activation act,
                                float alpha, ck_buffer *y, ck_buffer *workspace) {
    CHECK(valid_activation(act), CK_ERR_ARGUMENT, "%s: unknown activation %d", __func__, (int)act);
    CONV_PRELUDE(0, x)
    NEED("x", x, z.x); NEED("w", w, z.w); MAYBE("bias", bias, z.bias); NEED("y", y, z.y);
    if (z.ws) NEED("workspace", workspace, z.ws);
    if (!be->ops->conv2d_forward_act)
        return then_activation(be, be->ops->conv2d_forward(shape, x, w, bias, y, workspace), act,
                               alpha, z.y, y);
    PROFILED(be->ops->conv2d_forward_act(shape, x, w, bias, act, alpha, y, workspace),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

ck_status ck_conv2d_backward_data_act(const ck_conv_shape *shape, const ck_buffer *dy,
                                      const ck_buffer *w, ck_activation act, float alpha,
                                      const ck_buffer *x, ck_buffer *dx, ck_buffer *workspace) {
    ck_status g = check_gate_activation(__func__, act, alpha);
    if (g) return g;
    CONV_PRELUDE(0, dy)
    NEED("dy", dy, z.y); NEED("w", w, z.w); NEED("x", x, z.x); NEED("dx", dx, z.x);
    CHECK(x != dx, CK_ERR_ARGUMENT, "%s: x and dx must be different buffers", __func__);
    if (z.ws) NEED("workspace", workspace, z.ws);
    if (!be->ops->conv2d_backward_data_act)
        return then_derivative(be, be->ops->conv2d_backward_data(shape, dy, w, dx, workspace),
                               act, alpha, z.x, x, dx);
    PROFILED(be->ops->conv2d_backward_data_act(shape, dy, w, act, alpha, x, dx, workspace),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

ck_status ck_deconv2d_forward_act(const ck_conv_shape *shape, const ck_buffer *x,
                                  const ck_buffer *w, const ck_buffer *bias, ck_activation act,
                                  float alpha, ck_buffer *y, ck_buffer *workspace) {
    CHECK(valid_activation(act), CK_ERR_ARGUMENT, "%s: unknown activation %d", __func__, (int)act);
    CONV_PRELUDE(1, x)
    NEED("x", x, z.x); NEED("w", w, z.w); MAYBE("bias", bias, z.bias); NEED("y", y, z.y);
    if (z.ws) NEED("workspace", workspace, z.ws);
    if (!be->ops->deconv2d_forward_act)
        return then_activation(be, be->ops->deconv2d_forward(shape, x, w, bias, y, workspace),
                               act, alpha, z.y, y);
    PROFILED(be->ops->deconv2d_forward_act(shape, x, w, bias, act, alpha, y, workspace),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

ck_status ck_deconv2d_backward_data_act(const ck_conv_shape *shape, const ck_buffer *dy,
                                        const ck_buffer *w, ck_activation act, float alpha,
                                        const ck_buffer *x, ck_buffer *dx, ck_buffer *workspace) {
    ck_status g = check_gate_activation(__func__, act, alpha);
    if (g) return g;
    CONV_PRELUDE(1, dy)
    NEED("dy", dy, z.y); NEED("w", w, z.w); NEED("x", x, z.x); NEED("dx", dx, z.x);
    CHECK(x != dx, CK_ERR_ARGUMENT, "%s: x and dx must be different buffers", __func__);
    if (z.ws) NEED("workspace", workspace, z.ws);
    if (!be->ops->deconv2d_backward_data_act)
        return then_derivative(be, be->ops->deconv2d_backward_data(shape, dy, w, dx, workspace),
                               act, alpha, z.x, x, dx);
    PROFILED(be->ops->deconv2d_backward_data_act(shape, dy, w, act, alpha, x, dx, workspace),
             "%s %dx%dx%d->%d", __func__, shape->c_in, shape->h_in, shape->w_in, shape->c_out);
}

ck_status ck_dense_forward_act(int batch, int in, int out, const ck_buffer *x, const ck_buffer *w,
                               const ck_buffer *bias, ck_activation act, float alpha,
                               ck_buffer *y) {
    CHECK(valid_activation(act), CK_ERR_ARGUMENT, "%s: unknown activation %d", __func__, (int)act);
    DENSE_CHECK()
    NEED("x", x, mul(batch, in)); NEED("w", w, mul(out, in)); MAYBE("bias", bias, out);
    NEED("y", y, mul(batch, out));
    if (!be->ops->dense_forward_act)
        return then_activation(be, be->ops->dense_forward(batch, in, out, x, w, bias, y), act,
                               alpha, mul(batch, out), y);
    PROFILED(be->ops->dense_forward_act(batch, in, out, x, w, bias, act, alpha, y),
             "%s %d->%d", __func__, in, out);
}

ck_status ck_dense_backward_data_act(int batch, int in, int out, const ck_buffer *dy,
                                     const ck_buffer *w, ck_activation act, float alpha,
                                     const ck_buffer *x, ck_buffer *dx) {
    ck_status g = check_gate_activation(__func__, act, alpha);
    if (g) return g;
    DENSE_CHECK()
    NEED("dy", dy, mul(batch, out)); NEED("w", w, mul(out, in)); NEED("x", x, mul(batch, in));
    NEED("dx", dx, mul(batch, in));
    CHECK(x != dx, CK_ERR_ARGUMENT, "%s: x and dx must be different buffers", __func__);
    if (!be->ops->dense_backward_data_act)
        return then_derivative(be, be->ops->dense_backward_data(batch, in, out, dy, w, dx), act,
                               alpha, mul(batch, in), x, dx);
    PROFILED(be->ops->dense_backward_data_act(batch, in, out, dy, w, act, alpha, x, dx),
             "%s %d->%d", __func__, in, out);
}

/* ---------------------------------------------------------------- likelihoods and KL */

ck_status ck_bernoulli_nll(int batch, int dim, const ck_buffer *logits, const ck_buffer *target,
                           const ck_buffer *weight, ck_buffer *nll, ck_buffer *dlogits,
                           float scale) {
    CHECK(batch > 0 && dim > 0, CK_ERR_ARGUMENT, "ck_bernoulli_nll: sizes must be positive");
    ck_backend *be = NULL;
    size_t n = mul(batch, dim);
    NEED("logits", logits, n); NEED("target", target, n); MAYBE("weight", weight, n);
    NEED("nll", nll, batch); MAYBE("dlogits", dlogits, n);
    PROFILED(be->ops->bernoulli_nll(batch, dim, logits, target, weight, nll, dlogits, scale),
             "%s", __func__);
}

ck_status ck_gaussian_nll(int batch, int channels, int plane, const ck_buffer *mean,
                          const ck_buffer *logvar, const ck_buffer *target,
                          const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                          ck_buffer *dlogvar, float scale) {
    CHECK(batch > 0 && channels > 0 && plane > 0, CK_ERR_ARGUMENT,
          "ck_gaussian_nll: sizes must be positive");
    ck_backend *be = NULL;
    size_t n = mul(batch, mul(channels, plane));
    NEED("mean", mean, n); NEED("logvar", logvar, channels); NEED("target", target, n);
    MAYBE("weight", weight, n);
    NEED("nll", nll, batch); MAYBE("dmean", dmean, n); MAYBE("dlogvar", dlogvar, channels);
    PROFILED(be->ops->gaussian_nll(batch, channels, plane, mean, logvar, target, weight, nll,
                                 dmean, dlogvar, scale),
             "%s", __func__);
}

ck_status ck_logistic_nll(int batch, int channels, int plane, const ck_buffer *mean,
                          const ck_buffer *logscale, const ck_buffer *target,
                          const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                          ck_buffer *dlogscale, float scale) {
    CHECK(batch > 0 && channels > 0 && plane > 0, CK_ERR_ARGUMENT,
          "ck_logistic_nll: sizes must be positive");
    ck_backend *be = NULL;
    size_t n = mul(batch, mul(channels, plane));
    NEED("mean", mean, n); NEED("logscale", logscale, channels); NEED("target", target, n);
    MAYBE("weight", weight, n);
    NEED("nll", nll, batch); MAYBE("dmean", dmean, n); MAYBE("dlogscale", dlogscale, channels);
    PROFILED(be->ops->logistic_nll(batch, channels, plane, mean, logscale, target, weight, nll,
                                 dmean, dlogscale, scale),
             "%s", __func__);
}

ck_status ck_softmax_nll(int batch, int classes, int plane, const ck_buffer *logits,
                         const ck_buffer *labels, const ck_buffer *weight, ck_buffer *nll,
                         ck_buffer *dlogits, float scale) {
    CHECK(batch > 0 && classes > 0 && plane > 0, CK_ERR_ARGUMENT,
          "ck_softmax_nll: sizes must be positive");
    CHECK(isfinite(scale), CK_ERR_ARGUMENT, "ck_softmax_nll: scale must be finite");
    ck_backend *be = NULL;
    size_t n = mul(batch, mul(classes, plane)), m = mul(batch, plane);
    NEED("logits", logits, n); NEED("labels", labels, m); MAYBE("weight", weight, m);
    NEED("nll", nll, batch); MAYBE("dlogits", dlogits, n);
    PROFILED(be->ops->softmax_nll(batch, classes, plane, logits, labels, weight, nll, dlogits,
                                scale),
             "%s", __func__);
}

ck_status ck_kl_normal(int batch, int latent, const ck_buffer *stats, ck_buffer *kl,
                       ck_buffer *dstats, float scale, float free_bits) {
    CHECK(batch > 0 && latent > 0, CK_ERR_ARGUMENT, "ck_kl_normal: sizes must be positive");
    CHECK(free_bits >= 0 && isfinite(free_bits), CK_ERR_ARGUMENT,
          "ck_kl_normal: free_bits must be finite and >= 0");
    ck_backend *be = NULL;
    size_t n = mul(batch, 2 * (size_t)latent);
    NEED("stats", stats, n); NEED("kl", kl, batch); MAYBE("dstats", dstats, n);
    PROFILED(be->ops->kl_normal(batch, latent, stats, kl, dstats, scale, free_bits),
             "%s", __func__);
}

ck_status ck_kl_normal_pair(int batch, int latent, const ck_buffer *q_stats,
                            const ck_buffer *p_stats, ck_buffer *kl, ck_buffer *dq_stats,
                            ck_buffer *dp_stats, float scale, float free_bits) {
    CHECK(batch > 0 && latent > 0, CK_ERR_ARGUMENT, "ck_kl_normal_pair: sizes must be positive");
    CHECK(isfinite(scale), CK_ERR_ARGUMENT, "ck_kl_normal_pair: scale must be finite");
    CHECK(free_bits >= 0 && isfinite(free_bits), CK_ERR_ARGUMENT,
          "ck_kl_normal_pair: free_bits must be finite and >= 0");
    ck_backend *be = NULL;
    size_t n = mul(batch, 2 * (size_t)latent);
    NEED("q_stats", q_stats, n); NEED("p_stats", p_stats, n); NEED("kl", kl, batch);
    MAYBE("dq_stats", dq_stats, n); MAYBE("dp_stats", dp_stats, n);
    CHECK(dq_stats == NULL || dq_stats != dp_stats, CK_ERR_ARGUMENT,
          "ck_kl_normal_pair: dq_stats and dp_stats must be different buffers");
    if (be->ops->kl_normal_pair == NULL)
        return ck_fail(CK_ERR_UNAVAILABLE, "ck_kl_normal_pair: not available on the %s backend",
                       be->kind);
    PROFILED(be->ops->kl_normal_pair(batch, latent, q_stats, p_stats, kl, dq_stats, dp_stats, scale,
                                     free_bits),
             "%s", __func__);
}

/* ---------------------------------------------------------------- randomness */

ck_status ck_random_normal(size_t count, uint64_t seed, uint64_t counter, ck_buffer *out) {
    CHECK(count > 0, CK_ERR_ARGUMENT, "ck_random_normal: count is 0");
    ck_backend *be = NULL;
    NEED("out", out, count);
    PROFILED(be->ops->random_normal(count, seed, counter, out),
             "%s", __func__);
}

ck_status ck_random_bernoulli(size_t count, uint64_t seed, uint64_t counter,
                              const ck_buffer *probs, ck_buffer *out) {
    CHECK(count > 0, CK_ERR_ARGUMENT, "ck_random_bernoulli: count is 0");
    ck_backend *be = NULL;
    NEED("probs", probs, count); NEED("out", out, count);
    PROFILED(be->ops->random_bernoulli(count, seed, counter, probs, out),
             "%s", __func__);
}

ck_status ck_reparameterize(int batch, int latent, const ck_buffer *stats, const ck_buffer *eps,
                            ck_buffer *z) {
    CHECK(batch > 0 && latent > 0, CK_ERR_ARGUMENT, "ck_reparameterize: sizes must be positive");
    ck_backend *be = NULL;
    size_t n = mul(batch, latent);
    NEED("stats", stats, 2 * n); NEED("eps", eps, n); NEED("z", z, n);
    PROFILED(be->ops->reparameterize(batch, latent, stats, eps, z),
             "%s", __func__);
}

ck_status ck_reparameterize_backward(int batch, int latent, const ck_buffer *stats,
                                     const ck_buffer *eps, const ck_buffer *dz,
                                     ck_buffer *dstats) {
    CHECK(batch > 0 && latent > 0, CK_ERR_ARGUMENT,
          "ck_reparameterize_backward: sizes must be positive");
    ck_backend *be = NULL;
    size_t n = mul(batch, latent);
    NEED("stats", stats, 2 * n); NEED("eps", eps, n); NEED("dz", dz, n);
    NEED("dstats", dstats, 2 * n);
    PROFILED(be->ops->reparameterize_backward(batch, latent, stats, eps, dz, dstats),
             "%s", __func__);
}

ck_status ck_keep_best_rows(int batch, int width, const ck_buffer *score, ck_buffer *best,
                            const ck_buffer *candidate, ck_buffer *kept) {
    CHECK(batch > 0 && width > 0, CK_ERR_ARGUMENT, "ck_keep_best_rows: sizes must be positive");
    ck_backend *be = NULL;
    size_t n = mul(batch, width);
    NEED("score", score, (size_t)batch); NEED("best", best, (size_t)batch);
    NEED("candidate", candidate, n); NEED("kept", kept, n);
    PROFILED(be->ops->keep_best_rows(batch, width, score, best, candidate, kept), "%s", __func__);
}

/* ---------------------------------------------------------------- reductions, elementwise */

ck_status ck_sum(const ck_buffer *buffer, size_t offset, size_t count, double *result) {
    ck_status s = range(__func__, buffer, offset, count);
    if (s) return s;
    CHECK(result != NULL, CK_ERR_ARGUMENT, "ck_sum: result is NULL");
    *result = 0;
    if (count == 0) return CK_OK;
    PROFILED(buffer->backend->ops->sum(buffer, offset, count, 0, result),
             "%s", __func__);
}

ck_status ck_sum_squares(const ck_buffer *buffer, size_t offset, size_t count, double *result) {
    ck_status s = range(__func__, buffer, offset, count);
    if (s) return s;
    CHECK(result != NULL, CK_ERR_ARGUMENT, "ck_sum_squares: result is NULL");
    *result = 0;
    if (count == 0) return CK_OK;
    PROFILED(buffer->backend->ops->sum(buffer, offset, count, 1, result),
             "%s", __func__);
}

ck_status ck_axpby(size_t count, float alpha, const ck_buffer *x, float beta, ck_buffer *y) {
    CHECK(count > 0, CK_ERR_ARGUMENT, "ck_axpby: count is 0");
    ck_backend *be = NULL;
    NEED("x", x, count); NEED("y", y, count);
    PROFILED(be->ops->axpby(count, alpha, x, beta, y),
             "%s", __func__);
}

ck_status ck_multiply(size_t count, const ck_buffer *x, ck_buffer *y) {
    CHECK(count > 0, CK_ERR_ARGUMENT, "ck_multiply: count is 0");
    ck_backend *be = NULL;
    NEED("x", x, count); NEED("y", y, count);
    PROFILED(be->ops->multiply(count, x, y), "%s", __func__);
}

ck_status ck_gate_forward(int batch, int channels, int plane, const ck_buffer *x, ck_buffer *y) {
    CHECK(batch > 0 && channels > 0 && plane > 0, CK_ERR_ARGUMENT,
          "ck_gate_forward: sizes must be positive");
    ck_backend *be = NULL;
    size_t n = mul(batch, mul(channels, plane));
    NEED("x", x, 2 * n); NEED("y", y, n);
    PROFILED(be->ops->gate_forward(batch, channels, plane, x, y), "%s", __func__);
}

ck_status ck_gate_backward(int batch, int channels, int plane, const ck_buffer *x,
                           const ck_buffer *dy, ck_buffer *dx) {
    CHECK(batch > 0 && channels > 0 && plane > 0, CK_ERR_ARGUMENT,
          "ck_gate_backward: sizes must be positive");
    ck_backend *be = NULL;
    size_t n = mul(batch, mul(channels, plane));
    NEED("x", x, 2 * n); NEED("dy", dy, n); NEED("dx", dx, 2 * n);
    PROFILED(be->ops->gate_backward(batch, channels, plane, x, dy, dx), "%s", __func__);
}

/* ---------------------------------------------------------------- vector quantization */

#define VQ_SIZES(fn)                                                                       \
    CHECK(batch > 0 && dim > 0 && plane > 0 && codes > 0, CK_ERR_ARGUMENT,                \
          fn ": sizes must be positive")

ck_status ck_vq_workspace(int batch, int dim, int plane, int codes, size_t *count) {
    VQ_SIZES("ck_vq_workspace");
    CHECK(count != NULL, CK_ERR_ARGUMENT, "ck_vq_workspace: count is NULL");
    /* the transposed map and the cross terms of every position, and the codes' norms */
    *count = mul(mul(batch, plane), (size_t)dim + codes) + codes;
    return CK_OK;
}

ck_status ck_vq_assign(int batch, int dim, int plane, int codes, const ck_buffer *z,
                       const ck_buffer *codebook, ck_buffer *indices, ck_buffer *zq,
                       ck_buffer *sqdist, ck_buffer *workspace) {
    VQ_SIZES("ck_vq_assign");
    ck_backend *be = NULL;
    size_t n = mul(batch, mul(dim, plane)), ws = 0;
    ck_vq_workspace(batch, dim, plane, codes, &ws);
    NEED("z", z, n); NEED("codebook", codebook, mul(codes, dim));
    NEED("indices", indices, mul(batch, plane)); MAYBE("zq", zq, n); MAYBE("sqdist", sqdist, batch);
    NEED("workspace", workspace, ws);
    PROFILED(be->ops->vq_assign(batch, dim, plane, codes, z, codebook, indices, zq, sqdist,
                                workspace),
             "%s b%d d%d p%d k%d", __func__, batch, dim, plane, codes);
}

ck_status ck_vq_embed(int batch, int dim, int plane, int codes, const ck_buffer *indices,
                      const ck_buffer *codebook, ck_buffer *zq) {
    VQ_SIZES("ck_vq_embed");
    ck_backend *be = NULL;
    NEED("indices", indices, mul(batch, plane)); NEED("codebook", codebook, mul(codes, dim));
    NEED("zq", zq, mul(batch, mul(dim, plane)));
    PROFILED(be->ops->vq_embed(batch, dim, plane, codes, indices, codebook, zq), "%s", __func__);
}

ck_status ck_vq_statistics(int batch, int dim, int plane, int codes, const ck_buffer *z,
                           const ck_buffer *indices, ck_buffer *counts, ck_buffer *sums) {
    VQ_SIZES("ck_vq_statistics");
    ck_backend *be = NULL;
    NEED("z", z, mul(batch, mul(dim, plane))); NEED("indices", indices, mul(batch, plane));
    NEED("counts", counts, codes); NEED("sums", sums, mul(codes, dim));
    PROFILED(be->ops->vq_statistics(batch, dim, plane, codes, z, indices, counts, sums),
             "%s", __func__);
}

ck_status ck_vq_ema_update(int codes, int dim, float decay, float epsilon,
                           const ck_buffer *counts, const ck_buffer *sums, ck_buffer *ema_counts,
                           ck_buffer *ema_sums, ck_buffer *codebook) {
    CHECK(codes > 0 && dim > 0, CK_ERR_ARGUMENT, "ck_vq_ema_update: sizes must be positive");
    CHECK(decay >= 0 && decay < 1, CK_ERR_ARGUMENT, "ck_vq_ema_update: decay must lie in [0, 1)");
    CHECK(epsilon > 0 && isfinite(epsilon), CK_ERR_ARGUMENT,
          "ck_vq_ema_update: epsilon must be positive");
    ck_backend *be = NULL;
    size_t n = mul(codes, dim);
    NEED("counts", counts, codes); NEED("sums", sums, n); NEED("ema_counts", ema_counts, codes);
    NEED("ema_sums", ema_sums, n); NEED("codebook", codebook, n);
    PROFILED(be->ops->vq_ema_update(codes, dim, decay, epsilon, counts, sums, ema_counts,
                                    ema_sums, codebook),
             "%s", __func__);
}

ck_status ck_vq_codebook_grad(int codes, int dim, float scale, const ck_buffer *counts,
                              const ck_buffer *sums, const ck_buffer *codebook,
                              ck_buffer *dcodebook) {
    CHECK(codes > 0 && dim > 0, CK_ERR_ARGUMENT, "ck_vq_codebook_grad: sizes must be positive");
    CHECK(isfinite(scale), CK_ERR_ARGUMENT, "ck_vq_codebook_grad: scale must be finite");
    ck_backend *be = NULL;
    size_t n = mul(codes, dim);
    NEED("counts", counts, codes); NEED("sums", sums, n); NEED("codebook", codebook, n);
    NEED("dcodebook", dcodebook, n);
    PROFILED(be->ops->vq_codebook_grad(codes, dim, scale, counts, sums, codebook, dcodebook),
             "%s", __func__);
}

ck_status ck_vq_restart(int batch, int dim, int plane, int codes, const ck_buffer *z,
                        const ck_buffer *usage, uint64_t seed, uint64_t counter,
                        ck_buffer *codebook, ck_buffer *ema_counts, ck_buffer *ema_sums) {
    VQ_SIZES("ck_vq_restart");
    CHECK((ema_counts == NULL) == (ema_sums == NULL), CK_ERR_ARGUMENT,
          "ck_vq_restart: give both ema_counts and ema_sums, or neither");
    ck_backend *be = NULL;
    NEED("z", z, mul(batch, mul(dim, plane))); NEED("usage", usage, codes);
    NEED("codebook", codebook, mul(codes, dim)); MAYBE("ema_counts", ema_counts, codes);
    MAYBE("ema_sums", ema_sums, mul(codes, dim));
    PROFILED(be->ops->vq_restart(batch, dim, plane, codes, z, usage, seed, counter, codebook,
                                 ema_counts, ema_sums),
             "%s", __func__);
}

/* ---------------------------------------------------------------- optimizer */

ck_status ck_adam_update(size_t count, const ck_adam_params *params, ck_buffer *param,
                         const ck_buffer *grad, ck_buffer *m, ck_buffer *v) {
    CHECK(count > 0, CK_ERR_ARGUMENT, "ck_adam_update: count is 0");
    CHECK(params != NULL, CK_ERR_ARGUMENT, "ck_adam_update: params is NULL");
    CHECK(params->step >= 1, CK_ERR_ARGUMENT, "ck_adam_update: step must be >= 1");
    CHECK(params->beta1 >= 0 && params->beta1 < 1 && params->beta2 >= 0 && params->beta2 < 1,
          CK_ERR_ARGUMENT, "ck_adam_update: betas must lie in [0, 1)");
    CHECK(params->eps > 0 && params->lr >= 0, CK_ERR_ARGUMENT,
          "ck_adam_update: eps must be > 0 and lr >= 0");
    ck_backend *be = NULL;
    NEED("param", param, count); NEED("grad", grad, count); NEED("m", m, count);
    NEED("v", v, count);
    PROFILED(be->ops->adam_update(count, params, param, grad, m, v),
             "%s", __func__);
}
