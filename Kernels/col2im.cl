/*
 * col2im.cl -- the adjoint of im2col: every image element gathers the column entries
 * that im2col copied from it (a gather instead of a scatter: no atomics, deterministic).
 * Optionally adds bias[c] (a transposed convolution's forward pass ends here).
 * One work-item per image element of the chunk; x_off is the chunk's first element.
 *
 * Kernel row ky reaches output row oy = (y + pad_h - ky * dil_h) / stride_h when that
 * division is exact; quotient and remainder are stepped from ky to ky + 1 by additions,
 * so the loops divide nothing.
 */
__kernel void col2im(__global const float *cols, __global float *x, ulong x_off, int images,
                     int c_in, int h_in, int w_in, int k_h, int k_w, int stride_h, int stride_w,
                     int pad_h, int pad_w, int dil_h, int dil_w, int h_out, int w_out,
                     __global const float *bias, int has_bias) {
    ulong i = get_global_id(0);
    ulong per_image = (ulong)c_in * h_in * w_in;
    if (i >= (ulong)images * per_image) return;
    int image = i / per_image;
    int r = i - image * per_image;
    int c = r / (h_in * w_in);
    r -= c * h_in * w_in;
    int yy = r / w_in, xx = r - yy * w_in;
    ulong columns = (ulong)images * h_out * w_out;
    __global const float *src =
        cols + (ulong)c * k_h * k_w * columns + (ulong)image * h_out * w_out;
    /* (y + pad) = qy0 * stride + ry0, and each kernel step moves it down by dil */
    int qy = (yy + pad_h) / stride_h, ry = yy + pad_h - qy * stride_h;
    int qx0 = (xx + pad_w) / stride_w, rx0 = xx + pad_w - qx0 * stride_w;
    int dqy = dil_h / stride_h, dry = dil_h - dqy * stride_h;
    int dqx = dil_w / stride_w, drx = dil_w - dqx * stride_w;
    float sum = 0.0f;
    for (int ky = 0; ky < k_h && qy >= 0; ky++) {
        if (ry == 0 && qy < h_out) {
            int qx = qx0, rx = rx0;
            __global const float *row = src + (ulong)ky * k_w * columns + (ulong)qy * w_out;
            for (int kx = 0; kx < k_w && qx >= 0; kx++) {
                if (rx == 0 && qx < w_out) sum += row[(ulong)kx * columns + qx];
                rx -= drx;
                qx -= dqx;
                if (rx < 0) { rx += stride_w; qx -= 1; }
            }
        }
        ry -= dry;
        qy -= dqy;
        if (ry < 0) { ry += stride_h; qy -= 1; }
    }
    if (has_bias) sum += bias[c];
    x[x_off + i] = sum;
}

/*
 * The same sum for CPU devices (selected on them, e.g. PoCL): one work-item per image
 * plane (image, c) zeroes the plane, then adds every column entry into it, reading the
 * columns in order. The plane stays in cache and the loops divide nothing; the terms of
 * each element are added in the same (ky, kx) order as above.
 */
__kernel void col2im_planes(__global const float *cols, __global float *x, ulong x_off,
                            int images, int c_in, int h_in, int w_in, int k_h, int k_w,
                            int stride_h, int stride_w, int pad_h, int pad_w, int dil_h,
                            int dil_w, int h_out, int w_out, __global const float *bias,
                            int has_bias) {
    int t = get_global_id(0);
    if (t >= images * c_in) return;
    int image = t / c_in, c = t - image * c_in;
    int area = h_in * w_in;
    __global float *dst = x + x_off + (ulong)t * area;
    for (int i = 0; i < area; i++) dst[i] = 0.0f;
    ulong columns = (ulong)images * h_out * w_out;
    for (int ky = 0; ky < k_h; ky++) {
        for (int kx = 0; kx < k_w; kx++) {
            __global const float *src = cols + ((ulong)(c * k_h + ky) * k_w + kx) * columns +
                                        (ulong)image * h_out * w_out;
            for (int oy = 0; oy < h_out; oy++) {
                int iy = oy * stride_h - pad_h + ky * dil_h;
                if ((uint)iy >= (uint)h_in) continue;
                __global float *drow = dst + iy * w_in;
                __global const float *srow = src + oy * w_out;
                for (int ox = 0; ox < w_out; ox++) {
                    int ix = ox * stride_w - pad_w + kx * dil_w;
                    if ((uint)ix < (uint)w_in) drow[ix] += srow[ox];
                }
            }
        }
    }
    if (has_bias) {
        float b = bias[c];
        for (int i = 0; i < area; i++) dst[i] += b;
    }
}
