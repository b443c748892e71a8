/*
 * losses.c -- likelihoods (per-image sums) and the Gaussian KL terms on the device.
 */
#include "ocl.h"

/* An absent weight passes the stand-in and has_weight 0: the kernels then use w = 1. */
ck_status ocl_bernoulli_nll(int batch, int dim, const ck_buffer *logits, const ck_buffer *target,
                            const ck_buffer *weight, ck_buffer *nll, ck_buffer *dlogits,
                            float scale) {
    ocl_backend *o = ocl_of(logits);
    return ocl_launch_groups(o, K_bernoulli_nll, (size_t)batch,
                             OCL_ARGS(OCL_INT(dim), OCL_BUF(logits), OCL_BUF(target),
                                      OCL_OPT(o, weight), OCL_INT(weight != NULL),
                                      OCL_BUF(nll), OCL_OPT(o, dlogits),
                                      OCL_INT(dlogits != NULL), OCL_FLOAT(scale)));
}

/* Shared by the Gaussian and logistic likelihoods: the per-image kernel, then the
   per-channel parameter gradient. */
static ck_status channel_nll(int k_image, int k_channel, int batch, int channels, int plane,
                             const ck_buffer *mean, const ck_buffer *param,
                             const ck_buffer *target, const ck_buffer *weight, ck_buffer *nll,
                             ck_buffer *dmean, ck_buffer *dparam, float scale) {
    ocl_backend *o = ocl_of(mean);
    ck_status s = ocl_launch_groups(o, k_image, (size_t)batch,
                                    OCL_ARGS(OCL_INT(channels), OCL_INT(plane), OCL_BUF(mean),
                                             OCL_BUF(param), OCL_BUF(target),
                                             OCL_OPT(o, weight), OCL_INT(weight != NULL),
                                             OCL_BUF(nll), OCL_OPT(o, dmean),
                                             OCL_INT(dmean != NULL), OCL_FLOAT(scale)));
    if (s || !dparam) return s;
    return ocl_launch_groups(o, k_channel, (size_t)channels,
                             OCL_ARGS(OCL_INT(batch), OCL_INT(channels), OCL_INT(plane),
                                      OCL_BUF(mean), OCL_BUF(param), OCL_BUF(target),
                                      OCL_OPT(o, weight), OCL_INT(weight != NULL),
                                      OCL_BUF(dparam), OCL_FLOAT(scale)));
}

ck_status ocl_gaussian_nll(int batch, int channels, int plane, const ck_buffer *mean,
                           const ck_buffer *logvar, const ck_buffer *target,
                           const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                           ck_buffer *dlogvar, float scale) {
    return channel_nll(K_gaussian_nll, K_gaussian_dlogvar, batch, channels, plane, mean, logvar,
                       target, weight, nll, dmean, dlogvar, scale);
}

ck_status ocl_logistic_nll(int batch, int channels, int plane, const ck_buffer *mean,
                           const ck_buffer *logscale, const ck_buffer *target,
                           const ck_buffer *weight, ck_buffer *nll, ck_buffer *dmean,
                           ck_buffer *dlogscale, float scale) {
    return channel_nll(K_logistic_nll, K_logistic_dlogscale, batch, channels, plane, mean,
                       logscale, target, weight, nll, dmean, dlogscale, scale);
}

ck_status ocl_softmax_nll(int batch, int classes, int plane, const ck_buffer *logits,
                          const ck_buffer *labels, const ck_buffer *weight, ck_buffer *nll,
                          ck_buffer *dlogits, float scale) {
    ocl_backend *o = ocl_of(logits);
    return ocl_launch_groups(o, K_softmax_nll, (size_t)batch,
                             OCL_ARGS(OCL_INT(classes), OCL_INT(plane), OCL_BUF(logits),
                                      OCL_BUF(labels), OCL_OPT(o, weight), OCL_INT(weight != NULL),
                                      OCL_BUF(nll), OCL_OPT(o, dlogits), OCL_INT(dlogits != NULL),
                                      OCL_FLOAT(scale)));
}

ck_status ocl_kl_normal(int batch, int latent, const ck_buffer *stats, ck_buffer *kl,
                        ck_buffer *dstats, float scale, float free_bits) {
    ocl_backend *o = ocl_of(stats);
    ck_status s = ocl_launch_groups(o, K_kl_normal, (size_t)batch,
                                    OCL_ARGS(OCL_INT(latent), OCL_BUF(stats), OCL_BUF(kl)));
    if (s || !dstats) return s;
    return ocl_launch_1d(o, K_kl_normal_grad, (size_t)latent,
                         OCL_ARGS(OCL_INT(batch), OCL_INT(latent), OCL_BUF(stats),
                                  OCL_BUF(dstats), OCL_FLOAT(scale), OCL_FLOAT(free_bits)));
}

/* Per image: kl, dp and (without free bits) dq; with free bits, dq per latent after it. */
ck_status ocl_kl_normal_pair(int batch, int latent, const ck_buffer *q_stats,
                             const ck_buffer *p_stats, ck_buffer *kl, ck_buffer *dq_stats,
                             ck_buffer *dp_stats, float scale, float free_bits) {
    ocl_backend *o = ocl_of(q_stats);
    int per_latent = dq_stats != NULL && free_bits > 0;
    ck_status s = ocl_launch_groups(o, K_kl_normal_pair, (size_t)batch,
                                    OCL_ARGS(OCL_INT(latent), OCL_BUF(q_stats), OCL_BUF(p_stats),
                                             OCL_BUF(kl), OCL_OPT(o, per_latent ? NULL : dq_stats),
                                             OCL_INT(dq_stats != NULL && !per_latent),
                                             OCL_OPT(o, dp_stats), OCL_INT(dp_stats != NULL),
                                             OCL_FLOAT(scale)));
    if (s || !per_latent) return s;
    return ocl_launch_1d(o, K_kl_normal_pair_dq, (size_t)latent,
                         OCL_ARGS(OCL_INT(batch), OCL_INT(latent), OCL_BUF(q_stats),
                                  OCL_BUF(p_stats), OCL_BUF(dq_stats), OCL_FLOAT(scale),
                                  OCL_FLOAT(free_bits)));
}
