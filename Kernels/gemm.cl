/*
 * gemm.cl -- C = alpha * op(A) * op(B) + beta * C on row-major matrices, op = identity or
 * transpose (flags ta, tb), with leading dimensions and element offsets.
 *
 * Tiled in the style of CLBlast's xgemm: a work-group computes a TS_M x TS_N tile of C,
 * staging TS_K-deep slices of A and B in local memory; each work-item keeps a
 * WPT_M x WPT_N block of C in registers, its rows and columns strided by the work-group
 * extent so that neighbouring work-items touch neighbouring local-memory words.
 * Work-group: (TS_N / WPT_N, TS_M / WPT_M). Tuning parameters may be set by the host
 * with -D; these are the defaults. beta == 0 overwrites C (NaN there does not survive).
 */
#ifndef TS_M
#define TS_M 64
#endif
#ifndef TS_N
#define TS_N 64
#endif
#ifndef TS_K
#define TS_K 16
#endif
#ifndef WPT_M
#define WPT_M 4
#endif
#ifndef WPT_N
#define WPT_N 4
#endif

#define RTS_M (TS_M / WPT_M) /* work-items along M */
#define RTS_N (TS_N / WPT_N) /* work-items along N */
#define GEMM_WG (RTS_M * RTS_N)

__kernel __attribute__((reqd_work_group_size(RTS_N, RTS_M, 1)))
void gemm(int M, int N, int K, float alpha,
          __global const float *a, ulong a_off, int lda, int ta,
          __global const float *b, ulong b_off, int ldb, int tb,
          float beta, __global float *c, ulong c_off, int ldc) {
    __local float as[TS_K][TS_M + 1]; /* as[k][m]; +1 pads away bank conflicts */
    __local float bs[TS_K][TS_N + 1]; /* bs[k][n] */
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * RTS_N + tx;
    const int m0 = get_group_id(1) * TS_M, n0 = get_group_id(0) * TS_N;
    a += a_off;
    b += b_off;
    c += c_off;

    float acc[WPT_M][WPT_N];
    for (int i = 0; i < WPT_M; i++)
        for (int j = 0; j < WPT_N; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TS_K) {
        /* stage A: consecutive work-items read consecutive addresses in either layout */
        for (int l = tid; l < TS_M * TS_K; l += GEMM_WG) {
            int mm, kk;
            if (ta) { mm = l % TS_M; kk = l / TS_M; } else { kk = l % TS_K; mm = l / TS_K; }
            int gm = m0 + mm, gk = k0 + kk;
            float v = 0.0f;
            if (gm < M && gk < K) v = ta ? a[(ulong)gk * lda + gm] : a[(ulong)gm * lda + gk];
            as[kk][mm] = v;
        }
        for (int l = tid; l < TS_N * TS_K; l += GEMM_WG) {
            int nn, kk;
            if (tb) { kk = l % TS_K; nn = l / TS_K; } else { nn = l % TS_N; kk = l / TS_N; }
            int gn = n0 + nn, gk = k0 + kk;
            float v = 0.0f;
            if (gn < N && gk < K) v = tb ? b[(ulong)gn * ldb + gk] : b[(ulong)gk * ldb + gn];
            bs[kk][nn] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TS_K; k++) {
            float ar[WPT_M], br[WPT_N];
            for (int i = 0; i < WPT_M; i++) ar[i] = as[k][ty + i * RTS_M];
            for (int j = 0; j < WPT_N; j++) br[j] = bs[k][tx + j * RTS_N];
            for (int i = 0; i < WPT_M; i++)
                for (int j = 0; j < WPT_N; j++) acc[i][j] = mad(ar[i], br[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int i = 0; i < WPT_M; i++) {
        int gm = m0 + ty + i * RTS_M;
        if (gm >= M) break;
        for (int j = 0; j < WPT_N; j++) {
            int gn = n0 + tx + j * RTS_N;
            if (gn >= N) break;
            ulong at = (ulong)gm * ldc + gn;
            float v = alpha * acc[i][j];
            c[at] = beta == 0.0f ? v : v + beta * c[at];
        }
    }
}

/*
 * CPU-style kernels (selected on CPU devices, e.g. PoCL): no local memory and no barriers,
 * each work-item keeps a block of C in explicit float16 vectors, which map straight onto
 * SIMD registers. Two forms by B's layout:
 *  - gemm_rows (B not transposed): rows [m0, m0 + RM) x columns [n0, n0 + 16), an outer
 *    product per k of RM scalars of A with 16 consecutive floats of B;
 *  - gemm_dots (B transposed, A not): a DM x DN block of dot products along k, both
 *    operands contiguous in k, 16 at a time.
 */
#ifndef RM
#define RM 8
#endif
#ifndef DM
#define DM 4
#endif
#ifndef DN
#define DN 4
#endif

/* c = alpha * acc + beta * c for one value (beta == 0 overwrites). */
inline float ck_gemm_out(float acc, float alpha, float beta, __global const float *c) {
    return beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

__kernel void gemm_rows(int M, int N, int K, float alpha,
                        __global const float *a, ulong a_off, int lda, int ta,
                        __global const float *b, ulong b_off, int ldb,
                        float beta, __global float *c, ulong c_off, int ldc) {
    const int n0 = get_global_id(0) * 16, m0 = get_global_id(1) * RM;
    if (n0 >= N || m0 >= M) return;
    a += a_off;
    b += b_off;
    c += c_off;
    /* row i reads A row min(m0 + i, M - 1): surplus rows repeat the last and are not stored */
    ulong arow[RM];
    for (int i = 0; i < RM; i++) arow[i] = (ulong)min(m0 + i, M - 1) * (ta ? 1 : lda);
    const ulong astep = ta ? (ulong)lda : 1;
    float16 acc[RM];
    for (int i = 0; i < RM; i++) acc[i] = (float16)(0.0f);
#if RM == 8
    if (ta && n0 + 16 <= N && m0 + 8 <= M) { /* A^T: the 8 values of a k are adjacent */
        for (int k = 0; k < K; k++) {
            float16 bv = vload16(0, b + (ulong)k * ldb + n0);
            float8 av = vload8(0, a + (ulong)k * lda + m0);
            acc[0] = mad((float16)(av.s0), bv, acc[0]);
            acc[1] = mad((float16)(av.s1), bv, acc[1]);
            acc[2] = mad((float16)(av.s2), bv, acc[2]);
            acc[3] = mad((float16)(av.s3), bv, acc[3]);
            acc[4] = mad((float16)(av.s4), bv, acc[4]);
            acc[5] = mad((float16)(av.s5), bv, acc[5]);
            acc[6] = mad((float16)(av.s6), bv, acc[6]);
            acc[7] = mad((float16)(av.s7), bv, acc[7]);
        }
    } else
#endif
    if (n0 + 16 <= N) {
        for (int k = 0; k < K; k++) {
            float16 bv = vload16(0, b + (ulong)k * ldb + n0);
            ulong ak = (ulong)k * astep;
            for (int i = 0; i < RM; i++) acc[i] = mad((float16)(a[arow[i] + ak]), bv, acc[i]);
        }
    } else { /* the right edge: fewer than 16 columns */
        for (int k = 0; k < K; k++) {
            float t[16];
            for (int j = 0; j < 16; j++) t[j] = n0 + j < N ? b[(ulong)k * ldb + n0 + j] : 0.0f;
            float16 bv = vload16(0, t);
            ulong ak = (ulong)k * astep;
            for (int i = 0; i < RM; i++) acc[i] = mad((float16)(a[arow[i] + ak]), bv, acc[i]);
        }
    }
    for (int i = 0; i < RM && m0 + i < M; i++) {
        __global float *crow = c + (ulong)(m0 + i) * ldc + n0;
        float r[16];
        vstore16(acc[i], 0, r);
        for (int j = 0; j < 16 && n0 + j < N; j++)
            crow[j] = ck_gemm_out(r[j], alpha, beta, crow + j);
    }
}

/* Sum of the 16 lanes of v. */
inline float ck_sum16(float16 v) {
    float8 h = v.lo + v.hi;
    float4 q = h.lo + h.hi;
    float2 d = q.lo + q.hi;
    return d.x + d.y;
}

__kernel void gemm_dots(int M, int N, int K, float alpha,
                        __global const float *a, ulong a_off, int lda,
                        __global const float *b, ulong b_off, int ldb,
                        float beta, __global float *c, ulong c_off, int ldc) {
    const int n0 = get_global_id(0) * DN, m0 = get_global_id(1) * DM;
    if (n0 >= N || m0 >= M) return;
    a += a_off;
    b += b_off;
    c += c_off;
    __global const float *ar[DM], *br[DN];
    for (int i = 0; i < DM; i++) ar[i] = a + (ulong)min(m0 + i, M - 1) * lda;
    for (int j = 0; j < DN; j++) br[j] = b + (ulong)min(n0 + j, N - 1) * ldb;
    float16 acc[DM][DN];
    for (int i = 0; i < DM; i++)
        for (int j = 0; j < DN; j++) acc[i][j] = (float16)(0.0f);
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        float16 av[DM], bv[DN];
        for (int i = 0; i < DM; i++) av[i] = vload16(0, ar[i] + k);
        for (int j = 0; j < DN; j++) bv[j] = vload16(0, br[j] + k);
        for (int i = 0; i < DM; i++)
            for (int j = 0; j < DN; j++) acc[i][j] = mad(av[i], bv[j], acc[i][j]);
    }
    for (int i = 0; i < DM && m0 + i < M; i++) {
        for (int j = 0; j < DN && n0 + j < N; j++) {
            float s = ck_sum16(acc[i][j]);
            for (int kk = k; kk < K; kk++) s = mad(ar[i][kk], br[j][kk], s);
            __global float *cp = c + (ulong)(m0 + i) * ldc + n0 + j;
            *cp = ck_gemm_out(s, alpha, beta, cp);
        }
    }
}
