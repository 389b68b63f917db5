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

    /// `p[0], p[2], ..., p[30]`: 32 floats are read. `SIMD32.evenHalf` compiles to
    /// lane-by-lane code through the stack; reading the pairs as 64-bit lanes and
    /// truncating them is one load and one `vpmovqd`.
    @inline(__always) public init(evenLanesFrom p: UnsafePointer<Float>) {
        let pairs = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt64>.self)
        self = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: pairs), to: SIMD16<Float>.self)
    }
}

extension SIMD16 where Scalar == Float {
    /// Lanes `0, 2, ..., 14` and `1, 3, ..., 15`. `evenHalf` / `oddHalf` compile
    /// to lane-by-lane code through the stack; as 64-bit lanes the split is a
    /// truncation and a shift (`vpmovqd`, `vpsrlq`).
    @inline(__always) public var evenOddHalves: (even: SIMD8<Float>, odd: SIMD8<Float>) {
        let pairs = unsafeBitCast(self, to: SIMD8<UInt64>.self)
        return (unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: pairs), to: SIMD8<Float>.self),
                unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: pairs &>> 32), to: SIMD8<Float>.self))
    }

    /// `even[0], odd[0], even[1], odd[1], ...`: the inverse of ``evenOddHalves``,
    /// by widening and shifting 64-bit lanes instead of lane-by-lane inserts.
    @inline(__always) public init(interleaving even: SIMD8<Float>, _ odd: SIMD8<Float>) {
        let lo = SIMD8<UInt64>(truncatingIfNeeded: unsafeBitCast(even, to: SIMD8<UInt32>.self))
        let hi = SIMD8<UInt64>(truncatingIfNeeded: unsafeBitCast(odd, to: SIMD8<UInt32>.self))
        self = unsafeBitCast(lo | (hi &<< 32), to: SIMD16<Float>.self)
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

extension SIMD8 where Scalar == Float {
    /// As ``SIMD16/evenOddHalves`` for 8 lanes.
    @inline(__always) public var evenOddHalves: (even: SIMD4<Float>, odd: SIMD4<Float>) {
        let pairs = unsafeBitCast(self, to: SIMD4<UInt64>.self)
        return (unsafeBitCast(SIMD4<UInt32>(truncatingIfNeeded: pairs), to: SIMD4<Float>.self),
                unsafeBitCast(SIMD4<UInt32>(truncatingIfNeeded: pairs &>> 32), to: SIMD4<Float>.self))
    }

    /// As ``SIMD16/init(interleaving:_:)`` for 8 lanes.
    @inline(__always) public init(interleaving even: SIMD4<Float>, _ odd: SIMD4<Float>) {
        let lo = SIMD4<UInt64>(truncatingIfNeeded: unsafeBitCast(even, to: SIMD4<UInt32>.self))
        let hi = SIMD4<UInt64>(truncatingIfNeeded: unsafeBitCast(odd, to: SIMD4<UInt32>.self))
        self = unsafeBitCast(lo | (hi &<< 32), to: SIMD8<Float>.self)
    }
}

extension SIMD4 where Scalar == Float {
    @inline(__always) public init(loadFrom p: UnsafePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    }
    @inline(__always) public func store(to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD4<Float>.self)
    }
}

extension SIMD2 where Scalar == Float {
    @inline(__always) public init(loadFrom p: UnsafePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD2<Float>.self)
    }
    @inline(__always) public func store(to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD2<Float>.self)
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

// Two-source lane shuffles. Swift has no shuffle intrinsic, but an initializer
// that names every lane of two vectors, once inlined, is one LLVM
// `shufflevector`, which becomes one instruction (`vunpcklps`, `vunpcklpd`,
// `vpermt2pd`, `vshuff64x2`). Moves of 64 bits or more name `Double` lanes of
// the same bits: written on `Float` lanes, LLVM scalarised the arithmetic
// feeding them into lane-by-lane code through the stack inside the Winograd
// output transform; loops over lanes and `evenHalf`/`oddHalf` do the same.
extension SIMD16 where Scalar == Float {
    @inline(__always) var pairs: SIMD8<Double> { unsafeBitCast(self, to: SIMD8<Double>.self) }
    @inline(__always) init(pairs: SIMD8<Double>) { self = unsafeBitCast(pairs, to: Self.self) }

    /// 128-bit block `b` (0...3). Taken as two `Double` lanes: as `Float` lanes,
    /// LLVM split a clamp before the four block stores into four masked moves.
    @inline(__always) func block(_ b: Int) -> SIMD4<Float> {
        let d = pairs
        return unsafeBitCast(SIMD2<Double>(d[2 * b], d[2 * b + 1]), to: SIMD4<Float>.self)
    }

    /// Per 128-bit lane `L`: `a[4L], b[4L], a[4L+1], b[4L+1]` (`vunpcklps`).
    @inline(__always) static func interleaveLow32(_ a: Self, _ b: Self) -> Self {
        Self(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5], a[8], b[8], a[9], b[9], a[12], b[12], a[13], b[13])
    }
    /// Per 128-bit lane `L`: `a[4L+2], b[4L+2], a[4L+3], b[4L+3]` (`vunpckhps`).
    @inline(__always) static func interleaveHigh32(_ a: Self, _ b: Self) -> Self {
        Self(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7], a[10], b[10], a[11], b[11], a[14], b[14], a[15], b[15])
    }
    /// Per 128-bit lane `L`: `a[4L], a[4L+1], b[4L], b[4L+1]` (`vunpcklpd`).
    @inline(__always) static func interleaveLow64(_ a: Self, _ b: Self) -> Self {
        let x = a.pairs, y = b.pairs
        return Self(pairs: SIMD8(x[0], y[0], x[2], y[2], x[4], y[4], x[6], y[6]))
    }
    /// Per 128-bit lane `L`: `a[4L+2], a[4L+3], b[4L+2], b[4L+3]` (`vunpckhpd`).
    @inline(__always) static func interleaveHigh64(_ a: Self, _ b: Self) -> Self {
        let x = a.pairs, y = b.pairs
        return Self(pairs: SIMD8(x[1], y[1], x[3], y[3], x[5], y[5], x[7], y[7]))
    }
    /// 128-bit blocks `a.0, a.1, b.0, b.1`.
    @inline(__always) static func blocksLow(_ a: Self, _ b: Self) -> Self {
        let x = a.pairs, y = b.pairs
        return Self(pairs: SIMD8(x[0], x[1], x[2], x[3], y[0], y[1], y[2], y[3]))
    }
    /// 128-bit blocks `a.2, a.3, b.2, b.3`.
    @inline(__always) static func blocksHigh(_ a: Self, _ b: Self) -> Self {
        let x = a.pairs, y = b.pairs
        return Self(pairs: SIMD8(x[4], x[5], x[6], x[7], y[4], y[5], y[6], y[7]))
    }
    /// 128-bit blocks `a.0, a.2, b.0, b.2`.
    @inline(__always) static func blocksEven(_ a: Self, _ b: Self) -> Self {
        let x = a.pairs, y = b.pairs
        return Self(pairs: SIMD8(x[0], x[1], x[4], x[5], y[0], y[1], y[4], y[5]))
    }
    /// 128-bit blocks `a.1, a.3, b.1, b.3`.
    @inline(__always) static func blocksOdd(_ a: Self, _ b: Self) -> Self {
        let x = a.pairs, y = b.pairs
        return Self(pairs: SIMD8(x[2], x[3], x[6], x[7], y[2], y[3], y[6], y[7]))
    }
}
