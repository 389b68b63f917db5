/// A 64-byte aligned, zero-initialised float buffer with a stable address, freed in deinit.
///
/// `@unchecked Sendable`: owned by one trainer, which one job thread uses at a time;
/// kernels write disjoint slices of it from worker threads inside a `parallelFor`.
final class FloatBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 16))
        pointer.initialize(repeating: 0, count: max(count, 16))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    subscript(_ range: Range<Int>) -> [Float] { Array(UnsafeBufferPointer(start: pointer + range.lowerBound, count: range.count)) }
}
