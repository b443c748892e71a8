/* The FMA peak of one core in GFLOP/s (single precision), for quoting beside every timing:
 * 12 independent chains of 512-bit fused multiply-adds (enough to cover the FMA latency on
 * current x86 cores), best of several runs. Falls back to 256-bit FMA without AVX-512.
 *
 *   cc -O2 -march=native bench/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define SUM _mm512_reduce_add_ps
#else
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
static float SUM(__m256 v) { float f[8]; _mm256_storeu_ps(f, v); return f[0]+f[1]+f[2]+f[3]+f[4]+f[5]+f[6]+f[7]; }
#endif

int main(void) {
    const long iterations = 100000000;
    double best = 0;
    float sink = 0;
    for (int run = 0; run < 5; run++) {
        vec a = SET1(0.999999f), b = SET1(1e-7f);
        vec c0 = SET1(0), c1 = SET1(1), c2 = SET1(2), c3 = SET1(3), c4 = SET1(4), c5 = SET1(5);
        vec c6 = SET1(6), c7 = SET1(7), c8 = SET1(8), c9 = SET1(9), c10 = SET1(10), c11 = SET1(11);
        double t0 = now();
        for (long i = 0; i < iterations / 12; i++) {
            c0 = FMA(c0, a, b); c1 = FMA(c1, a, b); c2 = FMA(c2, a, b); c3 = FMA(c3, a, b);
            c4 = FMA(c4, a, b); c5 = FMA(c5, a, b); c6 = FMA(c6, a, b); c7 = FMA(c7, a, b);
            c8 = FMA(c8, a, b); c9 = FMA(c9, a, b); c10 = FMA(c10, a, b); c11 = FMA(c11, a, b);
        }
        double seconds = now() - t0;
        vec s = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7)));
        sink += SUM(ADD(s, ADD(ADD(c8, c9), ADD(c10, c11))));
        double gflops = 2.0 * LANES * (iterations / 12 * 12) / seconds / 1e9;
        if (gflops > best) best = gflops;
    }
    printf("FMA peak, one core: %.1f GFLOP/s (%d-bit vectors)%s\n", best, LANES * 32, sink == 42 ? " " : "");
    return 0;
}
