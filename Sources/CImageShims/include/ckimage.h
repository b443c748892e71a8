/* ckimage.h: safe (setjmp-guarded) JPEG decode and encode over libjpeg.
 *
 * libjpeg reports fatal errors by calling error_exit, which by default calls exit().
 * Swift cannot longjmp, so these wrappers install an error manager that longjmps back
 * into C and turn every libjpeg failure into a status code plus a one-line message.
 */
#ifndef CKIMAGE_H
#define CKIMAGE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Status codes returned by the functions below. */
enum {
    CK_IMAGE_OK = 0,          /**< success */
    CK_IMAGE_ERROR = 1,       /**< libjpeg reported an error; see message */
    CK_IMAGE_UNSUPPORTED = 2, /**< valid JPEG in a color space we do not decode (CMYK, YCCK) */
    CK_IMAGE_NOMEM = 3        /**< allocation failed or the image is too large */
};

/**
 * Decode a JPEG held in memory into interleaved 8-bit pixels.
 * data, size:     the JPEG file bytes.
 * max_pixels:     the most pixels (width * height) accepted, checked against the header
 *                 before anything is allocated.
 * out_pixels:     receives a malloc'ed buffer of width*height*channels bytes (free with ck_image_free).
 * out_width, out_height: receive the image size.
 * out_channels:   receives 1 (grayscale JPEG) or 3 (anything else, converted to RGB).
 * message, message_size: receives a NUL-terminated one-line reason on failure (may be NULL).
 * A file that ends early or has a data segment cut short is an error (libjpeg alone would
 * fill the missing pixels with gray), and so are more than 1000 progressive scans.
 * Returns a CK_IMAGE_* status.
 */
int ck_jpeg_decode(const unsigned char *data, size_t size, size_t max_pixels, unsigned char **out_pixels,
                   int *out_width, int *out_height, int *out_channels,
                   char *message, size_t message_size);

/**
 * Encode interleaved 8-bit pixels as a baseline JPEG in memory.
 * pixels:         width*height*channels bytes, rows top to bottom.
 * width, height:  image size (1..65500).
 * channels:       1 (grayscale) or 3 (RGB).
 * quality:        1..100.
 * out_data, out_size: receive a malloc'ed buffer with the JPEG bytes (free with ck_image_free).
 * message, message_size: receives a one-line reason on failure (may be NULL).
 * Returns a CK_IMAGE_* status.
 */
int ck_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                   unsigned char **out_data, size_t *out_size, char *message, size_t message_size);

/** Free a buffer returned by ck_jpeg_decode or ck_jpeg_encode. */
void ck_image_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif /* CKIMAGE_H */
