/*
 * bench_kernels.c -- GFLOP/s of every convolution and transposed convolution pass of the
 * three reference models (kernel 4, stride 2, padding 1) and of the deep family's MNIST and
 * CIFAR models (`vae train --arch deep`: 3x3 stride-1 convolutions in residual blocks and
 * latent heads, 1x1 projections, 4x4 stride-2 resampling) on the CPU backend, next to a
 * plain cblas_sgemm of the same GEMM shape over the whole batch (OpenBLAS itself on the
 * same number of threads), median of several repetitions; then the time of all conv
 * passes of one training step per preset (each layer times the number of such layers).
 *
 *   bench_kernels [--json] [--threads N] [--batch B] [--reps R]
 *                 [--preset mnist|cifar|tiny64|deep-mnist|deep-cifar]
 *                 [--no-sgemm]   (skip the sgemm baseline: ratio columns read 0)
 *                 [--cpu-time]   (1 thread, timed by its CPU time: per-thread efficiency that
 *                                 other processes on a shared machine do not distort)
 *                 [--min]        (the fastest repetition instead of the median: on a busy
 *                                 machine the least disturbed one)
 *
 * FLOPs of a pass = 2 * batch * (output pixels of the convolution) * c_out * c_in * k^2,
 * the same for forward, backward-data and backward-weights.
 */
#include "ckernels.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int c_in, c_out, size; /* size: input height = width */
    int transposed;
    int kernel;            /* 0: the reference geometry, kernel 4, stride 2, padding 1; else a */
                           /* stride-1 convolution of this kernel with "same" padding */
    int times;             /* such layers in one training step (0: one) */
} layer;

typedef struct {
    const char *name;
    layer layers[20];
    int count;
} preset;

static const preset presets[] = {
    {"mnist", {{1, 32, 28, 0}, {32, 64, 14, 0}, {64, 32, 7, 1}, {32, 1, 14, 1}}, 4},
    {"cifar",
     {{3, 32, 32, 0}, {32, 64, 16, 0}, {64, 128, 8, 0}, {128, 64, 4, 1}, {64, 32, 8, 1}, {32, 3, 16, 1}},
     6},
    {"tiny64",
     {{3, 32, 64, 0}, {32, 64, 32, 0}, {64, 128, 16, 0}, {128, 256, 8, 0}, {256, 128, 4, 1},
      {128, 64, 8, 1}, {64, 32, 16, 1}, {32, 3, 32, 1}},
     8},
    /* ModelConfig.deep(1, 28, 28): stages 32x14x14 and 64x7x7, one block per stage, latent
     * groups [1, 2] of 8 channels: residual convolutions, prior and posterior heads, z
     * projections, resampling */
    {"deep-mnist",
     {{1, 32, 28, 0}, {32, 64, 14, 0}, {32, 32, 14, 0, 3, 6}, {64, 64, 7, 0, 3, 8},
      {64, 16, 14, 0, 3, 1}, {32, 16, 14, 0, 3, 1}, {128, 16, 7, 0, 3, 1}, {64, 16, 7, 0, 3, 2},
      {8, 32, 14, 0, 1, 1}, {8, 64, 7, 0, 1, 2}, {64, 32, 7, 1}, {32, 1, 14, 1}},
     12},
    /* ModelConfig.deep(3, 32, 32): stages 32x16x16, 64x8x8, 64x4x4, one block per stage,
     * latent groups [1, 2, 2] of 16 channels */
    {"deep-cifar",
     {{3, 32, 32, 0}, {32, 64, 16, 0}, {64, 64, 8, 0}, {32, 32, 16, 0, 3, 6}, {64, 64, 8, 0, 3, 8},
      {64, 64, 4, 0, 3, 8}, {64, 32, 16, 0, 3, 1}, {32, 32, 16, 0, 3, 1}, {128, 32, 8, 0, 3, 2},
      {64, 32, 8, 0, 3, 2}, {128, 32, 4, 0, 3, 1}, {64, 32, 4, 0, 3, 2}, {16, 32, 16, 0, 1, 1},
      {16, 64, 8, 0, 1, 4}, {64, 64, 4, 1}, {64, 32, 8, 1}, {32, 3, 16, 1}},
     17},
};

static const char *pass_names[3] = {"forward", "backward-data", "backward-weights"};

/* Wall time; with --cpu-time the calling thread's CPU time (robust on a busy machine). */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now(void) {
    struct timespec t;
    clock_gettime(bench_clock, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int use_min = 0;

/* The median of n timings, or their minimum with --min. */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    if (use_min) return v[0];
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(ck_status s, const char *what) {
    if (s == CK_OK) return;
    fprintf(stderr, "bench_kernels: %s: %s (%s)\n", what, ck_status_name(s), ck_last_error());
    exit(1);
}

static ck_buffer *buffer(ck_backend *be, size_t n) {
    ck_buffer *b = NULL;
    die(ck_buffer_new(be, n, &b), "ck_buffer_new");
    float *h = ck_buffer_host(b);
    for (size_t i = 0; h && i < n; i++) h[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    return b;
}

/* The GEMM of a pass over the whole batch: C[m, n] = op(A) op(B), inner dimension k. */
typedef struct {
    int m, n, k;
    int trans_a, trans_b;
} gemm_shape;

/*
 * A convolution's GEMMs: forward W[c_out, K] x cols[K, P]; backward-data W^T x dY;
 * backward-weights dY x cols^T (K = c_in k^2, P = batch * output pixels). A transposed
 * convolution runs the matching convolution's passes in the order backward-data, forward,
 * backward-weights with the roles of c_in and c_out exchanged.
 */
static gemm_shape pass_gemm(const layer *l, int batch, int pass) {
    int small = l->transposed || l->kernel ? l->size : l->size / 2; /* the conv output side */
    int big_c = l->transposed ? l->c_out : l->c_in;                 /* channels of the large side */
    int small_c = l->transposed ? l->c_in : l->c_out;
    int taps = l->kernel ? l->kernel * l->kernel : 16;
    int k = big_c * taps, p = batch * small * small;
    int conv_pass = l->transposed ? (pass == 0 ? 1 : pass == 1 ? 0 : 2) : pass;
    switch (conv_pass) {
    case 0: return (gemm_shape){small_c, p, k, 0, 0};
    case 1: return (gemm_shape){k, p, small_c, 1, 0};
    default: return (gemm_shape){small_c, k, p, 0, 1};
    }
}

static double sgemm_seconds(const gemm_shape *g, int reps, float *a, float *b, float *c) {
    double t[64];
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
                    g->trans_b ? CblasTrans : CblasNoTrans, g->m, g->n, g->k, 1.0f, a,
                    g->trans_a ? g->m : g->k, b, g->trans_b ? g->k : g->n, 0.0f, c, g->n);
        if (r >= 0) t[r] = now() - t0;
    }
    return median(t, reps);
}

static double pass_seconds(const layer *l, const ck_conv_shape *s, int pass, int reps,
                           ck_buffer *x, ck_buffer *w, ck_buffer *bias, ck_buffer *y,
                           ck_buffer *ws) {
    double t[64];
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        ck_status st;
        if (!l->transposed) {
            st = pass == 0 ? ck_conv2d_forward(s, x, w, bias, y, ws)
               : pass == 1 ? ck_conv2d_backward_data(s, y, w, x, ws)
                           : ck_conv2d_backward_weights(s, x, y, w, bias, ws);
        } else {
            st = pass == 0 ? ck_deconv2d_forward(s, x, w, bias, y, ws)
               : pass == 1 ? ck_deconv2d_backward_data(s, y, w, x, ws)
                           : ck_deconv2d_backward_weights(s, x, y, w, bias, ws);
        }
        die(st, pass_names[pass]);
        if (r >= 0) t[r] = now() - t0;
    }
    return median(t, reps);
}

int main(int argc, char **argv) {
    int json = 0, threads = 2, batch = 128, reps = 5, baseline = 1;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--no-sgemm") == 0) baseline = 0;
        else if (strcmp(argv[i], "--cpu-time") == 0) bench_clock = CLOCK_THREAD_CPUTIME_ID;
        else if (strcmp(argv[i], "--min") == 0) use_min = 1;
        else {
            fprintf(stderr, "usage: bench_kernels [--json] [--threads N] [--batch B] [--reps R] "
                            "[--preset mnist|cifar|tiny64|deep-mnist|deep-cifar] [--no-sgemm] [--cpu-time] [--min]\n");
            return 2;
        }
    }
    if (bench_clock == CLOCK_THREAD_CPUTIME_ID) threads = 1; /* only this thread is timed */
    if (reps < 1) reps = 1;
    if (reps > 64) reps = 64;
    ck_backend *be = NULL;
    die(ck_backend_open("cpu", threads, &be), "ck_backend_open");
    threads = ck_backend_threads(be);
    if (json) printf("[\n");
    else printf("%s, batch %d, %s of %d%s\n\n%-10s %-26s %-16s %9s %8s %8s %6s  %s\n",
                ck_backend_description(be), batch, use_min ? "minimum" : "median", reps,
                bench_clock == CLOCK_THREAD_CPUTIME_ID ? ", thread CPU time" : "", "preset", "layer", "pass", "ms",
                "GFLOP/s", "sgemm", "ratio", "sgemm shape (m n k)");
    int first_row = 1;
    for (size_t p = 0; p < sizeof presets / sizeof presets[0]; p++) {
        const preset *pr = &presets[p];
        if (only && strcmp(only, pr->name) != 0) continue;
        double step_all = 0, step_train = 0, flops_all = 0;
        for (int li = 0; li < pr->count; li++) {
            const layer *l = &pr->layers[li];
            int kernel = l->kernel ? l->kernel : 4, taps = kernel * kernel, times = l->times ? l->times : 1;
            ck_conv_shape s = ck_conv_shape_make(batch, l->c_in, l->size, l->size, l->c_out, kernel, kernel);
            s.stride_h = s.stride_w = l->kernel ? 1 : 2;
            s.pad_h = s.pad_w = l->kernel ? (kernel - 1) / 2 : 1;
            int ho, wo;
            size_t nws;
            die(ck_conv_output(&s, l->transposed, &ho, &wo), "ck_conv_output");
            die(ck_conv_workspace(be, &s, l->transposed, &nws), "ck_conv_workspace");
            size_t nx = (size_t)batch * l->c_in * l->size * l->size;
            size_t ny = (size_t)batch * l->c_out * ho * wo, nw = (size_t)l->c_in * l->c_out * taps;
            ck_buffer *x = buffer(be, nx), *y = buffer(be, ny), *w = buffer(be, nw);
            ck_buffer *bias = buffer(be, (size_t)l->c_out), *ws = buffer(be, nws ? nws : 1);
            int conv_out = l->transposed ? l->size : ho;
            double flops = 2.0 * batch * conv_out * conv_out * l->c_in * l->c_out * taps;
            char name[64];
            snprintf(name, sizeof name, "%s%s %d->%d %dx%d%s", l->transposed ? "convT" : "conv",
                     l->kernel ? (l->kernel == 3 ? "3x3" : "1x1") : "", l->c_in, l->c_out, l->size, l->size,
                     times > 1 ? (times > 9 ? " x9+" : (const char *[]){"", "", " x2", " x3", " x4", " x5", " x6", " x7", " x8", " x9"}[times]) : "");
            for (int pass = 0; pass < 3; pass++) {
                double sec = pass_seconds(l, &s, pass, reps, x, w, bias, y, ws);
                gemm_shape g = pass_gemm(l, batch, pass);
                float *a = malloc((size_t)g.m * g.k * 4), *b = malloc((size_t)g.k * g.n * 4);
                float *c = malloc((size_t)g.m * g.n * 4);
                for (size_t i = 0; i < (size_t)g.m * g.k; i++) a[i] = 1e-3f * (float)(i % 977);
                for (size_t i = 0; i < (size_t)g.k * g.n; i++) b[i] = 1e-3f * (float)(i % 991);
                double gsec = 0;
                if (baseline) {
                    openblas_set_num_threads(threads);
                    gsec = sgemm_seconds(&g, reps, a, b, c);
                    openblas_set_num_threads(1); /* the backend's setting */
                }
                free(a); free(b); free(c);
                double gf = flops / sec * 1e-9, ggf = gsec > 0 ? flops / gsec * 1e-9 : 0;
                step_all += times * sec;
                flops_all += times * flops;
                /* a training step needs no gradient for the input images */
                if (!(li == 0 && pass == 1)) step_train += times * sec;
                if (json)
                    printf("%s  {\"type\": \"pass\", \"preset\": \"%s\", \"layer\": \"%s\", \"pass\": \"%s\", "
                           "\"ms\": %.4f, \"gflops\": %.2f, \"sgemm_gflops\": %.2f, \"ratio\": %.3f, "
                           "\"m\": %d, \"n\": %d, \"k\": %d, \"threads\": %d, \"batch\": %d}",
                           first_row ? "" : ",\n", pr->name, name, pass_names[pass], sec * 1e3, gf,
                           ggf, gf / ggf, g.m, g.n, g.k, threads, batch);
                else
                    printf("%-10s %-26s %-16s %9.3f %8.1f %8.1f %5.0f%%  %d %d %d\n", pr->name, name,
                           pass_names[pass], sec * 1e3, gf, ggf, 100 * gf / ggf, g.m, g.n, g.k);
                first_row = 0;
            }
            ck_buffer_free(x); ck_buffer_free(y); ck_buffer_free(w); ck_buffer_free(bias);
            ck_buffer_free(ws);
        }
        if (json)
            printf(",\n  {\"type\": \"step\", \"preset\": \"%s\", \"all_passes_ms\": %.3f, "
                   "\"training_step_ms\": %.3f, \"gflops\": %.2f, \"threads\": %d, \"batch\": %d}",
                   pr->name, step_all * 1e3, step_train * 1e3, flops_all / step_all * 1e-9,
                   threads, batch);
        else
            printf("%-10s all conv passes per step: %.1f ms (%.1f GFLOP/s); training step "
                   "(no input gradient): %.1f ms, %.0f images/s conv-bound\n\n",
                   pr->name, step_all * 1e3, flops_all / step_all * 1e-9, step_train * 1e3,
                   batch / step_train);
    }
    if (json) printf("\n]\n");
    ck_backend_close(be);
    return 0;
}
