// Elementwise kernels: one loop shape for all (see each doc comment).

/// `f32_vadd_clamp_simd16`: `out = max(a + b, minValue)`; `minValue` 0 fuses a ReLU, `-infinity` is a plain add.
///
/// Lanes: 16; step: 64 elements (4 vectors, separate registers) in the main loop,
/// then one vector, then scalar leftovers. In place (`out` equal to an input) is fine.
@inline(__always)
public func f32_vadd_clamp_simd16(_ count: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ minValue: Float) {
    let lo = SIMD16<Float>(repeating: minValue)
    var i = 0
    while i + 64 <= count {
        do { let o = i + 0; let v = SIMD16<Float>(loadFrom: a + o) + SIMD16<Float>(loadFrom: b + o); v.replacing(with: lo, where: v .< lo).store(to: out + o) }
        do { let o = i + 16; let v = SIMD16<Float>(loadFrom: a + o) + SIMD16<Float>(loadFrom: b + o); v.replacing(with: lo, where: v .< lo).store(to: out + o) }
        do { let o = i + 32; let v = SIMD16<Float>(loadFrom: a + o) + SIMD16<Float>(loadFrom: b + o); v.replacing(with: lo, where: v .< lo).store(to: out + o) }
        do { let o = i + 48; let v = SIMD16<Float>(loadFrom: a + o) + SIMD16<Float>(loadFrom: b + o); v.replacing(with: lo, where: v .< lo).store(to: out + o) }
        i += 64
    }
    while i + 16 <= count {
        do { let o = i; let v = SIMD16<Float>(loadFrom: a + o) + SIMD16<Float>(loadFrom: b + o); v.replacing(with: lo, where: v .< lo).store(to: out + o) }
        i += 16
    }
    // leftovers
    while i < count {
        out[i] = max(a[i] + b[i], minValue)
        i += 1
    }
}

/// `f32_vclamp_simd16`: `out = max(x, minValue)`; with 0 this is ReLU.
///
/// Lanes: 16; step: 64 elements (4 vectors, separate registers) in the main loop,
/// then one vector, then scalar leftovers. In place (`out` equal to an input) is fine.
@inline(__always)
public func f32_vclamp_simd16(_ count: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ minValue: Float) {
    let lo = SIMD16<Float>(repeating: minValue)
    var i = 0
    while i + 64 <= count {
        do { let o = i + 0; let v = SIMD16<Float>(loadFrom: x + o); v.replacing(with: lo, where: v .< lo).store(to: out + o) }
        do { let o = i + 16; let v = SIMD16<Float>(loadFrom: x + o); v.replacing(with: lo, where: v .< lo).store(to: out + o) }
        do { let o = i + 32; let v = SIMD16<Float>(loadFrom: x + o); v.replacing(with: lo, where: v .< lo).store(to: out + o) }
        do { let o = i + 48; let v = SIMD16<Float>(loadFrom: x + o); v.replacing(with: lo, where: v .< lo).store(to: out + o) }
        i += 64
    }
    while i + 16 <= count {
        do { let o = i; let v = SIMD16<Float>(loadFrom: x + o); v.replacing(with: lo, where: v .< lo).store(to: out + o) }
        i += 16
    }
    // leftovers
    while i < count {
        out[i] = max(x[i], minValue)
        i += 1
    }
}

/// `f32_vprelu_simd16`: `out = x < 0 ? x * slope : x` with one slope for the whole run (one channel).
///
/// Lanes: 16; step: 64 elements (4 vectors, separate registers) in the main loop,
/// then one vector, then scalar leftovers. In place (`out` equal to an input) is fine.
@inline(__always)
public func f32_vprelu_simd16(_ count: Int, _ x: UnsafePointer<Float>, _ slope: Float, _ out: UnsafeMutablePointer<Float>) {
    let s = SIMD16<Float>(repeating: slope), zero = SIMD16<Float>(repeating: 0)
    var i = 0
    while i + 64 <= count {
        do { let o = i + 0; let v = SIMD16<Float>(loadFrom: x + o); v.replacing(with: v * s, where: v .< zero).store(to: out + o) }
        do { let o = i + 16; let v = SIMD16<Float>(loadFrom: x + o); v.replacing(with: v * s, where: v .< zero).store(to: out + o) }
        do { let o = i + 32; let v = SIMD16<Float>(loadFrom: x + o); v.replacing(with: v * s, where: v .< zero).store(to: out + o) }
        do { let o = i + 48; let v = SIMD16<Float>(loadFrom: x + o); v.replacing(with: v * s, where: v .< zero).store(to: out + o) }
        i += 64
    }
    while i + 16 <= count {
        do { let o = i; let v = SIMD16<Float>(loadFrom: x + o); v.replacing(with: v * s, where: v .< zero).store(to: out + o) }
        i += 16
    }
    // leftovers
    while i < count {
        out[i] = x[i] < 0 ? x[i] * slope : x[i]
        i += 1
    }
}

/// `f32_vaffine_simd16`: `out = x * scale + shift` with one scale and shift for the whole run (one channel).
///
/// Lanes: 16; step: 64 elements (4 vectors, separate registers) in the main loop,
/// then one vector, then scalar leftovers. In place (`out` equal to an input) is fine.
@inline(__always)
public func f32_vaffine_simd16(_ count: Int, _ x: UnsafePointer<Float>, _ scale: Float, _ shift: Float, _ out: UnsafeMutablePointer<Float>) {
    let s = SIMD16<Float>(repeating: scale), t = SIMD16<Float>(repeating: shift)
    var i = 0
    while i + 64 <= count {
        do { let o = i + 0; t.addingProduct(SIMD16<Float>(loadFrom: x + o), s).store(to: out + o) }
        do { let o = i + 16; t.addingProduct(SIMD16<Float>(loadFrom: x + o), s).store(to: out + o) }
        do { let o = i + 32; t.addingProduct(SIMD16<Float>(loadFrom: x + o), s).store(to: out + o) }
        do { let o = i + 48; t.addingProduct(SIMD16<Float>(loadFrom: x + o), s).store(to: out + o) }
        i += 64
    }
    while i + 16 <= count {
        do { let o = i; t.addingProduct(SIMD16<Float>(loadFrom: x + o), s).store(to: out + o) }
        i += 16
    }
    // leftovers
    while i < count {
        out[i] = x[i] * scale + shift
        i += 1
    }
}

/// `f32_vmax_simd16`: `out = max(a, b)` lane by lane (the vertical pass of max pooling).
///
/// Lanes: 16; step: 64 elements (4 vectors, separate registers) in the main loop,
/// then one vector, then scalar leftovers. In place (`out` equal to an input) is fine.
@inline(__always)
public func f32_vmax_simd16(_ count: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 64 <= count {
        do { let o = i + 0; let va = SIMD16<Float>(loadFrom: a + o), vb = SIMD16<Float>(loadFrom: b + o); va.replacing(with: vb, where: va .< vb).store(to: out + o) }
        do { let o = i + 16; let va = SIMD16<Float>(loadFrom: a + o), vb = SIMD16<Float>(loadFrom: b + o); va.replacing(with: vb, where: va .< vb).store(to: out + o) }
        do { let o = i + 32; let va = SIMD16<Float>(loadFrom: a + o), vb = SIMD16<Float>(loadFrom: b + o); va.replacing(with: vb, where: va .< vb).store(to: out + o) }
        do { let o = i + 48; let va = SIMD16<Float>(loadFrom: a + o), vb = SIMD16<Float>(loadFrom: b + o); va.replacing(with: vb, where: va .< vb).store(to: out + o) }
        i += 64
    }
    while i + 16 <= count {
        do { let o = i; let va = SIMD16<Float>(loadFrom: a + o), vb = SIMD16<Float>(loadFrom: b + o); va.replacing(with: vb, where: va .< vb).store(to: out + o) }
        i += 16
    }
    // leftovers
    while i < count {
        out[i] = max(a[i], b[i])
        i += 1
    }
}

/// `f32_vsqr_acc_simd16`: `acc += x * x` (the channel-window sum of LRN).
///
/// Lanes: 16; step: 64 elements (4 vectors, separate registers) in the main loop,
/// then one vector, then scalar leftovers. In place (`out` equal to an input) is fine.
@inline(__always)
public func f32_vsqr_acc_simd16(_ count: Int, _ x: UnsafePointer<Float>, _ acc: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 64 <= count {
        do { let o = i + 0; let v = SIMD16<Float>(loadFrom: x + o); SIMD16<Float>(loadFrom: acc + o).addingProduct(v, v).store(to: acc + o) }
        do { let o = i + 16; let v = SIMD16<Float>(loadFrom: x + o); SIMD16<Float>(loadFrom: acc + o).addingProduct(v, v).store(to: acc + o) }
        do { let o = i + 32; let v = SIMD16<Float>(loadFrom: x + o); SIMD16<Float>(loadFrom: acc + o).addingProduct(v, v).store(to: acc + o) }
        do { let o = i + 48; let v = SIMD16<Float>(loadFrom: x + o); SIMD16<Float>(loadFrom: acc + o).addingProduct(v, v).store(to: acc + o) }
        i += 64
    }
    while i + 16 <= count {
        do { let o = i; let v = SIMD16<Float>(loadFrom: x + o); SIMD16<Float>(loadFrom: acc + o).addingProduct(v, v).store(to: acc + o) }
        i += 16
    }
    // leftovers
    while i < count {
        acc[i] += x[i] * x[i]
        i += 1
    }
}
