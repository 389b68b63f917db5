import FaceRPCEngine
import FaceRPCKernels

/// MTCNN's P-net run as one fused, row-streaming pass over a pyramid level.
///
/// P-net is the detector's hot spot: it runs fully convolutionally over every
/// pyramid level, so with the default 20-pixel minimum face it sees about 0.7
/// pixels per photo pixel, through layers with only 3, 10 and 16 input
/// channels. Run through the generic ``Network``, each level pays a plan, an
/// im2col copy, Winograd transforms over reductions of 10 and 16, and
/// level-sized intermediate tensors that miss the cache. Here the four
/// convolutions are direct kernels (``f32_dconv_prelu_16x16_simd16``), the
/// PReLUs and the pool are fused into them, and the level is processed in bands
/// of ``bandRows`` output rows so the intermediates stay cache-sized.
///
/// The result is the same as the graph's to float rounding (the sums run in a
/// different order); `PNetRunnerTests` checks it against ``Network``.
struct PNetRunner: Sendable {
    /// Output rows per band: the halo recomputed per band (4 pooled rows, 8
    /// conv1 rows) costs about 8%, the band's buffers about 1.3 MB at a
    /// 1,200-pixel-wide level.
    static let bandRows = 16

    let conv1: PackedDirectConvolution
    let conv2: PackedDirectConvolution
    let conv3: PackedDirectConvolution
    let heads: PackedDirectConvolution

    /// Output channels: 4 box offsets then the (non-face, face) logits.
    static let outputChannels = 6

    /// Recognises the P-net architecture (conv 3x3 3→10, PReLU, max pool 2x2
    /// stride 2 ceil, conv 3x3 10→16, PReLU, conv 3x3 16→32, PReLU, conv 1x1
    /// 32→6); nil for any other graph, which then runs on ``Network``.
    init?(graph: Graph) {
        let ops = graph.nodes.map(\.op)
        guard ops.count == 8,
              case .conv2d(let c1) = ops[0], case .prelu(let s1) = ops[1], case .maxPool(let pool) = ops[2],
              case .conv2d(let c2) = ops[3], case .prelu(let s2) = ops[4],
              case .conv2d(let c3) = ops[5], case .prelu(let s3) = ops[6], case .conv2d(let c4) = ops[7]
        else { return nil }
        func plain(_ c: Conv2DSpec, _ cin: Int, _ cout: Int, _ k: Int) -> Bool {
            c.isDirectConvolution && c.inChannels == cin && c.outChannels == cout && c.kernelH == k && c.kernelW == k
        }
        guard graph.isStraightChain,
              plain(c1, 3, 10, 3), plain(c2, 10, 16, 3), plain(c3, 16, 32, 3), plain(c4, 32, Self.outputChannels, 1),
              s1.count == 10, s2.count == 16, s3.count == 32,
              pool.kernelH == 2, pool.kernelW == 2, pool.strideH == 2, pool.strideW == 2, pool.ceilMode,
              pool.padTop == 0, pool.padLeft == 0, pool.padBottom == 0, pool.padRight == 0
        else { return nil }
        conv1 = PackedDirectConvolution(c1, slopes: s1); conv2 = PackedDirectConvolution(c2, slopes: s2)
        conv3 = PackedDirectConvolution(c3, slopes: s3); heads = PackedDirectConvolution(c4, slopes: nil)
    }

    /// Output size for a `width x height` level: `((h - 2 + 1) / 2 - 4, ...)`;
    /// zero or less when the level is under 11 pixels a side.
    static func outputSize(width: Int, height: Int) -> (width: Int, height: Int) {
        ((width - 1) / 2 - 4, (height - 1) / 2 - 4)
    }

    /// Row stride a level must be stored with: room for the last vector's
    /// over-read past `width`.
    static func rowStride(width: Int) -> Int { (width + 15) / 16 * 16 + 16 }

    /// Runs P-net on a planar `[3][height][rowStride]` level (see
    /// ``rowStride(width:)``), single-threaded.
    ///
    /// - Returns: `[6][oh][ow]` as the graph's output, with its size; empty
    ///   when the level is under 11 pixels a side (the detector skips levels
    ///   under 12, as the package does).
    func run(level: UnsafePointer<Float>, width: Int, height: Int, rowStride: Int) -> (values: [Float], width: Int, height: Int) {
        let (ow, oh) = Self.outputSize(width: width, height: height)
        guard ow >= 1, oh >= 1 else { return ([], 0, 0) }
        let inPlane = height * rowStride
        // conv1 output is (h-2) x (w-2), pooled to hp x wp; conv2 (hp-2) x (wp-2); conv3 oh x ow.
        let w1 = width - 2, h1 = height - 2
        let wp = (w1 + 1) / 2, w2 = wp - 2
        let stride1 = Self.rowStride(width: w1), strideP = Self.rowStride(width: wp)
        let stride2 = Self.rowStride(width: w2), stride3 = Self.rowStride(width: ow)
        let band = Self.bandRows
        let poolRows = band + 4, rows2 = band + 2
        // Zero-filled once: the kernels read padding lanes, which must hold finite values.
        var c1 = [Float](repeating: 0, count: 16 * 2 * stride1)
        var pooled = [Float](repeating: 0, count: 16 * poolRows * strideP)
        var c2 = [Float](repeating: 0, count: 16 * rows2 * stride2)
        var c3 = [Float](repeating: 0, count: 32 * stride3)
        let outPlane = oh * ow
        // Every output value is written (each row of each channel), so the
        // output is not zeroed first.
        let out = [Float](unsafeUninitializedCapacity: Self.outputChannels * outPlane) { out, initialized in
        c1.withUnsafeMutableBufferPointer { c1 in
        pooled.withUnsafeMutableBufferPointer { pooled in
        c2.withUnsafeMutableBufferPointer { c2 in
        c3.withUnsafeMutableBufferPointer { c3 in
            let c1 = c1.baseAddress!, pooled = pooled.baseAddress!, c2 = c2.baseAddress!
            let c3 = c3.baseAddress!, out = out.baseAddress!
            var r0 = 0
            while r0 < oh {
                let r1 = min(r0 + band, oh)
                // Pooled rows r0 ..< r1 + 4, each from conv1 rows 2p and 2p + 1.
                for p in r0..<(r1 + 4) {
                    let local = pooled + (p - r0) * strideP
                    let pair = min(2, h1 - 2 * p)
                    for k in 0..<pair {
                        conv1.runRow(input: level + (2 * p + k) * rowStride, inChannelStride: inPlane,
                                     inRowStride: rowStride, output: c1 + k * stride1,
                                     outChannelStride: 2 * stride1, width: w1)
                    }
                    for ch in 0..<10 {
                        let a = c1 + ch * 2 * stride1
                        f32_maxpool_2x2s2_simd16(a, pair == 2 ? a + stride1 : a, w1, local + ch * poolRows * strideP)
                    }
                }
                for q in 0..<(r1 + 2 - r0) {
                    conv2.runRow(input: pooled + q * strideP, inChannelStride: poolRows * strideP, inRowStride: strideP,
                                 output: c2 + q * stride2, outChannelStride: rows2 * stride2, width: w2)
                }
                for t in r0..<r1 {
                    conv3.runRow(input: c2 + (t - r0) * stride2, inChannelStride: rows2 * stride2, inRowStride: stride2,
                                 output: c3, outChannelStride: stride3, width: ow)
                    heads.runRow(input: c3, inChannelStride: stride3, inRowStride: stride3,
                                 output: out + t * ow, outChannelStride: outPlane, width: ow)
                }
                r0 = r1
            }
        }}}}
            initialized = Self.outputChannels * outPlane
        }
        return (out, ow, oh)
    }
}
