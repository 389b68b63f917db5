/// A 3x3, stride-1 convolution computed with Winograd F(2x2, 3x3), weights
/// pre-transformed and packed for one GEMM micro-kernel.
///
/// Each 2x2 output tile needs 16 multiplies per input/output channel pair
/// instead of 36. Input tiles (4x4, overlapping by 2) are transformed to
/// `V = Bᵀ d B`, multiplied as 16 independent GEMMs `M[ξ] = U[ξ] · V[ξ]`
/// (`U = G g Gᵀ`, packed at init), and folded back with `Y = Aᵀ M A`; bias,
/// residual add and ReLU happen in that output transform. Tiles of the whole
/// batch are numbered consecutively, so `nr`-tile panels stay full at any batch.
public struct PackedWinogradConvolution: Sendable {
    public let geometry: ConvGeometry
    public let variant: GemmVariant
    /// `[ξ][rowPanel][inChannels][mr]`.
    let packedWeights: [Float]
    /// `[rowPanel][mr]`.
    let packedBias: [Float]
    let rowPanels: Int

    /// Whether a geometry can use this path: 3x3, stride 1, no dilation, one group.
    public static func supports(_ g: ConvGeometry) -> Bool {
        g.isValid && g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1
            && g.dilationH == 1 && g.dilationW == 1 && g.groups == 1
    }

    /// - Parameters: see ``PackedConvolution/init(geometry:weights:bias:variant:)``.
    /// - Precondition: `supports(geometry)`.
    public init(geometry g: ConvGeometry, weights: [Float], bias: [Float],
                variant: GemmVariant = KernelRegistry.defaultGemm) {
        precondition(Self.supports(g), "geometry not supported by Winograd F(2x2,3x3)")
        precondition(weights.count == g.outChannels * g.inChannels * 9 && bias.count == g.outChannels)
        geometry = g
        self.variant = variant
        let mr = variant.mr, cin = g.inChannels, cout = g.outChannels
        let panels = (cout + mr - 1) / mr
        rowPanels = panels
        var packed = [Float](repeating: 0, count: 16 * panels * cin * mr)
        var pbias = [Float](repeating: 0, count: panels * mr)
        for co in 0..<cout {
            pbias[co] = bias[co]
            let panel = co / mr, r = co % mr
            for ci in 0..<cin {
                let w = weights[((co * cin + ci) * 9)..<((co * cin + ci) * 9 + 9)].map { Double($0) }
                let base = w.startIndex
                // Gg (4x3), then (Gg)Gᵀ (4x4).
                var gg = [Double](repeating: 0, count: 12)
                for c in 0..<3 {
                    let g0 = w[base + c], g1 = w[base + 3 + c], g2 = w[base + 6 + c]
                    gg[c] = g0; gg[3 + c] = (g0 + g1 + g2) / 2; gg[6 + c] = (g0 - g1 + g2) / 2; gg[9 + c] = g2
                }
                for row in 0..<4 {
                    let g0 = gg[row * 3], g1 = gg[row * 3 + 1], g2 = gg[row * 3 + 2]
                    let u = [g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2]
                    for col in 0..<4 {
                        let xi = row * 4 + col
                        packed[((xi * panels + panel) * cin + ci) * mr + r] = Float(u[col])
                    }
                }
            }
        }
        packedWeights = packed
        packedBias = pbias
    }

    var tilesH: Int { (geometry.outH + 1) / 2 }
    var tilesW: Int { (geometry.outW + 1) / 2 }

    /// Scratch floats one thread needs: transformed input panel, 16 GEMM tiles,
    /// output-transform rows and the 16 x `nr` transform staging block.
    public var scratchPerThread: Int {
        16 * geometry.inChannels * variant.nr + 16 * variant.mr * variant.nr + 4 * variant.nr + 16 * 64
    }

    var paddedH: Int { 2 * tilesH + 2 }
    var paddedW: Int { 2 * tilesW + 2 }

    /// Scratch floats per sample of batch: the zero-padded copy of the input, so
    /// every 4x4 input patch is in bounds and the transform needs no edge cases.
    public var scratchPerSample: Int { geometry.inChannels * paddedH * paddedW }

    /// Runs the convolution; the contract is that of
    /// ``PackedConvolution/run(input:output:batch:residual:relu:scratch:threads:)``
    /// except that `scratch` holds `threads * scratchPerThread + batch * scratchPerSample` floats.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                    residual: UnsafePointer<Float>?, relu: Bool,
                    scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let nr = variant.nr, cin = geometry.inChannels, cout = geometry.outChannels
        let tiles = batch * tilesH * tilesW
        let colPanels = (tiles + nr - 1) / nr
        let threads = max(1, threads)
        let rowChunks = colPanels >= 2 * threads ? 1 : min(rowPanels, threads)
        let items = colPanels * rowChunks
        let tasks = min(threads, items)
        let perThread = scratchPerThread
        // Zero-padded input copy, planes split across the threads.
        let padded = scratch + threads * perThread
        let g = geometry
        let ph = paddedH, pw = paddedW, planes = batch * cin
        if colPanels == 1 && tasks > 1 {
            runSharedPanel(input: input, output: output, batch: batch, residual: residual, relu: relu,
                           scratch: scratch, padded: padded, tasks: tasks)
            return
        }
        let padTasks = min(threads, planes)
        parallelFor(padTasks) { t in
            for plane in sliceRange(t, of: padTasks, count: planes) {
                let dst = padded + plane * ph * pw, src = input + plane * g.inH * g.inW
                dst.update(repeating: 0, count: ph * pw)
                for iy in 0..<g.inH {
                    (dst + (iy + g.padTop) * pw + g.padLeft).update(from: src + iy * g.inW, count: g.inW)
                }
            }
        }
        let oh = g.outH, ow = g.outW, tw = tilesW, perSample = tilesH * tilesW
        parallelFor(tasks) { t in
          withUnsafeTemporaryAllocation(of: Int.self, capacity: nr) { tileOffsets in
            let v = scratch + t * perThread
            let m = v + 16 * cin * nr
            let y = m + 16 * variant.mr * nr
            let offsets = tileOffsets.baseAddress!
            var lastPanel = -1
            for item in sliceRange(t, of: tasks, count: items) {
                let cp = item / rowChunks, chunk = item % rowChunks
                let nc = min(nr, tiles - cp * nr)
                if cp != lastPanel {
                    let stage = y + 4 * nr
                    if variant.panel(forColumns: nc).width == 16 {
                        transformInput(padded, firstTile: cp * nr, tiles: nc, width: 16, stage: stage, into: v)
                    } else if nr == 32 {
                        transformInput(padded, firstTile: cp * nr, tiles: nc, width: 32, stage: stage, into: v)
                    } else {
                        transformInput(padded, firstTile: cp * nr, tiles: nc, width: nr, stage: stage, into: v)
                    }
                    // Where each tile's 2x2 outputs go (channel 0); negative marks a
                    // tile clipped by the right or bottom edge.
                    for jj in 0..<nc {
                        let j = cp * nr + jj
                        let n = j / perSample, p = j - n * perSample
                        let ty = p / tw, tx = p - ty * tw
                        let off = n * cout * oh * ow + 2 * ty * ow + 2 * tx
                        offsets[jj] = 2 * ty + 1 < oh && 2 * tx + 1 < ow ? off : -1 - off
                    }
                    lastPanel = cp
                }
                for rp in sliceRange(chunk, of: rowChunks, count: rowPanels) {
                    multiplyAndStore(rowPanel: rp, tiles: nc, offsets: offsets, v: v, m: m, y: y,
                                     output: output, residual: residual, relu: relu)
                }
            }
          }
        }
    }

    /// One column panel (all tiles of a small batch: a 7x7 or 6x6 map at batch
    /// 1) split by row panels across `tasks` threads. Rather than every thread
    /// transforming the whole panel for itself, each pads and transforms its
    /// share of the input channels into one shared panel (thread 0's), then,
    /// after one barrier, multiplies its share of the row panels from it.
    private func runSharedPanel(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                                residual: UnsafePointer<Float>?, relu: Bool, scratch: UnsafeMutablePointer<Float>,
                                padded: UnsafeMutablePointer<Float>, tasks: Int) {
        let g = geometry
        let nr = variant.nr, cin = g.inChannels, cout = g.outChannels
        let tiles = batch * tilesH * tilesW
        let ph = paddedH, pw = paddedW
        let perThread = scratchPerThread
        let width = variant.panel(forColumns: tiles).width
        let shared = scratch
        parallelFor(tasks) { t in
            let channels = sliceRange(t, of: tasks, count: cin)
            for n in 0..<batch {
                for ci in channels {
                    let plane = n * cin + ci
                    let dst = padded + plane * ph * pw, src = input + plane * g.inH * g.inW
                    dst.update(repeating: 0, count: ph * pw)
                    for iy in 0..<g.inH {
                        (dst + (iy + g.padTop) * pw + g.padLeft).update(from: src + iy * g.inW, count: g.inW)
                    }
                }
            }
            let stage = scratch + t * perThread + 16 * cin * nr + 16 * variant.mr * nr + 4 * nr
            if width == 16 {
                transformInput(padded, firstTile: 0, tiles: tiles, width: 16, channels: channels, stage: stage, into: shared)
            } else if width == 32 {
                transformInput(padded, firstTile: 0, tiles: tiles, width: 32, channels: channels, stage: stage, into: shared)
            } else {
                transformInput(padded, firstTile: 0, tiles: tiles, width: width, channels: channels, stage: stage, into: shared)
            }
        }
        let oh = g.outH, ow = g.outW, tw = tilesW, perSample = tilesH * tilesW
        parallelFor(tasks) { t in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: nr) { tileOffsets in
                let m = scratch + t * perThread + 16 * cin * nr
                let y = m + 16 * variant.mr * nr
                let offsets = tileOffsets.baseAddress!
                for j in 0..<tiles {
                    let n = j / perSample, p = j - n * perSample
                    let ty = p / tw, tx = p - ty * tw
                    let off = n * cout * oh * ow + 2 * ty * ow + 2 * tx
                    offsets[j] = 2 * ty + 1 < oh && 2 * tx + 1 < ow ? off : -1 - off
                }
                for rp in sliceRange(t, of: tasks, count: rowPanels) {
                    multiplyAndStore(rowPanel: rp, tiles: tiles, offsets: offsets, v: shared, m: m, y: y,
                                     output: output, residual: residual, relu: relu)
                }
            }
        }
    }

    /// `V[ξ][ci][jj] = (Bᵀ d B)[ξ]` for the 4x4 patch of each tile of the padded
    /// input; zero for tiles past the end. One channel at a time, the 16 values of
    /// every tile go to `stage[ξ][jj]` (constant offsets when `width` is a literal
    /// at the call site) and are then copied out one vector row per ξ.
    @inline(__always)
    private func transformInput(_ padded: UnsafePointer<Float>, firstTile j0: Int, tiles nc: Int, width: Int,
                                channels: Range<Int>? = nil,
                                stage: UnsafeMutablePointer<Float>, into v: UnsafeMutablePointer<Float>) {
        let cin = geometry.inChannels
        let ph = paddedH, pw = paddedW, plane = ph * pw
        let tw = tilesW, perSample = tilesH * tilesW
        let xiStride = cin * width
        if nc < width {
            for xi in 0..<16 { (stage + xi * width + nc).update(repeating: 0, count: width - nc) }
        }
        // Top-left of each tile's patch in the padded batch, channel 0.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: width) { offsets in
            for jj in 0..<nc {
                let j = j0 + jj
                let n = j / perSample, p = j - n * perSample
                let ty = p / tw, tx = p - ty * tw
                offsets[jj] = n * cin * plane + 2 * ty * pw + 2 * tx
            }
            for ci in channels ?? 0..<cin {
                let base = padded + ci * plane
                var jj = 0
                while jj < nc {
                    // Eight tiles side by side in one tile row: their 4x4 patches are the
                    // even/odd columns of 18-wide row strips, so the transform runs 8 lanes wide.
                    let j = j0 + jj
                    let tx = (j % perSample) % tw
                    if tw - tx >= 8 && nc - jj >= 8 {
                        let src = base + offsets[jj]
                        @inline(__always) func cols(_ r: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                            let row = src + r * pw
                            let a = UnsafeRawPointer(row).loadUnaligned(as: SIMD16<Float>.self).evenOddHalves
                            let b = UnsafeRawPointer(row + 2).loadUnaligned(as: SIMD16<Float>.self).evenOddHalves
                            return (a.even, a.odd, b.even, b.odd)
                        }
                        let (a0, a1, a2, a3) = cols(0), (b0, b1, b2, b3) = cols(1)
                        let (c0, c1, c2, c3) = cols(2), (e0, e1, e2, e3) = cols(3)
                        @inline(__always) func put(_ r: Int, _ x0: SIMD8<Float>, _ x1: SIMD8<Float>, _ x2: SIMD8<Float>, _ x3: SIMD8<Float>) {
                            let o = stage + (4 * r) * width + jj
                            UnsafeMutableRawPointer(o).storeBytes(of: x0 - x2, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(o + width).storeBytes(of: x1 + x2, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(o + 2 * width).storeBytes(of: x2 - x1, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(o + 3 * width).storeBytes(of: x1 - x3, as: SIMD8<Float>.self)
                        }
                        // Rows t = Bᵀ d (per column), then columns V = t B.
                        put(0, a0 - c0, a1 - c1, a2 - c2, a3 - c3)
                        put(1, b0 + c0, b1 + c1, b2 + c2, b3 + c3)
                        put(2, c0 - b0, c1 - b1, c2 - b2, c3 - b3)
                        put(3, b0 - e0, b1 - e1, b2 - e2, b3 - e3)
                        jj += 8
                        continue
                    }
                    if tw - tx >= 4 && nc - jj >= 4 {
                        // The same with four tiles (short rows: 7x7 to 14x14 outputs).
                        let src = base + offsets[jj]
                        @inline(__always) func cols(_ r: Int) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
                            let row = src + r * pw
                            let a = UnsafeRawPointer(row).loadUnaligned(as: SIMD8<Float>.self).evenOddHalves
                            let b = UnsafeRawPointer(row + 2).loadUnaligned(as: SIMD8<Float>.self).evenOddHalves
                            return (a.even, a.odd, b.even, b.odd)
                        }
                        let (a0, a1, a2, a3) = cols(0), (b0, b1, b2, b3) = cols(1)
                        let (c0, c1, c2, c3) = cols(2), (e0, e1, e2, e3) = cols(3)
                        @inline(__always) func put(_ r: Int, _ x0: SIMD4<Float>, _ x1: SIMD4<Float>, _ x2: SIMD4<Float>, _ x3: SIMD4<Float>) {
                            let o = stage + (4 * r) * width + jj
                            UnsafeMutableRawPointer(o).storeBytes(of: x0 - x2, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o + width).storeBytes(of: x1 + x2, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o + 2 * width).storeBytes(of: x2 - x1, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o + 3 * width).storeBytes(of: x1 - x3, as: SIMD4<Float>.self)
                        }
                        put(0, a0 - c0, a1 - c1, a2 - c2, a3 - c3)
                        put(1, b0 + c0, b1 + c1, b2 + c2, b3 + c3)
                        put(2, c0 - b0, c1 - b1, c2 - b2, c3 - b3)
                        put(3, b0 - e0, b1 - e1, b2 - e2, b3 - e3)
                        jj += 4
                        continue
                    }
                    // leftovers: one tile at a time.
                    let src = base + offsets[jj]
                    let d0 = UnsafeRawPointer(src).loadUnaligned(as: SIMD4<Float>.self)
                    let d1 = UnsafeRawPointer(src + pw).loadUnaligned(as: SIMD4<Float>.self)
                    let d2 = UnsafeRawPointer(src + 2 * pw).loadUnaligned(as: SIMD4<Float>.self)
                    let d3 = UnsafeRawPointer(src + 3 * pw).loadUnaligned(as: SIMD4<Float>.self)
                    let t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3
                    let o = stage + jj
                    @inline(__always) func put(_ r: Int, _ t: SIMD4<Float>) {
                        o[(4 * r) * width] = t[0] - t[2]
                        o[(4 * r + 1) * width] = t[1] + t[2]
                        o[(4 * r + 2) * width] = t[2] - t[1]
                        o[(4 * r + 3) * width] = t[1] - t[3]
                    }
                    put(0, t0); put(1, t1); put(2, t2); put(3, t3)
                    jj += 1
                }
                let dst = v + ci * width
                for xi in 0..<16 {
                    let from = stage + xi * width, to = dst + xi * xiStride
                    var c = 0
                    while c < width { SIMD16<Float>(loadFrom: from + c).store(to: to + c); c += 16 }
                }
            }
        }
    }

    @inline(__always)
    private func multiplyAndStore(rowPanel rp: Int, tiles nc: Int, offsets: UnsafePointer<Int>,
                                  v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                                  y: UnsafeMutablePointer<Float>,
                                  output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, relu: Bool) {
        let g = geometry
        let mr = variant.mr, nr = variant.nr, cin = g.inChannels, cout = g.outChannels
        let oh = g.outH, ow = g.outW, plane = oh * ow
        let (pw, kernel) = variant.panel(forColumns: nc)
        let zeros = SIMD16<Float>()
        packedWeights.withUnsafeBufferPointer { wbuf in
            withUnsafeBytes(of: zeros) { zb in
                let zero = zb.baseAddress!.assumingMemoryBound(to: Float.self)
                for xi in 0..<16 {
                    kernel(cin, wbuf.baseAddress! + ((xi * rowPanels + rp) * cin) * mr, v + xi * cin * pw,
                           zero, m + xi * mr * nr, nr, -.infinity, .infinity)
                }
            }
        }
        let tileStride = mr * nr
        let lo: Float = relu ? 0 : -.infinity
        for r in 0..<min(mr, cout - rp * mr) {
            let co = rp * mr + r
            let b = packedBias[co]
            // Output transform Y = Aᵀ M A, 16 tiles per vector.
            var jj = 0
            while jj < nc {
                let base = m + r * nr + jj
                @inline(__always) func ld(_ xi: Int) -> SIMD16<Float> { SIMD16(loadFrom: base + xi * tileStride) }
                // Rows of Aᵀ M, then columns of (Aᵀ M) A.
                let a0 = ld(0) + ld(4) + ld(8), a1 = ld(1) + ld(5) + ld(9)
                let a2 = ld(2) + ld(6) + ld(10), a3 = ld(3) + ld(7) + ld(11)
                let b0 = ld(4) - ld(8) - ld(12), b1 = ld(5) - ld(9) - ld(13)
                let b2 = ld(6) - ld(10) - ld(14), b3 = ld(7) - ld(11) - ld(15)
                let bv = SIMD16<Float>(repeating: b)
                (bv + a0 + a1 + a2).store(to: y)
                (bv + a1 - a2 - a3).store(to: y + nr)
                (bv + b0 + b1 + b2).store(to: y + 2 * nr)
                (bv + b1 - b2 - b3).store(to: y + 3 * nr)
                // Runs of 8 unclipped tiles side by side in one tile row: their 2x2
                // blocks interleave into two 16-wide output rows.
                let count = min(16, nc - jj)
                var first = 0
                while first + 8 <= count {
                    let e0 = offsets[jj + first]
                    var run = e0 >= 0
                    for t in 1..<8 where offsets[jj + first + t] != e0 + 2 * t { run = false }
                    if !run { break }
                    @inline(__always) func interleave(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
                        SIMD16<Float>(interleaving: SIMD8<Float>(loadFrom: a), SIMD8<Float>(loadFrom: b))
                    }
                    var top = interleave(y + first, y + nr + first)
                    var bottom = interleave(y + 2 * nr + first, y + 3 * nr + first)
                    let o = output + e0 + co * plane
                    if let residual {
                        let rs = residual + e0 + co * plane
                        top += SIMD16<Float>(loadFrom: rs); bottom += SIMD16<Float>(loadFrom: rs + ow)
                    }
                    let lov = SIMD16<Float>(repeating: lo)
                    top.replace(with: lov, where: top .< lov); bottom.replace(with: lov, where: bottom .< lov)
                    top.store(to: o); bottom.store(to: o + ow)
                    first += 8
                }
                // The same with runs of 4 (7 to 15 tiles a row: 14x14 and 7x7 outputs).
                while first + 4 <= count {
                    let e0 = offsets[jj + first]
                    var run = e0 >= 0
                    for t in 1..<4 where offsets[jj + first + t] != e0 + 2 * t { run = false }
                    if !run { break }
                    @inline(__always) func interleave(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
                        SIMD8<Float>(interleaving: UnsafeRawPointer(a).loadUnaligned(as: SIMD4<Float>.self),
                                     UnsafeRawPointer(b).loadUnaligned(as: SIMD4<Float>.self))
                    }
                    var top = interleave(y + first, y + nr + first)
                    var bottom = interleave(y + 2 * nr + first, y + 3 * nr + first)
                    let o = output + e0 + co * plane
                    if let residual {
                        let rs = residual + e0 + co * plane
                        top += SIMD8<Float>(loadFrom: rs); bottom += SIMD8<Float>(loadFrom: rs + ow)
                    }
                    let lov = SIMD8<Float>(repeating: lo)
                    top.replace(with: lov, where: top .< lov); bottom.replace(with: lov, where: bottom .< lov)
                    top.store(to: o); bottom.store(to: o + ow)
                    first += 4
                }
                // Scatter each tile's 2x2 block; clipped tiles check every pixel.
                for t in first..<count {
                    let encoded = offsets[jj + t]
                    let y00 = y[t], y01 = y[nr + t], y10 = y[2 * nr + t], y11 = y[3 * nr + t]
                    if encoded >= 0 {
                        let idx = encoded + co * plane
                        let o = output + idx
                        if let residual {
                            let rs = residual + idx
                            o[0] = max(y00 + rs[0], lo); o[1] = max(y01 + rs[1], lo)
                            o[ow] = max(y10 + rs[ow], lo); o[ow + 1] = max(y11 + rs[ow + 1], lo)
                        } else {
                            o[0] = max(y00, lo); o[1] = max(y01, lo)
                            o[ow] = max(y10, lo); o[ow + 1] = max(y11, lo)
                        }
                    } else {
                        let off = -1 - encoded
                        let p = off % plane, oy = p / ow, ox = p % ow
                        let idx = off + co * plane
                        let vals = SIMD4<Float>(y00, y01, y10, y11)
                        for dy in 0..<2 where oy + dy < oh {
                            for dx in 0..<2 where ox + dx < ow {
                                let i = idx + dy * ow + dx
                                output[i] = max(vals[dy * 2 + dx] + (residual?[i] ?? 0), lo)
                            }
                        }
                    }
                }
                jj += 16
            }
        }
    }
}
