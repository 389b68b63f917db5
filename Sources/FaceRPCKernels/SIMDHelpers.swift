// Unaligned vector loads and stores and a two-sided clamp, shared by all kernels.

extension SIMD16 where Scalar == Float {
    @inline(__always) init(loadFrom p: UnsafePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) init(loadFrom p: UnsafeMutablePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD16<Float>.self)
    }
    /// `min(max(self, lo), hi)` lane by lane.
    @inline(__always) func clamped(_ lo: Self, _ hi: Self) -> Self {
        let l = self.replacing(with: lo, where: self .< lo)
        return l.replacing(with: hi, where: l .> hi)
    }
}

extension SIMD8 where Scalar == Float {
    @inline(__always) init(loadFrom p: UnsafePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) init(loadFrom p: UnsafeMutablePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
    }
    @inline(__always) func clamped(_ lo: Self, _ hi: Self) -> Self {
        let l = self.replacing(with: lo, where: self .< lo)
        return l.replacing(with: hi, where: l .> hi)
    }
}
