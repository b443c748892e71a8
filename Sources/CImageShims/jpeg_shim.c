/* jpeg_shim.c: setjmp-guarded libjpeg decode/encode; see include/ckimage.h. */
#include "ckimage.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    const char *fatal; /* set when a warning or a limit ends decoding: the message to report */
} ck_error_mgr;

/* Progressive JPEGs may hold any number of scans, each a pass over the whole image: a few
 * hundred bytes can ask for minutes of work. Real files have at most a few dozen. */
enum { CK_JPEG_MAX_SCANS = 1000 };

static void ck_error_exit(j_common_ptr cinfo) {
    ck_error_mgr *err = (ck_error_mgr *)cinfo->err;
    longjmp(err->jump, 1);
}

/* Warnings that mean pixels are missing (the file ends early, a data segment is cut short)
 * end decoding: libjpeg would fill the rest with gray and report success. Other warnings
 * (e.g. extraneous bytes before a marker) lose nothing and are ignored, as is all output. */
static void ck_emit_message(j_common_ptr cinfo, int msg_level) {
    ck_error_mgr *err = (ck_error_mgr *)cinfo->err;
    if (msg_level >= 0) return;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        err->fatal = "the file ends before its image data (truncated)";
        longjmp(err->jump, 1);
    }
    if (cinfo->err->msg_code == JWRN_HIT_MARKER) {
        err->fatal = "a data segment ends early (corrupt), so pixels are missing";
        longjmp(err->jump, 1);
    }
}

static void ck_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void ck_progress(j_common_ptr cinfo) {
    ck_error_mgr *err = (ck_error_mgr *)cinfo->err;
    if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > CK_JPEG_MAX_SCANS) {
        err->fatal = "more than 1000 progressive scans";
        longjmp(err->jump, 1);
    }
}

static void ck_set_message(char *message, size_t message_size, const char *text) {
    if (message && message_size > 0) {
        snprintf(message, message_size, "%s", text);
    }
}

static void ck_set_libjpeg_message(j_common_ptr cinfo, char *message, size_t message_size) {
    char buffer[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, buffer);
    ck_set_message(message, message_size, buffer);
}

int ck_jpeg_decode(const unsigned char *data, size_t size, size_t max_pixels, unsigned char **out_pixels,
                   int *out_width, int *out_height, int *out_channels,
                   char *message, size_t message_size) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr progress;
    ck_error_mgr err;
    unsigned char *volatile pixels = NULL;
    volatile int status = CK_IMAGE_OK;

    *out_pixels = NULL;
    *out_width = *out_height = *out_channels = 0;
    if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) {
        ck_set_message(message, message_size, "missing JPEG start-of-image marker");
        return CK_IMAGE_ERROR;
    }
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = ck_error_exit;
    err.base.emit_message = ck_emit_message;
    err.base.output_message = ck_output_message;
    err.fatal = NULL;
    if (setjmp(err.jump)) {
        if (status == CK_IMAGE_OK) {
            if (err.fatal) {
                ck_set_message(message, message_size, err.fatal);
            } else {
                ck_set_libjpeg_message((j_common_ptr)&cinfo, message, message_size);
            }
            status = CK_IMAGE_ERROR;
        }
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return status;
    }
    jpeg_create_decompress(&cinfo);
    progress.progress_monitor = ck_progress;
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        ck_set_message(message, message_size, "CMYK/YCCK JPEG images are not supported");
        jpeg_destroy_decompress(&cinfo);
        return CK_IMAGE_UNSUPPORTED;
    }
    /* The header's size, checked before libjpeg allocates its buffers for it. */
    if ((size_t)cinfo.image_width * (size_t)cinfo.image_height > max_pixels) {
        char text[128];
        snprintf(text, sizeof text, "%ux%u pixels, more than the %zu accepted",
                 (unsigned)cinfo.image_width, (unsigned)cinfo.image_height, max_pixels);
        ck_set_message(message, message_size, text);
        jpeg_destroy_decompress(&cinfo);
        return CK_IMAGE_ERROR;
    }
    int channels = cinfo.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);

    size_t width = cinfo.output_width, height = cinfo.output_height;
    if ((int)cinfo.output_components != channels || width == 0 || height == 0 || width * height > max_pixels) {
        ck_set_message(message, message_size, "unsupported JPEG size or component count");
        jpeg_destroy_decompress(&cinfo);
        return CK_IMAGE_ERROR;
    }
    size_t stride = width * (size_t)channels;
    pixels = (unsigned char *)malloc(stride * height);
    if (!pixels) {
        ck_set_message(message, message_size, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        return CK_IMAGE_NOMEM;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);

    *out_pixels = pixels;
    *out_width = (int)width;
    *out_height = (int)height;
    *out_channels = channels;
    return CK_IMAGE_OK;
}

int ck_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                   unsigned char **out_data, size_t *out_size, char *message, size_t message_size) {
    struct jpeg_compress_struct cinfo;
    ck_error_mgr err;
    unsigned char *mem = NULL; /* address escapes to libjpeg, so it lives in memory */
    unsigned long buffer_size = 0;

    *out_data = NULL;
    *out_size = 0;
    if (width <= 0 || height <= 0 || width > 65500 || height > 65500 ||
        (channels != 1 && channels != 3)) {
        ck_set_message(message, message_size, "invalid size or channel count for JPEG");
        return CK_IMAGE_ERROR;
    }
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = ck_error_exit;
    err.base.output_message = ck_output_message;
    err.fatal = NULL;
    if (setjmp(err.jump)) {
        ck_set_libjpeg_message((j_common_ptr)&cinfo, message, message_size);
        jpeg_destroy_compress(&cinfo);
        free(mem);
        return CK_IMAGE_ERROR;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &mem, &buffer_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out_data = mem;
    *out_size = (size_t)buffer_size;
    return CK_IMAGE_OK;
}

void ck_image_free(void *buffer) { free(buffer); }
