/*
 * ckernel_checks.h -- checks of the C kernels against naive double-precision references,
 * shared by ctest (Tests/ctest/run_check.c) and swift test (CKernelChecksTests.swift).
 */
#ifndef CKERNEL_CHECKS_H
#define CKERNEL_CHECKS_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Runs one named group of checks on a backend opened with ck_backend_open(device, threads).
 * check:  a name from ckc_names()
 * device: a backend name ("cpu", "opencl", ...)
 * Returns the number of failures (each printed with its parameters to stderr), 77 when
 * the device is not available here (the test should skip), or 1 for an unknown check.
 */
int ckc_run(const char *check, const char *device);

/** The check names, NULL-terminated. */
const char *const *ckc_names(void);

#ifdef __cplusplus
}
#endif

#endif /* CKERNEL_CHECKS_H */
