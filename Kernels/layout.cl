/*
 * layout.cl -- moves a chunk of images between NCHW ([image][channel][pixel]) and the
 * GEMM layout CN ([channel][image * plane + pixel]), so that one GEMM covers a whole
 * chunk of images. One work-item per element, dimension 0 along the CN row.
 */

/* cn[cn_off + c * images * plane + image * plane + p]
 *   = nchw[off + (image * channels + c) * plane + p] */
__kernel void nchw_to_cn(__global const float *nchw, ulong off, __global float *cn, ulong cn_off,
                         int images, int channels, int plane) {
    int n = get_global_id(0);
    int c = get_global_id(1);
    if (n >= images * plane || c >= channels) return;
    int image = n / plane, p = n - image * plane;
    cn[cn_off + (ulong)c * images * plane + n] =
        nchw[off + ((ulong)image * channels + c) * plane + p];
}

/* nchw[off + (image * channels + c) * plane + p] = cn[cn_off + ...] (+ bias[c]) */
__kernel void cn_to_nchw(__global const float *cn, ulong cn_off, __global float *nchw, ulong off,
                         int images, int channels, int plane, __global const float *bias,
                         int has_bias) {
    int n = get_global_id(0);
    int c = get_global_id(1);
    if (n >= images * plane || c >= channels) return;
    int image = n / plane, p = n - image * plane;
    float v = cn[cn_off + (ulong)c * images * plane + n];
    if (has_bias) v += bias[c];
    nchw[off + ((ulong)image * channels + c) * plane + p] = v;
}
