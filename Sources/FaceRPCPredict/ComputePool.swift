import Foundation

/// A fixed set of threads for blocking, CPU-heavy work (JPEG decoding, face
/// detection, landmarks), kept off both the event loops and Swift's
/// cooperative pool so that neither network I/O nor other tasks stall behind it.
///
/// The queue is bounded by its callers: the server admits at most
/// `--max-queued-calls` calls that can reach it.
public final class ComputePool: Sendable {
    private let queue = WorkQueue()
    public let threadCount: Int

    public init(threads: Int, name: String = "facerpc-compute") {
        threadCount = max(1, threads)
        for index in 0..<threadCount {
            let queue = self.queue
            let thread = Thread { queue.workLoop() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on a pool thread. Cancellation is cooperative: `body`
    /// still runs if it has started.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.push {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Jobs waiting for a thread (not counting those running).
    public var waiting: Int { queue.count }
}

/// A FIFO of closures with a condition variable. The lock guards `jobs`;
/// `@unchecked Sendable` is sound because every access holds it.
final class WorkQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    func push(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func workLoop() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head > 1024, head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}
