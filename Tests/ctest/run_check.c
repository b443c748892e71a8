/*
 * run_check.c -- ctest driver: run_check CHECK DEVICE runs one check group and exits
 * with 0 (passed), 77 (device unavailable: skipped) or 1 (failures).
 */
#include "ckernel_checks.h"

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: run_check CHECK DEVICE\nchecks:");
        for (const char *const *n = ckc_names(); *n; n++) fprintf(stderr, " %s", *n);
        fprintf(stderr, "\n");
        return 2;
    }
    int failures = ckc_run(argv[1], argv[2]);
    if (failures == 77) {
        printf("%s on %s: skipped (device unavailable)\n", argv[1], argv[2]);
        return 77;
    }
    printf("%s on %s: %d failure%s\n", argv[1], argv[2], failures, failures == 1 ? "" : "s");
    return failures == 0 ? 0 : 1;
}
