// Convolution gradients as GEMMs on unfolded (im2col) samples.
//
// Per sample, with Y = W · col(X) (rows: output channels, columns: output pixels):
//   dW += dY · col(X)ᵀ          (M x K, reduction over the pixels)
//   dcol = Wᵀ · dY, dX = col2im(dcol)   (K x P, reduction over the output channels)
//   db += row sums of dY
// Samples run one after another, the threads split each GEMM; the unfolded
// sample (K x P floats) is the only large scratch.

public enum ConvolutionBackward {
    /// Scratch floats ``f32_conv_backward_weights_simd16`` and ``f32_conv_backward_data_simd16`` need.
    public static func scratchCount(geometry g: ConvGeometry, threads: Int) -> Int {
        let k = g.groupK, p = g.outH * g.outW, m = g.groupOutChannels
        return k * p + max(TrainingGemm.scratchCount(m: m, n: k, k: p, threads: threads),
                           TrainingGemm.scratchCount(m: k, n: p, k: m, threads: threads))
    }

    /// `f32_im2col_simd16`: unfolds one sample's group `group` (input `[C][H][W]`) into
    /// `col[K][P]`, `K = C/groups * kh * kw` taps by `P = outH * outW` pixels; padding reads zero.
    ///
    /// Lanes: 16 along each output row at stride 1 (one vector per step, then leftovers);
    /// other strides copy lane by lane. Taps (rows of `col`) are split across `threads`.
    public static func f32_im2col_simd16(_ input: UnsafePointer<Float>, geometry g: ConvGeometry, group: Int,
                                         into col: UnsafeMutablePointer<Float>, threads: Int = 1) {
        let oh = g.outH, ow = g.outW, p = oh * ow
        let plane = g.inH * g.inW
        let cinG = g.groupInChannels, taps = g.kernelH * g.kernelW
        let k = cinG * taps
        let tasks = max(1, min(threads, k))
        parallelFor(tasks) { t in
            for kk in sliceRange(t, of: tasks, count: k) {
                let ci = kk / taps, ky = (kk % taps) / g.kernelW, kx = kk % g.kernelW
                let src = input + (group * cinG + ci) * plane
                let dstRow = col + kk * p
                let dy = ky * g.dilationH - g.padTop, dx = kx * g.dilationW - g.padLeft
                // Output columns whose input column is inside: lo ..< hi.
                let (lo, hi) = validRange(offset: dx, stride: g.strideW, size: g.inW, count: ow)
                for oy in 0..<oh {
                    let d = dstRow + oy * ow
                    let iy = oy * g.strideH + dy
                    if iy < 0 || iy >= g.inH || lo >= hi {
                        d.update(repeating: 0, count: ow)
                        continue
                    }
                    if lo > 0 { d.update(repeating: 0, count: lo) }
                    let row = src + iy * g.inW + dx
                    var x = lo
                    if g.strideW == 1 {
                        while x + 16 <= hi { SIMD16<Float>(loadFrom: row + x).store(to: d + x); x += 16 }
                    }
                    // leftovers
                    while x < hi { d[x] = row[x * g.strideW]; x += 1 }
                    if hi < ow { (d + hi).update(repeating: 0, count: ow - hi) }
                }
            }
        }
    }

    /// `f32_col2im_acc_simd16`: the adjoint of ``f32_im2col_simd16(_:geometry:group:into:threads:)``: adds
    /// `col[K][P]` back into one sample's group of `dX` (`[C][H][W]`); padding positions are dropped.
    ///
    /// Lanes: 16 along each output row at stride 1 (one vector per step, then leftovers).
    /// Input channels (each owning its taps' rows, so no two threads add to one plane) are
    /// split across `threads`.
    public static func f32_col2im_acc_simd16(_ col: UnsafePointer<Float>, geometry g: ConvGeometry, group: Int,
                                             into dx: UnsafeMutablePointer<Float>, threads: Int = 1) {
        let oh = g.outH, ow = g.outW, p = oh * ow
        let plane = g.inH * g.inW
        let cinG = g.groupInChannels
        let tasks = max(1, min(threads, cinG))
        parallelFor(tasks) { t in
            for ci in sliceRange(t, of: tasks, count: cinG) {
                let dst = dx + (group * cinG + ci) * plane
                var kk = ci * g.kernelH * g.kernelW
                for ky in 0..<g.kernelH {
                    for kx in 0..<g.kernelW {
                        let srcRow = col + kk * p
                        let dy = ky * g.dilationH - g.padTop, dxo = kx * g.dilationW - g.padLeft
                        let (lo, hi) = validRange(offset: dxo, stride: g.strideW, size: g.inW, count: ow)
                        kk += 1
                        if lo >= hi { continue }
                        for oy in 0..<oh {
                            let iy = oy * g.strideH + dy
                            if iy < 0 || iy >= g.inH { continue }
                            let s = srcRow + oy * ow
                            let row = dst + iy * g.inW + dxo
                            var x = lo
                            if g.strideW == 1 {
                                while x + 16 <= hi {
                                    (SIMD16<Float>(loadFrom: row + x) + SIMD16<Float>(loadFrom: s + x)).store(to: row + x)
                                    x += 16
                                }
                            }
                            // leftovers
                            while x < hi { row[x * g.strideW] += s[x]; x += 1 }
                        }
                    }
                }
            }
        }
    }

    /// Output positions `t` in `lo ..< hi` (within `0 ..< count`) with `0 <= offset + t * stride < size`.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, size: Int, count: Int) -> (Int, Int) {
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let hi = offset >= size ? 0 : (size - offset + stride - 1) / stride
        let l = min(lo, count)
        return (l, max(min(hi, count), l))
    }

    /// `f32_conv_backward_weights_simd16`: `dW = Σₙ dYₙ · col(Xₙ)ᵀ` (OIHW, overwritten) and
    /// `dBias = Σₙ row sums of dYₙ` (overwritten) over `batch` samples.
    ///
    /// `input` `[batch][Cin][H][W]`, `outputGrad` `[batch][Cout][outH][outW]` (already
    /// masked by the activation's derivative). `scratch`: ``scratchCount(geometry:threads:)`` floats.
    public static func f32_conv_backward_weights_simd16(input: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
                                                        batch: Int, geometry g: ConvGeometry,
                                                        weightGrad: UnsafeMutablePointer<Float>,
                                                        biasGrad: UnsafeMutablePointer<Float>,
                                                        scratch: UnsafeMutablePointer<Float>, threads: Int,
                                                        path: WeightGradientPath = .automatic) {
        let k = g.groupK, p = g.outH * g.outW, coutG = g.groupOutChannels
        let inSample = g.inChannels * g.inH * g.inW, outSample = g.outChannels * p
        let col = scratch, gemmScratch = scratch + k * p
        let useDot = prefersDotProducts(geometry: g, path: path)
        for n in 0..<batch {
            for grp in 0..<g.groups {
                f32_im2col_simd16(input + n * inSample, geometry: g, group: grp, into: col, threads: threads)
                if useDot {
                    TrainingGemm.f32_gemm_dot_4x4_simd16(m: coutG, n: k, k: p,
                                                         a: outputGrad + n * outSample + grp * coutG * p, lda: p,
                                                         b: col, ldb: p, c: weightGrad + grp * coutG * k, ldc: k,
                                                         accumulate: n > 0, threads: threads)
                } else {
                    TrainingGemm.f32_gemm_simd16(m: coutG, n: k, k: p,
                                                 a: outputGrad + n * outSample + grp * coutG * p, lda: p, transA: false,
                                                 b: col, ldb: p, transB: true,
                                                 c: weightGrad + grp * coutG * k, ldc: k, accumulate: n > 0,
                                                 scratch: gemmScratch, threads: threads)
                }
            }
        }
        f32_bias_grad_simd16(outputGrad, batch: batch, channels: g.outChannels, spatial: p, into: biasGrad, threads: threads)
    }

    /// How ``f32_conv_backward_weights_simd16(input:outputGrad:batch:geometry:weightGrad:biasGrad:scratch:threads:path:)``
    /// multiplies the output gradients by the unfolded input.
    public enum WeightGradientPath: Sendable, CaseIterable {
        /// Whichever of the two the geometry favours.
        case automatic
        /// The packed GEMM (``TrainingGemm/f32_gemm_simd16(m:n:k:a:lda:transA:b:ldb:transB:c:ldc:accumulate:scratch:threads:variant:)``).
        case packed
        /// Dot products along the pixels (``TrainingGemm/f32_gemm_dot_4x4_simd16(m:n:k:a:lda:b:ldb:c:ldc:accumulate:threads:)``).
        case dotProducts
    }

    /// Dot products pay off when both matrices are small next to the pixel count: packing
    /// them would then cost as much as multiplying (the first layer: 96 x 147 taps over 3,136 pixels).
    static func prefersDotProducts(geometry g: ConvGeometry, path: WeightGradientPath) -> Bool {
        switch path {
        case .packed: return false
        case .dotProducts: return true
        case .automatic:
            let p = g.outH * g.outW
            return p >= 4 * max(g.groupOutChannels, g.groupK)
        }
    }

    /// `f32_conv_backward_data_simd16`: `dX = col2im(Wᵀ · dYₙ)` per sample (overwritten).
    /// `scratch`: ``scratchCount(geometry:threads:)`` floats.
    public static func f32_conv_backward_data_simd16(outputGrad: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                                     batch: Int, geometry g: ConvGeometry,
                                                     inputGrad: UnsafeMutablePointer<Float>,
                                                     scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let k = g.groupK, p = g.outH * g.outW, coutG = g.groupOutChannels
        let inSample = g.inChannels * g.inH * g.inW, outSample = g.outChannels * p
        let col = scratch, gemmScratch = scratch + k * p
        inputGrad.update(repeating: 0, count: batch * inSample)
        for n in 0..<batch {
            for grp in 0..<g.groups {
                TrainingGemm.f32_gemm_simd16(m: k, n: p, k: coutG,
                                             a: weights + grp * coutG * k, lda: k, transA: true,
                                             b: outputGrad + n * outSample + grp * coutG * p, ldb: p, transB: false,
                                             c: col, ldc: p, accumulate: false,
                                             scratch: gemmScratch, threads: threads)
                f32_col2im_acc_simd16(col, geometry: g, group: grp, into: inputGrad + n * inSample, threads: threads)
            }
        }
    }

    /// `f32_bias_grad_simd16`: `db[c] = Σₙ Σᵢ dY[n][c][i]` (overwritten); channels split across threads.
    ///
    /// Lanes: 16; step: 64 values (4 accumulators), one vector, leftovers; sums in Float per plane.
    public static func f32_bias_grad_simd16(_ grad: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                                            into db: UnsafeMutablePointer<Float>, threads: Int) {
        let tasks = max(1, min(threads, channels))
        parallelFor(tasks) { t in
            for c in sliceRange(t, of: tasks, count: channels) {
                var total: Float = 0
                for n in 0..<batch { total += f32_sum_simd16(grad + (n * channels + c) * spatial, count: spatial) }
                db[c] = total
            }
        }
    }
}

/// `f32_sum_simd16`: the sum of `count` floats.
///
/// Lanes: 16; step: 64 values (4 separate accumulators), one vector, leftovers.
@inline(__always)
public func f32_sum_simd16(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var s0 = SIMD16<Float>(), s1 = s0, s2 = s0, s3 = s0
    var i = 0
    while i + 64 <= count {
        s0 += SIMD16(loadFrom: x + i); s1 += SIMD16(loadFrom: x + i + 16)
        s2 += SIMD16(loadFrom: x + i + 32); s3 += SIMD16(loadFrom: x + i + 48)
        i += 64
    }
    while i + 16 <= count { s0 += SIMD16(loadFrom: x + i); i += 16 }
    var s = ((s0 + s1) + (s2 + s3)).sum()
    // leftovers
    while i < count { s += x[i]; i += 1 }
    return s
}
