/*
 * elementwise.c -- activations, axpby, the Adam step and the sums.
 */
#include "ocl.h"

#include <math.h>

/* One kernel per kind (see elementwise.cl), in ck_activation's order. */
ck_status ocl_activation_forward(ck_activation kind, float alpha, size_t count, const ck_buffer *x,
                                 ck_buffer *y) {
    return ocl_launch_1d(ocl_of(x), K_forward_identity + (int)kind, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_FLOAT(alpha), OCL_BUF(x), OCL_BUF(y)));
}

ck_status ocl_activation_backward(ck_activation kind, float alpha, size_t count, const ck_buffer *x,
                                  const ck_buffer *y, const ck_buffer *dy, ck_buffer *dx) {
    return ocl_launch_1d(ocl_of(x), K_backward_identity + (int)kind, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_FLOAT(alpha), OCL_BUF(x), OCL_BUF(y),
                                  OCL_BUF(dy), OCL_BUF(dx)));
}

ck_status ocl_axpby(size_t count, float alpha, const ck_buffer *x, float beta, ck_buffer *y) {
    return ocl_launch_1d(ocl_of(x), K_axpby, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_FLOAT(alpha), OCL_BUF(x),
                                  OCL_FLOAT(beta), OCL_BUF(y)));
}

ck_status ocl_adam_update(size_t count, const ck_adam_params *p, ck_buffer *param,
                          const ck_buffer *grad, ck_buffer *m, ck_buffer *v) {
    /* bias corrections in double on the host: 1 / (1 - beta1^t), 1 / sqrt(1 - beta2^t) */
    double c1 = 1.0 / (1.0 - pow((double)p->beta1, (double)p->step));
    double c2 = 1.0 / sqrt(1.0 - pow((double)p->beta2, (double)p->step));
    return ocl_launch_1d(ocl_of(param), K_adam_update, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_FLOAT(p->lr), OCL_FLOAT(p->beta1),
                                  OCL_FLOAT(p->beta2), OCL_FLOAT(p->eps),
                                  OCL_FLOAT(p->weight_decay), OCL_FLOAT(p->grad_scale),
                                  OCL_FLOAT(c1), OCL_FLOAT(c2), OCL_BUF(param), OCL_BUF(grad),
                                  OCL_BUF(m), OCL_BUF(v)));
}

/* Partials from reduce_sum (double, or float on devices without fp64), added on the host. */
ck_status ocl_sum(const ck_buffer *buffer, size_t offset, size_t count, int squares,
                  double *result) {
    ocl_backend *o = ocl_of(buffer);
    size_t groups = o->partial_groups;
    size_t need = (count + o->red_wg - 1) / o->red_wg;
    if (need < groups) groups = need; /* small ranges: fewer groups */
    size_t global = groups * o->red_wg, local = o->red_wg;
    ck_status s = ocl_launch(o, K_reduce_sum, 1, &global, &local,
                             OCL_ARGS(OCL_BUF(buffer), OCL_ULONG(offset), OCL_ULONG(count),
                                      OCL_INT(squares), OCL_CLMEM(o->partials)));
    if (s) return s;
    double partial[64];
    size_t width = o->fp64 ? sizeof(double) : sizeof(float);
    cl_int err = o->cl->clEnqueueReadBuffer(o->queue, o->partials, CL_TRUE, 0, groups * width,
                                            partial, 0, NULL, NULL);
    if (err != CL_SUCCESS) return ocl_fail(err, "reading the sum");
    double total = 0;
    for (size_t g = 0; g < groups; g++)
        total += o->fp64 ? partial[g] : (double)((const float *)partial)[g];
    *result = total;
    return CK_OK;
}
