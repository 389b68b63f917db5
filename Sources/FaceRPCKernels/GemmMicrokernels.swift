// Register-blocked GEMM micro-kernels. Generated shape, hand-checked: each keeps its
// whole tile in registers (AVX-512 has 32 zmm registers; 8x32 uses 16 for C, 2 for B).
// The one-vector-wide kernels (`_x16_simd16`) finish a last, narrow column panel.

/// `f32_gemm_8x32_simd16`: `C[8x32] = clamp(bias + A·B)` for one packed panel pair.
///
/// Lanes: 16; tile 8 rows x 2 vectors = 16 accumulators; step: 2 k per
/// main-loop iteration, then one k. `a` is packed `[kc][8]`, `b` is packed `[kc][32]`,
/// `bias` holds 8 values, `c` has row stride `ldc`. Rows and columns past the real
/// matrix are zero in the packing, so there are no leftovers inside the tile: the
/// caller handles partial tiles by passing a scratch tile as `c`.
@inline(__always)
public func f32_gemm_8x32_simd16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0]); var c01 = c00
    var c10 = SIMD16<Float>(repeating: bias[1]); var c11 = c10
    var c20 = SIMD16<Float>(repeating: bias[2]); var c21 = c20
    var c30 = SIMD16<Float>(repeating: bias[3]); var c31 = c30
    var c40 = SIMD16<Float>(repeating: bias[4]); var c41 = c40
    var c50 = SIMD16<Float>(repeating: bias[5]); var c51 = c50
    var c60 = SIMD16<Float>(repeating: bias[6]); var c61 = c60
    var c70 = SIMD16<Float>(repeating: bias[7]); var c71 = c70
    var a = a, b = b, k = kc
    while k >= 2 {
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[6]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[7]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
        do {
            let b0 = SIMD16<Float>(loadFrom: b + 32)
            let b1 = SIMD16<Float>(loadFrom: b + 48)
            do { let av = SIMD16<Float>(repeating: a[8]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[9]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[10]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[11]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[12]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[13]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[14]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[15]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
        }
        a += 16; b += 64; k -= 2
    }
    if k == 1 {
        // leftovers
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[6]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[7]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c01.replace(with: lo, where: c01 .< lo); c01.replace(with: hi, where: c01 .> hi); c01.store(to: c + 0 * ldc + 16)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c11.replace(with: lo, where: c11 .< lo); c11.replace(with: hi, where: c11 .> hi); c11.store(to: c + 1 * ldc + 16)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c21.replace(with: lo, where: c21 .< lo); c21.replace(with: hi, where: c21 .> hi); c21.store(to: c + 2 * ldc + 16)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
    c31.replace(with: lo, where: c31 .< lo); c31.replace(with: hi, where: c31 .> hi); c31.store(to: c + 3 * ldc + 16)
    c40.replace(with: lo, where: c40 .< lo); c40.replace(with: hi, where: c40 .> hi); c40.store(to: c + 4 * ldc + 0)
    c41.replace(with: lo, where: c41 .< lo); c41.replace(with: hi, where: c41 .> hi); c41.store(to: c + 4 * ldc + 16)
    c50.replace(with: lo, where: c50 .< lo); c50.replace(with: hi, where: c50 .> hi); c50.store(to: c + 5 * ldc + 0)
    c51.replace(with: lo, where: c51 .< lo); c51.replace(with: hi, where: c51 .> hi); c51.store(to: c + 5 * ldc + 16)
    c60.replace(with: lo, where: c60 .< lo); c60.replace(with: hi, where: c60 .> hi); c60.store(to: c + 6 * ldc + 0)
    c61.replace(with: lo, where: c61 .< lo); c61.replace(with: hi, where: c61 .> hi); c61.store(to: c + 6 * ldc + 16)
    c70.replace(with: lo, where: c70 .< lo); c70.replace(with: hi, where: c70 .> hi); c70.store(to: c + 7 * ldc + 0)
    c71.replace(with: lo, where: c71 .< lo); c71.replace(with: hi, where: c71 .> hi); c71.store(to: c + 7 * ldc + 16)
}

/// `f32_gemm_6x32_simd16`: `C[6x32] = clamp(bias + A·B)` for one packed panel pair.
///
/// Lanes: 16; tile 6 rows x 2 vectors = 12 accumulators; step: 2 k per
/// main-loop iteration, then one k. `a` is packed `[kc][6]`, `b` is packed `[kc][32]`,
/// `bias` holds 6 values, `c` has row stride `ldc`. Rows and columns past the real
/// matrix are zero in the packing, so there are no leftovers inside the tile: the
/// caller handles partial tiles by passing a scratch tile as `c`.
@inline(__always)
public func f32_gemm_6x32_simd16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0]); var c01 = c00
    var c10 = SIMD16<Float>(repeating: bias[1]); var c11 = c10
    var c20 = SIMD16<Float>(repeating: bias[2]); var c21 = c20
    var c30 = SIMD16<Float>(repeating: bias[3]); var c31 = c30
    var c40 = SIMD16<Float>(repeating: bias[4]); var c41 = c40
    var c50 = SIMD16<Float>(repeating: bias[5]); var c51 = c50
    var a = a, b = b, k = kc
    while k >= 2 {
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
        do {
            let b0 = SIMD16<Float>(loadFrom: b + 32)
            let b1 = SIMD16<Float>(loadFrom: b + 48)
            do { let av = SIMD16<Float>(repeating: a[6]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[7]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[8]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[9]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[10]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[11]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
        }
        a += 12; b += 64; k -= 2
    }
    if k == 1 {
        // leftovers
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c01.replace(with: lo, where: c01 .< lo); c01.replace(with: hi, where: c01 .> hi); c01.store(to: c + 0 * ldc + 16)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c11.replace(with: lo, where: c11 .< lo); c11.replace(with: hi, where: c11 .> hi); c11.store(to: c + 1 * ldc + 16)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c21.replace(with: lo, where: c21 .< lo); c21.replace(with: hi, where: c21 .> hi); c21.store(to: c + 2 * ldc + 16)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
    c31.replace(with: lo, where: c31 .< lo); c31.replace(with: hi, where: c31 .> hi); c31.store(to: c + 3 * ldc + 16)
    c40.replace(with: lo, where: c40 .< lo); c40.replace(with: hi, where: c40 .> hi); c40.store(to: c + 4 * ldc + 0)
    c41.replace(with: lo, where: c41 .< lo); c41.replace(with: hi, where: c41 .> hi); c41.store(to: c + 4 * ldc + 16)
    c50.replace(with: lo, where: c50 .< lo); c50.replace(with: hi, where: c50 .> hi); c50.store(to: c + 5 * ldc + 0)
    c51.replace(with: lo, where: c51 .< lo); c51.replace(with: hi, where: c51 .> hi); c51.store(to: c + 5 * ldc + 16)
}

/// `f32_gemm_4x48_simd16`: `C[4x48] = clamp(bias + A·B)` for one packed panel pair.
///
/// Lanes: 16; tile 4 rows x 3 vectors = 12 accumulators; step: 2 k per
/// main-loop iteration, then one k. `a` is packed `[kc][4]`, `b` is packed `[kc][48]`,
/// `bias` holds 4 values, `c` has row stride `ldc`. Rows and columns past the real
/// matrix are zero in the packing, so there are no leftovers inside the tile: the
/// caller handles partial tiles by passing a scratch tile as `c`.
@inline(__always)
public func f32_gemm_4x48_simd16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0]); var c01 = c00; var c02 = c00
    var c10 = SIMD16<Float>(repeating: bias[1]); var c11 = c10; var c12 = c10
    var c20 = SIMD16<Float>(repeating: bias[2]); var c21 = c20; var c22 = c20
    var c30 = SIMD16<Float>(repeating: bias[3]); var c31 = c30; var c32 = c30
    var a = a, b = b, k = kc
    while k >= 2 {
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        let b2 = SIMD16<Float>(loadFrom: b + 32)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1); c02 = c02.addingProduct(av, b2) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1); c12 = c12.addingProduct(av, b2) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1); c22 = c22.addingProduct(av, b2) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1); c32 = c32.addingProduct(av, b2) }
        do {
            let b0 = SIMD16<Float>(loadFrom: b + 48)
            let b1 = SIMD16<Float>(loadFrom: b + 64)
            let b2 = SIMD16<Float>(loadFrom: b + 80)
            do { let av = SIMD16<Float>(repeating: a[4]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1); c02 = c02.addingProduct(av, b2) }
            do { let av = SIMD16<Float>(repeating: a[5]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1); c12 = c12.addingProduct(av, b2) }
            do { let av = SIMD16<Float>(repeating: a[6]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1); c22 = c22.addingProduct(av, b2) }
            do { let av = SIMD16<Float>(repeating: a[7]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1); c32 = c32.addingProduct(av, b2) }
        }
        a += 8; b += 96; k -= 2
    }
    if k == 1 {
        // leftovers
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        let b2 = SIMD16<Float>(loadFrom: b + 32)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1); c02 = c02.addingProduct(av, b2) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1); c12 = c12.addingProduct(av, b2) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1); c22 = c22.addingProduct(av, b2) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1); c32 = c32.addingProduct(av, b2) }
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c01.replace(with: lo, where: c01 .< lo); c01.replace(with: hi, where: c01 .> hi); c01.store(to: c + 0 * ldc + 16)
    c02.replace(with: lo, where: c02 .< lo); c02.replace(with: hi, where: c02 .> hi); c02.store(to: c + 0 * ldc + 32)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c11.replace(with: lo, where: c11 .< lo); c11.replace(with: hi, where: c11 .> hi); c11.store(to: c + 1 * ldc + 16)
    c12.replace(with: lo, where: c12 .< lo); c12.replace(with: hi, where: c12 .> hi); c12.store(to: c + 1 * ldc + 32)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c21.replace(with: lo, where: c21 .< lo); c21.replace(with: hi, where: c21 .> hi); c21.store(to: c + 2 * ldc + 16)
    c22.replace(with: lo, where: c22 .< lo); c22.replace(with: hi, where: c22 .> hi); c22.store(to: c + 2 * ldc + 32)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
    c31.replace(with: lo, where: c31 .< lo); c31.replace(with: hi, where: c31 .> hi); c31.store(to: c + 3 * ldc + 16)
    c32.replace(with: lo, where: c32 .< lo); c32.replace(with: hi, where: c32 .> hi); c32.store(to: c + 3 * ldc + 32)
}

/// `f32_gemm_8x16_simd8`: `C[8x16] = clamp(bias + A·B)` for one packed panel pair.
///
/// Lanes: 8; tile 8 rows x 2 vectors = 16 accumulators; step: 2 k per
/// main-loop iteration, then one k. `a` is packed `[kc][8]`, `b` is packed `[kc][16]`,
/// `bias` holds 8 values, `c` has row stride `ldc`. Rows and columns past the real
/// matrix are zero in the packing, so there are no leftovers inside the tile: the
/// caller handles partial tiles by passing a scratch tile as `c`.
@inline(__always)
public func f32_gemm_8x16_simd8(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD8<Float>(repeating: bias[0]); var c01 = c00
    var c10 = SIMD8<Float>(repeating: bias[1]); var c11 = c10
    var c20 = SIMD8<Float>(repeating: bias[2]); var c21 = c20
    var c30 = SIMD8<Float>(repeating: bias[3]); var c31 = c30
    var c40 = SIMD8<Float>(repeating: bias[4]); var c41 = c40
    var c50 = SIMD8<Float>(repeating: bias[5]); var c51 = c50
    var c60 = SIMD8<Float>(repeating: bias[6]); var c61 = c60
    var c70 = SIMD8<Float>(repeating: bias[7]); var c71 = c70
    var a = a, b = b, k = kc
    while k >= 2 {
        let b0 = SIMD8<Float>(loadFrom: b + 0)
        let b1 = SIMD8<Float>(loadFrom: b + 8)
        do { let av = SIMD8<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[6]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[7]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
        do {
            let b0 = SIMD8<Float>(loadFrom: b + 16)
            let b1 = SIMD8<Float>(loadFrom: b + 24)
            do { let av = SIMD8<Float>(repeating: a[8]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
            do { let av = SIMD8<Float>(repeating: a[9]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
            do { let av = SIMD8<Float>(repeating: a[10]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
            do { let av = SIMD8<Float>(repeating: a[11]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
            do { let av = SIMD8<Float>(repeating: a[12]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
            do { let av = SIMD8<Float>(repeating: a[13]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
            do { let av = SIMD8<Float>(repeating: a[14]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
            do { let av = SIMD8<Float>(repeating: a[15]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
        }
        a += 16; b += 32; k -= 2
    }
    if k == 1 {
        // leftovers
        let b0 = SIMD8<Float>(loadFrom: b + 0)
        let b1 = SIMD8<Float>(loadFrom: b + 8)
        do { let av = SIMD8<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[6]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
        do { let av = SIMD8<Float>(repeating: a[7]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
    }
    let lo = SIMD8<Float>(repeating: minValue), hi = SIMD8<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c01.replace(with: lo, where: c01 .< lo); c01.replace(with: hi, where: c01 .> hi); c01.store(to: c + 0 * ldc + 8)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c11.replace(with: lo, where: c11 .< lo); c11.replace(with: hi, where: c11 .> hi); c11.store(to: c + 1 * ldc + 8)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c21.replace(with: lo, where: c21 .< lo); c21.replace(with: hi, where: c21 .> hi); c21.store(to: c + 2 * ldc + 8)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
    c31.replace(with: lo, where: c31 .< lo); c31.replace(with: hi, where: c31 .> hi); c31.store(to: c + 3 * ldc + 8)
    c40.replace(with: lo, where: c40 .< lo); c40.replace(with: hi, where: c40 .> hi); c40.store(to: c + 4 * ldc + 0)
    c41.replace(with: lo, where: c41 .< lo); c41.replace(with: hi, where: c41 .> hi); c41.store(to: c + 4 * ldc + 8)
    c50.replace(with: lo, where: c50 .< lo); c50.replace(with: hi, where: c50 .> hi); c50.store(to: c + 5 * ldc + 0)
    c51.replace(with: lo, where: c51 .< lo); c51.replace(with: hi, where: c51 .> hi); c51.store(to: c + 5 * ldc + 8)
    c60.replace(with: lo, where: c60 .< lo); c60.replace(with: hi, where: c60 .> hi); c60.store(to: c + 6 * ldc + 0)
    c61.replace(with: lo, where: c61 .< lo); c61.replace(with: hi, where: c61 .> hi); c61.store(to: c + 6 * ldc + 8)
    c70.replace(with: lo, where: c70 .< lo); c70.replace(with: hi, where: c70 .> hi); c70.store(to: c + 7 * ldc + 0)
    c71.replace(with: lo, where: c71 .< lo); c71.replace(with: hi, where: c71 .> hi); c71.store(to: c + 7 * ldc + 8)
}

/// `f32_gemm_8x16_simd16`: `C[8x16] = clamp(bias + A·B)` for one packed panel pair.
///
/// Lanes: 16; tile 8 rows x 1 vector = 8 accumulators; step: 2 k per
/// main-loop iteration, then one k. `a` is packed `[kc][8]`, `b` is packed `[kc][16]`,
/// `bias` holds 8 values, `c` has row stride `ldc`. Rows and columns past the real
/// matrix are zero in the packing, so there are no leftovers inside the tile: the
/// caller handles partial tiles by passing a scratch tile as `c`.
@inline(__always)
public func f32_gemm_8x16_simd16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0])
    var c10 = SIMD16<Float>(repeating: bias[1])
    var c20 = SIMD16<Float>(repeating: bias[2])
    var c30 = SIMD16<Float>(repeating: bias[3])
    var c40 = SIMD16<Float>(repeating: bias[4])
    var c50 = SIMD16<Float>(repeating: bias[5])
    var c60 = SIMD16<Float>(repeating: bias[6])
    var c70 = SIMD16<Float>(repeating: bias[7])
    var a = a, b = b, k = kc
    while k >= 2 {
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[6]); c60 = c60.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[7]); c70 = c70.addingProduct(av, b0) }
        do {
            let b0 = SIMD16<Float>(loadFrom: b + 16)
            do { let av = SIMD16<Float>(repeating: a[8]); c00 = c00.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[9]); c10 = c10.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[10]); c20 = c20.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[11]); c30 = c30.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[12]); c40 = c40.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[13]); c50 = c50.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[14]); c60 = c60.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[15]); c70 = c70.addingProduct(av, b0) }
        }
        a += 16; b += 32; k -= 2
    }
    if k == 1 {
        // leftovers
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[6]); c60 = c60.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[7]); c70 = c70.addingProduct(av, b0) }
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
    c40.replace(with: lo, where: c40 .< lo); c40.replace(with: hi, where: c40 .> hi); c40.store(to: c + 4 * ldc + 0)
    c50.replace(with: lo, where: c50 .< lo); c50.replace(with: hi, where: c50 .> hi); c50.store(to: c + 5 * ldc + 0)
    c60.replace(with: lo, where: c60 .< lo); c60.replace(with: hi, where: c60 .> hi); c60.store(to: c + 6 * ldc + 0)
    c70.replace(with: lo, where: c70 .< lo); c70.replace(with: hi, where: c70 .> hi); c70.store(to: c + 7 * ldc + 0)
}

/// `f32_gemm_6x16_simd16`: `C[6x16] = clamp(bias + A·B)` for one packed panel pair.
///
/// Lanes: 16; tile 6 rows x 1 vector = 6 accumulators; step: 2 k per
/// main-loop iteration, then one k. `a` is packed `[kc][6]`, `b` is packed `[kc][16]`,
/// `bias` holds 6 values, `c` has row stride `ldc`. Rows and columns past the real
/// matrix are zero in the packing, so there are no leftovers inside the tile: the
/// caller handles partial tiles by passing a scratch tile as `c`.
@inline(__always)
public func f32_gemm_6x16_simd16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0])
    var c10 = SIMD16<Float>(repeating: bias[1])
    var c20 = SIMD16<Float>(repeating: bias[2])
    var c30 = SIMD16<Float>(repeating: bias[3])
    var c40 = SIMD16<Float>(repeating: bias[4])
    var c50 = SIMD16<Float>(repeating: bias[5])
    var a = a, b = b, k = kc
    while k >= 2 {
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0) }
        do {
            let b0 = SIMD16<Float>(loadFrom: b + 16)
            do { let av = SIMD16<Float>(repeating: a[6]); c00 = c00.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[7]); c10 = c10.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[8]); c20 = c20.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[9]); c30 = c30.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[10]); c40 = c40.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[11]); c50 = c50.addingProduct(av, b0) }
        }
        a += 12; b += 32; k -= 2
    }
    if k == 1 {
        // leftovers
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0) }
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
    c40.replace(with: lo, where: c40 .< lo); c40.replace(with: hi, where: c40 .> hi); c40.store(to: c + 4 * ldc + 0)
    c50.replace(with: lo, where: c50 .< lo); c50.replace(with: hi, where: c50 .> hi); c50.store(to: c + 5 * ldc + 0)
}

/// `f32_gemm_4x16_simd16`: `C[4x16] = clamp(bias + A·B)` for one packed panel pair.
///
/// Lanes: 16; tile 4 rows x 1 vector = 4 accumulators; step: 2 k per
/// main-loop iteration, then one k. `a` is packed `[kc][4]`, `b` is packed `[kc][16]`,
/// `bias` holds 4 values, `c` has row stride `ldc`. Rows and columns past the real
/// matrix are zero in the packing, so there are no leftovers inside the tile: the
/// caller handles partial tiles by passing a scratch tile as `c`.
@inline(__always)
public func f32_gemm_4x16_simd16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0])
    var c10 = SIMD16<Float>(repeating: bias[1])
    var c20 = SIMD16<Float>(repeating: bias[2])
    var c30 = SIMD16<Float>(repeating: bias[3])
    var a = a, b = b, k = kc
    while k >= 2 {
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0) }
        do {
            let b0 = SIMD16<Float>(loadFrom: b + 16)
            do { let av = SIMD16<Float>(repeating: a[4]); c00 = c00.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[5]); c10 = c10.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[6]); c20 = c20.addingProduct(av, b0) }
            do { let av = SIMD16<Float>(repeating: a[7]); c30 = c30.addingProduct(av, b0) }
        }
        a += 8; b += 32; k -= 2
    }
    if k == 1 {
        // leftovers
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0) }
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
}

/// `f32_gemm_4x64_simd16`: `C[4x64] = clamp(bias + A·B)` for one packed panel pair.
///
/// Lanes: 16; tile 4 rows x 4 vectors = 16 accumulators; step: 2 k per
/// main-loop iteration, then one k. `a` is packed `[kc][4]`, `b` is packed `[kc][64]`,
/// `bias` holds 4 values, `c` has row stride `ldc`. Rows and columns past the real
/// matrix are zero in the packing, so there are no leftovers inside the tile: the
/// caller handles partial tiles by passing a scratch tile as `c`. With few rows and
/// wide columns it suits the transposed product (rows = pixels, columns = channels).
@inline(__always)
public func f32_gemm_4x64_simd16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0]); var c01 = c00; var c02 = c00; var c03 = c00
    var c10 = SIMD16<Float>(repeating: bias[1]); var c11 = c10; var c12 = c10; var c13 = c10
    var c20 = SIMD16<Float>(repeating: bias[2]); var c21 = c20; var c22 = c20; var c23 = c20
    var c30 = SIMD16<Float>(repeating: bias[3]); var c31 = c30; var c32 = c30; var c33 = c30
    var a = a, b = b, k = kc
    while k >= 2 {
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        let b2 = SIMD16<Float>(loadFrom: b + 32)
        let b3 = SIMD16<Float>(loadFrom: b + 48)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1); c02 = c02.addingProduct(av, b2); c03 = c03.addingProduct(av, b3) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1); c12 = c12.addingProduct(av, b2); c13 = c13.addingProduct(av, b3) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1); c22 = c22.addingProduct(av, b2); c23 = c23.addingProduct(av, b3) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1); c32 = c32.addingProduct(av, b2); c33 = c33.addingProduct(av, b3) }
        do {
            let b0 = SIMD16<Float>(loadFrom: b + 64)
            let b1 = SIMD16<Float>(loadFrom: b + 80)
            let b2 = SIMD16<Float>(loadFrom: b + 96)
            let b3 = SIMD16<Float>(loadFrom: b + 112)
            do { let av = SIMD16<Float>(repeating: a[4]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1); c02 = c02.addingProduct(av, b2); c03 = c03.addingProduct(av, b3) }
            do { let av = SIMD16<Float>(repeating: a[5]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1); c12 = c12.addingProduct(av, b2); c13 = c13.addingProduct(av, b3) }
            do { let av = SIMD16<Float>(repeating: a[6]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1); c22 = c22.addingProduct(av, b2); c23 = c23.addingProduct(av, b3) }
            do { let av = SIMD16<Float>(repeating: a[7]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1); c32 = c32.addingProduct(av, b2); c33 = c33.addingProduct(av, b3) }
        }
        a += 8; b += 128; k -= 2
    }
    if k == 1 {
        // leftovers
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        let b2 = SIMD16<Float>(loadFrom: b + 32)
        let b3 = SIMD16<Float>(loadFrom: b + 48)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1); c02 = c02.addingProduct(av, b2); c03 = c03.addingProduct(av, b3) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1); c12 = c12.addingProduct(av, b2); c13 = c13.addingProduct(av, b3) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1); c22 = c22.addingProduct(av, b2); c23 = c23.addingProduct(av, b3) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1); c32 = c32.addingProduct(av, b2); c33 = c33.addingProduct(av, b3) }
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c01.replace(with: lo, where: c01 .< lo); c01.replace(with: hi, where: c01 .> hi); c01.store(to: c + 0 * ldc + 16)
    c02.replace(with: lo, where: c02 .< lo); c02.replace(with: hi, where: c02 .> hi); c02.store(to: c + 0 * ldc + 32)
    c03.replace(with: lo, where: c03 .< lo); c03.replace(with: hi, where: c03 .> hi); c03.store(to: c + 0 * ldc + 48)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c11.replace(with: lo, where: c11 .< lo); c11.replace(with: hi, where: c11 .> hi); c11.store(to: c + 1 * ldc + 16)
    c12.replace(with: lo, where: c12 .< lo); c12.replace(with: hi, where: c12 .> hi); c12.store(to: c + 1 * ldc + 32)
    c13.replace(with: lo, where: c13 .< lo); c13.replace(with: hi, where: c13 .> hi); c13.store(to: c + 1 * ldc + 48)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c21.replace(with: lo, where: c21 .< lo); c21.replace(with: hi, where: c21 .> hi); c21.store(to: c + 2 * ldc + 16)
    c22.replace(with: lo, where: c22 .< lo); c22.replace(with: hi, where: c22 .> hi); c22.store(to: c + 2 * ldc + 32)
    c23.replace(with: lo, where: c23 .< lo); c23.replace(with: hi, where: c23 .> hi); c23.store(to: c + 2 * ldc + 48)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
    c31.replace(with: lo, where: c31 .< lo); c31.replace(with: hi, where: c31 .> hi); c31.store(to: c + 3 * ldc + 16)
    c32.replace(with: lo, where: c32 .< lo); c32.replace(with: hi, where: c32 .> hi); c32.store(to: c + 3 * ldc + 32)
    c33.replace(with: lo, where: c33 .< lo); c33.replace(with: hi, where: c33 .> hi); c33.store(to: c + 3 * ldc + 48)
}

/// `f32_gemm_3x64_simd16`: `C[3x64] = clamp(bias + A·B)` for one packed panel pair.
///
/// Lanes: 16; tile 3 rows x 4 vectors = 12 accumulators; step: 2 k per
/// main-loop iteration, then one k. `a` is packed `[kc][3]`, `b` is packed `[kc][64]`,
/// `bias` holds 3 values, `c` has row stride `ldc`. Rows and columns past the real
/// matrix are zero in the packing, so there are no leftovers inside the tile: the
/// caller handles partial tiles by passing a scratch tile as `c`. The transposed
/// product's tile for outputs of 9 pixels (3x3 at batch 1), which 4-pixel tiles would pad by a third.
@inline(__always)
public func f32_gemm_3x64_simd16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0]); var c01 = c00; var c02 = c00; var c03 = c00
    var c10 = SIMD16<Float>(repeating: bias[1]); var c11 = c10; var c12 = c10; var c13 = c10
    var c20 = SIMD16<Float>(repeating: bias[2]); var c21 = c20; var c22 = c20; var c23 = c20
    var a = a, b = b, k = kc
    while k >= 2 {
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        let b2 = SIMD16<Float>(loadFrom: b + 32)
        let b3 = SIMD16<Float>(loadFrom: b + 48)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1); c02 = c02.addingProduct(av, b2); c03 = c03.addingProduct(av, b3) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1); c12 = c12.addingProduct(av, b2); c13 = c13.addingProduct(av, b3) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1); c22 = c22.addingProduct(av, b2); c23 = c23.addingProduct(av, b3) }
        do {
            let b0 = SIMD16<Float>(loadFrom: b + 64)
            let b1 = SIMD16<Float>(loadFrom: b + 80)
            let b2 = SIMD16<Float>(loadFrom: b + 96)
            let b3 = SIMD16<Float>(loadFrom: b + 112)
            do { let av = SIMD16<Float>(repeating: a[3]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1); c02 = c02.addingProduct(av, b2); c03 = c03.addingProduct(av, b3) }
            do { let av = SIMD16<Float>(repeating: a[4]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1); c12 = c12.addingProduct(av, b2); c13 = c13.addingProduct(av, b3) }
            do { let av = SIMD16<Float>(repeating: a[5]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1); c22 = c22.addingProduct(av, b2); c23 = c23.addingProduct(av, b3) }
        }
        a += 6; b += 128; k -= 2
    }
    if k == 1 {
        // leftovers
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        let b2 = SIMD16<Float>(loadFrom: b + 32)
        let b3 = SIMD16<Float>(loadFrom: b + 48)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1); c02 = c02.addingProduct(av, b2); c03 = c03.addingProduct(av, b3) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1); c12 = c12.addingProduct(av, b2); c13 = c13.addingProduct(av, b3) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1); c22 = c22.addingProduct(av, b2); c23 = c23.addingProduct(av, b3) }
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c01.replace(with: lo, where: c01 .< lo); c01.replace(with: hi, where: c01 .> hi); c01.store(to: c + 0 * ldc + 16)
    c02.replace(with: lo, where: c02 .< lo); c02.replace(with: hi, where: c02 .> hi); c02.store(to: c + 0 * ldc + 32)
    c03.replace(with: lo, where: c03 .< lo); c03.replace(with: hi, where: c03 .> hi); c03.store(to: c + 0 * ldc + 48)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c11.replace(with: lo, where: c11 .< lo); c11.replace(with: hi, where: c11 .> hi); c11.store(to: c + 1 * ldc + 16)
    c12.replace(with: lo, where: c12 .< lo); c12.replace(with: hi, where: c12 .> hi); c12.store(to: c + 1 * ldc + 32)
    c13.replace(with: lo, where: c13 .< lo); c13.replace(with: hi, where: c13 .> hi); c13.store(to: c + 1 * ldc + 48)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c21.replace(with: lo, where: c21 .< lo); c21.replace(with: hi, where: c21 .> hi); c21.store(to: c + 2 * ldc + 16)
    c22.replace(with: lo, where: c22 .< lo); c22.replace(with: hi, where: c22 .> hi); c22.store(to: c + 2 * ldc + 32)
    c23.replace(with: lo, where: c23 .< lo); c23.replace(with: hi, where: c23 .> hi); c23.store(to: c + 2 * ldc + 48)
}

/// `f32_gemm_9x32_simd16`: `C[9x32] = clamp(bias + A·B)` for one packed panel pair.
///
/// Lanes: 16; tile 9 rows x 2 vectors = 18 accumulators; step: 2 k per
/// main-loop iteration, then one k. `a` is packed `[kc][9]`, `b` is packed `[kc][32]`,
/// `bias` holds 9 values, `c` has row stride `ldc`. Rows and columns past the real
/// matrix are zero in the packing, so there are no leftovers inside the tile: the
/// caller handles partial tiles by passing a scratch tile as `c`. The transposed
/// product's tile for 9-pixel multiples (3x3 and 6x6 outputs at batch 1): every
/// weight vector loaded feeds 9 pixels, so a layer's weights stream once per 9 pixels.
@inline(__always)
public func f32_gemm_9x32_simd16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0]); var c01 = c00
    var c10 = SIMD16<Float>(repeating: bias[1]); var c11 = c10
    var c20 = SIMD16<Float>(repeating: bias[2]); var c21 = c20
    var c30 = SIMD16<Float>(repeating: bias[3]); var c31 = c30
    var c40 = SIMD16<Float>(repeating: bias[4]); var c41 = c40
    var c50 = SIMD16<Float>(repeating: bias[5]); var c51 = c50
    var c60 = SIMD16<Float>(repeating: bias[6]); var c61 = c60
    var c70 = SIMD16<Float>(repeating: bias[7]); var c71 = c70
    var c80 = SIMD16<Float>(repeating: bias[8]); var c81 = c80
    var a = a, b = b, k = kc
    while k >= 2 {
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[6]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[7]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[8]); c80 = c80.addingProduct(av, b0); c81 = c81.addingProduct(av, b1) }
        do {
            let b0 = SIMD16<Float>(loadFrom: b + 32)
            let b1 = SIMD16<Float>(loadFrom: b + 48)
            do { let av = SIMD16<Float>(repeating: a[9]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[10]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[11]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[12]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[13]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[14]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[15]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[16]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[17]); c80 = c80.addingProduct(av, b0); c81 = c81.addingProduct(av, b1) }
        }
        a += 18; b += 64; k -= 2
    }
    if k == 1 {
        // leftovers
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[4]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[5]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[6]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[7]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: a[8]); c80 = c80.addingProduct(av, b0); c81 = c81.addingProduct(av, b1) }
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c01.replace(with: lo, where: c01 .< lo); c01.replace(with: hi, where: c01 .> hi); c01.store(to: c + 0 * ldc + 16)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c11.replace(with: lo, where: c11 .< lo); c11.replace(with: hi, where: c11 .> hi); c11.store(to: c + 1 * ldc + 16)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c21.replace(with: lo, where: c21 .< lo); c21.replace(with: hi, where: c21 .> hi); c21.store(to: c + 2 * ldc + 16)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
    c31.replace(with: lo, where: c31 .< lo); c31.replace(with: hi, where: c31 .> hi); c31.store(to: c + 3 * ldc + 16)
    c40.replace(with: lo, where: c40 .< lo); c40.replace(with: hi, where: c40 .> hi); c40.store(to: c + 4 * ldc + 0)
    c41.replace(with: lo, where: c41 .< lo); c41.replace(with: hi, where: c41 .> hi); c41.store(to: c + 4 * ldc + 16)
    c50.replace(with: lo, where: c50 .< lo); c50.replace(with: hi, where: c50 .> hi); c50.store(to: c + 5 * ldc + 0)
    c51.replace(with: lo, where: c51 .< lo); c51.replace(with: hi, where: c51 .> hi); c51.store(to: c + 5 * ldc + 16)
    c60.replace(with: lo, where: c60 .< lo); c60.replace(with: hi, where: c60 .> hi); c60.store(to: c + 6 * ldc + 0)
    c61.replace(with: lo, where: c61 .< lo); c61.replace(with: hi, where: c61 .> hi); c61.store(to: c + 6 * ldc + 16)
    c70.replace(with: lo, where: c70 .< lo); c70.replace(with: hi, where: c70 .> hi); c70.store(to: c + 7 * ldc + 0)
    c71.replace(with: lo, where: c71 .< lo); c71.replace(with: hi, where: c71 .> hi); c71.store(to: c + 7 * ldc + 16)
    c80.replace(with: lo, where: c80 .< lo); c80.replace(with: hi, where: c80 .> hi); c80.store(to: c + 8 * ldc + 0)
    c81.replace(with: lo, where: c81 .< lo); c81.replace(with: hi, where: c81 .> hi); c81.store(to: c + 8 * ldc + 16)
}

/// `f32_igemm_9x32_simd16`: `C[9x32] = clamp(bias + A·B)` where row `i` of A
/// is read in place through an indirection (XNNPACK's IGEMM): `A[i][k] =
/// rows[i][offsets[k]]`.
///
/// The transposed convolution product for 9-pixel tiles without the im2col
/// copy: row `i` is an output pixel's window origin in the (padded) input and
/// `offsets[k]` the tap's offset from it, so each value is loaded straight into
/// its broadcast. Lanes: 16; tile 9 rows x 2 vectors = 18 accumulators; step: 2
/// k per main-loop iteration, then one k (// leftovers). `b` is packed
/// `[kc][32]`, `bias` holds 9 values, `c` has row stride `ldc`; rows past the
/// real pixels repeat a real one and the caller drops them.
@inline(__always)
public func f32_igemm_9x32_simd16(_ kc: Int, _ rows: UnsafePointer<UnsafePointer<Float>>, _ offsets: UnsafePointer<Int32>,
    _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0]); var c01 = c00
    var c10 = SIMD16<Float>(repeating: bias[1]); var c11 = c10
    var c20 = SIMD16<Float>(repeating: bias[2]); var c21 = c20
    var c30 = SIMD16<Float>(repeating: bias[3]); var c31 = c30
    var c40 = SIMD16<Float>(repeating: bias[4]); var c41 = c40
    var c50 = SIMD16<Float>(repeating: bias[5]); var c51 = c50
    var c60 = SIMD16<Float>(repeating: bias[6]); var c61 = c60
    var c70 = SIMD16<Float>(repeating: bias[7]); var c71 = c70
    var c80 = SIMD16<Float>(repeating: bias[8]); var c81 = c80
    let r0 = rows[0]
    let r1 = rows[1]
    let r2 = rows[2]
    let r3 = rows[3]
    let r4 = rows[4]
    let r5 = rows[5]
    let r6 = rows[6]
    let r7 = rows[7]
    let r8 = rows[8]
    var b = b, offsets = offsets, k = kc
    while k >= 2 {
        let o = Int(offsets[0]), o1 = Int(offsets[1])
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        do { let av = SIMD16<Float>(repeating: r0[o]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r1[o]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r2[o]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r3[o]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r4[o]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r5[o]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r6[o]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r7[o]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r8[o]); c80 = c80.addingProduct(av, b0); c81 = c81.addingProduct(av, b1) }
        do {
            let b0 = SIMD16<Float>(loadFrom: b + 32)
            let b1 = SIMD16<Float>(loadFrom: b + 48)
            do { let av = SIMD16<Float>(repeating: r0[o1]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: r1[o1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: r2[o1]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: r3[o1]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: r4[o1]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: r5[o1]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: r6[o1]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: r7[o1]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: r8[o1]); c80 = c80.addingProduct(av, b0); c81 = c81.addingProduct(av, b1) }
        }
        offsets += 2; b += 64; k -= 2
    }
    if k == 1 {
        // leftovers
        let o = Int(offsets[0])
        let b0 = SIMD16<Float>(loadFrom: b + 0)
        let b1 = SIMD16<Float>(loadFrom: b + 16)
        do { let av = SIMD16<Float>(repeating: r0[o]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r1[o]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r2[o]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r3[o]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r4[o]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r5[o]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r6[o]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r7[o]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
        do { let av = SIMD16<Float>(repeating: r8[o]); c80 = c80.addingProduct(av, b0); c81 = c81.addingProduct(av, b1) }
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c01.replace(with: lo, where: c01 .< lo); c01.replace(with: hi, where: c01 .> hi); c01.store(to: c + 0 * ldc + 16)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c11.replace(with: lo, where: c11 .< lo); c11.replace(with: hi, where: c11 .> hi); c11.store(to: c + 1 * ldc + 16)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c21.replace(with: lo, where: c21 .< lo); c21.replace(with: hi, where: c21 .> hi); c21.store(to: c + 2 * ldc + 16)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
    c31.replace(with: lo, where: c31 .< lo); c31.replace(with: hi, where: c31 .> hi); c31.store(to: c + 3 * ldc + 16)
    c40.replace(with: lo, where: c40 .< lo); c40.replace(with: hi, where: c40 .> hi); c40.store(to: c + 4 * ldc + 0)
    c41.replace(with: lo, where: c41 .< lo); c41.replace(with: hi, where: c41 .> hi); c41.store(to: c + 4 * ldc + 16)
    c50.replace(with: lo, where: c50 .< lo); c50.replace(with: hi, where: c50 .> hi); c50.store(to: c + 5 * ldc + 0)
    c51.replace(with: lo, where: c51 .< lo); c51.replace(with: hi, where: c51 .> hi); c51.store(to: c + 5 * ldc + 16)
    c60.replace(with: lo, where: c60 .< lo); c60.replace(with: hi, where: c60 .> hi); c60.store(to: c + 6 * ldc + 0)
    c61.replace(with: lo, where: c61 .< lo); c61.replace(with: hi, where: c61 .> hi); c61.store(to: c + 6 * ldc + 16)
    c70.replace(with: lo, where: c70 .< lo); c70.replace(with: hi, where: c70 .> hi); c70.store(to: c + 7 * ldc + 0)
    c71.replace(with: lo, where: c71 .< lo); c71.replace(with: hi, where: c71 .> hi); c71.store(to: c + 7 * ldc + 16)
    c80.replace(with: lo, where: c80 .< lo); c80.replace(with: hi, where: c80 .> hi); c80.store(to: c + 8 * ldc + 0)
    c81.replace(with: lo, where: c81 .< lo); c81.replace(with: hi, where: c81 .> hi); c81.store(to: c + 8 * ldc + 16)
}

/// `f32_gemm_8x32c16_simd16`: `C[8x32] = clamp(bias + A·B)` with A blocked by 16 in k.
///
/// Lanes: 16; tile 8 rows x 2 vectors = 16 accumulators; step: 2 k per
/// main-loop iteration, 8 iterations per block of 16 k. `a` is laid out
/// `[kc/16][8][16]`: each row's next 16 k are one vector, which is how the
/// Winograd F(4x4, 3x3) input transform produces them (one 16-channel vector per
/// tile), so it stores without transposing and the broadcasts of a block
/// share one base pointer. `b` is packed `[kc][32]`, `bias` holds 8 values,
/// `c` has row stride `ldc`. `kc` is a multiple of 16 (zero channels pad it), so
/// there are no leftovers; rows and columns past the real matrix are ignored by
/// the caller.
@inline(__always)
public func f32_gemm_8x32c16_simd16(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ minValue: Float, _ maxValue: Float) {
    var c00 = SIMD16<Float>(repeating: bias[0]); var c01 = c00
    var c10 = SIMD16<Float>(repeating: bias[1]); var c11 = c10
    var c20 = SIMD16<Float>(repeating: bias[2]); var c21 = c20
    var c30 = SIMD16<Float>(repeating: bias[3]); var c31 = c30
    var c40 = SIMD16<Float>(repeating: bias[4]); var c41 = c40
    var c50 = SIMD16<Float>(repeating: bias[5]); var c51 = c50
    var c60 = SIMD16<Float>(repeating: bias[6]); var c61 = c60
    var c70 = SIMD16<Float>(repeating: bias[7]); var c71 = c70
    var block = a, b = b, k = kc
    while k >= 16 {
        var a = block
        for _ in 0..<8 {
            let b0 = SIMD16<Float>(loadFrom: b + 0)
            let b1 = SIMD16<Float>(loadFrom: b + 16)
            do { let av = SIMD16<Float>(repeating: a[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[16]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[32]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[48]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[64]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[80]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[96]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
            do { let av = SIMD16<Float>(repeating: a[112]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
            do {
                let b0 = SIMD16<Float>(loadFrom: b + 32)
                let b1 = SIMD16<Float>(loadFrom: b + 48)
                do { let av = SIMD16<Float>(repeating: a[1]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1) }
                do { let av = SIMD16<Float>(repeating: a[17]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1) }
                do { let av = SIMD16<Float>(repeating: a[33]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1) }
                do { let av = SIMD16<Float>(repeating: a[49]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1) }
                do { let av = SIMD16<Float>(repeating: a[65]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1) }
                do { let av = SIMD16<Float>(repeating: a[81]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1) }
                do { let av = SIMD16<Float>(repeating: a[97]); c60 = c60.addingProduct(av, b0); c61 = c61.addingProduct(av, b1) }
                do { let av = SIMD16<Float>(repeating: a[113]); c70 = c70.addingProduct(av, b0); c71 = c71.addingProduct(av, b1) }
            }
            a += 2; b += 64
        }
        block += 128; k -= 16
    }
    let lo = SIMD16<Float>(repeating: minValue), hi = SIMD16<Float>(repeating: maxValue)
    c00.replace(with: lo, where: c00 .< lo); c00.replace(with: hi, where: c00 .> hi); c00.store(to: c + 0 * ldc + 0)
    c01.replace(with: lo, where: c01 .< lo); c01.replace(with: hi, where: c01 .> hi); c01.store(to: c + 0 * ldc + 16)
    c10.replace(with: lo, where: c10 .< lo); c10.replace(with: hi, where: c10 .> hi); c10.store(to: c + 1 * ldc + 0)
    c11.replace(with: lo, where: c11 .< lo); c11.replace(with: hi, where: c11 .> hi); c11.store(to: c + 1 * ldc + 16)
    c20.replace(with: lo, where: c20 .< lo); c20.replace(with: hi, where: c20 .> hi); c20.store(to: c + 2 * ldc + 0)
    c21.replace(with: lo, where: c21 .< lo); c21.replace(with: hi, where: c21 .> hi); c21.store(to: c + 2 * ldc + 16)
    c30.replace(with: lo, where: c30 .< lo); c30.replace(with: hi, where: c30 .> hi); c30.store(to: c + 3 * ldc + 0)
    c31.replace(with: lo, where: c31 .< lo); c31.replace(with: hi, where: c31 .> hi); c31.store(to: c + 3 * ldc + 16)
    c40.replace(with: lo, where: c40 .< lo); c40.replace(with: hi, where: c40 .> hi); c40.store(to: c + 4 * ldc + 0)
    c41.replace(with: lo, where: c41 .< lo); c41.replace(with: hi, where: c41 .> hi); c41.store(to: c + 4 * ldc + 16)
    c50.replace(with: lo, where: c50 .< lo); c50.replace(with: hi, where: c50 .> hi); c50.store(to: c + 5 * ldc + 0)
    c51.replace(with: lo, where: c51 .< lo); c51.replace(with: hi, where: c51 .> hi); c51.store(to: c + 5 * ldc + 16)
    c60.replace(with: lo, where: c60 .< lo); c60.replace(with: hi, where: c60 .> hi); c60.store(to: c + 6 * ldc + 0)
    c61.replace(with: lo, where: c61 .< lo); c61.replace(with: hi, where: c61 .> hi); c61.store(to: c + 6 * ldc + 16)
    c70.replace(with: lo, where: c70 .< lo); c70.replace(with: hi, where: c70 .> hi); c70.store(to: c + 7 * ldc + 0)
    c71.replace(with: lo, where: c71 .< lo); c71.replace(with: hi, where: c71 .> hi); c71.store(to: c + 7 * ldc + 16)
}
