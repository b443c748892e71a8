/*
 * adam.c -- one Adam(W) step: g = grad_scale * grad; moments updated; bias-corrected;
 * decoupled weight decay p -= lr * wd * p applied to the old p (as PyTorch's AdamW).
 */
#include "cpu.h"

typedef struct {
    float lr, beta1, beta2, eps, wd, gscale;
    float inv_bc1, inv_sqrt_bc2; /* 1 / (1 - beta1^t), 1 / sqrt(1 - beta2^t) */
} adam_consts;

static void adam_range(const cpu_ew *j, size_t b, size_t e) {
    const adam_consts *k = j->extra;
    const float *grad = j->a;
    float *p = j->y, *m = j->z, *v = (float *)j->c;
    /* constants in registers: the stores below could otherwise alias *k for the compiler,
     * which then reloads them and gives up vectorising */
    const float gscale = k->gscale, b1 = k->beta1, b2 = k->beta2, c1 = 1.0f - k->beta1,
                c2 = 1.0f - k->beta2, eps = k->eps, lr = k->lr, decay = k->lr * k->wd,
                inv_bc1 = k->inv_bc1, inv_sqrt_bc2 = k->inv_sqrt_bc2;
    CPU_IVDEP
    for (size_t i = b; i < e; i++) {
        float g = gscale * grad[i];
        float mi = b1 * m[i] + c1 * g;
        float vi = b2 * v[i] + c2 * g * g;
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) * inv_sqrt_bc2 + eps;
        p[i] = p[i] - decay * p[i] - lr * (mi * inv_bc1) / denom;
    }
}

ck_status cpu_adam_update(size_t count, const ck_adam_params *ap, ck_buffer *param,
                          const ck_buffer *grad, ck_buffer *m, ck_buffer *v) {
    double t = (double)ap->step;
    adam_consts k = {ap->lr, ap->beta1, ap->beta2, ap->eps, ap->weight_decay, ap->grad_scale,
                     (float)(1.0 / (1.0 - pow(ap->beta1, t))),
                     (float)(1.0 / sqrt(1.0 - pow(ap->beta2, t)))};
    cpu_ew j = {.range = adam_range, .count = count, .a = grad->host, .c = v->host,
                .y = param->host, .z = m->host, .extra = &k};
    cpu_ew_run(cpu_of(param), &j);
    return CK_OK;
}
