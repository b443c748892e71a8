import CKernels
import Foundation

/// Restarts the process with OPENBLAS_CORETYPE set when OpenBLAS did not recognise the CPU
/// and fell back to its slow generic kernels (see blas_core.c). A no-op otherwise.
enum BlasCore {
    static func restartIfSlow() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let core = ck_blas_suggested_core() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: carry on with the generic kernels.
    }
}
