/*
 * loader.c -- loads libOpenCL at run time, so that the library starts (and the CPU
 * backend works) on machines without OpenCL; also names OpenCL's error codes.
 */
#include "ocl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static ocl_api api;
static const ocl_api *loaded;         /* &api once every symbol resolved */
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *lib = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libOpenCL.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_error, sizeof load_error,
                 "OpenCL is not installed (libOpenCL.so.1 not found; on Debian: apt install "
                 "ocl-icd-libopencl1 and a driver such as pocl-opencl-icd)");
        return;
    }
#define OCL_RESOLVE(name)                                                                  \
    *(void **)&api.name = dlsym(lib, #name);                                               \
    if (!api.name) {                                                                       \
        snprintf(load_error, sizeof load_error, "libOpenCL lacks %s (OpenCL 1.2 needed)",  \
                 #name);                                                                   \
        dlclose(lib);                                                                      \
        return;                                                                            \
    }
    OCL_FUNCTIONS(OCL_RESOLVE)
#undef OCL_RESOLVE
    loaded = &api; /* the library stays loaded for the life of the process */
}

const ocl_api *ocl_load(void) {
    pthread_once(&once, load);
    if (!loaded) ck_fail(CK_ERR_UNAVAILABLE, "%s", load_error);
    return loaded;
}

const char *ocl_error_name(cl_int err) {
    switch (err) {
#define N(code) case code: return #code;
    N(CL_SUCCESS) N(CL_DEVICE_NOT_FOUND) N(CL_DEVICE_NOT_AVAILABLE)
    N(CL_COMPILER_NOT_AVAILABLE) N(CL_MEM_OBJECT_ALLOCATION_FAILURE) N(CL_OUT_OF_RESOURCES)
    N(CL_OUT_OF_HOST_MEMORY) N(CL_PROFILING_INFO_NOT_AVAILABLE) N(CL_MEM_COPY_OVERLAP)
    N(CL_IMAGE_FORMAT_MISMATCH) N(CL_IMAGE_FORMAT_NOT_SUPPORTED) N(CL_BUILD_PROGRAM_FAILURE)
    N(CL_MAP_FAILURE) N(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    N(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) N(CL_COMPILE_PROGRAM_FAILURE)
    N(CL_LINKER_NOT_AVAILABLE) N(CL_LINK_PROGRAM_FAILURE) N(CL_DEVICE_PARTITION_FAILED)
    N(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) N(CL_INVALID_VALUE) N(CL_INVALID_DEVICE_TYPE)
    N(CL_INVALID_PLATFORM) N(CL_INVALID_DEVICE) N(CL_INVALID_CONTEXT)
    N(CL_INVALID_QUEUE_PROPERTIES) N(CL_INVALID_COMMAND_QUEUE) N(CL_INVALID_HOST_PTR)
    N(CL_INVALID_MEM_OBJECT) N(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) N(CL_INVALID_IMAGE_SIZE)
    N(CL_INVALID_SAMPLER) N(CL_INVALID_BINARY) N(CL_INVALID_BUILD_OPTIONS)
    N(CL_INVALID_PROGRAM) N(CL_INVALID_PROGRAM_EXECUTABLE) N(CL_INVALID_KERNEL_NAME)
    N(CL_INVALID_KERNEL_DEFINITION) N(CL_INVALID_KERNEL) N(CL_INVALID_ARG_INDEX)
    N(CL_INVALID_ARG_VALUE) N(CL_INVALID_ARG_SIZE) N(CL_INVALID_KERNEL_ARGS)
    N(CL_INVALID_WORK_DIMENSION) N(CL_INVALID_WORK_GROUP_SIZE) N(CL_INVALID_WORK_ITEM_SIZE)
    N(CL_INVALID_GLOBAL_OFFSET) N(CL_INVALID_EVENT_WAIT_LIST) N(CL_INVALID_EVENT)
    N(CL_INVALID_OPERATION) N(CL_INVALID_GL_OBJECT) N(CL_INVALID_BUFFER_SIZE)
    N(CL_INVALID_MIP_LEVEL) N(CL_INVALID_GLOBAL_WORK_SIZE) N(CL_INVALID_PROPERTY)
    N(CL_INVALID_IMAGE_DESCRIPTOR) N(CL_INVALID_COMPILER_OPTIONS) N(CL_INVALID_LINKER_OPTIONS)
    N(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef N
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR"; /* the ICD loader found no platform */
    default: return "CL_UNKNOWN_ERROR";
    }
}

static ck_status fail(cl_int err, const char *what, int out_of_memory) {
    if (out_of_memory)
        return ck_fail(CK_ERR_MEMORY,
                       "OpenCL: %s failed: %s (%d): the device is out of memory; try a "
                       "smaller batch size",
                       what, ocl_error_name(err), (int)err);
    return ck_fail(CK_ERR_BACKEND, "OpenCL: %s failed: %s (%d)", what, ocl_error_name(err),
                   (int)err);
}

ck_status ocl_fail(cl_int err, const char *what) {
    return fail(err, what,
                err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_HOST_MEMORY);
}

ck_status ocl_fail_alloc(cl_int err, const char *what) {
    return fail(err, what,
                err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_HOST_MEMORY ||
                    err == CL_OUT_OF_RESOURCES || err == CL_INVALID_BUFFER_SIZE);
}
