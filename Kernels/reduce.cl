/*
 * reduce.cl -- sum and sum of squares of a range, in double where the device has it.
 * A fixed number of work-groups each write one partial; the host adds the partials in
 * double. The split depends only on count and the device, so the result is deterministic.
 */
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void reduce_sum(__global const float *x, ulong off, ulong count, int squares,
                __global acc_t *partials) {
    __local acc_t scratch[RED_WG];
    int lid = get_local_id(0);
    acc_t sum = 0;
    CK_GLOBAL_RANGE(i, count) {
        acc_t v = x[off + i];
        sum += squares ? v * v : v;
    }
    scratch[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partials[get_group_id(0)] = scratch[0];
}
