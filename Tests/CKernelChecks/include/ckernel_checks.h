/*
 * ckernel_checks.h -- checks of the C kernels against naive double-precision references,
 * shared by ctest (Tests/ctest/run_check.c) and swift test (CKernelChecksTests.swift).
 */
#ifndef CKERNEL_CHECKS_H
#define CKERNEL_CHECKS_H

#ifdef __cplusplus
extern "C" {
#endif

/** How a run of one check group ended. */
typedef enum ckc_outcome {
    CKC_PASSED = 0,       /* every comparison held */
    CKC_FAILED = 1,       /* at least one failure, or the backend failed to open */
    CKC_SKIPPED = 2,      /* nothing failed, but the device or an operation the check needs is
                             unavailable here (CK_ERR_UNAVAILABLE): not checked, not passed */
    CKC_UNKNOWN_CHECK = 3 /* no check of that name */
} ckc_outcome;

/**
 * Runs one named group of checks on a backend opened with ck_backend_open(device, threads).
 * Each failure, and the reason for a skip, is printed with its parameters to stderr.
 * check:    a name from ckc_names()
 * device:   a backend name ("cpu", "opencl", ...)
 * failures: receives the number of failures (0 unless CKC_FAILED), or NULL
 */
ckc_outcome ckc_run(const char *check, const char *device, int *failures);

/** A short name for an outcome ("passed", "failed", "skipped", "unknown check"). */
const char *ckc_outcome_name(ckc_outcome outcome);

/** The check names, NULL-terminated. */
const char *const *ckc_names(void);

#ifdef __cplusplus
}
#endif

#endif /* CKERNEL_CHECKS_H */
