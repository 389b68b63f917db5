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

    /// Scratch floats one thread needs: transformed input panel and 16 GEMM tiles.
    public var scratchPerThread: Int { 16 * geometry.inChannels * variant.nr + 16 * variant.mr * variant.nr + 4 * variant.nr }

    /// Runs the convolution; the contract is that of
    /// ``PackedConvolution/run(input:output:batch:residual:relu:scratch:threads:)``.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                    residual: UnsafePointer<Float>?, relu: Bool,
                    scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let nr = variant.nr, cin = geometry.inChannels
        let tiles = batch * tilesH * tilesW
        let colPanels = (tiles + nr - 1) / nr
        let threads = max(1, threads)
        let rowChunks = colPanels >= 2 * threads ? 1 : min(rowPanels, threads)
        let items = colPanels * rowChunks
        let tasks = min(threads, items)
        let perThread = scratchPerThread
        parallelFor(tasks) { t in
            let v = scratch + t * perThread
            let m = v + 16 * cin * nr
            let y = m + 16 * variant.mr * nr
            var lastPanel = -1
            for item in sliceRange(t, of: tasks, count: items) {
                let cp = item / rowChunks, chunk = item % rowChunks
                let nc = min(nr, tiles - cp * nr)
                if cp != lastPanel {
                    transformInput(input, firstTile: cp * nr, tiles: nc, width: variant.panel(forColumns: nc).width, into: v)
                    lastPanel = cp
                }
                for rp in sliceRange(chunk, of: rowChunks, count: rowPanels) {
                    multiplyAndStore(rowPanel: rp, firstTile: cp * nr, tiles: nc, v: v, m: m, y: y,
                                     output: output, residual: residual, relu: relu)
                }
            }
        }
    }

    /// `V[ξ][ci][jj] = (Bᵀ d B)[ξ]` for the 4x4 input patch of each tile; zero for padding tiles.
    @inline(__always)
    private func transformInput(_ input: UnsafePointer<Float>, firstTile j0: Int, tiles nc: Int, width nr: Int,
                                into v: UnsafeMutablePointer<Float>) {
        let g = geometry
        let cin = g.inChannels
        let inH = g.inH, inW = g.inW, plane = inH * inW
        let tw = tilesW, perSample = tilesH * tilesW
        let xiStride = cin * nr
        if nc < nr {
            for xi in 0..<16 { for ci in 0..<cin { (v + xi * xiStride + ci * nr + nc).update(repeating: 0, count: nr - nc) } }
        }
        for jj in 0..<nc {
            let j = j0 + jj
            let n = j / perSample, p = j - n * perSample
            let ty = p / tw, tx = p - ty * tw
            let y0 = 2 * ty - g.padTop, x0 = 2 * tx - g.padLeft
            let inside = y0 >= 0 && x0 >= 0 && y0 + 4 <= inH && x0 + 4 <= inW
            var src = input + n * cin * plane + y0 * inW + x0
            var dst = v + jj
            for _ in 0..<cin {
                var d0 = SIMD4<Float>(), d1 = d0, d2 = d0, d3 = d0
                if inside {
                    d0 = UnsafeRawPointer(src).loadUnaligned(as: SIMD4<Float>.self)
                    d1 = UnsafeRawPointer(src + inW).loadUnaligned(as: SIMD4<Float>.self)
                    d2 = UnsafeRawPointer(src + 2 * inW).loadUnaligned(as: SIMD4<Float>.self)
                    d3 = UnsafeRawPointer(src + 3 * inW).loadUnaligned(as: SIMD4<Float>.self)
                } else {
                    var d = SIMD16<Float>()
                    for r in 0..<4 {
                        let iy = y0 + r
                        if iy < 0 || iy >= inH { continue }
                        for c in 0..<4 {
                            let ix = x0 + c
                            if ix >= 0 && ix < inW { d[r * 4 + c] = src[r * inW + c] }
                        }
                    }
                    d0 = d.lowHalf.lowHalf; d1 = d.lowHalf.highHalf; d2 = d.highHalf.lowHalf; d3 = d.highHalf.highHalf
                }
                // Rows: t = Bᵀ d.
                let t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3
                // Columns: V = t B.
                @inline(__always) func put(_ r: Int, _ t: SIMD4<Float>) {
                    let o = dst + (r * 4) * xiStride
                    o[0] = t[0] - t[2]
                    o[xiStride] = t[1] + t[2]
                    o[2 * xiStride] = t[2] - t[1]
                    o[3 * xiStride] = t[1] - t[3]
                }
                put(0, t0); put(1, t1); put(2, t2); put(3, t3)
                src += plane
                dst += nr
            }
        }
    }

    @inline(__always)
    private func multiplyAndStore(rowPanel rp: Int, firstTile j0: Int, tiles nc: Int,
                                  v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                                  y: UnsafeMutablePointer<Float>,
                                  output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, relu: Bool) {
        let g = geometry
        let mr = variant.mr, nr = variant.nr, cin = g.inChannels, cout = g.outChannels
        let oh = g.outH, ow = g.outW, tw = tilesW, perSample = tilesH * tilesW
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
                for t in jj..<min(jj + 16, nc) {
                    let j = j0 + t
                    let n = j / perSample, p = j - n * perSample
                    let ty = p / tw, tx = p - ty * tw
                    let oy = 2 * ty, ox = 2 * tx
                    let planeBase = (n * cout + co) * oh * ow
                    for dy in 0..<2 where oy + dy < oh {
                        for dx in 0..<2 where ox + dx < ow {
                            let idx = planeBase + (oy + dy) * ow + ox + dx
                            var val = y[(dy * 2 + dx) * nr + t - jj]
                            if let residual { val += residual[idx] }
                            output[idx] = relu ? max(val, 0) : val
                        }
                    }
                }
                jj += 16
            }
        }
    }
}
