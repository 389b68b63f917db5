public enum NormalizationBackward {
    /// Scratch floats ``f32_lrn_backward_simd16`` needs per thread.
    public static func lrnScratchPerThread(channels: Int, spatial: Int) -> Int { (channels + 2) * spatial }

    /// `f32_lrn_backward_simd16`: the input gradient of ``Normalization/f32_lrn_simd16(_:_:batch:channels:spatial:size:alpha:beta:bias:scratch:threads:)``
    /// (the same formula: `y_c = x_c · d_c^-β`, `d_c = bias + alpha/size · Σ_{j∈win(c)} x_j²`,
    /// `win(c) = c-lo ... c+hi`, `lo = (size-1)/2`):
    /// `dx_j = dy_j · d_j^-β − 2β·alpha/size · x_j · Σ_{c: j∈win(c)} dy_c · x_c · d_c^(-β-1)`.
    /// `inputGrad` is overwritten; `d` is recomputed from `input`, so the forward output is not needed.
    ///
    /// Lanes: 16 along the plane (one vector per step, then leftovers); the window sums
    /// use the elementwise 64-per-step kernels. Samples are split across `threads`;
    /// `scratch` holds `threads * lrnScratchPerThread(channels:spatial:)` floats.
    public static func f32_lrn_backward_simd16(input: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
                                               batch: Int, channels: Int, spatial: Int,
                                               size: Int, alpha: Float, beta: Float, bias: Float,
                                               inputGrad: UnsafeMutablePointer<Float>,
                                               scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let lo = (size - 1) / 2, hi = size - 1 - lo
        let tasks = max(1, min(threads, batch))
        let scale = alpha / Float(size)
        let perThread = lrnScratchPerThread(channels: channels, spatial: spatial)
        parallelFor(tasks) { t in
            let acc = scratch + t * perThread
            let sum = acc + spatial
            let terms = sum + spatial  // [channels][spatial]: dy · x · d^(-β-1)
            for n in sliceRange(t, of: tasks, count: batch) {
                let x = input + n * channels * spatial, dy = outputGrad + n * channels * spatial
                let dx = inputGrad + n * channels * spatial
                // Pass 1: d per channel; the direct term into dx, the cross term into `terms`.
                for c in 0..<channels {
                    acc.update(repeating: 0, count: spatial)
                    for cc in max(0, c - lo)...min(channels - 1, c + hi) {
                        f32_vsqr_acc_simd16(spatial, x + cc * spatial, acc)
                    }
                    let xc = x + c * spatial, gc = dy + c * spatial, dc = dx + c * spatial, tc = terms + c * spatial
                    let vb = SIMD16<Float>(repeating: bias), vs = SIMD16<Float>(repeating: scale)
                    var i = 0
                    while i + 16 <= spatial {
                        let d = vb.addingProduct(vs, SIMD16(loadFrom: acc + i))
                        let p: SIMD16<Float>
                        if beta == 0.75 {
                            let r = d.squareRoot()
                            p = 1 / (r * r.squareRoot())
                        } else {
                            var q = SIMD16<Float>()
                            for l in 0..<16 { q[l] = _powf(d[l], -beta) }
                            p = q
                        }
                        let g = SIMD16<Float>(loadFrom: gc + i)
                        (g * p).store(to: dc + i)
                        (g * SIMD16<Float>(loadFrom: xc + i) * p / d).store(to: tc + i)
                        i += 16
                    }
                    // leftovers
                    while i < spatial {
                        let d = bias + scale * acc[i]
                        let p = _powf(d, -beta)
                        dc[i] = gc[i] * p
                        tc[i] = gc[i] * xc[i] * p / d
                        i += 1
                    }
                }
                // Pass 2: channel j receives the terms of every c whose window holds j: c in j-hi ... j+lo.
                let k = -2 * beta * scale
                for j in 0..<channels {
                    let first = max(0, j - hi), last = min(channels - 1, j + lo)
                    sum.update(from: terms + first * spatial, count: spatial)
                    if first < last {
                        for c in (first + 1)...last {
                            f32_vadd_clamp_simd16(spatial, sum, terms + c * spatial, sum, -.infinity)
                        }
                    }
                    let xj = x + j * spatial, dj = dx + j * spatial
                    let vk = SIMD16<Float>(repeating: k)
                    var i = 0
                    while i + 16 <= spatial {
                        let v = SIMD16<Float>(loadFrom: dj + i)
                            .addingProduct(vk * SIMD16<Float>(loadFrom: xj + i), SIMD16<Float>(loadFrom: sum + i))
                        v.store(to: dj + i)
                        i += 16
                    }
                    // leftovers
                    while i < spatial { dj[i] += k * xj[i] * sum[i]; i += 1 }
                }
            }
        }
    }
}
