/*
 * check_elementwise.c -- buffers (zeroed on creation, write/read round trips at offsets,
 * copy, fill, host pointers on the CPU), sums and sums of squares against double
 * (relative error <= 1e-12: the kernels sum floats in double) and axpby (beta = 0
 * overwrites NaN; beta = 1; general), err <= 1e-6; views (ck_buffer_view) that share their
 * parent's floats both ways, under operations too, and refuse bad offsets.
 */
#include "ckc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void buffer_checks(ckc *c, size_t n, ckc_rng *r) {
    ck_buffer *b = ckc_upload(c, NULL, n), *d = ckc_upload(c, NULL, n);
    if (!b || !d) return;
    ckc_expect(c, ck_buffer_count(b) == n, "ck_buffer_count %zu, expected %zu", ck_buffer_count(b), n);
    float *x = ckc_download(c, b, n);
    int zero = 1;
    for (size_t i = 0; x && i < n; i++) zero &= x[i] == 0.0f;
    ckc_expect(c, zero, "a new buffer of %zu floats is not zeroed", n);
    if (strcmp(ck_backend_kind(c->be), "cpu") == 0) {
        float *h = ck_buffer_host(b);
        ckc_expect(c, h != NULL && ((uintptr_t)h & 63) == 0, "CPU buffer host %p is not 64-byte aligned", (void *)h);
    }
    float *src = malloc(n * 4), *ref = calloc(n, 4);
    ckc_fill(r, src, n, -5, 5);
    size_t off = n / 3, cnt = n - off - n / 5;
    ckc_ok(c, ck_buffer_write(b, off, cnt, src), "ck_buffer_write");
    memcpy(ref + off, src, cnt * 4);
    free(x);
    x = ckc_download(c, b, n);
    ckc_expect(c, x && memcmp(x, ref, n * 4) == 0, "write at offset %zu count %zu did not round-trip", off, cnt);
    float part[8];
    if (cnt >= 8) {
        ckc_ok(c, ck_buffer_read(b, off + 1, 7, part), "ck_buffer_read");
        ckc_expect(c, memcmp(part, src + 1, 28) == 0, "read at an offset differs");
    }
    /* copy a window, then fill another */
    ckc_ok(c, ck_copy(d, 0, b, off, cnt), "ck_copy");
    free(x);
    x = ckc_download(c, d, n);
    ckc_expect(c, x && memcmp(x, src, cnt * 4) == 0, "ck_copy differs");
    /* blocks of 2 floats, 3 apart in the window, into d's first cnt floats 5 apart (so that
     * the copy below restores them) */
    if (cnt >= 9) {
        size_t rows = (cnt - 2) / 3 + 1, dst_rows = (cnt - 3) / 5 + 1 < rows ? (cnt - 3) / 5 + 1 : rows;
        float *before = ckc_download(c, d, n);
        ckc_ok(c, ck_copy_rows(d, 1, 5, b, off, 3, dst_rows, 2), "ck_copy_rows");
        float *got = ckc_download(c, d, n);
        int same = before && got;
        for (size_t i = 0; same && i < n; i++) {
            size_t row = (i - 1) / 5, col = (i - 1) % 5;
            float want = i >= 1 && row < dst_rows && col < 2 ? src[row * 3 + col] : before[i];
            same &= got[i] == want;
        }
        ckc_expect(c, same, "ck_copy_rows of %zu rows differs", dst_rows);
        ckc_ok(c, ck_copy(d, 0, b, off, cnt), "ck_copy");
        free(before);
        free(got);
    }
    ckc_ok(c, ck_fill(d, n / 2, n - n / 2, -2.5f), "ck_fill");
    free(x);
    x = ckc_download(c, d, n);
    int filled = 1;
    for (size_t i = 0; x && i < n; i++) filled &= x[i] == (i >= n / 2 ? -2.5f : (i < cnt ? src[i] : 0.0f));
    ckc_expect(c, filled, "ck_fill of [%zu, %zu) wrong", n / 2, n);
    ckc_ok(c, ck_backend_synchronize(c->be), "ck_backend_synchronize");
    free(x); free(src); free(ref);
    ck_buffer_free(b);
    ck_buffer_free(d);
}

static void sum_checks(ckc *c, size_t n, ckc_rng *r) {
    float *x = malloc(n * 4);
    ckc_fill(r, x, n, -1, 3);
    ck_buffer *b = ckc_upload(c, x, n);
    size_t off = n > 10 ? 3 : 0, cnt = n - off;
    double s = 0, s2 = 0, got = NAN, got2 = NAN;
    for (size_t i = off; i < n; i++) s += x[i], s2 += (double)x[i] * x[i];
    ckc_ok(c, ck_sum(b, off, cnt, &got), "ck_sum");
    ckc_ok(c, ck_sum_squares(b, off, cnt, &got2), "ck_sum_squares");
    ckc_expect(c, fabs(got - s) <= 1e-12 * fmax(1, fabs(s)), "sum of %zu: %.17g, expected %.17g", cnt, got, s);
    ckc_expect(c, fabs(got2 - s2) <= 1e-12 * fmax(1, s2), "sum of squares of %zu: %.17g, expected %.17g", cnt, got2, s2);
    ckc_ok(c, ck_sum(b, 0, 0, &got), "ck_sum of nothing");
    ckc_expect(c, got == 0, "sum of nothing is %g", got);
    ck_buffer_free(b);
    free(x);
}

static void axpby_checks(ckc *c, size_t n, ckc_rng *r) {
    float *x = malloc(n * 4), *y = malloc(n * 4);
    ckc_fill(r, x, n, -2, 2);
    ckc_fill(r, y, n, -2, 2);
    for (size_t i = 0; i < n; i += 5) y[i] = NAN;
    double *ref = malloc(n * 8);
    const float betas[] = {0.0f, 1.0f, -0.75f};
    for (int k = 0; k < 3; k++) {
        float alpha = 1.5f, beta = betas[k];
        if (beta != 0) for (size_t i = 0; i < n; i += 5) y[i] = 0.5f; /* NaN only for beta 0 */
        for (size_t i = 0; i < n; i++) ref[i] = beta == 0 ? alpha * (double)x[i] : alpha * (double)x[i] + beta * (double)y[i];
        ck_buffer *bx = ckc_upload(c, x, n), *by = ckc_upload(c, y, n);
        ckc_ok(c, ck_axpby(n, alpha, bx, beta, by), "ck_axpby");
        float *got = ckc_download(c, by, n);
        double e = got ? ckc_err(got, ref, n) : 1;
        ckc_expect(c, e <= 1e-6, "axpby beta %g: err %.3g (count %zu)", beta, e, n);
        free(got);
        ck_buffer_free(bx); ck_buffer_free(by);
    }
    free(x); free(y); free(ref);
}

/* Views at aligned offsets: writes, fills and kernels through a view land in the parent's
   range and nowhere else; the parent's writes show through the view. */
static void view_checks(ckc *c, size_t n, ckc_rng *r) {
    size_t align = ck_buffer_view_alignment(c->be);
    if (!ckc_expect(c, align >= 1, "view alignment %zu", align)) return;
    size_t off = 2 * align, cnt = n, total = off + cnt + 3 * align;
    float *x = malloc(total * 4), *v = malloc(cnt * 4);
    ckc_fill(r, x, total, -3, 3);
    ckc_fill(r, v, cnt, -3, 3);
    ck_buffer *parent = ckc_upload(c, x, total), *view = NULL, *other = NULL;
    if (!parent || !ckc_ok(c, ck_buffer_view(parent, off, cnt, &view), "ck_buffer_view")) goto done;
    ckc_expect(c, ck_buffer_count(view) == cnt, "view count %zu, expected %zu", ck_buffer_count(view), cnt);
    ckc_ok(c, ck_buffer_write(view, 0, cnt, v), "ck_buffer_write (view)");
    memcpy(x + off, v, cnt * 4);
    float *got = ckc_download(c, parent, total);
    ckc_expect(c, got && memcmp(got, x, total * 4) == 0, "a write through a view of %zu at %zu differs in the parent", cnt, off);
    free(got);
    /* a kernel through the view: y = 2 y on the view's floats only */
    ckc_ok(c, ck_axpby(cnt, 0.0f, view, 2.0f, view), "ck_axpby (view)");
    for (size_t i = 0; i < cnt; i++) x[off + i] *= 2;
    got = ckc_download(c, parent, total);
    ckc_expect(c, got && memcmp(got, x, total * 4) == 0, "axpby through a view of %zu at %zu differs in the parent", cnt, off);
    free(got);
    /* the parent's writes show through */
    ckc_ok(c, ck_fill(parent, 0, total, 0.25f), "ck_fill (parent)");
    got = ckc_download(c, view, cnt);
    int seen = got != NULL;
    for (size_t i = 0; got && i < cnt; i++) seen &= got[i] == 0.25f;
    ckc_expect(c, seen, "a fill of the parent is not seen through its view");
    free(got);
    /* refusals */
    if (align > 1) {
        ck_status s = ck_buffer_view(parent, 1, 1, &other);
        ckc_expect(c, s == CK_ERR_ARGUMENT && other == NULL, "a misaligned view gave %s", ck_status_name(s));
    }
    ck_status s = ck_buffer_view(parent, off, total - off + 1, &other);
    ckc_expect(c, s == CK_ERR_SHAPE && other == NULL, "a view past the end gave %s", ck_status_name(s));
    s = ck_buffer_view(view, 0, 1, &other);
    ckc_expect(c, s == CK_ERR_ARGUMENT && other == NULL, "a view of a view gave %s", ck_status_name(s));
    s = ck_buffer_view(parent, 0, 0, &other);
    ckc_expect(c, s == CK_ERR_ARGUMENT && other == NULL, "an empty view gave %s", ck_status_name(s));
done:
    ck_buffer_free(view);
    ck_buffer_free(parent);
    free(x);
    free(v);
}

void ckc_check_elementwise(ckc *c) {
    ckc_rng r = {91};
    const size_t sizes[] = {1, 7, 1000, 65537, 1000003};
    for (int i = 0; i < 5; i++) {
        buffer_checks(c, sizes[i], &r);
        sum_checks(c, sizes[i], &r);
        axpby_checks(c, sizes[i], &r);
        view_checks(c, sizes[i], &r);
    }
}
