/*
 * random.c -- counter-based random numbers (out[i] from ck_mix64(seed, counter + i), so
 * any split across threads gives the same values) and the reparameterization trick.
 */
#include "cpu.h"

static void normal_range(const cpu_ew *j, size_t b, size_t e) {
    for (size_t i = b; i < e; i++) j->y[i] = ck_normal_from_bits(ck_mix64(j->seed, j->counter + i));
}

static void bernoulli_range(const cpu_ew *j, size_t b, size_t e) {
    for (size_t i = b; i < e; i++)
        j->y[i] = ck_uniform_from_bits(ck_mix64(j->seed, j->counter + i)) < j->a[i] ? 1.0f : 0.0f;
}

ck_status cpu_random_normal(size_t count, uint64_t seed, uint64_t counter, ck_buffer *out) {
    cpu_ew j = {.range = normal_range, .count = count, .y = out->host, .seed = seed,
                .counter = counter};
    cpu_ew_run(cpu_of(out), &j);
    return CK_OK;
}

ck_status cpu_random_bernoulli(size_t count, uint64_t seed, uint64_t counter,
                               const ck_buffer *probs, ck_buffer *out) {
    cpu_ew j = {.range = bernoulli_range, .count = count, .a = probs->host, .y = out->host,
                .seed = seed, .counter = counter};
    cpu_ew_run(cpu_of(out), &j);
    return CK_OK;
}

/* Rows of latent values; element i is (row i / latent, column i % latent). */
static void reparam_range(const cpu_ew *j, size_t b, size_t e) {
    size_t latent = (size_t)j->kind;
    for (size_t i = b; i < e; i++) {
        size_t r = i / latent, c = i % latent;
        const float *mu = j->a + 2 * r * latent;
        j->y[i] = mu[c] + expf(0.5f * mu[latent + c]) * j->b[i];
    }
}

static void reparam_backward_range(const cpu_ew *j, size_t b, size_t e) {
    size_t latent = (size_t)j->kind;
    for (size_t i = b; i < e; i++) {
        size_t r = i / latent, c = i % latent;
        const float *lv = j->a + 2 * r * latent + latent;
        float *d = j->y + 2 * r * latent;
        d[c] = j->c[i];
        d[latent + c] = j->c[i] * j->b[i] * expf(0.5f * lv[c]) * 0.5f;
    }
}

ck_status cpu_reparameterize(int batch, int latent, const ck_buffer *stats, const ck_buffer *eps,
                             ck_buffer *z) {
    cpu_ew j = {.range = reparam_range, .count = (size_t)batch * latent, .a = stats->host,
                .b = eps->host, .y = z->host, .kind = latent};
    cpu_ew_run(cpu_of(z), &j);
    return CK_OK;
}

ck_status cpu_reparameterize_backward(int batch, int latent, const ck_buffer *stats,
                                      const ck_buffer *eps, const ck_buffer *dz,
                                      ck_buffer *dstats) {
    cpu_ew j = {.range = reparam_backward_range, .count = (size_t)batch * latent,
                .a = stats->host, .b = eps->host, .c = dz->host, .y = dstats->host,
                .kind = latent};
    cpu_ew_run(cpu_of(dz), &j);
    return CK_OK;
}
