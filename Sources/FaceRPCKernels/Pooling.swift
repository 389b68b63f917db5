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
        // Windows that start inside the input, stride 1 or 2 across: the
        // horizontal window runs 16 outputs per vector. Average pooling needs
        // every window inside the input and unpadded, so that all have the same
        // size. Max pooling also takes last windows that overhang the bottom or
        // right edge (ceil mode, or padding there; padding never wins a max):
        // it reduces the rows that exist and reads -inf past the row's end.
        // MTCNN's R- and O-net pool that way.
        let windowsInside = (ow - 1) * g.strideW + g.kernelW <= inW && (oh - 1) * g.strideH + g.kernelH <= inH
        let windowsStartInside = (ow - 1) * g.strideW < inW && (oh - 1) * g.strideH < inH
        let vectorRows = g.padTop == 0 && g.padLeft == 0 && (g.strideW == 1 || g.strideW == 2)
            && (isMax ? windowsStartInside : windowsInside && g.padBottom == 0 && g.padRight == 0)
        // The vector path reads whole 16-output blocks (32 inputs at stride 2) past the
        // row's end; the row buffer is long enough that those reads stay inside it.
        let blocks = (ow + 15) / 16
        let capacity = vectorRows ? Swift.max(inW, (blocks - 1) * 16 * g.strideW + g.kernelW - 1 + 16 * g.strideW) : inW
        // Every window inside the input and unpadded (the age net's 3x3/2 max pool,
        // its 2x2/2 average pools): windows read the planes directly, no row buffer.
        if vectorRows && windowsInside && g.padBottom == 0 && g.padRight == 0 {
            parallelFor(tasks) { t in
                directPool(input, output, planes: sliceRange(t, of: tasks, count: planes), totalPlanes: planes,
                           geometry: g, max: isMax)
            }
            return
        }
        parallelFor(tasks) { t in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: capacity) { rowBuf in
                let row = rowBuf.baseAddress!
                if vectorRows {
                    // Past the row's end: lanes of the last block that are not
                    // stored, and for max pooling the overhang of a last window.
                    row.initialize(repeating: isMax ? -.infinity : 0, count: capacity)
                    vectorPool(input, output, planes: sliceRange(t, of: tasks, count: planes), geometry: g,
                               row: row, max: isMax)
                    return
                }
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

    /// `f32_pool_direct_simd16`: pooling whose windows all lie inside the
    /// unpadded input, stride 1 or 2 across.
    ///
    /// Lanes: 16 outputs of a row per step (stride 2 reads 32 inputs per tap as
    /// even lanes, ``SIMD16/init(evenLanesFrom:)``); each step reduces its
    /// `kernelH x kernelW` taps straight from the input rows, one separate vector
    /// per tap load. Lanes past the row's outputs read the next row (not
    /// stored) and stores past the row land on outputs written later; a step
    /// whose loads would run past the last plane goes scalar (// leftovers).
    @inline(__always)
    private static func directPool(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                   planes: Range<Int>, totalPlanes: Int, geometry g: PoolGeometry, max isMax: Bool) {
        let oh = g.outH, ow = g.outW, inH = g.inH, inW = g.inW
        let kh = g.kernelH, kw = g.kernelW, sw = g.strideW, sh = g.strideH
        let planeSize = inH * inW
        let end = totalPlanes * planeSize
        let inverse = 1 / Float(kh * kw)
        let scale = SIMD16<Float>(repeating: inverse)
        for plane in planes {
            let src = input + plane * planeSize
            let dst = output + plane * oh * ow
            for y in 0..<oh {
                let top = src + y * sh * inW
                let out = dst + y * ow
                var x = 0
                // A vector step reads up to `16 * sw + kw - 1` floats from its last row's start.
                while x < ow && plane * planeSize + (y * sh + kh - 1) * inW + x * sw + 16 * sw + kw - 1 <= end {
                    @inline(__always) func tap(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
                        sw == 1 ? SIMD16(loadFrom: p) : SIMD16(evenLanesFrom: p)
                    }
                    @inline(__always) func combine(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
                        // A compare and blend: the standard library's pointwiseMax goes lane by lane.
                        isMax ? a.replacing(with: b, where: a .< b) : a + b
                    }
                    var acc: SIMD16<Float>
                    if sw == 2 && (kw == 2 || kw == 3) {
                        // Rows first, on the 32 (33 for kw 3) inputs the 16 outputs read,
                        // then across: even and odd lanes, and for kw 3 the even lanes
                        // moved down one with input 32 last. Fewer splits than per tap.
                        let row0 = top + 2 * x
                        var lo = SIMD16<Float>(loadFrom: row0), hi = SIMD16<Float>(loadFrom: row0 + 16)
                        var last = kw == 3 ? row0[32] : 0
                        for ky in 1..<kh {
                            let row = row0 + ky * inW
                            lo = combine(lo, SIMD16<Float>(loadFrom: row))
                            hi = combine(hi, SIMD16<Float>(loadFrom: row + 16))
                            if kw == 3 { last = isMax ? Swift.max(last, row[32]) : last + row[32] }
                        }
                        let (evenLo, oddLo) = lo.evenOddHalves, (evenHi, oddHi) = hi.evenOddHalves
                        let even = SIMD16<Float>(lowHalf: evenLo, highHalf: evenHi)
                        acc = combine(even, SIMD16<Float>(lowHalf: oddLo, highHalf: oddHi))
                        if kw == 3 {
                            let next = SIMD16<Float>(even[1], even[2], even[3], even[4], even[5], even[6], even[7], even[8],
                                                     even[9], even[10], even[11], even[12], even[13], even[14], even[15], last)
                            acc = combine(acc, next)
                        }
                    } else {
                        acc = tap(top + x * sw)
                        for ky in 0..<kh {
                            let row = top + ky * inW + x * sw
                            for kx in 0..<kw where ky + kx > 0 { acc = combine(acc, tap(row + kx)) }
                        }
                    }
                    if !isMax { acc *= scale }
                    // Lanes past the row land on outputs this task writes later (in
                    // order), so a whole-vector store is fine unless it runs past them.
                    if (plane * oh + y) * ow + x + 16 <= planes.upperBound * oh * ow {
                        acc.store(to: out + x)
                    } else {
                        for i in 0..<Swift.min(16, ow - x) { out[x + i] = acc[i] }
                    }
                    x += 16
                }
                // leftovers
                while x < ow {
                    var acc: Float = isMax ? -.infinity : 0
                    for ky in 0..<kh {
                        let row = top + ky * inW + x * sw
                        for kx in 0..<kw { acc = isMax ? Swift.max(acc, row[kx]) : acc + row[kx] }
                    }
                    out[x] = isMax ? acc : acc * inverse
                    x += 1
                }
            }
        }
    }

    /// Pooling for windows that start inside the input (and for average
    /// pooling lie inside it), stride 1 or 2 across:
    /// each output row reduces its input rows vertically into `row`, then 16
    /// outputs at a time horizontally (stride 2 takes the even lanes of 32-wide loads, see ``SIMD16/init(evenLanesFrom:)``).
    @inline(__always)
    private static func vectorPool(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                   planes: Range<Int>, geometry g: PoolGeometry,
                                   row: UnsafeMutablePointer<Float>, max isMax: Bool) {
        let oh = g.outH, ow = g.outW, inH = g.inH, inW = g.inW
        let kh = g.kernelH, kw = g.kernelW, sw = g.strideW
        let scale = SIMD16<Float>(repeating: 1 / Float(kh * kw))
        for plane in planes {
            let src = input + plane * inH * inW
            let dst = output + plane * oh * ow
            for y in 0..<oh {
                let y0 = y * g.strideH
                row.update(from: src + y0 * inW, count: inW)
                for iy in (y0 + 1)..<Swift.min(y0 + kh, inH) {
                    if isMax {
                        f32_vmax_simd16(inW, row, src + iy * inW, row)
                    } else {
                        f32_vadd_clamp_simd16(inW, row, src + iy * inW, row, -.infinity)
                    }
                }
                let out = dst + y * ow
                var x = 0
                while x < ow {
                    @inline(__always) func tap(_ kx: Int) -> SIMD16<Float> {
                        let p = row + x * sw + kx
                        return sw == 1 ? SIMD16(loadFrom: p) : SIMD16(evenLanesFrom: p)
                    }
                    var acc = tap(0)
                    for kx in 1..<kw {
                        // A compare and blend: the standard library's pointwiseMax goes lane by lane.
                        let v = tap(kx)
                        acc = isMax ? acc.replacing(with: v, where: acc .< v) : acc + v
                    }
                    if !isMax { acc *= scale }
                    let n = Swift.min(16, ow - x)
                    if n == 16 {
                        acc.store(to: out + x)
                    } else {
                        for i in 0..<n { out[x + i] = acc[i] }
                    }
                    x += 16
                }
            }
        }
    }

    /// `f32_gavgpool_simd16`: mean of each `spatial`-long plane.
    ///
    /// Lanes: 16; step: 64 values (4 separate accumulators), one vector, leftovers.
    public static func f32_gavgpool_simd16(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                           planes: Int, spatial: Int) {
        var first = 0
        if spatial < 16 {
            // Small planes (the age net's 3x3): no whole vector per plane, and one
            // plane's scalar sum is a chain of dependent adds; four planes at a
            // time keep four chains in flight.
            let inverse = 1 / Float(spatial)
            while first + 4 <= planes {
                let x = input + first * spatial
                var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
                for i in 0..<spatial {
                    s0 += x[i]; s1 += x[spatial + i]; s2 += x[2 * spatial + i]; s3 += x[3 * spatial + i]
                }
                output[first] = s0 * inverse; output[first + 1] = s1 * inverse
                output[first + 2] = s2 * inverse; output[first + 3] = s3 * inverse
                first += 4
            }
        }
        for p in first..<planes {
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
