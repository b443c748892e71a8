import CKernels

/// The kernels' per-operation timing (on when the environment sets CK_PROFILE=1).
public enum Profiler {
    /// Whether CK_PROFILE=1 turned profiling on.
    public static var isEnabled: Bool { ck_profile_enabled() != 0 }

    /// Clears the table (e.g. after warm-up steps).
    public static func reset() { ck_profile_reset() }

    /// Prints the table (operations by total time, calls, ms per call) to standard error.
    /// - Parameters:
    ///   - title: the heading
    ///   - steps: steps the table covers, for the per-step column
    public static func report(_ title: String, steps: Int) { ck_profile_report(title, Int32(steps)) }
}
