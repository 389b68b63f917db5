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

/// One operand of ``f32_extended_add(_:_:_:_:_:batch:channels:height:width:minValue:threads:)``:
/// a `[channels, height, width]` tensor per sample, average-pooled over
/// non-overlapping `pool` x `pool` windows when `pool > 1` (trailing rows and
/// columns that fill no window are dropped, as ONNX's floor rounding does), then
/// placed at the top-left of the output and zero everywhere else.
public struct ExtendedOperand: Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var pool: Int

    public init(channels: Int, height: Int, width: Int, pool: Int = 1) {
        self.channels = channels; self.height = height; self.width = width; self.pool = max(1, pool)
    }

    /// Rows and columns it covers in the output.
    public var placedHeight: Int { height / pool }
    public var placedWidth: Int { width / pool }
}

/// `f32_extended_add`: `y = max(a' + b', minValue)` over `[channels, height,
/// width]` per sample, where `a'` and `b'` are the operands pooled and
/// zero-extended as their ``ExtendedOperand`` says: a downsampling residual
/// block's add (a 2x2 average pool of the shortcut, padded with zero channels,
/// plus a convolution output padded at the bottom and right) in one pass, with
/// no padded copies in between. Planes are split across `threads`, in channel
/// order, as the convolutions around it split their output channels.
/// - Precondition: each operand's channels and placed extents fit the output.
public func f32_extended_add(_ a: UnsafePointer<Float>, _ aShape: ExtendedOperand,
                             _ b: UnsafePointer<Float>, _ bShape: ExtendedOperand,
                             _ y: UnsafeMutablePointer<Float>, batch: Int, channels: Int, height: Int, width: Int,
                             minValue: Float, threads: Int) {
    precondition(aShape.channels <= channels && aShape.placedHeight <= height && aShape.placedWidth <= width)
    precondition(bShape.channels <= channels && bShape.placedHeight <= height && bShape.placedWidth <= width)
    let planes = batch * channels, plane = height * width
    let tasks = max(1, min(threads, planes))
    parallelFor(tasks) { t in
        let mine = sliceRange(t, of: tasks, count: planes)
        var p = mine.lowerBound
        while p < mine.upperBound {
            // This sample's share of the planes: channels c0 ..< c1, contiguous.
            let n = p / channels, c0 = p - n * channels
            let c1 = min(channels, c0 + mine.upperBound - p)
            let out = y + p * plane
            out.update(repeating: 0, count: (c1 - c0) * plane)
            @inline(__always) func add(_ x: UnsafePointer<Float>, _ shape: ExtendedOperand) {
                let end = min(c1, shape.channels)
                guard c0 < end else { return }
                let w = shape.width, sourcePlane = shape.height * w
                let src = x + (n * shape.channels + c0) * sourcePlane
                if shape.pool == 1 && shape.height == height && w == width {
                    // Same extent as the output: one vector pass over the channels.
                    f32_vadd_clamp_simd16((end - c0) * plane, out, src, out, -.infinity)
                    return
                }
                let k = shape.pool, scale = 1 / Float(k * k)
                for c in 0..<(end - c0) {
                    let from = src + c * sourcePlane, to = out + c * plane
                    for oy in 0..<shape.placedHeight {
                        let row = to + oy * width, top = from + oy * k * w
                        if k == 1 {
                            for ox in 0..<w { row[ox] += top[ox] }
                        } else if k == 2 {
                            // The usual 2x2 shortcut pool, without the window loops.
                            for ox in 0..<shape.placedWidth {
                                let f = top + 2 * ox
                                row[ox] += (f[0] + f[1] + f[w] + f[w + 1]) * scale
                            }
                        } else {
                            for ox in 0..<shape.placedWidth {
                                var sum: Float = 0
                                for dy in 0..<k {
                                    for dx in 0..<k { sum += top[dy * w + ox * k + dx] }
                                }
                                row[ox] += sum * scale
                            }
                        }
                    }
                }
            }
            add(a, aShape)
            add(b, bShape)
            f32_vclamp_simd16((c1 - c0) * plane, out, out, minValue)
            p += c1 - c0
        }
    }
}
