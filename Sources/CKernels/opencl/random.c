/*
 * random.c -- counter-based random numbers (the CPU's stream, see rng.cl) and the
 * reparameterization z = mu + sigma eps, and the selection of the best of several draws.
 */
#include "ocl.h"

ck_status ocl_random_normal(size_t count, uint64_t seed, uint64_t counter, ck_buffer *out) {
    return ocl_launch_1d(ocl_of(out), K_random_normal, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_ULONG(seed), OCL_ULONG(counter),
                                  OCL_BUF(out)));
}

ck_status ocl_random_bernoulli(size_t count, uint64_t seed, uint64_t counter,
                               const ck_buffer *probs, ck_buffer *out) {
    return ocl_launch_1d(ocl_of(out), K_random_bernoulli, count,
                         OCL_ARGS(OCL_ULONG(count), OCL_ULONG(seed), OCL_ULONG(counter),
                                  OCL_BUF(probs), OCL_BUF(out)));
}

ck_status ocl_reparameterize(int batch, int latent, const ck_buffer *stats, const ck_buffer *eps,
                             ck_buffer *z) {
    return ocl_launch_1d(ocl_of(stats), K_reparameterize, (size_t)batch * latent,
                         OCL_ARGS(OCL_INT(batch), OCL_INT(latent), OCL_BUF(stats), OCL_BUF(eps),
                                  OCL_BUF(z)));
}

ck_status ocl_reparameterize_backward(int batch, int latent, const ck_buffer *stats,
                                      const ck_buffer *eps, const ck_buffer *dz,
                                      ck_buffer *dstats) {
    return ocl_launch_1d(ocl_of(stats), K_reparameterize_backward, (size_t)batch * latent,
                         OCL_ARGS(OCL_INT(batch), OCL_INT(latent), OCL_BUF(stats), OCL_BUF(eps),
                                  OCL_BUF(dz), OCL_BUF(dstats)));
}

ck_status ocl_keep_best_rows(int batch, int width, const ck_buffer *score, ck_buffer *best,
                             const ck_buffer *candidate, ck_buffer *kept) {
    return ocl_launch_1d(ocl_of(best), K_keep_best_rows, (size_t)batch,
                         OCL_ARGS(OCL_INT(batch), OCL_INT(width), OCL_BUF(score), OCL_BUF(best),
                                  OCL_BUF(candidate), OCL_BUF(kept)));
}
