/*
 * host_random.c -- the counter-based generator of backend_impl.h on the host, without a
 * backend, so that callers draw the kernels' streams instead of re-implementing them.
 */
#include "backend_impl.h"

uint64_t ck_random_bits(uint64_t seed, uint64_t counter) { return ck_mix64(seed, counter); }

/* The CPU backend's normal_range (cpu/random.c), on one thread. */
void ck_host_random_normal(size_t count, uint64_t seed, uint64_t counter, float *out) {
    for (size_t i = 0; i < count; i++) out[i] = ck_normal_from_bits(ck_mix64(seed, counter + i));
}

void ck_host_random_uniform(size_t count, uint64_t seed, uint64_t counter, float *out) {
    for (size_t i = 0; i < count; i++) out[i] = ck_uniform_from_bits(ck_mix64(seed, counter + i));
}
