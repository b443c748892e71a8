/*
 * common.cl -- helpers shared by the other kernel files (they are concatenated into one
 * program, this file first). Build options set RED_WG (reduction work-group size),
 * CK_FP64 (1 when the device has cl_khr_fp64) and CK_CPU (1 for CPU devices).
 */
#ifndef RED_WG
#define RED_WG 256
#endif
#ifndef CK_CPU
#define CK_CPU 0
#endif

/*
 * The part of [0, n) that a work-item of a RED_WG group visits: on GPUs a stride of the
 * group (neighbours read neighbours: coalesced); on CPU devices, which run a group's
 * work-items one after another, a contiguous run (caches and SIMD).
 */
#if CK_CPU
#define CK_GROUP_RANGE(j, n)                                                              \
    for (ulong j##_per = ((ulong)(n) + RED_WG - 1) / RED_WG, j = get_local_id(0) * j##_per, \
               j##_end = min(j + j##_per, (ulong)(n));                                    \
         j < j##_end; j++)
#else
#define CK_GROUP_RANGE(j, n) for (ulong j = get_local_id(0); j < (ulong)(n); j += RED_WG)
#endif

/* The same over the whole launch: the part of [0, n) a work-item visits. */
#if CK_CPU
#define CK_GLOBAL_RANGE(i, n)                                                             \
    for (ulong i##_per = ((ulong)(n) + get_global_size(0) - 1) / get_global_size(0),      \
               i = get_global_id(0) * i##_per, i##_end = min(i + i##_per, (ulong)(n));    \
         i < i##_end; i++)
#else
#define CK_GLOBAL_RANGE(i, n)                                                             \
    for (ulong i = get_global_id(0); i < (ulong)(n); i += get_global_size(0))
#endif

#if CK_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t; /* accumulator of the double-precision reductions */
#else
typedef float acc_t;
#endif

/* Numerically stable log(1 + exp(x)). */
inline float ck_softplus(float x) { return fmax(x, 0.0f) + log1p(exp(-fabs(x))); }

/* Logistic sigmoid, without overflow for large |x| (branch-free: CPU devices vectorize it). */
inline float ck_sigmoid(float x) {
    float e = exp(-fabs(x));
    return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

/*
 * Sums v over the RED_WG work-items of a group by a tree in local memory; every
 * work-item gets the total. The order is fixed, so results are deterministic.
 */
inline float ck_group_sum(float v, __local float *scratch) {
    int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}
