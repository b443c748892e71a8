/*
 * openblas_core.c -- makes OpenBLAS use its fast kernels on CPUs it does not recognise.
 *
 * A DYNAMIC_ARCH OpenBLAS picks its kernels by CPU model at load time; 0.3.21 does not know
 * recent Xeons (family 6 model 207 here) and falls back to "Prescott" (SSE3), about 5x
 * slower at sgemm than its SkylakeX (AVX-512) kernels on the same CPU. When OpenBLAS chose
 * Prescott, the user did not ask for a core (OPENBLAS_CORETYPE unset) and the CPU has
 * AVX-512 (or AVX2 + FMA), this re-runs OpenBLAS's own dispatch with OPENBLAS_CORETYPE set,
 * exactly as if the variable had been set at start-up. Done once per process, at backend
 * open, before the backend's threads call BLAS. CK_OPENBLAS_KEEP_CORE=1 disables it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_DEFAULT */
#endif
#include "cpu.h"

#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void retune(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (getenv("OPENBLAS_CORETYPE") || getenv("CK_OPENBLAS_KEEP_CORE")) return;
    const char *core = openblas_get_corename();
    if (!core || strcmp(core, "Prescott") != 0) return;
    __builtin_cpu_init();
    const char *better = __builtin_cpu_supports("avx512f") ? "SkylakeX"
                       : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "Haswell"
                                                                                         : NULL;
    /* both exist only in DYNAMIC_ARCH builds: look them up rather than link them */
    void (*quit)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void (*init)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (!better || !quit || !init) return;
    setenv("OPENBLAS_CORETYPE", better, 0);
    quit();
    init();
#endif
}

void cpu_openblas_tune(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, retune);
}
