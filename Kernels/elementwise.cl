/*
 * elementwise.cl -- activations and their gradients, fill, axpby.
 * One work-item per element, straight-line code: CPU devices (PoCL) vectorize such
 * kernels across work-items, which a switch on the kind would prevent, so each
 * activation gets its own pair of kernels, forward_<kind> and backward_<kind>.
 * In FORWARD v is x[i]; in BACKWARD v is x[i], o the forward output y[i], g is dy[i].
 */
#define CK_ACTIVATION(kind, FORWARD, BACKWARD)                                            \
    __kernel void forward_##kind(ulong count, float alpha, __global const float *x,       \
                                 __global float *y) {                                     \
        ulong i = get_global_id(0);                                                       \
        if (i < count) {                                                                  \
            float v = x[i];                                                               \
            y[i] = (FORWARD);                                                             \
        }                                                                                 \
    }                                                                                     \
    __kernel void backward_##kind(ulong count, float alpha, __global const float *x,      \
                                  __global const float *y, __global const float *dy,      \
                                  __global float *dx) {                                   \
        ulong i = get_global_id(0);                                                       \
        if (i < count) {                                                                  \
            float v = x[i], o = y[i], g = dy[i];                                          \
            dx[i] = (BACKWARD);                                                           \
        }                                                                                 \
    }

/* In ck_activation's order; unused operands (o in relu, ...) are never loaded. */
CK_ACTIVATION(identity, v, g)
CK_ACTIVATION(relu, v > 0.0f ? v : 0.0f, v > 0.0f ? g : 0.0f)
CK_ACTIVATION(leaky_relu, v > 0.0f ? v : alpha * v, v > 0.0f ? g : alpha * g)
CK_ACTIVATION(sigmoid, ck_sigmoid(v), g * o * (1.0f - o))
CK_ACTIVATION(tanh, tanh(v), g * (1.0f - o * o))
CK_ACTIVATION(softplus, ck_softplus(v), g * ck_sigmoid(v))
CK_ACTIVATION(elu, v > 0.0f ? v : expm1(v), o > 0.0f ? g : g * (o + 1.0f))

__kernel void fill(__global float *y, ulong off, ulong count, float value) {
    ulong i = get_global_id(0);
    if (i < count) y[off + i] = value;
}

/* y = alpha x + beta y; beta == 0 overwrites y. */
__kernel void axpby(ulong count, float alpha, __global const float *x, float beta,
                    __global float *y) {
    ulong i = get_global_id(0);
    if (i >= count) return;
    float v = alpha * x[i];
    y[i] = beta == 0.0f ? v : v + beta * y[i];
}

/* y = x y */
__kernel void multiply(ulong count, __global const float *x, __global float *y) {
    ulong i = get_global_id(0);
    if (i < count) y[i] *= x[i];
}

/* y = tanh(a) sigmoid(b) for each image's halves [a; b] of part values each. */
__kernel void gate_forward(ulong count, ulong part, __global const float *x, __global float *y) {
    ulong i = get_global_id(0);
    if (i >= count) return;
    ulong image = i / part, j = i - image * part, a = 2 * image * part + j;
    y[i] = tanh(x[a]) * ck_sigmoid(x[a + part]);
}

/* da = dy s (1 - t^2), db = dy t s (1 - s). */
__kernel void gate_backward(ulong count, ulong part, __global const float *x,
                            __global const float *dy, __global float *dx) {
    ulong i = get_global_id(0);
    if (i >= count) return;
    ulong image = i / part, j = i - image * part, a = 2 * image * part + j;
    float t = tanh(x[a]), s = ck_sigmoid(x[a + part]), g = dy[i];
    dx[a] = g * s * (1.0f - t * t);
    dx[a + part] = g * t * s * (1.0f - s);
}
