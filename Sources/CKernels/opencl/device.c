/*
 * device.c -- OpenCL device discovery: listing devices, resolving a device spec, and
 * describing a device.
 */
#include "ocl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

const char *ocl_type_name(cl_device_type type) {
    if (type & CL_DEVICE_TYPE_GPU) return "gpu";
    if (type & CL_DEVICE_TYPE_CPU) return "cpu";
    if (type & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
    return "other";
}

/* The platforms, or CK_ERR_UNAVAILABLE when the ICD loader finds none. */
static ck_status platforms(const ocl_api *cl, cl_platform_id *ids, cl_uint *count) {
    cl_int err = cl->clGetPlatformIDs(MAX_PLATFORMS, ids, count);
    if (err == CL_SUCCESS && *count > MAX_PLATFORMS) *count = MAX_PLATFORMS;
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && *count == 0))
        return ck_fail(CK_ERR_UNAVAILABLE,
                       "OpenCL: no platform is installed (no ICD in /etc/OpenCL/vendors; on "
                       "Debian: apt install pocl-opencl-icd or a GPU driver)");
    if (err != CL_SUCCESS) return ocl_fail(err, "clGetPlatformIDs");
    return CK_OK;
}

/* The devices of a platform (none is not an error). */
static cl_uint devices(const ocl_api *cl, cl_platform_id p, cl_device_id *ids) {
    cl_uint n = 0;
    if (cl->clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, MAX_DEVICES, ids, &n) != CL_SUCCESS) return 0;
    return n > MAX_DEVICES ? MAX_DEVICES : n;
}

static cl_device_type type_of(const ocl_api *cl, cl_device_id d) {
    cl_device_type t = 0;
    cl->clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    return t;
}

/* Parses "P.D" into two non-negative numbers. */
static int parse_pd(const char *spec, int *p, int *d) {
    char *end;
    long a = strtol(spec, &end, 10);
    if (end == spec || *end != '.' || a < 0) return 0;
    const char *rest = end + 1;
    long b = strtol(rest, &end, 10);
    if (end == rest || *end != 0 || b < 0) return 0;
    *p = (int)a;
    *d = (int)b;
    return 1;
}

ck_status ocl_find_device(const ocl_api *cl, const char *spec, cl_platform_id *platform,
                          cl_device_id *device) {
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    int want_p = -1, want_d = -1;
    int gpu_only = strcmp(spec, "gpu") == 0;
    if (!gpu_only && spec[0] && !parse_pd(spec, &want_p, &want_d))
        return ck_fail(CK_ERR_ARGUMENT,
                       "unknown OpenCL device '%s' (use opencl or opencl:P.D, e.g. opencl:0.0; "
                       "see the device list)",
                       spec);
    ck_status s = platforms(cl, plats, &np);
    if (s) return s;
    cl_platform_id first_p = NULL;
    cl_device_id first_d = NULL;
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id ids[MAX_DEVICES];
        cl_uint nd = devices(cl, plats[p], ids);
        for (cl_uint d = 0; d < nd; d++) {
            if (want_p >= 0) {
                if ((int)p != want_p || (int)d != want_d) continue;
            } else if (!(type_of(cl, ids[d]) & CL_DEVICE_TYPE_GPU)) {
                if (!first_d) { first_p = plats[p]; first_d = ids[d]; }
                continue;
            }
            *platform = plats[p];
            *device = ids[d];
            return CK_OK;
        }
    }
    if (want_p >= 0)
        return ck_fail(CK_ERR_UNAVAILABLE, "OpenCL: no device %d.%d (%u platform%s; see the "
                       "device list)", want_p, want_d, np, np == 1 ? "" : "s");
    if (gpu_only || !first_d)
        return ck_fail(CK_ERR_UNAVAILABLE, "OpenCL: no %sdevice found", gpu_only ? "GPU " : "");
    *platform = first_p;
    *device = first_d;
    return CK_OK;
}

/* A device string property, "?" when the query fails. */
static void device_string(const ocl_api *cl, cl_device_id d, cl_device_info what, char *out,
                          size_t capacity) {
    if (cl->clGetDeviceInfo(d, what, capacity, out, NULL) != CL_SUCCESS)
        snprintf(out, capacity, "?");
    out[capacity - 1] = 0;
}

static void platform_name(const ocl_api *cl, cl_platform_id p, char *out, size_t capacity) {
    if (cl->clGetPlatformInfo(p, CL_PLATFORM_NAME, capacity, out, NULL) != CL_SUCCESS)
        snprintf(out, capacity, "?");
    out[capacity - 1] = 0;
}

static void numbers(const ocl_api *cl, cl_device_id d, cl_uint *units, cl_ulong *mib) {
    cl_ulong mem = 0;
    *units = 0;
    cl->clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof *units, units, NULL);
    cl->clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    *mib = mem >> 20;
}

void ocl_describe(const ocl_api *cl, cl_platform_id platform, cl_device_id device, char *text,
                  size_t capacity) {
    char name[128], plat[96];
    cl_uint units;
    cl_ulong mib;
    device_string(cl, device, CL_DEVICE_NAME, name, sizeof name);
    platform_name(cl, platform, plat, sizeof plat);
    numbers(cl, device, &units, &mib);
    snprintf(text, capacity, "OpenCL %s %s (%s, %u compute units, %llu MiB)",
             ocl_type_name(type_of(cl, device)), name, plat, units, (unsigned long long)mib);
}

ck_status ck_opencl_list_devices(char *text, size_t capacity) {
    if (!text || capacity == 0) return ck_fail(CK_ERR_ARGUMENT, "ck_opencl_list_devices: no text");
    text[0] = 0;
    const ocl_api *cl = ocl_load();
    if (!cl) return CK_ERR_UNAVAILABLE;
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    ck_status s = platforms(cl, plats, &np);
    if (s) return s;
    size_t used = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id ids[MAX_DEVICES];
        cl_uint nd = devices(cl, plats[p], ids);
        for (cl_uint d = 0; d < nd; d++) {
            char name[128];
            cl_uint units;
            cl_ulong mib;
            device_string(cl, ids[d], CL_DEVICE_NAME, name, sizeof name);
            numbers(cl, ids[d], &units, &mib);
            if (used < capacity) {
                int n = snprintf(text + used, capacity - used, "%u.%u  %s  %s  %u  %llu\n", p, d,
                                 ocl_type_name(type_of(cl, ids[d])), name, units,
                                 (unsigned long long)mib);
                if (n > 0) used += (size_t)n;
            }
        }
    }
    if (used >= capacity) text[capacity - 1] = 0; /* truncated */
    return CK_OK;
}
