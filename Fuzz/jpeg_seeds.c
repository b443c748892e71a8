/* jpeg_seeds.c: writes small JPEG seed files for the fuzzer (Fuzz/make-corpus builds and runs it):
 * gray and color baseline, 4:2:0 and 4:4:4, progressive, with restart markers, arithmetic off.
 * usage: jpeg_seeds OUT_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

static void write_jpeg(const char *dir, const char *name, int w, int h, int channels, int progressive,
                       int restart, int subsample) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = channels;
    c.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 75, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    c.restart_interval = (unsigned)restart;
    if (channels == 3 && !subsample) {
        c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = 1;
    }
    jpeg_start_compress(&c, TRUE);
    unsigned char row[64 * 3];
    while (c.next_scanline < c.image_height) {
        int y = (int)c.next_scanline;
        for (int x = 0; x < w * channels; x++) row[x] = (unsigned char)((x * 37 + y * 11 + (x / 3) * y) & 0xff);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: jpeg_seeds OUT_DIR\n"); return 2; }
    write_jpeg(argv[1], "gray-8x8.jpg", 8, 8, 1, 0, 0, 1);
    write_jpeg(argv[1], "rgb-16x12-420.jpg", 16, 12, 3, 0, 0, 1);
    write_jpeg(argv[1], "rgb-9x7-444.jpg", 9, 7, 3, 0, 0, 0);
    write_jpeg(argv[1], "rgb-16x16-progressive.jpg", 16, 16, 3, 1, 0, 1);
    write_jpeg(argv[1], "gray-16x8-progressive.jpg", 16, 8, 1, 1, 0, 1);
    write_jpeg(argv[1], "rgb-24x16-restart.jpg", 24, 16, 3, 0, 1, 1);
    return 0;
}
