/*
 * bias.cl -- adding a per-channel bias and its gradient.
 */

/* y[i] += bias[(i / plane) % channels] over count elements (dense: plane = 1). */
__kernel void bias_add(__global float *y, ulong count, int channels, int plane,
                       __global const float *bias) {
    ulong i = get_global_id(0);
    if (i >= count) return;
    y[i] += bias[(i / plane) % channels];
}

/*
 * dbias[c] = sum over images and pixels of dy[image][c][pixel]; one work-group per
 * channel, a fixed-order tree within it (deterministic).
 */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void bias_grad(__global const float *dy, int images, int channels, int plane,
               __global float *dbias) {
    __local float scratch[RED_WG];
    int c = get_group_id(0);
    float sum = 0.0f;
    if (plane == 1) { /* dense: one value per image */
        CK_GROUP_RANGE(i, images) sum += dy[i * channels + c];
    } else {
        for (int image = 0; image < images; image++) {
            __global const float *row = dy + ((ulong)image * channels + c) * plane;
            CK_GROUP_RANGE(p, plane) sum += row[p];
        }
    }
    sum = ck_group_sum(sum, scratch);
    if (get_local_id(0) == 0) dbias[c] = sum;
}
