/*
 * buffers.c -- device buffers (cl_mem in buffer->device) and the transfers between host
 * and device. Reads and writes block, so host memory may be reused on return; everything
 * else is queued in order.
 */
#include "ocl.h"

#include <stdio.h>
#include <string.h>

static ck_status oom_hint(size_t bytes, const ocl_backend *o) {
    return ck_fail(CK_ERR_MEMORY,
                   "OpenCL: a buffer of %zu MiB exceeds the device's largest allocation (%llu "
                   "MiB); try a smaller batch size",
                   bytes >> 20, (unsigned long long)(o->max_alloc >> 20));
}

ck_status ocl_buffer_new(ck_backend *backend, ck_buffer *buffer) {
    ocl_backend *o = backend->impl;
    size_t bytes = buffer->count * sizeof(float);
    if (o->max_alloc && bytes > o->max_alloc) return oom_hint(bytes, o);
    cl_int err;
    cl_mem mem = o->cl->clCreateBuffer(o->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) return ocl_fail_alloc(err, "clCreateBuffer");
    buffer->device = mem;
    buffer->host = NULL;
    /* zero it, and wait: devices allocate lazily, so this is where a full device fails */
    ck_status s = ocl_fill(buffer, 0, buffer->count, 0.0f);
    if (s == CK_OK) {
        err = o->cl->clFinish(o->queue);
        if (err != CL_SUCCESS) s = ocl_fail_alloc(err, "allocating a buffer");
    } else if (s == CK_ERR_BACKEND && strstr(ck_last_error(), "CL_OUT_OF_RESOURCES")) {
        char message[400];
        snprintf(message, sizeof message, "%s", ck_last_error());
        s = ck_fail(CK_ERR_MEMORY, "%s while allocating; try a smaller batch size", message);
    }
    if (s != CK_OK) {
        o->cl->clReleaseMemObject(mem);
        buffer->device = NULL;
    }
    return s;
}

void ocl_buffer_free(ck_buffer *buffer) {
    if (buffer->device) ocl_of(buffer)->cl->clReleaseMemObject(ocl_mem(buffer));
    buffer->device = NULL;
}

size_t ocl_view_alignment(const ck_backend *backend) {
    return ((const ocl_backend *)backend->impl)->view_align;
}

/* A view is a sub-buffer of its parent's cl_mem (released by ocl_buffer_free like any). */
ck_status ocl_buffer_view(ck_buffer *view) {
    ocl_backend *o = ocl_of(view);
    cl_buffer_region region = {view->offset * sizeof(float), view->count * sizeof(float)};
    cl_int err;
    cl_mem mem = o->cl->clCreateSubBuffer(ocl_mem(view->parent), CL_MEM_READ_WRITE,
                                          CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    if (err != CL_SUCCESS) return ocl_fail_alloc(err, "clCreateSubBuffer");
    view->device = mem;
    view->host = NULL;
    return CK_OK;
}

ck_status ocl_buffer_write(ck_buffer *buffer, size_t offset, size_t count, const float *src) {
    ocl_backend *o = ocl_of(buffer);
    cl_int err = o->cl->clEnqueueWriteBuffer(o->queue, ocl_mem(buffer), CL_TRUE,
                                             offset * sizeof(float), count * sizeof(float), src,
                                             0, NULL, NULL);
    return err == CL_SUCCESS ? CK_OK : ocl_fail(err, "clEnqueueWriteBuffer");
}

ck_status ocl_buffer_read(const ck_buffer *buffer, size_t offset, size_t count, float *dst) {
    ocl_backend *o = ocl_of(buffer);
    cl_int err = o->cl->clEnqueueReadBuffer(o->queue, ocl_mem(buffer), CL_TRUE,
                                            offset * sizeof(float), count * sizeof(float), dst, 0,
                                            NULL, NULL);
    return err == CL_SUCCESS ? CK_OK : ocl_fail(err, "clEnqueueReadBuffer");
}

/* Copies bytes through the backend's scratch buffer (grown on demand): OpenCL refuses
   overlapping copies within one buffer. */
static ck_status copy_overlapping(ocl_backend *o, cl_mem mem, size_t dst, size_t src,
                                  size_t bytes) {
    const ocl_api *cl = o->cl;
    static const size_t chunk = (size_t)1 << 24;
    cl_int err = CL_SUCCESS;
    if (!o->scratch) {
        o->scratch = cl->clCreateBuffer(o->context, CL_MEM_READ_WRITE, chunk, NULL, &err);
        if (err != CL_SUCCESS) {
            o->scratch = NULL;
            return ocl_fail_alloc(err, "clCreateBuffer (copy scratch)");
        }
    }
    /* move in chunks, in the direction that never overwrites unread source */
    size_t done = 0;
    while (done < bytes && err == CL_SUCCESS) {
        size_t n = bytes - done < chunk ? bytes - done : chunk;
        size_t at = dst < src ? done : bytes - done - n;
        err = cl->clEnqueueCopyBuffer(o->queue, mem, o->scratch, src + at, 0, n, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = cl->clEnqueueCopyBuffer(o->queue, o->scratch, mem, 0, dst + at, n, 0, NULL,
                                          NULL);
        done += n;
    }
    return err == CL_SUCCESS ? CK_OK : ocl_fail(err, "clEnqueueCopyBuffer");
}

ck_status ocl_copy(ck_buffer *dst, size_t dst_offset, const ck_buffer *src, size_t src_offset,
                   size_t count) {
    ocl_backend *o = ocl_of(dst);
    size_t d = dst_offset * sizeof(float), s = src_offset * sizeof(float);
    size_t bytes = count * sizeof(float);
    if (ocl_mem(dst) == ocl_mem(src)) {
        if (d == s) return CK_OK;
        if (d < s + bytes && s < d + bytes) return copy_overlapping(o, ocl_mem(dst), d, s, bytes);
    }
    cl_int err = o->cl->clEnqueueCopyBuffer(o->queue, ocl_mem(src), ocl_mem(dst), s, d, bytes, 0,
                                            NULL, NULL);
    return err == CL_SUCCESS ? CK_OK : ocl_fail(err, "clEnqueueCopyBuffer");
}

/* One rectangle: rows of count floats, pitches of the strides (at least a row when rows is 1). */
ck_status ocl_copy_rows(ck_buffer *dst, size_t dst_offset, size_t dst_stride, const ck_buffer *src,
                        size_t src_offset, size_t src_stride, size_t rows, size_t count) {
    ocl_backend *o = ocl_of(dst);
    size_t bytes = count * sizeof(float);
    size_t src_origin[3] = {src_offset * sizeof(float), 0, 0}, dst_origin[3] = {dst_offset * sizeof(float), 0, 0};
    size_t region[3] = {bytes, rows, 1};
    size_t src_pitch = rows > 1 ? src_stride * sizeof(float) : bytes;
    size_t dst_pitch = rows > 1 ? dst_stride * sizeof(float) : bytes;
    cl_int err = o->cl->clEnqueueCopyBufferRect(o->queue, ocl_mem(src), ocl_mem(dst), src_origin,
                                                dst_origin, region, src_pitch, 0, dst_pitch, 0, 0,
                                                NULL, NULL);
    return err == CL_SUCCESS ? CK_OK : ocl_fail(err, "clEnqueueCopyBufferRect");
}

ck_status ocl_fill(ck_buffer *buffer, size_t offset, size_t count, float value) {
    ocl_backend *o = ocl_of(buffer);
    return ocl_launch_1d(o, K_fill, count,
                         OCL_ARGS(OCL_BUF(buffer), OCL_ULONG(offset), OCL_ULONG(count),
                                  OCL_FLOAT(value)));
}

ck_status ocl_synchronize(ck_backend *backend) {
    ocl_backend *o = backend->impl;
    cl_int err = o->cl->clFinish(o->queue);
    return err == CL_SUCCESS ? CK_OK : ocl_fail(err, "clFinish");
}
