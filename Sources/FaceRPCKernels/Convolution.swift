/// A convolution with its weights packed for one GEMM micro-kernel.
///
/// Each group is one GEMM: `C[outChannels/groups x batch*outH*outW] = W · im2col(X)`.
/// The weights are packed once into panels of `mr` rows (`[panel][k][mr]`, zero
/// padded). At run time the input is unfolded one column panel at a time
/// (`nr` output pixels, possibly spanning several samples, so small late layers
/// still fill whole tiles at large batch), straight into the layout the
/// micro-kernel reads; the panel stays in L1/L2 while every row panel of the
/// weights streams past it. Bias, residual add and ReLU are fused into the
/// store.
public struct PackedConvolution: Sendable {
    public let geometry: ConvGeometry
    public let variant: GemmVariant
    /// `[group][rowPanel][k][mr]`.
    let packedWeights: [Float]
    /// `[group][rowPanel][mr]`.
    let packedBias: [Float]
    let rowPanels: Int
    /// The transposed product for small outputs: `[group][channelPanel][k][64]`.
    let transposed: GemmVariant
    let packedWeightsT: [Float]
    let channelPanels: Int
    /// The 9-pixel transposed tile's weights, `[group][channelPanel][k][32]`; empty
    /// unless some batch of at most 48 pixels is a multiple of 9 pixels.
    let packedWeightsT9: [Float]
    let channelPanels9: Int
    let bias: [Float]
    /// Offset of each of the `groupK` taps `(ci, ky, kx)` in the (zero-padded when
    /// the geometry pads) input of one group: the transposed path's unfold is then
    /// one load per value, no bounds checks.
    let tapOffsets: [Int32]

    /// Which GEMM orientation a run uses.
    public enum Path: Sendable {
        /// Transposed when the output has few pixels (see ``prefersTransposed(columns:)``).
        case automatic
        /// Rows = output channels, columns = pixels (the variant's tile).
        case standard
        /// Rows = pixels, columns = output channels (``KernelRegistry/transposedGemm``).
        case transposed
    }

    /// - Parameters:
    ///   - weights: OIHW, `outChannels * inChannels / groups * kernelH * kernelW` values.
    ///   - bias: `outChannels` values.
    /// - Precondition: `geometry.isValid` and the array sizes match.
    public init(geometry g: ConvGeometry, weights: [Float], bias: [Float],
                variant: GemmVariant = KernelRegistry.defaultGemm) {
        precondition(g.isValid, "invalid convolution geometry")
        precondition(weights.count == g.outChannels * g.groupK && bias.count == g.outChannels)
        geometry = g
        self.variant = variant
        let mr = variant.mr, k = g.groupK, coutG = g.groupOutChannels
        let panels = (coutG + mr - 1) / mr
        rowPanels = panels
        var packed = [Float](repeating: 0, count: g.groups * panels * k * mr)
        var pbias = [Float](repeating: 0, count: g.groups * panels * mr)
        for grp in 0..<g.groups {
            for row in 0..<coutG {
                let co = grp * coutG + row
                let panel = grp * panels + row / mr, r = row % mr
                pbias[panel * mr + r] = bias[co]
                for kk in 0..<k {
                    packed[(panel * k + kk) * mr + r] = weights[co * k + kk]
                }
            }
        }
        packedWeights = packed
        packedBias = pbias
        self.bias = bias
        // Transposed packing: weights become the B panels, `tnr` output channels wide.
        let tv = KernelRegistry.transposedGemm
        transposed = tv
        let tnr = tv.nr
        let cpanels = (coutG + tnr - 1) / tnr
        channelPanels = cpanels
        var packedT = [Float](repeating: 0, count: g.groups * cpanels * k * tnr)
        for grp in 0..<g.groups {
            for row in 0..<coutG {
                let co = grp * coutG + row
                let panel = grp * cpanels + row / tnr, c = row % tnr
                for kk in 0..<k { packedT[(panel * k + kk) * tnr + c] = weights[co * k + kk] }
            }
        }
        packedWeightsT = packedT
        // 9-pixel tiles: only when some small batch fills them exactly (3x3 or 6x6 outputs).
        let hw = g.outH * g.outW
        let nine = KernelRegistry.transposedGemm9
        let packNine = coutG >= 16 && stride(from: hw, through: 48, by: hw).contains { $0 % nine.mr == 0 }
        let cpanels9 = (coutG + nine.nr - 1) / nine.nr
        channelPanels9 = cpanels9
        var packed9 = [Float](repeating: 0, count: packNine ? g.groups * cpanels9 * k * nine.nr : 0)
        if packNine {
            for grp in 0..<g.groups {
                for row in 0..<coutG {
                    let co = grp * coutG + row
                    let panel = grp * cpanels9 + row / nine.nr, c = row % nine.nr
                    for kk in 0..<k { packed9[(panel * k + kk) * nine.nr + c] = weights[co * k + kk] }
                }
            }
        }
        packedWeightsT9 = packed9
        let plane = g.paddedInH * g.paddedInW
        var taps = [Int32](repeating: 0, count: k)
        for ci in 0..<g.groupInChannels {
            for ky in 0..<g.kernelH {
                for kx in 0..<g.kernelW {
                    taps[(ci * g.kernelH + ky) * g.kernelW + kx] = Int32(ci * plane + ky * g.dilationH * g.paddedInW + kx * g.dilationW)
                }
            }
        }
        tapOffsets = taps
    }

    /// Scratch floats per sample of batch, on top of the per-thread scratch: the
    /// zero-padded copy of the input that the transposed path unfolds from. Zero
    /// for unpadded geometries (the path reads the input itself).
    public var scratchPerSample: Int {
        geometry.hasPadding ? geometry.inChannels * geometry.paddedInH * geometry.paddedInW : 0
    }

    /// Whether a run over `columns` output pixels (batch x outH x outW) is better
    /// served by the transposed product: few pixels would leave most of a
    /// standard tile's columns empty, while output channels fill the wide ones.
    public func prefersTransposed(columns: Int) -> Bool {
        columns <= 48 && geometry.groupOutChannels >= 16
    }

    /// A 1x1, stride-1, unpadded kernel: im2col is a plain copy of each sample.
    var isPointwise: Bool {
        let g = geometry
        return g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 && g.padTop == 0 && g.padLeft == 0
            && g.padBottom == 0 && g.padRight == 0
    }

    /// Scratch floats one thread needs: one unfolded column panel and one tile,
    /// for whichever orientation needs more.
    public var scratchPerThread: Int {
        max(geometry.groupK * variant.nr + variant.mr * variant.nr,
            geometry.groupK * transposed.mr * Self.transposedPanelGroup + transposed.mr * transposed.nr,
            packedWeightsT9.isEmpty ? 0 : geometry.groupK * 9 * Self.ninePixelPanelGroup + 9 * 32)
    }

    /// Runs the convolution over `batch` samples.
    ///
    /// - Parameters:
    ///   - residual: optional tensor of the output's shape added before the activation.
    ///   - scratch: at least `threads * scratchPerThread + batch * scratchPerSample` floats
    ///     (the per-sample part is used only by the transposed path).
    ///   - threads: how many threads split the column panels (and row panels when
    ///     there are too few column panels to go round).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                    residual: UnsafePointer<Float>?, relu: Bool,
                    scratch: UnsafeMutablePointer<Float>, threads: Int, path: Path = .automatic) {
        let columns = batch * geometry.outH * geometry.outW
        if path == .transposed || (path == .automatic && prefersTransposed(columns: columns)) {
            runTransposed(input: input, output: output, batch: batch, residual: residual, relu: relu,
                          scratch: scratch, threads: threads)
            return
        }
        let g = geometry
        let nr = variant.nr
        let colPanels = (columns + nr - 1) / nr
        let units = g.groups * colPanels
        let threads = max(1, threads)
        // Too few column panels for the threads: also split the output channels.
        let rowChunks = units >= 2 * threads ? 1 : min(rowPanels, threads)
        let items = units * rowChunks
        let tasks = min(threads, items)
        let perThread = scratchPerThread
        parallelFor(tasks) { t in
            let panel = scratch + t * perThread
            let tile = panel + g.groupK * nr
            var lastUnit = -1
            for item in sliceRange(t, of: tasks, count: items) {
                let unit = item / rowChunks, chunk = item % rowChunks
                let grp = unit / colPanels, cp = unit % colPanels
                let nc = min(nr, columns - cp * nr)
                if unit != lastUnit {
                    unfold(input: input, group: grp, firstColumn: cp * nr, columns: nc,
                           width: variant.panel(forColumns: nc).width, into: panel)
                    lastUnit = unit
                }
                let rows = sliceRange(chunk, of: rowChunks, count: rowPanels)
                multiply(group: grp, firstColumn: cp * nr, columns: nc, rowPanels: rows,
                         panel: panel, tile: tile, output: output, residual: residual, relu: relu)
            }
        }
    }

    /// Pixel panels of the transposed product unfolded together, so each weight
    /// panel (`k x 64`, often larger than L1) is streamed once per group of them.
    static let transposedPanelGroup = 12
    /// The same for 9-pixel panels: 54 pixels, more than the path ever takes by itself.
    static let ninePixelPanelGroup = 6

    /// `C[pixels x channels]`: 4-pixel im2col panels (the A side) times the
    /// transposed weight panels; bias, residual and ReLU in the scatter to NCHW.
    /// Loop order: a group of up to 12 pixel panels is unfolded once, then each
    /// channel panel multiplies all of them while its weights are hot.
    private func runTransposed(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                               residual: UnsafePointer<Float>?, relu: Bool,
                               scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let g = geometry
        let hw = g.outH * g.outW
        let columns = batch * hw
        // Multiples of 9 pixels (3x3, 6x6 outputs): 9-pixel tiles, so each weight vector
        // loaded feeds 9 pixels. Else 4-pixel tiles, or 3-pixel ones (same weight panels)
        // where 4 would pad the pixels by more than a tenth.
        let useNine = columns % 9 == 0 && !packedWeightsT9.isEmpty
        let padded4 = (columns + 3) / 4 * 4
        let tv = useNine ? KernelRegistry.transposedGemm9
            : columns % 3 == 0 && 9 * padded4 > 10 * columns ? KernelRegistry.transposedGemm3 : transposed
        let mr = tv.mr, nr = tv.nr, k = g.groupK
        let coutG = g.groupOutChannels
        let pixelPanels = (columns + mr - 1) / mr
        let groupSize = useNine ? Self.ninePixelPanelGroup : Self.transposedPanelGroup
        let pixelGroups = (pixelPanels + groupSize - 1) / groupSize
        let channelPanels = useNine ? channelPanels9 : self.channelPanels
        let items = g.groups * pixelGroups * channelPanels
        let tasks = min(max(1, threads), items)
        let perThread = scratchPerThread
        let kernel = tv.kernel
        let zeros = SIMD16<Float>()
        // Unfolding by tap offsets reads a zero-padded copy of the input when the
        // geometry pads, the input itself otherwise.
        let ph = g.paddedInH, pw = g.paddedInW
        var source = input
        if g.hasPadding {
            let padded = scratch + max(1, threads) * perThread
            let planes = batch * g.inChannels
            let padTasks = min(max(1, threads), planes)
            parallelFor(padTasks) { t in
                for plane in sliceRange(t, of: padTasks, count: planes) {
                    let dst = padded + plane * ph * pw, src = input + plane * g.inH * g.inW
                    dst.update(repeating: 0, count: ph * pw)
                    for iy in 0..<g.inH {
                        (dst + (iy + g.padTop) * pw + g.padLeft).update(from: src + iy * g.inW, count: g.inW)
                    }
                }
            }
            source = UnsafePointer(padded)
        }
        let byTaps = !isPointwise
        // 9-pixel tiles read the input in place (indirect GEMM); the copy the other tiles
        // unfold into would be shared by few multiplies at batch 1 and redone per thread.
        let indirect = useNine && byTaps
        let samplePlane = g.inChannels * ph * pw
        (useNine ? packedWeightsT9 : packedWeightsT).withUnsafeBufferPointer { wbuf in
          tapOffsets.withUnsafeBufferPointer { taps in
            bias.withUnsafeBufferPointer { bbuf in
                parallelFor(tasks) { t in
                    let panels = scratch + t * perThread
                    let tile = panels + k * mr * groupSize
                    var lastUnit = -1
                    withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 9) { rowBuffer in
                    let rows = rowBuffer.baseAddress!
                    withUnsafeBytes(of: zeros) { zb in
                        let zero = zb.baseAddress!.assumingMemoryBound(to: Float.self)
                        for item in sliceRange(t, of: tasks, count: items) {
                            let cp = item % channelPanels, unit = item / channelPanels
                            let grp = unit / pixelGroups, pg = unit % pixelGroups
                            let firstPanel = pg * groupSize
                            let panelCount = min(groupSize, pixelPanels - firstPanel)
                            if indirect {
                                // No unfolding: the kernel reads the input through pixel pointers.
                            } else if unit != lastUnit && byTaps {
                                // One load per value: column offsets (sample, output pixel) plus tap offsets.
                                let groupBase = source + grp * g.groupInChannels * ph * pw
                                for i in 0..<panelCount {
                                    let j0 = (firstPanel + i) * mr
                                    let nc = min(mr, columns - j0)
                                    @inline(__always) func columnOffset(_ q: Int) -> Int {
                                        let j = j0 + min(q, nc - 1)
                                        let n = j / hw, p = j - n * hw
                                        let oy = p / g.outW, ox = p - oy * g.outW
                                        return n * samplePlane + oy * g.strideH * pw + ox * g.strideW
                                    }
                                    let d = panels + i * k * mr
                                    let tp = taps.baseAddress!
                                    if mr == 9 {
                                        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 9) { src in
                                            for q in 0..<9 { src[q] = groupBase + columnOffset(q) }
                                            for kk in 0..<k {
                                                let o = Int(tp[kk])
                                                for q in 0..<9 { d[9 * kk + q] = src[q][o] }
                                            }
                                        }
                                        continue
                                    }
                                    let s0 = groupBase + columnOffset(0), s1 = groupBase + columnOffset(1)
                                    let s2 = groupBase + columnOffset(2)
                                    if mr == 4 {
                                        let s3 = groupBase + columnOffset(3)
                                        for kk in 0..<k {
                                            let o = Int(tp[kk])
                                            UnsafeMutableRawPointer(d + 4 * kk).storeBytes(of: SIMD4<Float>(s0[o], s1[o], s2[o], s3[o]),
                                                                                           as: SIMD4<Float>.self)
                                        }
                                    } else {
                                        precondition(mr == 3, "transposed tiles are 3, 4 or 9 pixels")
                                        for kk in 0..<k {
                                            let o = Int(tp[kk])
                                            d[3 * kk] = s0[o]; d[3 * kk + 1] = s1[o]; d[3 * kk + 2] = s2[o]
                                        }
                                    }
                                }
                                lastUnit = unit
                            } else if unit != lastUnit {
                                if g.outW < 8 && !isPointwise {
                                    unfoldGather(input: input, group: grp, firstColumn: firstPanel * mr,
                                                 columns: min(panelCount * mr, columns - firstPanel * mr),
                                                 width: mr, panelStride: k * mr, into: panels)
                                } else {
                                    for i in 0..<panelCount {
                                        let pp = firstPanel + i
                                        unfold(input: input, group: grp, firstColumn: pp * mr, columns: min(mr, columns - pp * mr),
                                               width: mr, into: panels + i * k * mr)
                                    }
                                }
                                lastUnit = unit
                            }
                            let weights = wbuf.baseAddress! + ((grp * channelPanels + cp) * k) * nr
                            let c0 = cp * nr
                            let channels = min(nr, coutG - c0)
                            let co0 = grp * coutG + c0
                            for i in 0..<panelCount {
                                let pp = firstPanel + i
                                let nc = min(mr, columns - pp * mr)
                                if indirect {
                                    // Each pixel's window origin (columns past `nc` repeat the last one).
                                    let groupBase = source + grp * g.groupInChannels * ph * pw
                                    for q in 0..<9 {
                                        let j = pp * 9 + min(q, nc - 1)
                                        let n = j / hw, p = j - n * hw
                                        let oy = p / g.outW, ox = p - oy * g.outW
                                        rows[q] = groupBase + n * samplePlane + oy * g.strideH * pw + ox * g.strideW
                                    }
                                    f32_igemm_9x32_simd16(k, rows, taps.baseAddress!, weights, zero, tile, nr, -.infinity, .infinity)
                                } else {
                                    kernel(k, panels + i * k * mr, weights, zero, tile, nr, -.infinity, .infinity)
                                }
                                for q in 0..<nc {
                                    let j = pp * mr + q
                                    let n = j / hw, p = j - n * hw
                                    let row = tile + q * nr
                                    let base = (n * g.outChannels + co0) * hw + p
                                    for c in 0..<channels {
                                        let idx = base + c * hw
                                        var v = row[c] + bbuf[co0 + c]
                                        if let residual { v += residual[idx] }
                                        output[idx] = relu ? max(v, 0) : v
                                    }
                                }
                            }
                        }
                    }
                    }
                }
            }
          }
        }
    }

    /// im2col of `columns` output pixels starting at global column `firstColumn`
    /// (column = sample * outH * outW + pixel) into `dst[k][width]`, zero filling the rest.
    @inline(__always)
    private func unfold(input: UnsafePointer<Float>, group grp: Int, firstColumn j0: Int, columns nc: Int,
                        width nr: Int, into dst: UnsafeMutablePointer<Float>) {
        let g = geometry
        let inH = g.inH, inW = g.inW, plane = inH * inW
        let ow = g.outW, hw = g.outH * ow
        let kh = g.kernelH, kw = g.kernelW, sh = g.strideH, sw = g.strideW, dh = g.dilationH, dw = g.dilationW
        let cinG = g.groupInChannels
        let k = g.groupK
        if nc < nr {
            for kk in 0..<k { (dst + kk * nr + nc).update(repeating: 0, count: nr - nc) }
        }
        // A 1x1, stride-1, unpadded kernel reads each sample as one contiguous run.
        let pointwise = isPointwise
        if !pointwise && ow < 8 && !g.hasPadding {
            // Every tap of every column is inside the input: one load per value, from
            // the column's offset plus the tap's (columns past `nc` repeat the last one).
            withUnsafeTemporaryAllocation(of: Int.self, capacity: nr) { cols in
                let c = cols.baseAddress!
                for q in 0..<nr {
                    let j = j0 + min(q, nc - 1)
                    let n = j / hw, p = j - n * hw
                    let oy = p / ow, ox = p - oy * ow
                    c[q] = n * g.inChannels * plane + oy * sh * inW + ox * sw
                }
                let base = input + grp * cinG * plane
                tapOffsets.withUnsafeBufferPointer { taps in
                    for kk in 0..<k {
                        let src = base + Int(taps[kk])
                        let d = dst + kk * nr
                        for q in 0..<nr { d[q] = src[c[q]] }
                    }
                }
            }
            return
        }
        if !pointwise && ow < 8 {
            unfoldGather(input: input, group: grp, firstColumn: j0, columns: nc, width: nr, into: dst)
            return
        }
        var jj = 0
        while jj < nc {
            let j = j0 + jj
            let n = j / hw, p = j - n * hw
            let oy = p / ow, ox = p - oy * ow
            let len = pointwise ? min(hw - p, nc - jj) : min(ow - ox, nc - jj)
            let base = input + (n * g.inChannels + grp * cinG) * plane
            if pointwise {
                for ci in 0..<cinG {
                    (dst + ci * nr + jj).update(from: base + ci * plane + p, count: len)
                }
                jj += len
                continue
            }
            let iy0 = oy * sh - g.padTop, ix0 = ox * sw - g.padLeft
            var kk = 0
            for ci in 0..<cinG {
                let src0 = base + ci * plane
                for ky in 0..<kh {
                    let iy = iy0 + ky * dh
                    if iy < 0 || iy >= inH {
                        for _ in 0..<kw { (dst + kk * nr + jj).update(repeating: 0, count: len); kk += 1 }
                        continue
                    }
                    let row = src0 + iy * inW
                    for kx in 0..<kw {
                        let d = dst + kk * nr + jj
                        let ixs = ix0 + kx * dw
                        // Valid t satisfy 0 <= ixs + t*sw < inW.
                        var lo = ixs >= 0 ? 0 : (-ixs + sw - 1) / sw
                        var hi = ixs >= inW ? 0 : (inW - ixs + sw - 1) / sw
                        lo = min(lo, len); hi = max(min(hi, len), lo)
                        for t in 0..<lo { d[t] = 0 }
                        var t = lo
                        if sw == 1 {
                            while t + 16 <= hi {
                                SIMD16<Float>(loadFrom: row + ixs + t).store(to: d + t)
                                t += 16
                            }
                        } else if sw == 2 {
                            // Even lanes of a 32-wide load; strictly inside the run, so
                            // the odd lane past its last pixel is still in the row.
                            while t + 16 < hi {
                                SIMD16<Float>(evenLanesFrom: row + ixs + 2 * t).store(to: d + t)
                                t += 16
                            }
                        }
                        // leftovers
                        while t < hi { d[t] = row[ixs + t * sw]; t += 1 }
                        for t in hi..<len { d[t] = 0 }
                        kk += 1
                    }
                }
            }
            jj += len
        }
    }

    /// im2col for narrow outputs, where rows of output pixels are too short for
    /// the run-based copy to pay off: per kernel tap, one branchless pass over the
    /// panel's columns with 32-bit offsets (a masked gather once vectorised).
    /// Writes column `jj` of tap `k` to `dst[(jj / width) * panelStride + k * width + jj % width]`:
    /// one panel when `panelStride` is 0 and `columns <= width`, or several
    /// consecutive `width`-column panels (the transposed path) in one pass.
    @inline(__always)
    private func unfoldGather(input: UnsafePointer<Float>, group grp: Int, firstColumn j0: Int, columns nc: Int,
                              width nr: Int, panelStride: Int = 0, into dst: UnsafeMutablePointer<Float>) {
        let g = geometry
        let inH = Int32(g.inH), inW = Int32(g.inW), plane = g.inH * g.inW
        let ow = g.outW, hw = g.outH * ow
        let cinG = g.groupInChannels
        // Every column up to a whole panel is written; the padding ones read as zero.
        let padded = (nc + nr - 1) / nr * nr
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4 * padded) { cols in
            let iy0 = cols.baseAddress!, ix0 = iy0 + padded, rowBase = ix0 + padded, colDst = rowBase + padded
            // Columns of one call span at most a few samples: offsets are relative to the first.
            let n0 = j0 / hw
            let base0 = input + (n0 * g.inChannels + grp * cinG) * plane
            for jj in 0..<padded {
                colDst[jj] = Int32((jj / nr) * panelStride + jj % nr)
                if jj >= nc {
                    iy0[jj] = Int32.min / 2; ix0[jj] = 0; rowBase[jj] = 0
                    continue
                }
                let j = j0 + jj
                let n = j / hw, p = j - n * hw
                let oy = p / ow, ox = p - oy * ow
                iy0[jj] = Int32(oy * g.strideH - g.padTop)
                ix0[jj] = Int32(ox * g.strideW - g.padLeft)
                rowBase[jj] = Int32((n - n0) * g.inChannels * plane)
            }
            var kk = 0
            for ci in 0..<cinG {
                let src = base0 + ci * plane
                for ky in 0..<g.kernelH {
                    let dy = Int32(ky * g.dilationH)
                    for kx in 0..<g.kernelW {
                        let dx = Int32(kx * g.dilationW)
                        let d = dst + kk * nr
                        for jj in 0..<padded {
                            let iy = iy0[jj] + dy, ix = ix0[jj] + dx
                            let ok = UInt32(bitPattern: iy) < UInt32(bitPattern: inH) && UInt32(bitPattern: ix) < UInt32(bitPattern: inW)
                            let off = ok ? rowBase[jj] + iy * inW + ix : 0
                            let v = src[Int(off)]
                            d[Int(colDst[jj])] = ok ? v : 0
                        }
                        kk += 1
                    }
                }
            }
        }
    }

    @inline(__always)
    private func multiply(group grp: Int, firstColumn j0: Int, columns nc: Int, rowPanels rows: Range<Int>,
                          panel: UnsafeMutablePointer<Float>, tile: UnsafeMutablePointer<Float>,
                          output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, relu: Bool) {
        let g = geometry
        let mr = variant.mr, k = g.groupK
        let hw = g.outH * g.outW
        let coutG = g.groupOutChannels
        let n0 = j0 / hw, p0 = j0 - n0 * hw
        let (nr, kernel) = variant.panel(forColumns: nc)
        let fullColumns = nc == nr && p0 + nr <= hw
        let lo: Float = relu && residual == nil ? 0 : -.infinity
        packedWeights.withUnsafeBufferPointer { wbuf in
            packedBias.withUnsafeBufferPointer { bbuf in
                for rp in rows {
                    let a = wbuf.baseAddress! + (grp * rowPanels + rp) * k * mr
                    let bias = bbuf.baseAddress! + (grp * rowPanels + rp) * mr
                    let row0 = rp * mr
                    let mrValid = min(mr, coutG - row0)
                    let co0 = grp * coutG + row0
                    if fullColumns && mrValid == mr {
                        let c = output + (n0 * g.outChannels + co0) * hw + p0
                        kernel(k, a, panel, bias, c, hw, lo, .infinity)
                        if let residual {
                            let res = residual + (n0 * g.outChannels + co0) * hw + p0
                            for r in 0..<mr {
                                f32_vadd_clamp_simd16(nr, c + r * hw, res + r * hw, c + r * hw, relu ? 0 : -.infinity)
                            }
                        }
                    } else {
                        kernel(k, a, panel, bias, tile, nr, lo, .infinity)
                        // Scatter the tile, one same-sample run of columns at a time.
                        var jj = 0
                        while jj < nc {
                            let j = j0 + jj
                            let n = j / hw, p = j - n * hw
                            let len = min(hw - p, nc - jj)
                            for r in 0..<mrValid {
                                let off = (n * g.outChannels + co0 + r) * hw + p
                                if let residual {
                                    f32_vadd_clamp_simd16(len, tile + r * nr + jj, residual + off, output + off,
                                                          relu ? 0 : -.infinity)
                                } else {
                                    (output + off).update(from: tile + r * nr + jj, count: len)
                                }
                            }
                            jj += len
                        }
                    }
                }
            }
        }
    }
}
