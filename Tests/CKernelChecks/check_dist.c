/*
 * check_dist.c -- the collectives of ck_dist on this backend's buffers, on however many
 * processes run the check: one as a plain process (every collective leaves its data as it
 * is), N under mpirun -np N (ctest's ckernels.dist.mpi.*). Each rank's data comes from a
 * seed and its rank, so every rank computes in double what the sums must be: err <= 1e-6,
 * the same bits on every rank and on a repeat; broadcasts exact; agreement found and
 * disagreement too; and the argument errors.
 */
#include "ckc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rank r's n floats for a size. */
static void rank_data(float *x, size_t n, int rank) {
    ckc_rng r = {1000003u * (uint64_t)(rank + 1) + n};
    ckc_fill(&r, x, n, -2, 2);
}

static void sum_checks(ckc *c, ck_dist *d, size_t n) {
    int rank = ck_dist_rank(d), size = ck_dist_size(d);
    size_t off = 3, total = n + 8;
    float *x = malloc(total * 4), *peer = malloc(n * 4);
    double *ref = calloc(n, 8);
    ckc_fill(&(ckc_rng){77}, x, total, 5, 6); /* guards: the same on every rank, untouched */
    rank_data(x + off, n, rank);
    for (int q = 0; q < size; q++) {
        rank_data(peer, n, q);
        for (size_t i = 0; i < n; i++) ref[i] += peer[i];
    }
    float *first = NULL;
    for (int repeat = 0; repeat < 2; repeat++) {
        ck_buffer *b = ckc_upload(c, x, total);
        if (!b || !ckc_ok(c, ck_dist_allreduce_sum(d, b, off, n), "ck_dist_allreduce_sum")) {
            ck_buffer_free(b);
            break;
        }
        float *got = ckc_download(c, b, total);
        ck_buffer_free(b);
        if (!got) break;
        double e = ckc_err(got + off, ref, n);
        ckc_expect(c, e <= 1e-6, "rank %d of %d: sum of %zu floats: err %.3g", rank, size, n, e);
        ckc_expect(c, memcmp(got, x, off * 4) == 0 && memcmp(got + off + n, x + off + n, (total - off - n) * 4) == 0,
                   "rank %d: the sum of [%zu, %zu) wrote outside it", rank, off, off + n);
        /* the same bits on every rank, and again on a repeat */
        int agree = 0;
        ckc_ok(c, ck_dist_agree(d, got + off, n * 4, &agree), "ck_dist_agree");
        ckc_expect(c, agree, "rank %d: the ranks' sums of %zu floats differ", rank, n);
        if (first) {
            ckc_expect(c, memcmp(first, got, total * 4) == 0, "rank %d: a repeated sum of %zu differs", rank, n);
            free(got);
        } else {
            first = got;
        }
    }
    free(first); free(x); free(peer); free(ref);
}

static void broadcast_checks(ckc *c, ck_dist *d, size_t n) {
    int rank = ck_dist_rank(d), size = ck_dist_size(d), root = size - 1;
    float *x = malloc(n * 4), *want = malloc(n * 4);
    rank_data(x, n, rank);
    rank_data(want, n, root);
    ck_buffer *b = ckc_upload(c, x, n);
    if (b && ckc_ok(c, ck_dist_broadcast(d, b, 0, n, root), "ck_dist_broadcast")) {
        float *got = ckc_download(c, b, n);
        ckc_expect(c, got && memcmp(got, want, n * 4) == 0, "rank %d: broadcast of %zu floats from %d differs", rank, n, root);
        free(got);
    }
    ck_buffer_free(b);
    /* host bytes: rank 0's text reaches everyone */
    char text[32];
    snprintf(text, sizeof text, "from rank %d", rank);
    ckc_ok(c, ck_dist_broadcast_host(d, text, sizeof text, 0), "ck_dist_broadcast_host");
    ckc_expect(c, strcmp(text, "from rank 0") == 0, "rank %d: broadcast bytes read '%s'", rank, text);
    free(x); free(want);
}

static void scalar_checks(ckc *c, ck_dist *d) {
    int rank = ck_dist_rank(d), size = ck_dist_size(d);
    double v[3] = {rank + 1.0, 0.5, rank == 0 ? 42.0 : 0.0};
    ckc_ok(c, ck_dist_allreduce_sum_host(d, v, 3), "ck_dist_allreduce_sum_host");
    ckc_expect(c, v[0] == size * (size + 1) / 2.0 && v[1] == 0.5 * size && v[2] == 42.0,
               "rank %d: host sums %g %g %g for %d ranks", rank, v[0], v[1], v[2], size);
    /* disagreement is seen by every rank (one rank alone always agrees) */
    int agree = -1;
    ckc_ok(c, ck_dist_agree(d, &rank, sizeof rank, &agree), "ck_dist_agree");
    ckc_expect(c, agree == (size == 1), "rank %d of %d: agree %d on rank-dependent bytes", rank, size, agree);
    ckc_ok(c, ck_dist_barrier(d), "ck_dist_barrier");
}

static void error_checks(ckc *c, ck_dist *d) {
    ck_buffer *b = ckc_upload(c, NULL, 4);
    if (!b) return;
    double v = 0;
    int agree;
    ckc_expect(c, ck_dist_allreduce_sum(d, b, 2, 3) == CK_ERR_SHAPE, "sum past the end accepted");
    ckc_expect(c, ck_dist_allreduce_sum(d, NULL, 0, 1) == CK_ERR_ARGUMENT, "sum of NULL accepted");
    /* a NULL handle is one process: the collectives check their arguments, change nothing */
    ckc_expect(c, ck_dist_allreduce_sum(NULL, b, 0, 1) == CK_OK, "a sum on no handle failed");
    ckc_expect(c, ck_dist_allreduce_sum(NULL, b, 2, 3) == CK_ERR_SHAPE, "no handle: sum past the end accepted");
    ckc_expect(c, ck_dist_broadcast(NULL, b, 0, 4, 1) == CK_ERR_ARGUMENT, "no handle: root 1 accepted");
    ckc_expect(c, ck_dist_rank(NULL) == 0 && ck_dist_size(NULL) == 1, "no handle is not rank 0 of 1");
    ckc_expect(c, ck_dist_broadcast(d, b, 0, 4, ck_dist_size(d)) == CK_ERR_ARGUMENT, "root out of range accepted");
    ckc_expect(c, ck_dist_broadcast_host(d, &v, 8, -1) == CK_ERR_ARGUMENT, "root -1 accepted");
    ckc_expect(c, ck_dist_allreduce_sum_host(d, NULL, 1) == CK_ERR_ARGUMENT, "NULL values accepted");
    ckc_expect(c, ck_dist_agree(d, &v, 8, NULL) == CK_ERR_ARGUMENT, "NULL answer accepted");
    ckc_expect(c, ck_dist_agree(d, NULL, 8, &agree) == CK_ERR_ARGUMENT, "NULL bytes accepted");
    ck_dist *none = (ck_dist *)1;
    ckc_expect(c, ck_dist_open(-1, &none) == CK_ERR_ARGUMENT && none == NULL, "a negative timeout accepted");
    ck_buffer_free(b);
}

void ckc_check_dist(ckc *c) {
    ck_dist *d = NULL;
    if (!ckc_ok(c, ck_dist_open(60, &d), "ck_dist_open")) return;
    int rank = ck_dist_rank(d), size = ck_dist_size(d);
    ckc_expect(c, size >= 1 && rank >= 0 && rank < size, "rank %d of %d", rank, size);
    ckc_expect(c, strlen(ck_dist_description(d)) > 0, "no description");
    const size_t sizes[] = {1, 1000, 300007};
    for (int i = 0; i < 3; i++) {
        sum_checks(c, d, sizes[i]);
        broadcast_checks(c, d, sizes[i]);
    }
    scalar_checks(c, d);
    error_checks(c, d);
    ck_dist_close(d);
}
