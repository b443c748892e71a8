/*
 * blas_core.c -- which OpenBLAS kernels are in use, and which this CPU deserves.
 *
 * OpenBLAS 0.3.21 picks its kernels from the CPU model at load time and falls back to
 * "Prescott" (SSE3, ~7x slower sgemm) on CPUs it does not know, such as newer Xeons
 * reported as a generic "Intel Xeon Processor". The choice can only be overridden by
 * OPENBLAS_CORETYPE before the library loads, so the tool restarts itself with it.
 */
#include "ckernels.h"

#include <string.h>

char *openblas_get_corename(void);

const char *ck_blas_core(void) { return openblas_get_corename(); }

const char *ck_blas_suggested_core(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    const char *current = openblas_get_corename();
    if (current == NULL || strcmp(current, "Prescott") != 0) return NULL;
    if (__builtin_cpu_supports("avx512f")) return "SkylakeX";
    if (__builtin_cpu_supports("avx2")) return "Haswell";
#endif
    return NULL;
}
