public enum PoolingBackward {
    /// `f32_maxpool_backward_simd16`: routes each output gradient to the first (row-major)
    /// input of its window that equals the window's maximum, as PyTorch's CPU max pooling
    /// does; `inputGrad` is overwritten. `output` is the forward result on `input`.
    ///
    /// Lanes: 16 consecutive outputs of a row, for unpadded windows at stride 1 or 2
    /// whose 16-wide (32-wide at stride 2) loads stay inside the row; a "found" mask
    /// keeps only the first match per output, and each tap's hits are added into the
    /// input row in one masked vector update, taps in order, so overlapping windows
    /// accumulate correctly. Leftover outputs (and padded or other geometries) run one
    /// at a time over their clipped window. Planes are split across `threads`.
    public static func f32_maxpool_backward_simd16(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                                                   outputGrad: UnsafePointer<Float>, batch: Int, geometry g: PoolGeometry,
                                                   inputGrad: UnsafeMutablePointer<Float>, threads: Int) {
        let oh = g.outH, ow = g.outW, inH = g.inH, inW = g.inW
        let planes = batch * g.channels
        let tasks = max(1, min(threads, planes))
        let sw = g.strideW, kh = g.kernelH, kw = g.kernelW
        let unpadded = g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0
        let vector = unpadded && (sw == 1 || sw == 2)
        parallelFor(tasks) { t in
            for plane in sliceRange(t, of: tasks, count: planes) {
                let x = input + plane * inH * inW, dx = inputGrad + plane * inH * inW
                let y = output + plane * oh * ow, dy = outputGrad + plane * oh * ow
                dx.update(repeating: 0, count: inH * inW)
                for oy in 0..<oh {
                    var ox = 0
                    if vector && oy * g.strideH + kh <= inH {
                        let zero = SIMD16<Float>()
                        // The last tap's load ends at ox*sw + kw - 1 + 16*sw.
                        while ox + 16 <= ow && ox * sw + kw - 1 + 16 * sw <= inW {
                            let best = SIMD16<Float>(loadFrom: y + oy * ow + ox)
                            let grad = SIMD16<Float>(loadFrom: dy + oy * ow + ox)
                            var found = SIMDMask<SIMD16<Int32>>(repeating: false)
                            for ky in 0..<kh {
                                let row = (oy * g.strideH + ky) * inW + ox * sw
                                for kx in 0..<kw {
                                    let p = row + kx
                                    if sw == 1 {
                                        let hit = (SIMD16<Float>(loadFrom: x + p) .== best) .& .!found
                                        found = found .| hit
                                        (SIMD16<Float>(loadFrom: dx + p) + zero.replacing(with: grad, where: hit)).store(to: dx + p)
                                    } else {
                                        let v = UnsafeRawPointer(x + p).loadUnaligned(as: SIMD32<Float>.self).evenHalf
                                        let hit = (v .== best) .& .!found
                                        found = found .| hit
                                        var d = UnsafeRawPointer(dx + p).loadUnaligned(as: SIMD32<Float>.self)
                                        d.evenHalf += zero.replacing(with: grad, where: hit)
                                        UnsafeMutableRawPointer(dx + p).storeBytes(of: d, as: SIMD32<Float>.self)
                                    }
                                }
                            }
                            ox += 16
                        }
                    }
                    // leftovers
                    while ox < ow {
                        let y0 = oy * g.strideH - g.padTop, x0 = ox * sw - g.padLeft
                        let best = y[oy * ow + ox]
                        var at = -1
                        search: for iy in max(y0, 0)..<min(y0 + kh, inH) {
                            for ix in max(x0, 0)..<min(x0 + kw, inW) where x[iy * inW + ix] == best {
                                at = iy * inW + ix
                                break search
                            }
                        }
                        if at >= 0 { dx[at] += dy[oy * ow + ox] }
                        ox += 1
                    }
                }
            }
        }
    }
}
