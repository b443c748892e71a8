/// A raw pointer that may cross into concurrent work. The code that makes one guarantees that
/// concurrent users touch disjoint elements and that the memory outlives them.
struct SendablePointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}
