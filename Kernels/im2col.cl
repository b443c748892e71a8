/*
 * im2col.cl -- unfolds image patches into GEMM columns.
 * cols[(c * k_h + ky) * k_w + kx][(image * h_out + oy) * w_out + ox]
 *   = x[image][c][oy * stride_h - pad_h + ky * dil_h][ox * stride_w - pad_w + kx * dil_w]
 * (0 outside the image). h_out/w_out are explicit so that a transposed convolution can
 * reuse this with its own (small-side) size. As in Caffe's im2col_gpu, one work-item per
 * (channel, output pixel) writes its k_h * k_w column entries: the index arithmetic is
 * paid once per work-item, and neighbouring work-items write neighbouring columns.
 */
__kernel void im2col(__global const float *x, ulong x_off, __global float *cols, int images,
                     int c_in, int h_in, int w_in, int k_h, int k_w, int stride_h, int stride_w,
                     int pad_h, int pad_w, int dil_h, int dil_w, int h_out, int w_out) {
    int n = get_global_id(0);
    int c = get_global_id(1);
    int plane = h_out * w_out;
    int columns = images * plane;
    if (n >= columns || c >= c_in) return;
    int image = n / plane;
    int p = n - image * plane;
    int oy = p / w_out, ox = p - oy * w_out;
    int iy0 = oy * stride_h - pad_h, ix0 = ox * stride_w - pad_w;
    __global const float *src = x + x_off + ((ulong)image * c_in + c) * h_in * w_in;
    __global float *dst = cols + (ulong)c * k_h * k_w * columns + n;
    for (int ky = 0; ky < k_h; ky++) {
        int iy = iy0 + ky * dil_h;
        for (int kx = 0; kx < k_w; kx++) {
            int ix = ix0 + kx * dil_w;
            /* the unsigned compare folds "< 0" and ">= size" into one test (Caffe's trick) */
            float v = 0.0f;
            if ((uint)iy < (uint)h_in && (uint)ix < (uint)w_in) v = src[iy * w_in + ix];
            *dst = v;
            dst += columns;
        }
    }
}
