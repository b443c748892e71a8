/*
 * checks.c -- the registry of check groups, ckc_run and the shared helpers of ckc.h.
 */
#include "ckc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*run)(ckc *);
} ckc_entry;

#define CKC_CHECK(name) {#name, ckc_check_##name},

/* One line per check: CMake reads the names from the CKC_CHECK lines. */
static const ckc_entry registry[] = {
    CKC_CHECK(im2col)
    CKC_CHECK(conv)
    CKC_CHECK(deconv)
    CKC_CHECK(models)
    CKC_CHECK(gradients)
    CKC_CHECK(dense)
    CKC_CHECK(activations)
    CKC_CHECK(losses)
    CKC_CHECK(kl)
    CKC_CHECK(kl_pair)
    CKC_CHECK(softmax)
    CKC_CHECK(vq)
    CKC_CHECK(linalg)
    CKC_CHECK(random)
    CKC_CHECK(elementwise)
    CKC_CHECK(adam)
    CKC_CHECK(determinism)
    CKC_CHECK(errors)
    CKC_CHECK(dist)
};

#define REGISTRY_SIZE (sizeof registry / sizeof registry[0])

const char *const *ckc_names(void) {
    static const char *names[REGISTRY_SIZE + 1];
    for (size_t i = 0; i < REGISTRY_SIZE; i++) names[i] = registry[i].name;
    names[REGISTRY_SIZE] = NULL;
    return names;
}

/* Threads for the backend under test: CKC_THREADS, else 2. */
static int check_threads(void) {
    const char *t = getenv("CKC_THREADS");
    int n = t ? atoi(t) : 2;
    return n > 0 ? n : 2;
}

ckc_outcome ckc_run(const char *check, const char *device, int *failures) {
    if (failures) *failures = 0;
    const ckc_entry *e = NULL;
    for (size_t i = 0; check && i < REGISTRY_SIZE; i++)
        if (strcmp(registry[i].name, check) == 0) e = &registry[i];
    if (!e) {
        fprintf(stderr, "ckc_run: unknown check '%s'\n", check ? check : "(null)");
        return CKC_UNKNOWN_CHECK;
    }
    ckc c = {.device = device ? device : "(null)", .check = check};
    ck_status s = ck_backend_open(device, check_threads(), &c.be);
    if (s == CK_ERR_UNAVAILABLE) {
        fprintf(stderr, "SKIP %s/%s: the device is not available here: %s\n", check, c.device,
                ck_last_error());
        return CKC_SKIPPED;
    }
    if (s != CK_OK) {
        fprintf(stderr, "FAIL %s/%s: cannot open the backend: %s\n", check, c.device,
                ck_last_error());
        if (failures) *failures = 1;
        return CKC_FAILED;
    }
    e->run(&c);
    ck_backend_close(c.be);
    fprintf(stderr, "%s/%s: %d comparisons, %d failures%s\n", check, c.device, c.checks,
            c.failures, c.skipped ? ", skipped" : "");
    if (failures) *failures = c.failures;
    return c.failures ? CKC_FAILED : c.skipped ? CKC_SKIPPED : CKC_PASSED;
}

const char *ckc_outcome_name(ckc_outcome outcome) {
    switch (outcome) {
    case CKC_PASSED: return "passed";
    case CKC_FAILED: return "failed";
    case CKC_SKIPPED: return "skipped";
    case CKC_UNKNOWN_CHECK: return "unknown check";
    }
    return "unknown outcome";
}

/* ---------------------------------------------------------------- reporting */

void ckc_fail(ckc *c, const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "FAIL %s/%s: ", c->check, c->device);
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    c->failures++;
}

void ckc_skip(ckc *c, const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "SKIP %s/%s: ", c->check, c->device);
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    c->skipped = 1;
}

int ckc_expect(ckc *c, int ok, const char *format, ...) {
    c->checks++;
    if (ok) return 1;
    va_list args;
    va_start(args, format);
    fprintf(stderr, "FAIL %s/%s: ", c->check, c->device);
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    c->failures++;
    return 0;
}

int ckc_ok(ckc *c, ck_status status, const char *what) {
    return ckc_expect(c, status == CK_OK, "%s returned %s: %s", what, ck_status_name(status),
                      ck_last_error());
}

double ckc_err(const float *got, const double *ref, size_t n) {
    double maxd = 0, maxr = 1;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (!(d <= maxd)) maxd = d; /* NaN propagates */
        if (fabs(ref[i]) > maxr) maxr = fabs(ref[i]);
    }
    return maxd / maxr;
}

double ckc_err_ff(const float *got, const float *ref, size_t n) {
    double maxd = 0, maxr = 1;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (!(d <= maxd)) maxd = d;
        if (fabs(ref[i]) > maxr) maxr = fabs(ref[i]);
    }
    return maxd / maxr;
}

/* ---------------------------------------------------------------- data */

static uint64_t next(ckc_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double ckc_uniform(ckc_rng *r, double lo, double hi) {
    return lo + (hi - lo) * ((double)(next(r) >> 11) * (1.0 / 9007199254740992.0));
}

int ckc_int(ckc_rng *r, int lo, int hi) { return lo + (int)(next(r) % (uint64_t)(hi - lo + 1)); }

void ckc_fill(ckc_rng *r, float *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) x[i] = (float)ckc_uniform(r, lo, hi);
}

void ckc_ints(ckc_rng *r, int n, const int *lo, const int *hi, int *v) {
    for (int i = 0; i < n; i++) v[i] = ckc_int(r, lo[i], hi[i]);
}

ck_conv_shape ckc_random_shape(ckc_rng *r, int max_batch, int max_channels, int min_size,
                               int max_size, int max_k) {
    const int lo[13] = {1, 1, min_size, min_size, 1, 1, 1, 1, 1, 0, 0, 1, 1};
    const int hi[13] = {max_batch, max_channels, max_size, max_size, max_channels, max_k, max_k,
                        3, 3, 2, 2, 2, 2};
    int v[13];
    ckc_ints(r, 13, lo, hi, v);
    ck_conv_shape s = ck_conv_shape_make(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    s.stride_h = v[7]; s.stride_w = v[8]; s.pad_h = v[9]; s.pad_w = v[10];
    s.dil_h = v[11]; s.dil_w = v[12];
    return s;
}

ck_buffer *ckc_upload(ckc *c, const float *x, size_t n) {
    ck_buffer *b = NULL;
    if (!ckc_ok(c, ck_buffer_new(c->be, n, &b), "ck_buffer_new")) return NULL;
    if (x && !ckc_ok(c, ck_buffer_write(b, 0, n, x), "ck_buffer_write")) {
        ck_buffer_free(b);
        return NULL;
    }
    return b;
}

float *ckc_download(ckc *c, const ck_buffer *b, size_t n) {
    float *x = malloc(n * sizeof *x);
    if (!x) return NULL;
    if (!ckc_ok(c, ck_buffer_read(b, 0, n, x), "ck_buffer_read")) {
        free(x);
        return NULL;
    }
    return x;
}

double *ckc_promote(const float *x, size_t n) {
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; d && i < n; i++) d[i] = x[i];
    return d;
}
