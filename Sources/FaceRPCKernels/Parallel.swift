import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Runs `body(t)` for `t` in `0..<tasks` and returns when all are done. One task
/// runs inline, so single-threaded inference never touches another thread.
///
/// Several tasks go to ``SpinPool``: persistent workers that spin briefly
/// between jobs, so a batch-1 network's dozens of per-layer barriers cost well
/// under a microsecond each instead of a Dispatch wake-up. Tasks are claimed
/// dynamically, so when the other threads are descheduled (a shared machine) the
/// caller runs the tasks itself rather than waiting for them. While the pool is
/// busy with another caller's job, the call goes to Dispatch.
@inline(__always)
public func parallelFor(_ tasks: Int, _ body: (Int) -> Void) {
    if tasks <= 1 {
        if tasks == 1 { body(0) }
        return
    }
    if SpinPool.shared.run(tasks, body) { return }
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

/// One job at a time over persistent worker threads (started on first use, at
/// most ``maxWorkers``).
///
/// Protocol: the caller stores the job's body, resets `done`, resets `claims`
/// to the new epoch with no task claimed, then publishes the job with one
/// atomic store of `ticket` = epoch << 32 | tasks. Each task is claimed by
/// setting its bit in `claims` (epoch << 32 | claimed mask) by compare-and-swap;
/// a successful claim proves the job is still the current one, and it stays
/// current until that task is counted in `done`, so reading `body` after a
/// claim is safe. Idle workers spin on `ticket` for a while, then sleep on a
/// condition variable; the caller broadcasts after publishing, holding the
/// mutex the sleepers check `ticket` under, so no wake-up is lost.
///
/// Task `t` goes to thread `t` (the caller is thread 0, worker `w` thread
/// `w + 1`) unless that thread is late: a thread that has run its own task
/// takes any task still unclaimed. Keeping the same slice of every layer on
/// the same core keeps the data a layer wrote on the core that reads it next;
/// when the host places the two vCPUs on different L3 caches a line written
/// by one core and read by the other costs a transfer of several hundred
/// nanoseconds. The stealing keeps a descheduled worker from stalling the job.
///
/// `@unchecked Sendable`: `body` is written only by the caller that holds
/// `busy`, before the publishing store, and read only under a claim as above;
/// the mutex and condition variable are only used through pthread calls.
final class SpinPool: @unchecked Sendable {
    static let shared = SpinPool()
    /// Tasks are bits of a 32-bit mask, the caller's included.
    static let maxWorkers = 31
    /// Spins of an idle worker before it sleeps (roughly 50-100 µs).
    static let spinsBeforeSleep = 20_000

    private let busy = Atomic<Bool>(false)
    private let ticket = Atomic<UInt64>(0)
    private let claims = Atomic<UInt64>(0)
    private let done = Atomic<Int>(0)
    private let workers = Atomic<Int>(0)
    private nonisolated(unsafe) var body: ((Int) -> Void)? = nil
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    private init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        cond = .allocate(capacity: 1)
        cond.initialize(to: pthread_cond_t())
        pthread_cond_init(cond, nil)
    }

    /// Runs the job and returns true, or returns false at once when another job
    /// holds the pool or `tasks` is out of range.
    func run(_ tasks: Int, _ work: (Int) -> Void) -> Bool {
        guard tasks <= Self.maxWorkers + 1 else { return false }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        startWorkers(tasks - 1)
        withoutActuallyEscaping(work) { escapable in
            body = escapable
            done.store(0, ordering: .relaxed)
            let epoch = (ticket.load(ordering: .relaxed) >> 32) &+ 1
            claims.store(epoch << 32, ordering: .relaxed)
            ticket.store((epoch << 32) | UInt64(tasks), ordering: .releasing)
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
            var preferred = 0
            while let t = claim(epoch: epoch, tasks: tasks, preferred: preferred) {
                escapable(t)
                done.add(1, ordering: .releasing)
                preferred = tasks
            }
            var spins = 0
            while done.load(ordering: .acquiring) < tasks {
                spins += 1
                if spins > 1000 { sched_yield() }
            }
            body = nil
        }
        return true
    }

    /// Task `preferred` of job `epoch` if unclaimed, else the lowest unclaimed
    /// one, or nil when every task is claimed or the job is over.
    @inline(__always)
    private func claim(epoch: UInt64, tasks: Int, preferred: Int) -> Int? {
        var current = claims.load(ordering: .acquiring)
        let all: UInt64 = tasks >= 32 ? 0xFFFF_FFFF : (1 << UInt64(tasks)) - 1
        while true {
            let mask = current & 0xFFFF_FFFF
            guard current >> 32 == epoch, mask != all else { return nil }
            let pick = preferred < tasks && mask & (1 << UInt64(preferred)) == 0
                ? preferred : (~mask & all).trailingZeroBitCount
            let (exchanged, original) = claims.compareExchange(
                expected: current, desired: current | (1 << UInt64(pick)), ordering: .acquiringAndReleasing)
            if exchanged { return pick }
            current = original
        }
    }

    private func startWorkers(_ wanted: Int) {
        while true {
            let have = workers.load(ordering: .relaxed)
            if have >= min(wanted, Self.maxWorkers) { return }
            if workers.compareExchange(expected: have, desired: have + 1, ordering: .relaxed).exchanged {
                var thread = pthread_t()
                // The worker's thread index (1-based) travels as the argument's bit pattern.
                pthread_create(&thread, nil, { arg in
                    SpinPool.shared.workerLoop(index: Int(bitPattern: arg))
                }, UnsafeMutableRawPointer(bitPattern: have + 1))
                pthread_detach(thread)
            }
        }
    }

    private func workerLoop(index: Int) -> Never {
        var seen = ticket.load(ordering: .acquiring) >> 32
        while true {
            // Wait for a new job: spin, then sleep.
            var spins = 0
            var current = ticket.load(ordering: .acquiring)
            while current >> 32 == seen {
                spins += 1
                if spins >= Self.spinsBeforeSleep {
                    pthread_mutex_lock(mutex)
                    while ticket.load(ordering: .acquiring) >> 32 == seen { pthread_cond_wait(cond, mutex) }
                    pthread_mutex_unlock(mutex)
                    spins = 0
                }
                current = ticket.load(ordering: .acquiring)
            }
            let epoch = current >> 32
            seen = epoch
            let tasks = Int(current & 0xFFFF)
            var preferred = index
            while let t = claim(epoch: epoch, tasks: tasks, preferred: preferred) {
                body!(t)
                done.add(1, ordering: .releasing)
                preferred = tasks
            }
        }
    }
}
