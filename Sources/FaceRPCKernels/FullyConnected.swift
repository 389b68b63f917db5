/// `f32_fc_4x4_simd16`: `y[n][o] = clamp(bias[o] + x[n] · W[o])` for output features in `rows`.
///
/// Lanes: 16; register block 4 features x 4 samples = 16 accumulators, one
/// vector of `k` per main-loop step, scalar leftovers for `inFeatures % 16`.
/// Missing rows or samples of a partial block point at the last real one and
/// their results are dropped, so the block never reads out of bounds.
/// Weights are `[outFeatures][inFeatures]` as in ``Reference/fullyConnected(_:batch:inFeatures:outFeatures:weights:bias:relu:)``.
public func f32_fc_4x4_simd16(_ input: UnsafePointer<Float>, _ batch: Int, _ inF: Int, _ outF: Int, _ rows: Range<Int>,
                              _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                              _ output: UnsafeMutablePointer<Float>, _ relu: Bool) {
    var n0 = 0
    while n0 < batch {
        let x0 = input + n0 * inF, x1 = input + min(n0 + 1, batch - 1) * inF
        let x2 = input + min(n0 + 2, batch - 1) * inF, x3 = input + min(n0 + 3, batch - 1) * inF
        var o0 = rows.lowerBound
        while o0 < rows.upperBound {
            let last = rows.upperBound - 1
            let w0 = weights + o0 * inF, w1 = weights + min(o0 + 1, last) * inF
            let w2 = weights + min(o0 + 2, last) * inF, w3 = weights + min(o0 + 3, last) * inF
            var a00 = SIMD16<Float>(), a01 = a00, a02 = a00, a03 = a00
            var a10 = a00, a11 = a00, a12 = a00, a13 = a00
            var a20 = a00, a21 = a00, a22 = a00, a23 = a00
            var a30 = a00, a31 = a00, a32 = a00, a33 = a00
            var k = 0
            while k + 16 <= inF {
                let vx0 = SIMD16<Float>(loadFrom: x0 + k), vx1 = SIMD16<Float>(loadFrom: x1 + k)
                let vx2 = SIMD16<Float>(loadFrom: x2 + k), vx3 = SIMD16<Float>(loadFrom: x3 + k)
                let vw0 = SIMD16<Float>(loadFrom: w0 + k)
                a00 = a00.addingProduct(vw0, vx0); a01 = a01.addingProduct(vw0, vx1)
                a02 = a02.addingProduct(vw0, vx2); a03 = a03.addingProduct(vw0, vx3)
                let vw1 = SIMD16<Float>(loadFrom: w1 + k)
                a10 = a10.addingProduct(vw1, vx0); a11 = a11.addingProduct(vw1, vx1)
                a12 = a12.addingProduct(vw1, vx2); a13 = a13.addingProduct(vw1, vx3)
                let vw2 = SIMD16<Float>(loadFrom: w2 + k)
                a20 = a20.addingProduct(vw2, vx0); a21 = a21.addingProduct(vw2, vx1)
                a22 = a22.addingProduct(vw2, vx2); a23 = a23.addingProduct(vw2, vx3)
                let vw3 = SIMD16<Float>(loadFrom: w3 + k)
                a30 = a30.addingProduct(vw3, vx0); a31 = a31.addingProduct(vw3, vx1)
                a32 = a32.addingProduct(vw3, vx2); a33 = a33.addingProduct(vw3, vx3)
                k += 16
            }
            let sums: [[SIMD16<Float>]] = [[a00, a01, a02, a03], [a10, a11, a12, a13],
                                           [a20, a21, a22, a23], [a30, a31, a32, a33]]
            let ws = [w0, w1, w2, w3], xs = [x0, x1, x2, x3]
            for r in 0..<min(4, rows.upperBound - o0) {
                for s in 0..<min(4, batch - n0) {
                    var v = bias[o0 + r] + sums[r][s].sum()
                    // leftovers
                    for kk in k..<inF { v += ws[r][kk] * xs[s][kk] }
                    output[(n0 + s) * outF + o0 + r] = relu ? max(v, 0) : v
                }
            }
            o0 += 4
        }
        n0 += 4
    }
}

/// `f32_fc_1x1_simd8`: the same contract as ``f32_fc_4x4_simd16(_:_:_:_:_:_:_:_:_:)``, one
/// feature and one sample at a time.
///
/// Lanes: 8; step: 32 values of `k` (4 vectors, 4 separate accumulators) in the
/// main loop, then one vector, then scalar leftovers.
public func f32_fc_1x1_simd8(_ input: UnsafePointer<Float>, _ batch: Int, _ inF: Int, _ outF: Int, _ rows: Range<Int>,
                             _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                             _ output: UnsafeMutablePointer<Float>, _ relu: Bool) {
    for n in 0..<batch {
        let x = input + n * inF
        for o in rows {
            let w = weights + o * inF
            var s0 = SIMD8<Float>(), s1 = s0, s2 = s0, s3 = s0
            var k = 0
            while k + 32 <= inF {
                s0 = s0.addingProduct(SIMD8(loadFrom: w + k), SIMD8(loadFrom: x + k))
                s1 = s1.addingProduct(SIMD8(loadFrom: w + k + 8), SIMD8(loadFrom: x + k + 8))
                s2 = s2.addingProduct(SIMD8(loadFrom: w + k + 16), SIMD8(loadFrom: x + k + 16))
                s3 = s3.addingProduct(SIMD8(loadFrom: w + k + 24), SIMD8(loadFrom: x + k + 24))
                k += 32
            }
            while k + 8 <= inF {
                s0 = s0.addingProduct(SIMD8(loadFrom: w + k), SIMD8(loadFrom: x + k))
                k += 8
            }
            var v = bias[o] + ((s0 + s1) + (s2 + s3)).sum()
            // leftovers
            while k < inF { v += w[k] * x[k]; k += 1 }
            output[n * outF + o] = relu ? max(v, 0) : v
        }
    }
}
