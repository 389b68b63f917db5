/// A 3x3, stride-1 convolution computed with Winograd F(4x4, 3x3), weights
/// pre-transformed and packed for one channel-blocked GEMM micro-kernel.
///
/// Each 4x4 output tile needs 36 multiplies per input/output channel pair
/// instead of 144 (F(2x2, 3x3) needs 64 for the same 16 outputs). Input tiles
/// (6x6, overlapping by 2) are transformed to `V = Bᵀ d B`, multiplied as 36
/// independent GEMMs `M[ξ] = V[ξ] · U[ξ]` (`U = G g Gᵀ`, packed at init) and
/// folded back with `Y = Aᵀ M A`, where bias, residual add and ReLU happen.
///
/// Vector lanes run over channels, not tiles: tiles step by 4 pixels and the
/// age and gender nets' maps are 3 to 16 pixels wide, so lanes across tiles
/// would be stride-4 gathers from rows of 1 to 4 tiles. Instead the input is
/// first copied, zero-padded, channel-blocked (`[n][c/16][y][x][16]`, one 16x16
/// transpose per 256 values); every tile then reads 36 contiguous 16-channel
/// vectors, transforms them without shuffles and stores 36 vectors, which the
/// `c16` micro-kernel reads as its A panel (rows = tiles). The GEMM's output
/// rows are tiles and its lanes output channels; the output transform runs on
/// those lanes and a 4x4 transpose inside each 128-bit block turns 16 channels'
/// results into 4-pixel output rows. Tiles of the whole batch are numbered
/// consecutively, so panels of `mr` tiles stay full at any batch.
public struct PackedWinogradF4Convolution: Sendable {
    public let geometry: ConvGeometry
    /// From ``KernelRegistry/gemmC16Variants``: `mr` tiles by `nr` output channels.
    public let variant: GemmVariant
    /// `[ξ][channelPanel][cinPadded][nr]`.
    let packedWeights: [Float]
    /// `[channelPanel][nr]`.
    let packedBias: [Float]
    /// Input channels rounded up to 16 (the blocked layout's vector).
    let cinPadded: Int
    let channelPanels: Int

    /// Whether a geometry can use this path: 3x3, stride 1, no dilation, one group.
    public static func supports(_ g: ConvGeometry) -> Bool { PackedWinogradConvolution.supports(g) }

    /// Tiles transformed together: `groupPanels` row panels of the GEMM, so each
    /// weight panel `U[ξ]` loaded into L1 serves that many of them.
    static let groupPanels = 4

    /// - Parameters: see ``PackedConvolution/init(geometry:weights:bias:variant:)``;
    ///   `variant` must come from ``KernelRegistry/gemmC16Variants``.
    /// - Precondition: `supports(geometry)`.
    public init(geometry g: ConvGeometry, weights: [Float], bias: [Float],
                variant: GemmVariant = KernelRegistry.defaultGemmC16) {
        precondition(Self.supports(g), "geometry not supported by Winograd F(4x4,3x3)")
        precondition(weights.count == g.outChannels * g.inChannels * 9 && bias.count == g.outChannels)
        precondition(variant.nr % 16 == 0, "output channels are transformed 16 at a time")
        geometry = g
        self.variant = variant
        let nr = variant.nr, cin = g.inChannels, cout = g.outChannels
        let cinP = (cin + 15) / 16 * 16
        cinPadded = cinP
        let panels = (cout + nr - 1) / nr
        channelPanels = panels
        // G (6x3) for the points 0, ±1, ±2, ∞; U = G g Gᵀ in Double.
        let gm: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                              [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]
        var packed = [Float](repeating: 0, count: 36 * panels * cinP * nr)
        var pbias = [Float](repeating: 0, count: panels * nr)
        for co in 0..<cout {
            pbias[co] = bias[co]
            let panel = co / nr, col = co % nr
            for ci in 0..<cin {
                let base = (co * cin + ci) * 9
                // Gg (6x3), then (Gg)Gᵀ (6x6).
                var gg = [Double](repeating: 0, count: 18)
                for i in 0..<6 {
                    for c in 0..<3 {
                        var s = 0.0
                        for a in 0..<3 { s += gm[i][a] * Double(weights[base + a * 3 + c]) }
                        gg[i * 3 + c] = s
                    }
                }
                for i in 0..<6 {
                    for j in 0..<6 {
                        var u = 0.0
                        for c in 0..<3 { u += gg[i * 3 + c] * gm[j][c] }
                        packed[(((i * 6 + j) * panels + panel) * cinP + ci) * nr + col] = Float(u)
                    }
                }
            }
        }
        packedWeights = packed
        packedBias = pbias
    }

    var tilesH: Int { (geometry.outH + 3) / 4 }
    var tilesW: Int { (geometry.outW + 3) / 4 }
    var paddedH: Int { 4 * tilesH + 2 }
    var paddedW: Int { 4 * tilesW + 2 }
    var groupTiles: Int { Self.groupPanels * variant.mr }

    /// Scratch floats one thread needs: the transformed tiles of one group
    /// (`36 x tiles x cinPadded`), their 36 GEMM results for one channel panel
    /// and 20 staging vectors for the output transform.
    public var scratchPerThread: Int { 36 * vStride + 36 * mStride + 20 * 16 }

    /// Floats per ξ of the transformed tiles and of the GEMM results: one
    /// vector more than the data, so the 36 slices of a tile do not all fall
    /// into one L1 set (the data alone is a multiple of 4 KiB at 64 channels).
    var vStride: Int { groupTiles * cinPadded + 16 }
    var mStride: Int { groupTiles * variant.nr + 16 }

    /// Scratch floats per sample of batch: the zero-padded, channel-blocked copy
    /// of the input, so every 6x6 patch is in bounds and 16 channels are one vector.
    public var scratchPerSample: Int { cinPadded * paddedH * paddedW }

    /// Runs the convolution; the contract is that of
    /// ``PackedConvolution/run(input:output:batch:residual:relu:scratch:threads:path:)``
    /// except that `scratch` holds `threads * scratchPerThread + batch * scratchPerSample` floats.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                    residual: UnsafePointer<Float>?, relu: Bool,
                    scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let mr = variant.mr
        let tiles = batch * tilesH * tilesW
        let group = groupTiles
        let groups = (tiles + group - 1) / group
        let threads = max(1, threads)
        // Too few tile groups for the threads: also split the output channels.
        let chunks = groups >= 2 * threads ? 1 : min(channelPanels, threads)
        let items = groups * chunks
        let tasks = min(threads, items)
        let perThread = scratchPerThread
        let padded = scratch + threads * perThread
        let blocks = batch * (cinPadded / 16)
        // One tile group split by channel panels (a 14x14 map at batch 1): every
        // thread transforms the whole group itself. Transforming shares of the
        // channels into one shared group saved that work but had each thread read
        // the other's half: equal when the two vCPUs share an L3, and the two age
        // net layers 40 against 49 µs, the gender net 15% faster, when the host
        // put them on different L3s (a line written on one core and read on the
        // other then costs several hundred nanoseconds).
        let packTasks = min(threads, blocks)
        parallelFor(packTasks) { t in
            for blk in sliceRange(t, of: packTasks, count: blocks) { packInput(input, block: blk, into: padded) }
        }
        parallelFor(tasks) { t in
            let v = scratch + t * perThread
            let m = v + 36 * vStride
            let stage = m + 36 * mStride
            var lastGroup = -1
            for item in sliceRange(t, of: tasks, count: items) {
                let grp = item / chunks, chunk = item % chunks
                let j0 = grp * group, count = min(group, tiles - j0)
                if grp != lastGroup {
                    transformInput(padded, firstTile: j0, tiles: count, into: v)
                    lastGroup = grp
                }
                let panels = (count + mr - 1) / mr
                for cp in sliceRange(chunk, of: chunks, count: channelPanels) {
                    multiply(channelPanel: cp, panels: panels, v: v, m: m)
                    transformOutput(channelPanel: cp, firstTile: j0, tiles: count, m: m, stage: stage,
                                    output: output, residual: residual, relu: relu)
                }
            }
        }
    }

    /// Copies 16 channels of one sample (`block` = n * cinPadded/16 + channel block)
    /// into the zero-padded `[y][x][16]` layout: 16 pixels of 16 channel planes at
    /// a time through one 16x16 transpose; channels past `inChannels` are zero.
    @inline(__always)
    private func packInput(_ input: UnsafePointer<Float>, block blk: Int, into padded: UnsafeMutablePointer<Float>) {
        let g = geometry
        let blocksPerSample = cinPadded / 16
        let n = blk / blocksPerSample, cb = blk - n * blocksPerSample
        let ph = paddedH, pw = paddedW, hw = g.inH * g.inW
        let dst = padded + blk * ph * pw * 16
        let valid = min(16, g.inChannels - cb * 16)
        let src = input + (n * g.inChannels + cb * 16) * hw
        // Zero only the border: rows above and below, columns left and right.
        dst.update(repeating: 0, count: g.padTop * pw * 16)
        let below = g.padTop + g.inH
        (dst + below * pw * 16).update(repeating: 0, count: (ph - below) * pw * 16)
        let right = g.padLeft + g.inW
        for y in g.padTop..<below {
            (dst + y * pw * 16).update(repeating: 0, count: g.padLeft * 16)
            (dst + (y * pw + right) * 16).update(repeating: 0, count: (pw - right) * 16)
        }
        @inline(__always) func at(_ p: Int) -> UnsafeMutablePointer<Float> {
            let iy = p / g.inW, ix = p - iy * g.inW
            return dst + ((iy + g.padTop) * pw + ix + g.padLeft) * 16
        }
        var p = 0
        while p + 16 <= hw {
            @inline(__always) func row(_ q: Int) -> SIMD16<Float> {
                q < valid ? SIMD16<Float>(loadFrom: src + q * hw + p) : SIMD16<Float>()
            }
            let t = transpose16x16(row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7),
                                   row(8), row(9), row(10), row(11), row(12), row(13), row(14), row(15))
            t.0.store(to: at(p)); t.1.store(to: at(p + 1)); t.2.store(to: at(p + 2)); t.3.store(to: at(p + 3))
            t.4.store(to: at(p + 4)); t.5.store(to: at(p + 5)); t.6.store(to: at(p + 6)); t.7.store(to: at(p + 7))
            t.8.store(to: at(p + 8)); t.9.store(to: at(p + 9)); t.10.store(to: at(p + 10)); t.11.store(to: at(p + 11))
            t.12.store(to: at(p + 12)); t.13.store(to: at(p + 13)); t.14.store(to: at(p + 14)); t.15.store(to: at(p + 15))
            p += 16
        }
        // leftovers: one pixel at a time.
        while p < hw {
            let d = at(p)
            for q in 0..<16 { d[q] = q < valid ? src[q * hw + p] : 0 }
            p += 1
        }
    }

    /// `V[ξ]` of every tile in `firstTile ..< firstTile + tiles`, one 16-channel
    /// vector per tile and channel block, stored `[ξ][panel][cin/16][mr][16]`
    /// (the c16 A panel). Rows past the last tile of a partial panel are left
    /// as they are; the GEMM rows they feed are never read.
    @inline(__always)
    private func transformInput(_ padded: UnsafePointer<Float>, firstTile j0: Int, tiles count: Int,
                                into v: UnsafeMutablePointer<Float>) {
        let mr = variant.mr
        let ph = paddedH, pw = paddedW, tw = tilesW, perSample = tilesH * tilesW
        let blocks = cinPadded / 16
        let plane = ph * pw * 16
        let panelStride = blocks * mr * 16
        let xiStride = vStride
        for jj in 0..<count {
            let j = j0 + jj
            let n = j / perSample, p = j - n * perSample
            let ty = p / tw, tx = p - ty * tw
            let src0 = padded + n * blocks * plane + (4 * ty * pw + 4 * tx) * 16
            let dst0 = v + (jj / mr) * panelStride + (jj % mr) * 16
            for cb in 0..<blocks {
                let src = src0 + cb * plane
                let dst = dst0 + cb * mr * 16
                // V = Bᵀ d B in two halves of 3 output columns, each one pass over
                // the 6 input rows: a half's 18 row results stay in registers (the
                // whole 6x6 would not, and went through a staging block).
                @inline(__always) func d(_ r: Int, _ c: Int) -> SIMD16<Float> { SIMD16(loadFrom: src + (r * pw + c) * 16) }
                @inline(__always) func half(_ rowPart: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                                                        SIMD16<Float>, SIMD16<Float>) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>),
                                            firstColumn c0: Int) {
                    @inline(__always) func row(_ r: Int) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
                        rowPart(d(r, 0), d(r, 1), d(r, 2), d(r, 3), d(r, 4), d(r, 5))
                    }
                    let u0 = row(0), u1 = row(1), u2 = row(2), u3 = row(3), u4 = row(4), u5 = row(5)
                    @inline(__always) func column(_ c: Int, _ x: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                                                                  SIMD16<Float>, SIMD16<Float>)) {
                        let o = Self.inputRows(x.0, x.1, x.2, x.3, x.4, x.5)
                        let at = dst + c * xiStride
                        o.0.store(to: at); o.1.store(to: at + 6 * xiStride); o.2.store(to: at + 12 * xiStride)
                        o.3.store(to: at + 18 * xiStride); o.4.store(to: at + 24 * xiStride); o.5.store(to: at + 30 * xiStride)
                    }
                    column(c0, (u0.0, u1.0, u2.0, u3.0, u4.0, u5.0))
                    column(c0 + 1, (u0.1, u1.1, u2.1, u3.1, u4.1, u5.1))
                    column(c0 + 2, (u0.2, u1.2, u2.2, u3.2, u4.2, u5.2))
                }
                half(Self.inputRowsLow, firstColumn: 0)
                half(Self.inputRowsHigh, firstColumn: 3)
            }
        }
    }

    /// `Bᵀ d` for six vectors (`Bᵀ` of F(4x4, 3x3), points 0, ±1, ±2, ∞), 15 operations.
    @inline(__always)
    static func inputRows(_ d0: SIMD16<Float>, _ d1: SIMD16<Float>, _ d2: SIMD16<Float>, _ d3: SIMD16<Float>,
                          _ d4: SIMD16<Float>, _ d5: SIMD16<Float>)
        -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        let a = inputRowsLow(d0, d1, d2, d3, d4, d5), b = inputRowsHigh(d0, d1, d2, d3, d4, d5)
        return (a.0, a.1, a.2, b.0, b.1, b.2)
    }

    /// Rows 0 to 2 of `Bᵀ d`: `4d0 - 5d2 + d4`, `(d3 + d4) - 4(d1 + d2)`, `(d4 - d3) + 4(d1 - d2)`.
    @inline(__always)
    static func inputRowsLow(_ d0: SIMD16<Float>, _ d1: SIMD16<Float>, _ d2: SIMD16<Float>, _ d3: SIMD16<Float>,
                             _ d4: SIMD16<Float>, _ d5: SIMD16<Float>) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        let t0 = d4.addingProduct(d0, 4).addingProduct(d2, -5)
        let t1 = (d3 + d4).addingProduct(d1 + d2, -4)
        let t2 = (d4 - d3).addingProduct(d1 - d2, 4)
        return (t0, t1, t2)
    }

    /// Rows 3 to 5 of `Bᵀ d`: `(d4 - d2) ± 2(d3 - d1)`, `4d1 - 5d3 + d5`.
    @inline(__always)
    static func inputRowsHigh(_ d0: SIMD16<Float>, _ d1: SIMD16<Float>, _ d2: SIMD16<Float>, _ d3: SIMD16<Float>,
                              _ d4: SIMD16<Float>, _ d5: SIMD16<Float>) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        let f42 = d4 - d2, f31 = 2 * (d3 - d1)
        return (f42 + f31, f42 - f31, d5.addingProduct(d1, 4).addingProduct(d3, -5))
    }

    /// `Aᵀ m` for six vectors, 10 operations.
    @inline(__always)
    static func outputRows(_ m0: SIMD16<Float>, _ m1: SIMD16<Float>, _ m2: SIMD16<Float>, _ m3: SIMD16<Float>,
                           _ m4: SIMD16<Float>, _ m5: SIMD16<Float>)
        -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        return (m0 + a + c, b.addingProduct(d, 2), a.addingProduct(c, 4), b.addingProduct(d, 8) + m5)
    }

    /// `Aᵀ m + bias`: the bias joins the two sums every output uses one of, 12 operations.
    @inline(__always)
    static func outputRows(_ m0: SIMD16<Float>, _ m1: SIMD16<Float>, _ m2: SIMD16<Float>, _ m3: SIMD16<Float>,
                           _ m4: SIMD16<Float>, _ m5: SIMD16<Float>, bias: SIMD16<Float>)
        -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        let a = m1 + m2 + bias, b = m1 - m2 + bias, c = m3 + m4, d = m3 - m4
        return (m0 + a + c, b.addingProduct(d, 2), a.addingProduct(c, 4), b.addingProduct(d, 8) + m5)
    }

    /// `M[ξ][tile][nr] = V[ξ] · U[ξ]` for one panel of `nr` output channels.
    @inline(__always)
    private func multiply(channelPanel cp: Int, panels: Int, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>) {
        let mr = variant.mr, nr = variant.nr, k = cinPadded
        let panelStride = k * mr
        let kernel = variant.kernel
        let zeros = SIMD16<Float>()
        packedWeights.withUnsafeBufferPointer { wbuf in
            withUnsafeBytes(of: zeros) { zb in
                let zero = zb.baseAddress!.assumingMemoryBound(to: Float.self)
                for xi in 0..<36 {
                    let b = wbuf.baseAddress! + ((xi * channelPanels + cp) * k) * nr
                    let a = v + xi * vStride
                    let c = m + xi * mStride
                    for panel in 0..<panels {
                        kernel(k, a + panel * panelStride, b, zero, c + panel * mr * nr, nr, -.infinity, .infinity)
                    }
                }
            }
        }
    }

    /// `Y = Aᵀ M A + bias` for each tile and 16 output channels, then residual
    /// and ReLU, stored as four 4-pixel rows per channel.
    ///
    /// Columns (`s = Aᵀ M`, 24 vectors) and rows (`Y = s A + bias`, 16 vectors)
    /// in registers, then through `stage`, per output row a 4x4 transpose inside
    /// each 128-bit block, which turns 4 outputs of 16 channels into 16 channels'
    /// 4-pixel rows. The stores before the shuffles are what keep the code
    /// vector: with shuffles applied to arithmetic results in registers, LLVM
    /// either scalarised the whole transform or pushed the shuffles back onto
    /// the 36 loads. Rows run in a loop to the tile's last row inside the output.
    @inline(__always)
    private func transformOutput(channelPanel cp: Int, firstTile j0: Int, tiles count: Int, m: UnsafeMutablePointer<Float>,
                                 stage: UnsafeMutablePointer<Float>,
                                 output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, relu: Bool) {
        typealias V = SIMD16<Float>
        let g = geometry
        let nr = variant.nr, cout = g.outChannels
        let oh = g.outH, ow = g.outW, plane = oh * ow
        let tw = tilesW, perSample = tilesH * tilesW
        let xiStride = mStride
        let lo = V(repeating: relu ? 0 : -.infinity)
        let ys = stage
        for q in 0..<(min(nr, cout - cp * nr) + 15) / 16 {
            let co0 = cp * nr + 16 * q
            let bias = packedBias.withUnsafeBufferPointer { V(loadFrom: $0.baseAddress! + co0) }
            let channels = min(16, cout - co0)
            for jj in 0..<count {
                let j = j0 + jj
                let n = j / perSample, p = j - n * perSample
                let ty = p / tw, tx = p - ty * tw
                let rows = min(4, oh - 4 * ty), width = min(4, ow - 4 * tx)
                let src = m + jj * nr + 16 * q
                // Columns: s[i][c] = (Aᵀ M)[i][c], 24 vectors in registers.
                @inline(__always) func column(_ c: Int) -> (V, V, V, V) {
                    @inline(__always) func ld(_ r: Int) -> V { V(loadFrom: src + (6 * r + c) * xiStride) }
                    return Self.outputRows(ld(0), ld(1), ld(2), ld(3), ld(4), ld(5))
                }
                let s0 = column(0), s1 = column(1), s2 = column(2), s3 = column(3), s4 = column(4), s5 = column(5)
                // Rows: Y[i][k] = (s A)[i][k] + bias, staged.
                @inline(__always) func row(_ i: Int, _ y: (V, V, V, V)) {
                    y.0.store(to: ys + i * 64); y.1.store(to: ys + i * 64 + 16)
                    y.2.store(to: ys + i * 64 + 32); y.3.store(to: ys + i * 64 + 48)
                }
                row(0, Self.outputRows(s0.0, s1.0, s2.0, s3.0, s4.0, s5.0, bias: bias))
                row(1, Self.outputRows(s0.1, s1.1, s2.1, s3.1, s4.1, s5.1, bias: bias))
                row(2, Self.outputRows(s0.2, s1.2, s2.2, s3.2, s4.2, s5.2, bias: bias))
                row(3, Self.outputRows(s0.3, s1.3, s2.3, s3.3, s4.3, s5.3, bias: bias))
                let off = (n * cout + co0) * plane + 4 * ty * ow + 4 * tx
                for i in 0..<rows {
                    // Block L of result j is channel co0 + 4L + j's row i.
                    let y0 = V(loadFrom: ys + i * 64), y1 = V(loadFrom: ys + i * 64 + 16)
                    let y2 = V(loadFrom: ys + i * 64 + 32), y3 = V(loadFrom: ys + i * 64 + 48)
                    let u0 = V.interleaveLow32(y0, y1), u1 = V.interleaveHigh32(y0, y1)
                    let u2 = V.interleaveLow32(y2, y3), u3 = V.interleaveHigh32(y2, y3)
                    let w0 = V.interleaveLow64(u0, u2), w1 = V.interleaveHigh64(u0, u2)
                    let w2 = V.interleaveLow64(u1, u3), w3 = V.interleaveHigh64(u1, u3)
                    let at = off + i * ow
                    if channels == 16 && width == 4 {
                        if let residual {
                            Self.storeRow(w0, w1, w2, w3, output + at, residual + at, plane: plane, lo: lo)
                        } else {
                            Self.storeRow(w0, w1, w2, w3, output + at, nil, plane: plane, lo: lo)
                        }
                        continue
                    }
                    // A tile clipped on the right, or a last partial block of channels.
                    let t = stage + 16 * 16
                    w0.store(to: t); w1.store(to: t + 16); w2.store(to: t + 32); w3.store(to: t + 48)
                    if channels == 16 {
                        Self.storeRowClipped(t, output + at, residual.map { $0 + at }, width: width, plane: plane, lo: lo)
                    } else {
                        Self.storeClipped(t, output + at, residual.map { $0 + at }, channels: channels, width: width,
                                          plane: plane, lo: relu ? 0 : -.infinity)
                    }
                }
            }
        }
    }

    /// One output row of a tile, 16 channels: `wj`'s 128-bit block L is channel 4L + j.
    @inline(__always)
    static func storeRow(_ w0: SIMD16<Float>, _ w1: SIMD16<Float>, _ w2: SIMD16<Float>, _ w3: SIMD16<Float>,
                         _ o: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>?, plane: Int, lo: SIMD16<Float>) {
        @inline(__always) func put(_ x: SIMD16<Float>, _ at: Int) {
            var x = x
            if let r {
                @inline(__always) func ld(_ c: Int) -> SIMD4<Float> { SIMD4(loadFrom: r + at + c * plane) }
                x += SIMD16(lowHalf: SIMD8(lowHalf: ld(0), highHalf: ld(4)), highHalf: SIMD8(lowHalf: ld(8), highHalf: ld(12)))
            }
            x.replace(with: lo, where: x .< lo)
            x.block(0).store(to: o + at)
            x.block(1).store(to: o + at + 4 * plane)
            x.block(2).store(to: o + at + 8 * plane)
            x.block(3).store(to: o + at + 12 * plane)
        }
        put(w0, 0); put(w1, plane); put(w2, 2 * plane); put(w3, 3 * plane)
    }

    /// One output row of a tile, 16 channels, `width` (1...3) columns: the four
    /// staged vectors of ``storeRow(_:_:_:_:_:_:plane:lo:)``, stored 1 to 3 values a block.
    @inline(never)
    static func storeRowClipped(_ stage: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>?,
                                width: Int, plane: Int, lo: SIMD16<Float>) {
        // One loop per width, each straight-line vector code; only the row's
        // `width` values exist in the residual and the output.
        @inline(__always) func each(_ load: (UnsafePointer<Float>) -> SIMD4<Float>,
                                    _ store: (SIMD4<Float>, UnsafeMutablePointer<Float>) -> Void) {
            for j in 0..<4 {
                var x = SIMD16<Float>(loadFrom: stage + 16 * j)
                let at = j * plane
                if let r {
                    x += SIMD16(lowHalf: SIMD8(lowHalf: load(r + at), highHalf: load(r + at + 4 * plane)),
                                highHalf: SIMD8(lowHalf: load(r + at + 8 * plane), highHalf: load(r + at + 12 * plane)))
                }
                x.replace(with: lo, where: x .< lo)
                store(x.block(0), o + at); store(x.block(1), o + at + 4 * plane)
                store(x.block(2), o + at + 8 * plane); store(x.block(3), o + at + 12 * plane)
            }
        }
        switch width {
        case 3:
            each({ SIMD4(lowHalf: SIMD2(loadFrom: $0), highHalf: SIMD2($0[2], 0)) }, { x, p in x.lowHalf.store(to: p); p[2] = x[2] })
        case 2:
            each({ SIMD4(lowHalf: SIMD2(loadFrom: $0), highHalf: .zero) }, { x, p in x.lowHalf.store(to: p) })
        default:
            each({ SIMD4($0[0], 0, 0, 0) }, { x, p in p[0] = x[0] })
        }
    }

    /// One output row of a tile for the first `channels` channels and `width`
    /// (1...4) columns, staged as `[j][L][4]` (channel 4L + j).
    @inline(never)
    static func storeClipped(_ stage: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>?,
                             channels: Int, width: Int, plane: Int, lo: Float) {
        let lo = SIMD4<Float>(repeating: lo)
        // One loop per width, so each is straight-line vector code; only the
        // row's `width` values exist in the residual and the output.
        @inline(__always) func each(_ load: (UnsafePointer<Float>) -> SIMD4<Float>,
                                    _ store: (SIMD4<Float>, UnsafeMutablePointer<Float>) -> Void) {
            for c in 0..<channels {
                let at = c * plane
                var x = SIMD4<Float>(loadFrom: stage + (c % 4) * 16 + (c / 4) * 4)
                if let r { x += load(r + at) }
                x.replace(with: lo, where: x .< lo)
                store(x, o + at)
            }
        }
        switch width {
        case 4:
            each({ SIMD4(loadFrom: $0) }, { x, p in x.store(to: p) })
        case 3:
            each({ SIMD4(lowHalf: SIMD2(loadFrom: $0), highHalf: SIMD2($0[2], 0)) }, { x, p in x.lowHalf.store(to: p); p[2] = x[2] })
        case 2:
            each({ SIMD4(lowHalf: SIMD2(loadFrom: $0), highHalf: .zero) }, { x, p in x.lowHalf.store(to: p) })
        default:
            each({ SIMD4($0[0], 0, 0, 0) }, { x, p in p[0] = x[0] })
        }
    }
}

/// A 16x16 transpose: lane `i` of result `j` is lane `j` of argument `i`.
/// 64 two-source shuffles (32-bit and 64-bit interleaves, then two rounds of
/// 128-bit block selects).
@inline(__always)
func transpose16x16(_ r0: SIMD16<Float>, _ r1: SIMD16<Float>, _ r2: SIMD16<Float>, _ r3: SIMD16<Float>,
                    _ r4: SIMD16<Float>, _ r5: SIMD16<Float>, _ r6: SIMD16<Float>, _ r7: SIMD16<Float>,
                    _ r8: SIMD16<Float>, _ r9: SIMD16<Float>, _ r10: SIMD16<Float>, _ r11: SIMD16<Float>,
                    _ r12: SIMD16<Float>, _ r13: SIMD16<Float>, _ r14: SIMD16<Float>, _ r15: SIMD16<Float>)
    -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
        SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
    typealias V = SIMD16<Float>
    // Per 4 rows: each 128-bit block becomes a transposed 4x4 block; b[4k + j]'s
    // block L is column 4L + j of rows 4k ..< 4k + 4.
    @inline(__always) func quad(_ x0: V, _ x1: V, _ x2: V, _ x3: V) -> (V, V, V, V) {
        let a0 = V.interleaveLow32(x0, x1), a1 = V.interleaveHigh32(x0, x1)
        let a2 = V.interleaveLow32(x2, x3), a3 = V.interleaveHigh32(x2, x3)
        return (V.interleaveLow64(a0, a2), V.interleaveHigh64(a0, a2), V.interleaveLow64(a1, a3), V.interleaveHigh64(a1, a3))
    }
    let q0 = quad(r0, r1, r2, r3), q1 = quad(r4, r5, r6, r7), q2 = quad(r8, r9, r10, r11), q3 = quad(r12, r13, r14, r15)
    // Then a 4x4 transpose of 128-bit blocks for each j.
    @inline(__always) func blocks(_ b0: V, _ b1: V, _ b2: V, _ b3: V) -> (V, V, V, V) {
        let e0 = V.blocksLow(b0, b1), e1 = V.blocksHigh(b0, b1), e2 = V.blocksLow(b2, b3), e3 = V.blocksHigh(b2, b3)
        return (V.blocksEven(e0, e2), V.blocksOdd(e0, e2), V.blocksEven(e1, e3), V.blocksOdd(e1, e3))
    }
    let c0 = blocks(q0.0, q1.0, q2.0, q3.0), c1 = blocks(q0.1, q1.1, q2.1, q3.1)
    let c2 = blocks(q0.2, q1.2, q2.2, q3.2), c3 = blocks(q0.3, q1.3, q2.3, q3.3)
    return (c0.0, c1.0, c2.0, c3.0, c0.1, c1.1, c2.1, c3.1, c0.2, c1.2, c2.2, c3.2, c0.3, c1.3, c2.3, c3.3)
}
