// Unaligned vector loads and stores and a two-sided clamp, shared by all kernels
// (public: the training module's optimiser loops use them too).

extension SIMD16 where Scalar == Float {
    @inline(__always) public init(loadFrom p: UnsafePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) public init(loadFrom p: UnsafeMutablePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) public func store(to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD16<Float>.self)
    }
    /// `min(max(self, lo), hi)` lane by lane.
    @inline(__always) public func clamped(_ lo: Self, _ hi: Self) -> Self {
        let l = self.replacing(with: lo, where: self .< lo)
        return l.replacing(with: hi, where: l .> hi)
    }
}

extension SIMD8 where Scalar == Float {
    @inline(__always) public init(loadFrom p: UnsafePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) public init(loadFrom p: UnsafeMutablePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) public func store(to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
    }
    @inline(__always) public func clamped(_ lo: Self, _ hi: Self) -> Self {
        let l = self.replacing(with: lo, where: self .< lo)
        return l.replacing(with: hi, where: l .> hi)
    }
}

/// A 64-byte aligned, zero-initialised float buffer with a stable address,
/// freed in deinit: scratch and activations for the engine's and the
/// trainer's kernels.
///
/// `@unchecked Sendable`: its owner hands it to one run at a time; kernels
/// write disjoint slices of it from worker threads inside a `parallelFor`.
public final class AlignedFloatBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 16))
        pointer.initialize(repeating: 0, count: max(count, 16))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// A copy of `range`.
    public subscript(_ range: Range<Int>) -> [Float] { Array(UnsafeBufferPointer(start: pointer + range.lowerBound, count: range.count)) }
}
