/// A 3x3, stride-1, pad-1 convolution on maps whose sides are multiples of 3,
/// computed directly on 3x3 blocks of output pixels with the taps that fall in
/// the zero padding left out.
///
/// Why: on small maps much of im2col's work multiplies padding. A 3x3 map has
/// 81 taps per channel pair but only 49 read the input (a corner pixel sees 4
/// of its 9 taps, an edge pixel 6); a 6x6 map 256 of 324. The age net at
/// batch 1 has three 256-channel layers on 3x3 maps and one 128-channel layer
/// on a 6x6 map, a quarter of its time; Winograd does not help there (a 3x3
/// map is four clipped 2x2 tiles, 64 multiplies, and at batch 1 each
/// transformed weight, streamed from L3, feeds a single tile).
///
/// In general a row of `n` outputs (`n` a multiple of 3) reads `3n - 2` of its
/// `3n` row taps, so `(3H - 2)(3W - 2)` multiplies per channel pair remain of
/// `9HW`. Each block of 3x3 pixels keeps its 9 x 32 results in a per-thread
/// stage; each of the 9 taps then adds the rectangle of pixels whose input it
/// can read (3x3, 2x3, 3x2 or 2x2: rows and columns past a border side drop
/// out) with one of three micro-kernels, which reduce over the input channels
/// with the pixels' input values broadcast against 32-channel weight vectors.
/// There are no bounds checks in any loop. Weights are packed
/// `[panel][tap][ci][32]` (32 output channels a panel, zero padded), so each
/// tap's reduction streams its weights front to back.
///
/// Threads split (panel, block) items, panels outermost: a thread streams whole
/// weight panels, and at batch 1 on 2 threads each reads half the layer's weights.
public struct PackedBlockConvolution: Sendable {
    public let geometry: ConvGeometry
    /// `[panel][tap][inChannels][panelChannels]`.
    let packedWeights: [Float]
    /// `[panel][panelChannels]`.
    let packedBias: [Float]
    let panels: Int
    /// Output channels per weight panel: the kernel's two vectors.
    public static let panelChannels = 32

    /// Whether a geometry can use this path: 3x3, stride 1, padding 1 on every
    /// side, no dilation, one group, and both map sides multiples of 3.
    public static func supports(_ g: ConvGeometry) -> Bool {
        g.isValid && g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1
            && g.dilationH == 1 && g.dilationW == 1 && g.groups == 1
            && g.padTop == 1 && g.padLeft == 1 && g.padBottom == 1 && g.padRight == 1
            && g.inH % 3 == 0 && g.inW % 3 == 0
    }

    /// Multiplies per channel pair and sample that read the input:
    /// `(3H - 2)(3W - 2)`, against im2col's `9HW`.
    public static func validTaps(_ g: ConvGeometry) -> Int { (3 * g.outH - 2) * (3 * g.outW - 2) }

    /// - Parameters: OIHW `weights` (`outChannels * inChannels * 9`), `bias` (`outChannels`).
    /// - Precondition: `supports(geometry)` and the array sizes match.
    public init(geometry g: ConvGeometry, weights: [Float], bias: [Float]) {
        precondition(Self.supports(g), "geometry not supported by the 3x3 block convolution")
        precondition(weights.count == g.outChannels * g.inChannels * 9 && bias.count == g.outChannels)
        geometry = g
        let pc = Self.panelChannels, cin = g.inChannels
        let panels = (g.outChannels + pc - 1) / pc
        self.panels = panels
        var packed = [Float](repeating: 0, count: panels * cin * 9 * pc)
        var pbias = [Float](repeating: 0, count: panels * pc)
        for co in 0..<g.outChannels {
            let panel = co / pc, col = co % pc
            pbias[co] = bias[co]
            for ci in 0..<cin {
                for tap in 0..<9 {
                    packed[((panel * 9 + tap) * cin + ci) * pc + col] = weights[(co * cin + ci) * 9 + tap]
                }
            }
        }
        packedWeights = packed
        packedBias = pbias
    }

    /// Scratch floats one thread needs: one block's 9 pixels x 32 channels.
    public var scratchPerThread: Int { 9 * Self.panelChannels }

    /// Runs the convolution: `output = conv(input) + bias (+ residual)`, then
    /// ReLU when `relu`; NCHW, `batch` samples. `scratch` holds `threads *
    /// scratchPerThread` floats; `residual`, when given, has the output's shape.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                    residual: UnsafePointer<Float>?, relu: Bool,
                    scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let g = geometry
        let h = g.inH, w = g.inW, plane = h * w, cin = g.inChannels, cout = g.outChannels
        let pc = Self.panelChannels
        let blocksWide = w / 3, blocksPerSample = (h / 3) * blocksWide
        let blocks = batch * blocksPerSample
        let items = panels * blocks
        let tasks = max(1, min(threads, items))
        let perThread = scratchPerThread
        let lo: Float = relu ? 0 : -.infinity
        packedWeights.withUnsafeBufferPointer { wbuf in
            packedBias.withUnsafeBufferPointer { bbuf in
                let weights = wbuf.baseAddress!, biases = bbuf.baseAddress!
                parallelFor(tasks) { t in
                    let stage = scratch + t * perThread
                    for item in sliceRange(t, of: tasks, count: items) {
                        let panel = item / blocks, blk = item - panel * blocks
                        let n = blk / blocksPerSample, b = blk - n * blocksPerSample
                        let by = (b / blocksWide) * 3, bx = (b - (b / blocksWide) * blocksWide) * 3
                        Self.block(cin: cin, x: input + n * cin * plane + by * w + bx, plane: plane, width: w,
                                   weights: weights + panel * cin * 9 * pc, bias: biases + panel * pc, stage: stage,
                                   top: by == 0, bottom: by + 3 == h, left: bx == 0, right: bx + 3 == w)
                        // Pixel-major stage to channel planes, with residual and clamp.
                        let co0 = panel * pc
                        let at0 = (n * cout + co0) * plane + by * w + bx
                        for c in 0..<min(pc, cout - co0) {
                            let o = output + at0 + c * plane
                            if let residual {
                                let r = residual + at0 + c * plane
                                for p in 0..<9 {
                                    let at = (p / 3) * w + p % 3
                                    o[at] = max(stage[p * pc + c] + r[at], lo)
                                }
                            } else {
                                for p in 0..<9 { o[(p / 3) * w + p % 3] = max(stage[p * pc + c], lo) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One block: the stage starts at the bias, then each of the 9 taps adds its
    /// in-bounds rectangle of pixels (rows and columns past a border side drop
    /// out) through the kernel for that rectangle's size.
    @inline(__always)
    static func block(cin: Int, x: UnsafePointer<Float>, plane: Int, width: Int, weights: UnsafePointer<Float>,
                      bias: UnsafePointer<Float>, stage: UnsafeMutablePointer<Float>,
                      top: Bool, bottom: Bool, left: Bool, right: Bool) {
        let pc = panelChannels
        let b0 = SIMD16<Float>(loadFrom: bias), b1 = SIMD16<Float>(loadFrom: bias + 16)
        for p in 0..<9 { b0.store(to: stage + p * pc); b1.store(to: stage + p * pc + 16) }
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 9) { xs in
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: 9) { cs in
                for ky in 0..<3 {
                    let r0 = top && ky == 0 ? 1 : 0, r1 = bottom && ky == 2 ? 2 : 3
                    for kx in 0..<3 {
                        let q0 = left && kx == 0 ? 1 : 0, q1 = right && kx == 2 ? 2 : 3
                        var count = 0
                        for r in r0..<r1 {
                            for q in q0..<q1 {
                                // Pixel (r, q) reads input (r + ky - 1, q + kx - 1).
                                xs[count] = x + (r + ky - 1) * width + (q + kx - 1)
                                cs[count] = stage + (r * 3 + q) * pc
                                count += 1
                            }
                        }
                        let w = weights + (ky * 3 + kx) * cin * pc
                        let xp = UnsafePointer(xs.baseAddress!), cp = UnsafePointer(cs.baseAddress!)
                        switch count {
                        case 9: f32_conv3x3tap_9x32_simd16(cin, xp, plane, w, cp)
                        case 6: f32_conv3x3tap_6x32_simd16(cin, xp, plane, w, cp)
                        default: f32_conv3x3tap_4x32_simd16(cin, xp, plane, w, cp)
                        }
                    }
                }
            }
        }
    }
}

/// `f32_conv3x3tap_9x32_simd16`: adds one tap's contribution to 9 output
/// pixels x 32 channels of a 3x3 block: a 3x3 rectangle of the block (the centre tap, or every tap of an inner block).
///
/// Lanes: 16; tile 9 pixels x 2 vectors = 18 accumulators; step: 2 input
/// channels per main-loop iteration, then one.
/// - Parameters:
///   - kc: input channels.
///   - x: for each of the 9 pixels, the input value its tap reads in channel 0;
///     channel `ci` is `plane * ci` further.
///   - w: the tap's packed weights, `[kc][32]`.
///   - c: for each pixel, its 32 accumulated values (read, added to, written back).
@inline(__always)
public func f32_conv3x3tap_9x32_simd16(_ kc: Int, _ x: UnsafePointer<UnsafePointer<Float>>, _ plane: Int,
    _ w: UnsafePointer<Float>, _ c: UnsafePointer<UnsafeMutablePointer<Float>>) {
    typealias V = SIMD16<Float>
    let x0 = x[0], o0 = c[0]
    let x1 = x[1], o1 = c[1]
    let x2 = x[2], o2 = c[2]
    let x3 = x[3], o3 = c[3]
    let x4 = x[4], o4 = c[4]
    let x5 = x[5], o5 = c[5]
    let x6 = x[6], o6 = c[6]
    let x7 = x[7], o7 = c[7]
    let x8 = x[8], o8 = c[8]
    var c00 = V(loadFrom: o0), c01 = V(loadFrom: o0 + 16)
    var c10 = V(loadFrom: o1), c11 = V(loadFrom: o1 + 16)
    var c20 = V(loadFrom: o2), c21 = V(loadFrom: o2 + 16)
    var c30 = V(loadFrom: o3), c31 = V(loadFrom: o3 + 16)
    var c40 = V(loadFrom: o4), c41 = V(loadFrom: o4 + 16)
    var c50 = V(loadFrom: o5), c51 = V(loadFrom: o5 + 16)
    var c60 = V(loadFrom: o6), c61 = V(loadFrom: o6 + 16)
    var c70 = V(loadFrom: o7), c71 = V(loadFrom: o7 + 16)
    var c80 = V(loadFrom: o8), c81 = V(loadFrom: o8 + 16)
    var w = w, at = 0, k = kc
    while k >= 2 {
        let w0 = V(loadFrom: w), w1 = V(loadFrom: w + 16)
        let v0 = V(loadFrom: w + 32), v1 = V(loadFrom: w + 48)
        do { let xv = V(repeating: x0[at]); c00 = c00.addingProduct(xv, w0); c01 = c01.addingProduct(xv, w1) }
        do { let xv = V(repeating: x1[at]); c10 = c10.addingProduct(xv, w0); c11 = c11.addingProduct(xv, w1) }
        do { let xv = V(repeating: x2[at]); c20 = c20.addingProduct(xv, w0); c21 = c21.addingProduct(xv, w1) }
        do { let xv = V(repeating: x3[at]); c30 = c30.addingProduct(xv, w0); c31 = c31.addingProduct(xv, w1) }
        do { let xv = V(repeating: x4[at]); c40 = c40.addingProduct(xv, w0); c41 = c41.addingProduct(xv, w1) }
        do { let xv = V(repeating: x5[at]); c50 = c50.addingProduct(xv, w0); c51 = c51.addingProduct(xv, w1) }
        do { let xv = V(repeating: x6[at]); c60 = c60.addingProduct(xv, w0); c61 = c61.addingProduct(xv, w1) }
        do { let xv = V(repeating: x7[at]); c70 = c70.addingProduct(xv, w0); c71 = c71.addingProduct(xv, w1) }
        do { let xv = V(repeating: x8[at]); c80 = c80.addingProduct(xv, w0); c81 = c81.addingProduct(xv, w1) }
        do { let xv = V(repeating: x0[at + plane]); c00 = c00.addingProduct(xv, v0); c01 = c01.addingProduct(xv, v1) }
        do { let xv = V(repeating: x1[at + plane]); c10 = c10.addingProduct(xv, v0); c11 = c11.addingProduct(xv, v1) }
        do { let xv = V(repeating: x2[at + plane]); c20 = c20.addingProduct(xv, v0); c21 = c21.addingProduct(xv, v1) }
        do { let xv = V(repeating: x3[at + plane]); c30 = c30.addingProduct(xv, v0); c31 = c31.addingProduct(xv, v1) }
        do { let xv = V(repeating: x4[at + plane]); c40 = c40.addingProduct(xv, v0); c41 = c41.addingProduct(xv, v1) }
        do { let xv = V(repeating: x5[at + plane]); c50 = c50.addingProduct(xv, v0); c51 = c51.addingProduct(xv, v1) }
        do { let xv = V(repeating: x6[at + plane]); c60 = c60.addingProduct(xv, v0); c61 = c61.addingProduct(xv, v1) }
        do { let xv = V(repeating: x7[at + plane]); c70 = c70.addingProduct(xv, v0); c71 = c71.addingProduct(xv, v1) }
        do { let xv = V(repeating: x8[at + plane]); c80 = c80.addingProduct(xv, v0); c81 = c81.addingProduct(xv, v1) }
        w += 64; at += 2 * plane; k -= 2
    }
    if k == 1 {
        // leftovers
        let w0 = V(loadFrom: w), w1 = V(loadFrom: w + 16)
        do { let xv = V(repeating: x0[at]); c00 = c00.addingProduct(xv, w0); c01 = c01.addingProduct(xv, w1) }
        do { let xv = V(repeating: x1[at]); c10 = c10.addingProduct(xv, w0); c11 = c11.addingProduct(xv, w1) }
        do { let xv = V(repeating: x2[at]); c20 = c20.addingProduct(xv, w0); c21 = c21.addingProduct(xv, w1) }
        do { let xv = V(repeating: x3[at]); c30 = c30.addingProduct(xv, w0); c31 = c31.addingProduct(xv, w1) }
        do { let xv = V(repeating: x4[at]); c40 = c40.addingProduct(xv, w0); c41 = c41.addingProduct(xv, w1) }
        do { let xv = V(repeating: x5[at]); c50 = c50.addingProduct(xv, w0); c51 = c51.addingProduct(xv, w1) }
        do { let xv = V(repeating: x6[at]); c60 = c60.addingProduct(xv, w0); c61 = c61.addingProduct(xv, w1) }
        do { let xv = V(repeating: x7[at]); c70 = c70.addingProduct(xv, w0); c71 = c71.addingProduct(xv, w1) }
        do { let xv = V(repeating: x8[at]); c80 = c80.addingProduct(xv, w0); c81 = c81.addingProduct(xv, w1) }
    }
    c00.store(to: o0); c01.store(to: o0 + 16)
    c10.store(to: o1); c11.store(to: o1 + 16)
    c20.store(to: o2); c21.store(to: o2 + 16)
    c30.store(to: o3); c31.store(to: o3 + 16)
    c40.store(to: o4); c41.store(to: o4 + 16)
    c50.store(to: o5); c51.store(to: o5 + 16)
    c60.store(to: o6); c61.store(to: o6 + 16)
    c70.store(to: o7); c71.store(to: o7 + 16)
    c80.store(to: o8); c81.store(to: o8 + 16)
}

/// `f32_conv3x3tap_6x32_simd16`: adds one tap's contribution to 6 output
/// pixels x 32 channels of a 3x3 block: a 2x3 or 3x2 rectangle (an edge tap).
///
/// Lanes: 16; tile 6 pixels x 2 vectors = 12 accumulators; step: 2 input
/// channels per main-loop iteration, then one.
/// - Parameters:
///   - kc: input channels.
///   - x: for each of the 6 pixels, the input value its tap reads in channel 0;
///     channel `ci` is `plane * ci` further.
///   - w: the tap's packed weights, `[kc][32]`.
///   - c: for each pixel, its 32 accumulated values (read, added to, written back).
@inline(__always)
public func f32_conv3x3tap_6x32_simd16(_ kc: Int, _ x: UnsafePointer<UnsafePointer<Float>>, _ plane: Int,
    _ w: UnsafePointer<Float>, _ c: UnsafePointer<UnsafeMutablePointer<Float>>) {
    typealias V = SIMD16<Float>
    let x0 = x[0], o0 = c[0]
    let x1 = x[1], o1 = c[1]
    let x2 = x[2], o2 = c[2]
    let x3 = x[3], o3 = c[3]
    let x4 = x[4], o4 = c[4]
    let x5 = x[5], o5 = c[5]
    var c00 = V(loadFrom: o0), c01 = V(loadFrom: o0 + 16)
    var c10 = V(loadFrom: o1), c11 = V(loadFrom: o1 + 16)
    var c20 = V(loadFrom: o2), c21 = V(loadFrom: o2 + 16)
    var c30 = V(loadFrom: o3), c31 = V(loadFrom: o3 + 16)
    var c40 = V(loadFrom: o4), c41 = V(loadFrom: o4 + 16)
    var c50 = V(loadFrom: o5), c51 = V(loadFrom: o5 + 16)
    var w = w, at = 0, k = kc
    while k >= 2 {
        let w0 = V(loadFrom: w), w1 = V(loadFrom: w + 16)
        let v0 = V(loadFrom: w + 32), v1 = V(loadFrom: w + 48)
        do { let xv = V(repeating: x0[at]); c00 = c00.addingProduct(xv, w0); c01 = c01.addingProduct(xv, w1) }
        do { let xv = V(repeating: x1[at]); c10 = c10.addingProduct(xv, w0); c11 = c11.addingProduct(xv, w1) }
        do { let xv = V(repeating: x2[at]); c20 = c20.addingProduct(xv, w0); c21 = c21.addingProduct(xv, w1) }
        do { let xv = V(repeating: x3[at]); c30 = c30.addingProduct(xv, w0); c31 = c31.addingProduct(xv, w1) }
        do { let xv = V(repeating: x4[at]); c40 = c40.addingProduct(xv, w0); c41 = c41.addingProduct(xv, w1) }
        do { let xv = V(repeating: x5[at]); c50 = c50.addingProduct(xv, w0); c51 = c51.addingProduct(xv, w1) }
        do { let xv = V(repeating: x0[at + plane]); c00 = c00.addingProduct(xv, v0); c01 = c01.addingProduct(xv, v1) }
        do { let xv = V(repeating: x1[at + plane]); c10 = c10.addingProduct(xv, v0); c11 = c11.addingProduct(xv, v1) }
        do { let xv = V(repeating: x2[at + plane]); c20 = c20.addingProduct(xv, v0); c21 = c21.addingProduct(xv, v1) }
        do { let xv = V(repeating: x3[at + plane]); c30 = c30.addingProduct(xv, v0); c31 = c31.addingProduct(xv, v1) }
        do { let xv = V(repeating: x4[at + plane]); c40 = c40.addingProduct(xv, v0); c41 = c41.addingProduct(xv, v1) }
        do { let xv = V(repeating: x5[at + plane]); c50 = c50.addingProduct(xv, v0); c51 = c51.addingProduct(xv, v1) }
        w += 64; at += 2 * plane; k -= 2
    }
    if k == 1 {
        // leftovers
        let w0 = V(loadFrom: w), w1 = V(loadFrom: w + 16)
        do { let xv = V(repeating: x0[at]); c00 = c00.addingProduct(xv, w0); c01 = c01.addingProduct(xv, w1) }
        do { let xv = V(repeating: x1[at]); c10 = c10.addingProduct(xv, w0); c11 = c11.addingProduct(xv, w1) }
        do { let xv = V(repeating: x2[at]); c20 = c20.addingProduct(xv, w0); c21 = c21.addingProduct(xv, w1) }
        do { let xv = V(repeating: x3[at]); c30 = c30.addingProduct(xv, w0); c31 = c31.addingProduct(xv, w1) }
        do { let xv = V(repeating: x4[at]); c40 = c40.addingProduct(xv, w0); c41 = c41.addingProduct(xv, w1) }
        do { let xv = V(repeating: x5[at]); c50 = c50.addingProduct(xv, w0); c51 = c51.addingProduct(xv, w1) }
    }
    c00.store(to: o0); c01.store(to: o0 + 16)
    c10.store(to: o1); c11.store(to: o1 + 16)
    c20.store(to: o2); c21.store(to: o2 + 16)
    c30.store(to: o3); c31.store(to: o3 + 16)
    c40.store(to: o4); c41.store(to: o4 + 16)
    c50.store(to: o5); c51.store(to: o5 + 16)
}

/// `f32_conv3x3tap_4x32_simd16`: adds one tap's contribution to 4 output
/// pixels x 32 channels of a 3x3 block: a 2x2 rectangle (a corner tap).
///
/// Lanes: 16; tile 4 pixels x 2 vectors = 8 accumulators, twice (even and odd
/// input channels, summed at the end: 8 chains alone would wait on the FMA
/// latency); step: 2 input channels per main-loop iteration, then one.
/// - Parameters:
///   - kc: input channels.
///   - x: for each of the 4 pixels, the input value its tap reads in channel 0;
///     channel `ci` is `plane * ci` further.
///   - w: the tap's packed weights, `[kc][32]`.
///   - c: for each pixel, its 32 accumulated values (read, added to, written back).
@inline(__always)
public func f32_conv3x3tap_4x32_simd16(_ kc: Int, _ x: UnsafePointer<UnsafePointer<Float>>, _ plane: Int,
    _ w: UnsafePointer<Float>, _ c: UnsafePointer<UnsafeMutablePointer<Float>>) {
    typealias V = SIMD16<Float>
    let x0 = x[0], o0 = c[0]
    let x1 = x[1], o1 = c[1]
    let x2 = x[2], o2 = c[2]
    let x3 = x[3], o3 = c[3]
    var c00 = V(loadFrom: o0), c01 = V(loadFrom: o0 + 16)
    var c10 = V(loadFrom: o1), c11 = V(loadFrom: o1 + 16)
    var c20 = V(loadFrom: o2), c21 = V(loadFrom: o2 + 16)
    var c30 = V(loadFrom: o3), c31 = V(loadFrom: o3 + 16)
    var d00 = V(), d01 = V()
    var d10 = V(), d11 = V()
    var d20 = V(), d21 = V()
    var d30 = V(), d31 = V()
    var w = w, at = 0, k = kc
    while k >= 2 {
        let w0 = V(loadFrom: w), w1 = V(loadFrom: w + 16)
        let v0 = V(loadFrom: w + 32), v1 = V(loadFrom: w + 48)
        do { let xv = V(repeating: x0[at]); c00 = c00.addingProduct(xv, w0); c01 = c01.addingProduct(xv, w1) }
        do { let xv = V(repeating: x1[at]); c10 = c10.addingProduct(xv, w0); c11 = c11.addingProduct(xv, w1) }
        do { let xv = V(repeating: x2[at]); c20 = c20.addingProduct(xv, w0); c21 = c21.addingProduct(xv, w1) }
        do { let xv = V(repeating: x3[at]); c30 = c30.addingProduct(xv, w0); c31 = c31.addingProduct(xv, w1) }
        do { let xv = V(repeating: x0[at + plane]); d00 = d00.addingProduct(xv, v0); d01 = d01.addingProduct(xv, v1) }
        do { let xv = V(repeating: x1[at + plane]); d10 = d10.addingProduct(xv, v0); d11 = d11.addingProduct(xv, v1) }
        do { let xv = V(repeating: x2[at + plane]); d20 = d20.addingProduct(xv, v0); d21 = d21.addingProduct(xv, v1) }
        do { let xv = V(repeating: x3[at + plane]); d30 = d30.addingProduct(xv, v0); d31 = d31.addingProduct(xv, v1) }
        w += 64; at += 2 * plane; k -= 2
    }
    if k == 1 {
        // leftovers
        let w0 = V(loadFrom: w), w1 = V(loadFrom: w + 16)
        do { let xv = V(repeating: x0[at]); c00 = c00.addingProduct(xv, w0); c01 = c01.addingProduct(xv, w1) }
        do { let xv = V(repeating: x1[at]); c10 = c10.addingProduct(xv, w0); c11 = c11.addingProduct(xv, w1) }
        do { let xv = V(repeating: x2[at]); c20 = c20.addingProduct(xv, w0); c21 = c21.addingProduct(xv, w1) }
        do { let xv = V(repeating: x3[at]); c30 = c30.addingProduct(xv, w0); c31 = c31.addingProduct(xv, w1) }
    }
    (c00 + d00).store(to: o0); (c01 + d01).store(to: o0 + 16)
    (c10 + d10).store(to: o1); (c11 + d11).store(to: o1 + 16)
    (c20 + d20).store(to: o2); (c21 + d21).store(to: o2 + 16)
    (c30 + d30).store(to: o3); (c31 + d31).store(to: o3 + 16)
}
