/*
 * adam.cl -- one Adam(W) step per element. The host passes the bias corrections
 * c1 = 1 / (1 - beta1^t) and c2 = 1 / sqrt(1 - beta2^t), computed in double.
 * Decoupled weight decay as in PyTorch's AdamW: p -= lr * wd * p before the step.
 */
__kernel void adam_update(ulong count, float lr, float beta1, float beta2, float eps,
                          float weight_decay, float grad_scale, float c1, float c2,
                          __global float *param, __global const float *grad, __global float *m,
                          __global float *v) {
    ulong i = get_global_id(0);
    if (i >= count) return;
    float g = grad[i] * grad_scale;
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    float p = param[i];
    param[i] = p - lr * weight_decay * p - lr * (mi * c1) / (sqrt(vi) * c2 + eps);
}
