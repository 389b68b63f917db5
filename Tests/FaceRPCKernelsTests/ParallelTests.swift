import Dispatch
import FaceRPCKernels
import Testing

@Suite("parallelFor (spin pool, Dispatch fallback)")
struct ParallelTests {
    @Test("every task runs exactly once, from 1 task to past the pool's 32")
    func everyTaskOnce() {
        for tasks in [1, 2, 3, 5, 16, 31, 32, 33, 64, 70] {
            for _ in 0..<10 {
                let counts = UnsafeMutablePointer<Int>.allocate(capacity: tasks)
                counts.initialize(repeating: 0, count: tasks)
                defer { counts.deallocate() }
                // Each task writes only its own slot.
                nonisolated(unsafe) let slots = counts
                parallelFor(tasks) { t in slots[t] += 1 }
                #expect((0..<tasks).allSatisfy { counts[$0] == 1 }, "tasks \(tasks)")
            }
        }
    }

    @Test("concurrent callers (pool busy: Dispatch) all get complete, separate jobs")
    func concurrentCallers() {
        let callers = 6, rounds = 100
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: callers)
        sums.initialize(repeating: 0, count: callers)
        defer { sums.deallocate() }
        nonisolated(unsafe) let shared = sums
        DispatchQueue.concurrentPerform(iterations: callers) { c in
            var total = 0
            for r in 0..<rounds {
                let tasks = 2 + (c + r) % 3
                let parts = UnsafeMutablePointer<Int>.allocate(capacity: tasks)
                parts.initialize(repeating: 0, count: tasks)
                nonisolated(unsafe) let p = parts
                parallelFor(tasks) { t in p[t] = (t + 1) * (c + 1) }
                for t in 0..<tasks { total += parts[t] }
                parts.deallocate()
            }
            shared[c] = total
        }
        for c in 0..<callers {
            let want = (0..<rounds).reduce(0) { acc, r in
                let tasks = 2 + (c + r) % 3
                return acc + (c + 1) * tasks * (tasks + 1) / 2
            }
            #expect(sums[c] == want, "caller \(c)")
        }
    }
}
