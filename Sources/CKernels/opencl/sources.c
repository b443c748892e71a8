/*
 * sources.c -- where the kernel sources come from: the folder named by VAE_KERNELS_DIR
 * (to edit kernels without rebuilding), else the copies embedded in the binary.
 */
#include "ocl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ocl_embedded_source(size_t i); /* embedded.c */

#define OCL_STEM_NAME(stem) #stem,
static const char *const stems[] = {OCL_SOURCE_FILES(OCL_STEM_NAME)};
#undef OCL_STEM_NAME

size_t ocl_source_count(void) { return sizeof stems / sizeof stems[0]; }

/* Reads a whole file into a NUL-terminated heap string, or NULL. */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) != NULL) {
        if (fread(text, 1, (size_t)size, f) != (size_t)size) {
            free(text);
            text = NULL;
        } else {
            text[size] = 0;
        }
    }
    fclose(f);
    return text;
}

void ocl_sources_free(const char **texts, size_t count, int allocated) {
    if (!allocated) return;
    for (size_t i = 0; i < count; i++) free((void *)texts[i]);
}

ck_status ocl_sources_load(const char **texts, size_t count, int *allocated) {
    const char *dir = getenv("VAE_KERNELS_DIR");
    *allocated = 0;
    if (dir && dir[0]) {
        *allocated = 1;
        for (size_t i = 0; i < count; i++) texts[i] = NULL;
        for (size_t i = 0; i < count; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.cl", dir, stems[i]);
            texts[i] = read_file(path);
            if (!texts[i]) {
                ocl_sources_free(texts, count, 1);
                return ck_fail(CK_ERR_UNAVAILABLE, "OpenCL: cannot read %s (VAE_KERNELS_DIR=%s)",
                               path, dir);
            }
        }
        return CK_OK;
    }
    for (size_t i = 0; i < count; i++) {
        texts[i] = ocl_embedded_source(i);
        if (!texts[i])
            return ck_fail(CK_ERR_UNAVAILABLE,
                           "OpenCL: this build has no embedded kernels (its compiler lacks "
                           "#embed); set VAE_KERNELS_DIR to the project's Kernels folder");
    }
    return CK_OK;
}
