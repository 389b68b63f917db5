import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// A joinable POSIX thread. Foundation's `Thread` cannot be joined, and the
/// pipeline's `close()` must not return while a worker may still touch its state
/// (and tests check that no thread outlives it).
final class WorkerThread: @unchecked Sendable {
    private final class Body {
        let run: @Sendable () -> Void
        let name: String
        init(_ run: @escaping @Sendable () -> Void, name: String) { self.run = run; self.name = name }
    }

    #if canImport(Darwin)
    private var thread: pthread_t?
    #else
    private var thread = pthread_t()
    #endif
    private var joined = false

    /// Starts `body` on a new thread named `name` (Linux shows the first 15 bytes).
    init(name: String, _ body: @escaping @Sendable () -> Void) throws {
        let context = Unmanaged.passRetained(Body(body, name: name)).toOpaque()
        #if canImport(Darwin)
        let status = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw).takeRetainedValue()
            body.name.withCString { _ = pthread_setname_np($0) }
            body.run()
            return nil
        }, context)
        #else
        let status = pthread_create(&thread, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            Thread.current.name = body.name  // Glibc's module lacks pthread_setname_np
            body.run()
            return nil
        }, context)
        #endif
        if status != 0 {
            Unmanaged<Body>.fromOpaque(context).release()
            joined = true
            throw TrainingDataError.invalidArgument("cannot start a data worker thread: \(String(cString: strerror(status)))")
        }
    }

    /// Waits for the thread to finish. Call once, from one thread.
    func join() {
        guard !joined else { return }
        joined = true
        #if canImport(Darwin)
        if let thread { pthread_join(thread, nil) }
        #else
        pthread_join(thread, nil)
        #endif
    }
}
