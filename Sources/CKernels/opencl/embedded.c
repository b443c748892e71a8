/*
 * embedded.c -- the Kernels/<name>.cl sources compiled into the binary, so that it runs from
 * any directory. Two ways, one source of truth:
 *  - CMake generates ck_kernels_generated.h (arrays ck_cl_<stem>) from Kernels/<name>.cl in its
 *    build folder and defines CK_KERNELS_GENERATED (gcc 12 has no #embed);
 *  - otherwise (SwiftPM's clang) C23 #embed reads the files at compile time.
 * Each array ends with a NUL so that it is a C string.
 */
#include "ocl.h"

#if defined(CK_KERNELS_GENERATED)
#include "ck_kernels_generated.h"
#define CK_HAVE_EMBEDDED 1
#elif defined(__has_embed)
#if __has_embed("../../../Kernels/common.cl")
#pragma clang diagnostic ignored "-Wc23-extensions"
#define CK_HAVE_EMBEDDED 1
static const char ck_cl_common[] = {
#embed "../../../Kernels/common.cl"
    , 0};
static const char ck_cl_im2col[] = {
#embed "../../../Kernels/im2col.cl"
    , 0};
static const char ck_cl_col2im[] = {
#embed "../../../Kernels/col2im.cl"
    , 0};
static const char ck_cl_layout[] = {
#embed "../../../Kernels/layout.cl"
    , 0};
static const char ck_cl_gemm[] = {
#embed "../../../Kernels/gemm.cl"
    , 0};
static const char ck_cl_bias[] = {
#embed "../../../Kernels/bias.cl"
    , 0};
static const char ck_cl_elementwise[] = {
#embed "../../../Kernels/elementwise.cl"
    , 0};
static const char ck_cl_losses[] = {
#embed "../../../Kernels/losses.cl"
    , 0};
static const char ck_cl_reduce[] = {
#embed "../../../Kernels/reduce.cl"
    , 0};
static const char ck_cl_rng[] = {
#embed "../../../Kernels/rng.cl"
    , 0};
static const char ck_cl_adam[] = {
#embed "../../../Kernels/adam.cl"
    , 0};
static const char ck_cl_vq[] = {
#embed "../../../Kernels/vq.cl"
    , 0};
#endif
#endif

#ifdef CK_HAVE_EMBEDDED
#define OCL_EMBEDDED_ENTRY(stem) ck_cl_##stem,
static const char *const embedded[] = {OCL_SOURCE_FILES(OCL_EMBEDDED_ENTRY)};
#undef OCL_EMBEDDED_ENTRY

/* The embedded text of the i-th file of OCL_SOURCE_FILES. */
const char *ocl_embedded_source(size_t i) { return embedded[i]; }
#else
const char *ocl_embedded_source(size_t i) { (void)i; return NULL; }
#endif
