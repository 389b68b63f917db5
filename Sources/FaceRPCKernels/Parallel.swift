import Dispatch

/// Runs `body(t)` for `t` in `0..<tasks`, on up to `tasks` threads of the
/// shared Dispatch pool; returns when all are done. One task runs inline, so
/// single-threaded inference never touches Dispatch.
@inline(__always)
public func parallelFor(_ tasks: Int, _ body: (Int) -> Void) {
    if tasks <= 1 {
        if tasks == 1 { body(0) }
        return
    }
    // The tasks write disjoint slices of buffers owned by the caller, and
    // concurrentPerform returns only after all of them finish, so handing the
    // non-Sendable body (it captures raw pointers) to the pool is safe.
    nonisolated(unsafe) let body = body
    DispatchQueue.concurrentPerform(iterations: tasks) { body($0) }
}

/// The half-open slice of `0..<count` that task `t` of `tasks` owns; slices are
/// contiguous and differ in length by at most one.
@inline(__always)
public func sliceRange(_ t: Int, of tasks: Int, count: Int) -> Range<Int> {
    (t * count / tasks)..<((t + 1) * count / tasks)
}
