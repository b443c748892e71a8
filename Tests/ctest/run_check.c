/*
 * run_check.c -- ctest driver: run_check CHECK DEVICE runs one check group and exits
 * with 0 (passed), 77 (skipped: the device or an operation is unavailable here; ctest's
 * SKIP_RETURN_CODE) or 1 (failures, or an unknown check).
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
    int failures = 0;
    ckc_outcome outcome = ckc_run(argv[1], argv[2], &failures);
    switch (outcome) {
    case CKC_PASSED:
        printf("%s on %s: passed\n", argv[1], argv[2]);
        return 0;
    case CKC_SKIPPED:
        printf("%s on %s: skipped (reason on stderr)\n", argv[1], argv[2]);
        return 77;
    case CKC_FAILED:
        printf("%s on %s: %d failure%s\n", argv[1], argv[2], failures, failures == 1 ? "" : "s");
        return 1;
    case CKC_UNKNOWN_CHECK:
        break;
    }
    printf("%s on %s: %s\n", argv[1], argv[2], ckc_outcome_name(outcome));
    return 1;
}
