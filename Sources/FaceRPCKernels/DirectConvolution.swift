// Direct convolution for layers with few input channels (MTCNN's P-net: 3, 10
// and 16), where im2col + GEMM spends more time unfolding and padding short
// reductions than multiplying: each output row is computed straight from the
// input rows, the reduction over the taps staying in registers.

/// The direct kernels' epilogue: PReLU with `slope` (1 = none), then the
/// first `lanes` lanes stored at `out` (16: one vector store; fewer: // leftovers,
/// lanes computed from padding and not stored).
@inline(__always)
private func f32_prelu_store_simd16(_ c: SIMD16<Float>, _ slope: Float, _ out: UnsafeMutablePointer<Float>, _ lanes: Int) {
    // Slope 1 (no activation: fully-connected layers, Winograd products) skips
    // the compare, multiply and blend; the branch is the same for a whole row.
    let v = slope == 1 ? c : c.replacing(with: c * slope, where: c .< 0)
    if lanes == 16 {
        v.store(to: out)
    } else {
        for l in 0..<lanes { out[l] = v[l] }
    }
}

/// `f32_dconv_prelu_16x16_simd16`: one output row of a stride-1, unpadded
/// convolution for one block of 16 output channels, then PReLU.
///
/// Lanes: 16 output pixels along x. Tile: 16 output channels x 1 vector = 16
/// separate accumulators. Step: one tap (input channel, ky, kx) per inner
/// iteration, where one unaligned input load feeds 16 broadcast FMAs; the x loop
/// advances one vector per iteration.
///
/// - Parameters:
///   - input: the first input row this output row reads, channel 0. Channel `c`,
///     row `ky` starts at `input + c * inChannelStride + ky * inRowStride`, and
///     tap `kx` of the vector at `x` is read at `x + kx * tapStride`.
///     Planar images have `tapStride` 1: the 16 lanes are 16 neighbouring
///     pixels, and every row must be readable for `roundUp(width, 16) +
///     kernelW - 1` floats (the last vector computes lanes past `width` from
///     whatever lies there and does not store them: // leftovers). With 16
///     images interleaved pixel by pixel (`[c][y][x][16]`, see
///     ``LaneBatchedLayout``) `tapStride` is 16, the lanes are the 16 images,
///     `width` is 16 times the output row's pixels, and no lane is wasted
///     whatever the image size.
///   - weights: `[inChannels][kernelH][kernelW][16]`, from
///     ``PackedDirectConvolution``.
///   - bias, slopes: 16 values each; a slope of 1 makes the PReLU the identity.
///   - output: channel `j < outChannels` of the row starts at
///     `output + j * outChannelStride`; `width` values are written to each.
@inline(__always)
public func f32_dconv_prelu_16x16_simd16(
    _ input: UnsafePointer<Float>, _ inChannelStride: Int, _ inRowStride: Int, _ tapStride: Int, _ inChannels: Int,
    _ kernelH: Int, _ kernelW: Int, _ weights: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>, _ slopes: UnsafePointer<Float>,
    _ output: UnsafeMutablePointer<Float>, _ outChannelStride: Int, _ outChannels: Int, _ width: Int
) {
    var x = 0
    while x < width {
        var c0 = SIMD16<Float>(repeating: bias[0]), c1 = SIMD16<Float>(repeating: bias[1])
        var c2 = SIMD16<Float>(repeating: bias[2]), c3 = SIMD16<Float>(repeating: bias[3])
        var c4 = SIMD16<Float>(repeating: bias[4]), c5 = SIMD16<Float>(repeating: bias[5])
        var c6 = SIMD16<Float>(repeating: bias[6]), c7 = SIMD16<Float>(repeating: bias[7])
        var c8 = SIMD16<Float>(repeating: bias[8]), c9 = SIMD16<Float>(repeating: bias[9])
        var c10 = SIMD16<Float>(repeating: bias[10]), c11 = SIMD16<Float>(repeating: bias[11])
        var c12 = SIMD16<Float>(repeating: bias[12]), c13 = SIMD16<Float>(repeating: bias[13])
        var c14 = SIMD16<Float>(repeating: bias[14]), c15 = SIMD16<Float>(repeating: bias[15])
        var w = weights
        /// One tap: 16 FMAs, one per output channel, each weight a broadcast.
        @inline(__always) func tap(_ v: SIMD16<Float>) {
            c0 = c0.addingProduct(v, SIMD16(repeating: w[0])); c1 = c1.addingProduct(v, SIMD16(repeating: w[1]))
            c2 = c2.addingProduct(v, SIMD16(repeating: w[2])); c3 = c3.addingProduct(v, SIMD16(repeating: w[3]))
            c4 = c4.addingProduct(v, SIMD16(repeating: w[4])); c5 = c5.addingProduct(v, SIMD16(repeating: w[5]))
            c6 = c6.addingProduct(v, SIMD16(repeating: w[6])); c7 = c7.addingProduct(v, SIMD16(repeating: w[7]))
            c8 = c8.addingProduct(v, SIMD16(repeating: w[8])); c9 = c9.addingProduct(v, SIMD16(repeating: w[9]))
            c10 = c10.addingProduct(v, SIMD16(repeating: w[10])); c11 = c11.addingProduct(v, SIMD16(repeating: w[11]))
            c12 = c12.addingProduct(v, SIMD16(repeating: w[12])); c13 = c13.addingProduct(v, SIMD16(repeating: w[13]))
            c14 = c14.addingProduct(v, SIMD16(repeating: w[14])); c15 = c15.addingProduct(v, SIMD16(repeating: w[15]))
            w += 16
        }
        if kernelH == 1 && kernelW == 1 {
            // Pointwise (1x1, the fully-connected layers and Winograd's
            // products): one tap per channel, so the generic tap loops'
            // set-up would cost as much as the 16 FMAs they wrap.
            var p = input + x
            for _ in 0..<inChannels {
                tap(SIMD16<Float>(loadFrom: p))
                p += inChannelStride
            }
        } else {
            for ic in 0..<inChannels {
                let plane = input + ic * inChannelStride + x
                for ky in 0..<kernelH {
                    let row = plane + ky * inRowStride
                    for kx in 0..<kernelW { tap(SIMD16<Float>(loadFrom: row + kx * tapStride)) }
                }
            }
        }
        let lanes = min(16, width - x)
        @inline(__always) func put(_ c: SIMD16<Float>, _ j: Int) {
            guard j < outChannels else { return }
            f32_prelu_store_simd16(c, slopes[j], output + j * outChannelStride + x, lanes)
        }
        put(c0, 0); put(c1, 1); put(c2, 2); put(c3, 3); put(c4, 4); put(c5, 5); put(c6, 6); put(c7, 7)
        put(c8, 8); put(c9, 9); put(c10, 10); put(c11, 11); put(c12, 12); put(c13, 13); put(c14, 14); put(c15, 15)
        x += 16
    }
}

/// `f32_dconv_prelu_10x32_simd16`: as ``f32_dconv_prelu_16x16_simd16`` for a
/// layer of at most 10 output channels (P-net's first layer has 10, its
/// heads 6, R-net's last 6), which the 16-channel tile would pad by 60% or more.
///
/// Lanes: 16. Tile: 10 output channels x 2 vectors = 20 separate accumulators;
/// step: one tap, where two input loads feed 20 broadcast FMAs. Then a
/// one-vector loop (10 accumulators) for a last odd vector, whose lanes past
/// `width` are computed from padding and not stored (// leftovers). Same
/// arguments and read rules as the 16-channel kernel; `weights` is
/// `[inChannels][kernelH][kernelW][10]` and `bias`, `slopes` hold 10 values.
@inline(__always)
public func f32_dconv_prelu_10x32_simd16(
    _ input: UnsafePointer<Float>, _ inChannelStride: Int, _ inRowStride: Int, _ tapStride: Int, _ inChannels: Int,
    _ kernelH: Int, _ kernelW: Int, _ weights: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>, _ slopes: UnsafePointer<Float>,
    _ output: UnsafeMutablePointer<Float>, _ outChannelStride: Int, _ outChannels: Int, _ width: Int
) {
    @inline(__always) func put(_ c: SIMD16<Float>, _ j: Int, _ x: Int) {
        guard j < outChannels else { return }
        f32_prelu_store_simd16(c, slopes[j], output + j * outChannelStride + x, min(16, width - x))
    }
    let end = (width + 15) / 16 * 16
    var x = 0
    while x + 32 <= end {
        var a0 = SIMD16<Float>(repeating: bias[0]), b0 = a0
        var a1 = SIMD16<Float>(repeating: bias[1]), b1 = a1
        var a2 = SIMD16<Float>(repeating: bias[2]), b2 = a2
        var a3 = SIMD16<Float>(repeating: bias[3]), b3 = a3
        var a4 = SIMD16<Float>(repeating: bias[4]), b4 = a4
        var a5 = SIMD16<Float>(repeating: bias[5]), b5 = a5
        var a6 = SIMD16<Float>(repeating: bias[6]), b6 = a6
        var a7 = SIMD16<Float>(repeating: bias[7]), b7 = a7
        var a8 = SIMD16<Float>(repeating: bias[8]), b8 = a8
        var a9 = SIMD16<Float>(repeating: bias[9]), b9 = a9
        var wp = weights
        for ic in 0..<inChannels {
            let plane = input + ic * inChannelStride + x
            for ky in 0..<kernelH {
                let row = plane + ky * inRowStride
                for kx in 0..<kernelW {
                    let v0 = SIMD16<Float>(loadFrom: row + kx * tapStride)
                    let v1 = SIMD16<Float>(loadFrom: row + kx * tapStride + 16)
                    do { let w = SIMD16<Float>(repeating: wp[0]); a0 = a0.addingProduct(v0, w); b0 = b0.addingProduct(v1, w) }
                    do { let w = SIMD16<Float>(repeating: wp[1]); a1 = a1.addingProduct(v0, w); b1 = b1.addingProduct(v1, w) }
                    do { let w = SIMD16<Float>(repeating: wp[2]); a2 = a2.addingProduct(v0, w); b2 = b2.addingProduct(v1, w) }
                    do { let w = SIMD16<Float>(repeating: wp[3]); a3 = a3.addingProduct(v0, w); b3 = b3.addingProduct(v1, w) }
                    do { let w = SIMD16<Float>(repeating: wp[4]); a4 = a4.addingProduct(v0, w); b4 = b4.addingProduct(v1, w) }
                    do { let w = SIMD16<Float>(repeating: wp[5]); a5 = a5.addingProduct(v0, w); b5 = b5.addingProduct(v1, w) }
                    do { let w = SIMD16<Float>(repeating: wp[6]); a6 = a6.addingProduct(v0, w); b6 = b6.addingProduct(v1, w) }
                    do { let w = SIMD16<Float>(repeating: wp[7]); a7 = a7.addingProduct(v0, w); b7 = b7.addingProduct(v1, w) }
                    do { let w = SIMD16<Float>(repeating: wp[8]); a8 = a8.addingProduct(v0, w); b8 = b8.addingProduct(v1, w) }
                    do { let w = SIMD16<Float>(repeating: wp[9]); a9 = a9.addingProduct(v0, w); b9 = b9.addingProduct(v1, w) }
                    wp += 10
                }
            }
        }
        put(a0, 0, x); put(b0, 0, x + 16); put(a1, 1, x); put(b1, 1, x + 16); put(a2, 2, x); put(b2, 2, x + 16); put(a3, 3, x); put(b3, 3, x + 16); put(a4, 4, x); put(b4, 4, x + 16); put(a5, 5, x); put(b5, 5, x + 16); put(a6, 6, x); put(b6, 6, x + 16); put(a7, 7, x); put(b7, 7, x + 16); put(a8, 8, x); put(b8, 8, x + 16); put(a9, 9, x); put(b9, 9, x + 16);
        x += 32
    }
    if x < end {
        var a0 = SIMD16<Float>(repeating: bias[0])
        var a1 = SIMD16<Float>(repeating: bias[1])
        var a2 = SIMD16<Float>(repeating: bias[2])
        var a3 = SIMD16<Float>(repeating: bias[3])
        var a4 = SIMD16<Float>(repeating: bias[4])
        var a5 = SIMD16<Float>(repeating: bias[5])
        var a6 = SIMD16<Float>(repeating: bias[6])
        var a7 = SIMD16<Float>(repeating: bias[7])
        var a8 = SIMD16<Float>(repeating: bias[8])
        var a9 = SIMD16<Float>(repeating: bias[9])
        var wp = weights
        for ic in 0..<inChannels {
            let plane = input + ic * inChannelStride + x
            for ky in 0..<kernelH {
                let row = plane + ky * inRowStride
                for kx in 0..<kernelW {
                    let v0 = SIMD16<Float>(loadFrom: row + kx * tapStride)
                    a0 = a0.addingProduct(v0, SIMD16<Float>(repeating: wp[0]))
                    a1 = a1.addingProduct(v0, SIMD16<Float>(repeating: wp[1]))
                    a2 = a2.addingProduct(v0, SIMD16<Float>(repeating: wp[2]))
                    a3 = a3.addingProduct(v0, SIMD16<Float>(repeating: wp[3]))
                    a4 = a4.addingProduct(v0, SIMD16<Float>(repeating: wp[4]))
                    a5 = a5.addingProduct(v0, SIMD16<Float>(repeating: wp[5]))
                    a6 = a6.addingProduct(v0, SIMD16<Float>(repeating: wp[6]))
                    a7 = a7.addingProduct(v0, SIMD16<Float>(repeating: wp[7]))
                    a8 = a8.addingProduct(v0, SIMD16<Float>(repeating: wp[8]))
                    a9 = a9.addingProduct(v0, SIMD16<Float>(repeating: wp[9]))
                    wp += 10
                }
            }
        }
        put(a0, 0, x); put(a1, 1, x); put(a2, 2, x); put(a3, 3, x); put(a4, 4, x); put(a5, 5, x); put(a6, 6, x); put(a7, 7, x); put(a8, 8, x); put(a9, 9, x);
    }
}

/// `f32_maxpool_2x2s2_simd16`: one output row of a 2x2, stride-2 max pool in
/// ceil mode (a last odd column or row pools over what exists).
///
/// Lanes: 16 outputs per step from 32 inputs of each row, then // leftovers one
/// output at a time. Swift has no vector shuffle, and both `SIMD32.evenHalf`
/// and `pointwiseMax` compile to lane-by-lane code through the stack; so each
/// pair of floats is read as one 64-bit lane and split by truncating or
/// shifting it (`vpmovqd`), and maxima are a compare and a blend.
///
/// - Parameters:
///   - rowA, rowB: the two input rows (pass the same row twice for a last odd
///     row); `inWidth` values each.
///   - output: `(inWidth + 1) / 2` values.
@inline(__always)
public func f32_maxpool_2x2s2_simd16(_ rowA: UnsafePointer<Float>, _ rowB: UnsafePointer<Float>, _ inWidth: Int,
                                     _ output: UnsafeMutablePointer<Float>) {
    @inline(__always) func maximum(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        a.replacing(with: b, where: a .< b)
    }
    @inline(__always) func pairMaximum(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        let pairs = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt64>.self)
        let even = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: pairs), to: SIMD16<Float>.self)
        let odd = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: pairs &>> 32), to: SIMD16<Float>.self)
        return maximum(even, odd)
    }
    let outWidth = (inWidth + 1) / 2
    var o = 0
    while 2 * o + 32 <= inWidth {
        maximum(pairMaximum(rowA + 2 * o), pairMaximum(rowB + 2 * o)).store(to: output + o)
        o += 16
    }
    // leftovers
    while o < outWidth {
        let x0 = 2 * o, x1 = min(2 * o + 1, inWidth - 1)
        output[o] = max(max(rowA[x0], rowA[x1]), max(rowB[x0], rowB[x1]))
        o += 1
    }
}

/// A stride-1, unpadded convolution with PReLU, packed once for
/// ``f32_dconv_prelu_16x16_simd16`` (output channels in blocks of 16, the last
/// block zero-padded) or, for at most 10 output channels,
/// ``f32_dconv_prelu_10x32_simd16``; weights `[block][inChannels][kernelH][kernelW][blockWidth]`.
///
/// Meant for layers with few input channels and wide outputs; the caller owns
/// the row loop so it can stream rows through several layers (see
/// ``runRow(input:inChannelStride:inRowStride:tapStride:output:outChannelStride:width:)``).
public struct PackedDirectConvolution: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelH: Int
    public let kernelW: Int
    /// Output channels per block: 10 (``f32_dconv_prelu_10x32_simd16``) for
    /// layers of at most 10, else 16 (``f32_dconv_prelu_16x16_simd16``).
    public let blockWidth: Int
    /// Output channel blocks.
    public let blocks: Int
    private let packed: [Float]
    private let bias: [Float]
    private let slopes: [Float]

    /// - Parameters:
    ///   - weights: OIHW, `outChannels * inChannels * kernelH * kernelW` values.
    ///   - bias: `outChannels` values.
    ///   - slopes: `outChannels` PReLU slopes, or nil for no activation.
    /// - Precondition: every count matches and every dimension is positive.
    public init(inChannels: Int, outChannels: Int, kernelH: Int, kernelW: Int,
                weights: [Float], bias: [Float], slopes: [Float]?) {
        precondition(inChannels > 0 && outChannels > 0 && kernelH > 0 && kernelW > 0)
        precondition(weights.count == outChannels * inChannels * kernelH * kernelW && bias.count == outChannels)
        precondition(slopes == nil || slopes!.count == outChannels)
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelH = kernelH; self.kernelW = kernelW
        // Up to 10 outputs take the 10-channel tile, more take 16-channel blocks.
        blockWidth = outChannels <= 10 ? 10 : 16
        blocks = (outChannels + blockWidth - 1) / blockWidth
        let taps = inChannels * kernelH * kernelW, width = blockWidth
        var packed = [Float](repeating: 0, count: blocks * taps * width)
        for o in 0..<outChannels {
            let block = o / width, lane = o % width
            for t in 0..<taps { packed[(block * taps + t) * width + lane] = weights[o * taps + t] }
        }
        self.packed = packed
        self.bias = bias + [Float](repeating: 0, count: blocks * width - outChannels)
        self.slopes = (slopes ?? [Float](repeating: 1, count: outChannels)) + [Float](repeating: 1, count: blocks * width - outChannels)
    }

    /// Floats past `width` that every input row must be readable for: the last
    /// vector reads up to `roundUp(width, 16) + kernelW - 1` floats of a row.
    public var rowSlack: Int { 15 + kernelW - 1 }

    /// Computes output row `y`'s `width` values for every output channel from
    /// input rows `y ..< y + kernelH` (`input` points at row `y`, channel 0).
    /// Planar (`tapStride` 1): each input row must be readable for
    /// `width + rowSlack` floats. Lane-batched (`tapStride` 16): `width` is a
    /// multiple of 16 and nothing past the rows is read.
    @inline(__always)
    public func runRow(input: UnsafePointer<Float>, inChannelStride: Int, inRowStride: Int, tapStride: Int = 1,
                       output: UnsafeMutablePointer<Float>, outChannelStride: Int, width: Int) {
        runRow(blocks: 0..<blocks, input: input, inChannelStride: inChannelStride, inRowStride: inRowStride,
               tapStride: tapStride, output: output, outChannelStride: outChannelStride, width: width)
    }

    /// As ``runRow(input:inChannelStride:inRowStride:tapStride:output:outChannelStride:width:)``
    /// for the output channels of blocks `blocks` only (`blockWidth` channels
    /// each, the last one possibly partial); `output` points at the first
    /// channel of the first block in the range.
    @inline(__always)
    public func runRow(blocks range: Range<Int>, input: UnsafePointer<Float>, inChannelStride: Int, inRowStride: Int,
                       tapStride: Int = 1, output: UnsafeMutablePointer<Float>, outChannelStride: Int, width: Int) {
        let taps = inChannels * kernelH * kernelW
        packed.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                slopes.withUnsafeBufferPointer { s in
                    if blockWidth == 10 {
                        f32_dconv_prelu_10x32_simd16(
                            input, inChannelStride, inRowStride, tapStride, inChannels, kernelH, kernelW,
                            w.baseAddress!, b.baseAddress!, s.baseAddress!, output, outChannelStride, outChannels, width)
                        return
                    }
                    for block in range {
                        f32_dconv_prelu_16x16_simd16(
                            input, inChannelStride, inRowStride, tapStride, inChannels, kernelH, kernelW,
                            w.baseAddress! + block * taps * 16, b.baseAddress! + block * 16, s.baseAddress! + block * 16,
                            output + (block - range.lowerBound) * 16 * outChannelStride, outChannelStride,
                            min(16, outChannels - block * 16), width)
                    }
                }
            }
        }
    }
}

/// `f32_maxpool_lanes_simd16`: max pooling of lane-batched images
/// (`[c][y][x][16]`, 16 images interleaved pixel by pixel; see
/// ``LaneBatchedLayout``), so the window is reduced with whole-vector maxima and
/// nothing is shuffled.
///
/// Lanes: 16 images; step: one output pixel of one channel. Windows are clipped
/// to the input (ONNX max pooling with bottom/right padding or ceil mode: the
/// padding never wins); every window must start inside the input.
///
/// - Parameters:
///   - rows: the input rows this output row's windows read, `rows[k]` being
///     window row `k` (channel 0), only those that exist; channel `c` of a row
///     starts `c * inChannelStride` floats after it.
///   - output: channel `c` of the output row starts at
///     `output + c * outChannelStride`.
@inline(__always)
public func f32_maxpool_lanes_simd16(_ rows: UnsafeBufferPointer<UnsafePointer<Float>>, _ inChannelStride: Int,
                                     _ channels: Int, _ inWidth: Int, _ kernelW: Int, _ strideW: Int,
                                     _ output: UnsafeMutablePointer<Float>, _ outChannelStride: Int, _ outWidth: Int) {
    for c in 0..<channels {
        let out = output + c * outChannelStride
        for ox in 0..<outWidth {
            let x0 = ox * strideW, x1 = min(x0 + kernelW, inWidth)
            var m = SIMD16<Float>(loadFrom: rows[0] + c * inChannelStride + x0 * 16)
            for row in rows {
                let base = row + c * inChannelStride
                for x in x0..<x1 {
                    let v = SIMD16<Float>(loadFrom: base + x * 16)
                    // A compare and blend: the standard library's pointwiseMax goes lane by lane.
                    m = m.replacing(with: v, where: m .< v)
                }
            }
            m.store(to: out + ox * 16)
        }
    }
}

/// 16 images interleaved pixel by pixel: element `(image i, channel c, y, x)`
/// of a block of 16 lives at `((c * height + y) * width + x) * 16 + i`.
///
/// Small networks run over many small images (MTCNN's R- and O-net over
/// candidate boxes) waste most of a 16-lane vector on rows of 3 to 22
/// pixels when the lanes are pixels; with the lanes as images every vector is
/// full, and pooling needs no shuffles.
public enum LaneBatchedLayout {
    /// Images per block (the vector width).
    public static let lanes = 16

    /// Copies images `first ..< first + count` (`count` <= 16) of an NCHW batch
    /// into a lane-batched block; lanes past `count` are zero.
    public static func pack(_ batch: UnsafePointer<Float>, first: Int, count: Int, imageElements: Int,
                            into block: UnsafeMutablePointer<Float>) {
        precondition(count >= 1 && count <= lanes)
        if count < lanes { block.initialize(repeating: 0, count: imageElements * lanes) }
        for i in 0..<count {
            let image = batch + (first + i) * imageElements
            for e in 0..<imageElements { block[e * lanes + i] = image[e] }
        }
    }

    /// Copies the first `count` lanes of a block of `features` values per image
    /// back to `[image][feature]` rows starting at image `first`.
    public static func unpack(_ block: UnsafePointer<Float>, features: Int, first: Int, count: Int,
                              into batch: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let row = batch + (first + i) * features
            for f in 0..<features { row[f] = block[f * lanes + i] }
        }
    }
}
