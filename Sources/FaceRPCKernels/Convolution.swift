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
    }

    /// Scratch floats one thread needs: one unfolded column panel and one tile.
    public var scratchPerThread: Int { geometry.groupK * variant.nr + variant.mr * variant.nr }

    /// Runs the convolution over `batch` samples.
    ///
    /// - Parameters:
    ///   - residual: optional tensor of the output's shape added before the activation.
    ///   - scratch: at least `threads * scratchPerThread` floats.
    ///   - threads: how many threads split the column panels (and row panels when
    ///     there are too few column panels to go round).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                    residual: UnsafePointer<Float>?, relu: Bool,
                    scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let g = geometry
        let nr = variant.nr
        let hw = g.outH * g.outW
        let columns = batch * hw
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
        let pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && g.padTop == 0 && g.padLeft == 0
            && g.padBottom == 0 && g.padRight == 0
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
                        if sw == 1 {
                            (d + lo).update(from: row + ixs + lo, count: hi - lo)
                        } else {
                            for t in lo..<hi { d[t] = row[ixs + t * sw] }
                        }
                        for t in hi..<len { d[t] = 0 }
                        kk += 1
                    }
                }
            }
            jj += len
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
