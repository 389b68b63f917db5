/// `f32_maxpool_simd16` / `f32_avgpool_simd16`: pooling of `batch * channels` planes.
///
/// Per output row, the valid input rows of the window are first reduced
/// vertically into one row with the 16-lane elementwise kernels (their loop
/// shape: 4 vectors per step, one vector, leftovers); the horizontal window
/// then reduces that row with the pooling stride. Planes are split across
/// `threads`.
public enum Pooling {
    public static func f32_maxpool_simd16(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                          batch: Int, geometry g: PoolGeometry, threads: Int) {
        pool(input, output, batch: batch, geometry: g, threads: threads, max: true)
    }

    public static func f32_avgpool_simd16(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                          batch: Int, geometry g: PoolGeometry, threads: Int) {
        pool(input, output, batch: batch, geometry: g, threads: threads, max: false)
    }

    @inline(__always)
    private static func pool(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                             batch: Int, geometry g: PoolGeometry, threads: Int, max isMax: Bool) {
        let oh = g.outH, ow = g.outW, inH = g.inH, inW = g.inW
        let planes = batch * g.channels
        let tasks = Swift.max(1, Swift.min(threads, planes))
        parallelFor(tasks) { t in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: inW) { rowBuf in
                let row = rowBuf.baseAddress!
                for plane in sliceRange(t, of: tasks, count: planes) {
                    let src = input + plane * inH * inW
                    let dst = output + plane * oh * ow
                    for y in 0..<oh {
                        let y0 = y * g.strideH - g.padTop
                        let ya = Swift.max(y0, 0), yb = Swift.min(y0 + g.kernelH, inH)
                        let yPadded = Swift.min(y0 + g.kernelH, inH + g.padBottom) - y0
                        row.update(from: src + ya * inW, count: inW)
                        if ya + 1 < yb {
                            for iy in (ya + 1)..<yb {
                                if isMax {
                                    f32_vmax_simd16(inW, row, src + iy * inW, row)
                                } else {
                                    f32_vadd_clamp_simd16(inW, row, src + iy * inW, row, -.infinity)
                                }
                            }
                        }
                        for x in 0..<ow {
                            let x0 = x * g.strideW - g.padLeft
                            let xa = Swift.max(x0, 0), xb = Swift.min(x0 + g.kernelW, inW)
                            if isMax {
                                var m = -Float.infinity
                                for ix in xa..<xb { m = Swift.max(m, row[ix]) }
                                dst[y * ow + x] = m
                            } else {
                                var s: Float = 0
                                for ix in xa..<xb { s += row[ix] }
                                let xPadded = Swift.min(x0 + g.kernelW, inW + g.padRight) - x0
                                let count = g.countIncludePad ? yPadded * xPadded : (yb - ya) * (xb - xa)
                                dst[y * ow + x] = s / Float(Swift.max(count, 1))
                            }
                        }
                    }
                }
            }
        }
    }

    /// `f32_gavgpool_simd16`: mean of each `spatial`-long plane.
    ///
    /// Lanes: 16; step: 64 values (4 separate accumulators), one vector, leftovers.
    public static func f32_gavgpool_simd16(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                           planes: Int, spatial: Int) {
        for p in 0..<planes {
            let x = input + p * spatial
            var s0 = SIMD16<Float>(), s1 = s0, s2 = s0, s3 = s0
            var i = 0
            while i + 64 <= spatial {
                s0 += SIMD16(loadFrom: x + i); s1 += SIMD16(loadFrom: x + i + 16)
                s2 += SIMD16(loadFrom: x + i + 32); s3 += SIMD16(loadFrom: x + i + 48)
                i += 64
            }
            while i + 16 <= spatial { s0 += SIMD16(loadFrom: x + i); i += 16 }
            var s = ((s0 + s1) + (s2 + s3)).sum()
            // leftovers
            while i < spatial { s += x[i]; i += 1 }
            output[p] = s / Float(spatial)
        }
    }
}
