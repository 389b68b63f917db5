// Direct convolution for a network's first layer: few input channels, a large
// kernel and a stride (the age net's 3 -> 64, 7x7, stride 2 on 64x64). im2col
// + GEMM would unfold every input value about kernelH * kernelW / stride²
// times (12 for 7x7/2) with strided, mostly scalar copies; here each input row
// is split once into its `stride` phases (columns x ≡ p mod stride), after
// which every tap of an output row is a contiguous vector load of one phase.

/// `f32_conv_phased_8x32_simd16`: one output row of a convolution for one
/// block of 8 output channels, from phase-split input rows, then bias and a
/// lower clamp (0: ReLU, -inf: none).
///
/// Lanes: 16 output pixels along x. Tile: 8 output channels x 2 vectors = 16
/// separate accumulators; step: one tap, where two input loads feed 16
/// broadcast FMAs. Then a one-vector loop (8 accumulators) for a last odd
/// vector; lanes past `width` are computed from padding and stored only where
/// `storableWidth` allows (// leftovers: one lane at a time).
///
/// - Parameters:
///   - input: the phase-split input for this output row's first kernel row:
///     phase `p` of channel `c`, kernel row `ky` starts at
///     `input + c * inChannelStride + ky * inRowStride + p * phaseStride`, and
///     its element `i` is padded input column `i * stride + p`. Each phase must be
///     readable for `roundUp(width, 16) + (kernelW - 1) / stride` floats.
///   - weights: `[inChannels][kernelH][phase p][m][8]` for tap `kx = m * stride + p`
///     (``PackedStridedDirectConvolution`` packs them).
///   - bias: 8 values.
///   - output: channel `j < outChannels` of the row starts at
///     `output + j * outChannelStride`; `width` values are written to each.
///   - storableWidth: whole vectors may be stored up to this many floats from
///     each channel's row start (lanes past `width` land on outputs the caller
///     writes later); at least `width`.
@inline(__always)
public func f32_conv_phased_8x32_simd16(
    _ input: UnsafePointer<Float>, _ inChannelStride: Int, _ inRowStride: Int, _ phaseStride: Int, _ stride: Int,
    _ inChannels: Int, _ kernelH: Int, _ kernelW: Int, _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    _ output: UnsafeMutablePointer<Float>, _ outChannelStride: Int, _ outChannels: Int, _ width: Int,
    _ storableWidth: Int, _ lo: Float
) {
    let low = SIMD16<Float>(repeating: lo)
    @inline(__always) func put(_ c: SIMD16<Float>, _ j: Int, _ x: Int) {
        guard j < outChannels else { return }
        let v = c.replacing(with: low, where: c .< low)
        let out = output + j * outChannelStride + x
        if x + 16 <= storableWidth {
            v.store(to: out)
        } else {
            // leftovers
            for l in 0..<min(16, width - x) { out[l] = v[l] }
        }
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
        var wp = weights
        for ic in 0..<inChannels {
            for ky in 0..<kernelH {
                let row = input + ic * inChannelStride + ky * inRowStride + x
                for p in 0..<stride {
                    let phase = row + p * phaseStride
                    for m in 0..<(kernelW - p + stride - 1) / stride {
                        let v0 = SIMD16<Float>(loadFrom: phase + m), v1 = SIMD16<Float>(loadFrom: phase + m + 16)
                        do { let w = SIMD16<Float>(repeating: wp[0]); a0 = a0.addingProduct(v0, w); b0 = b0.addingProduct(v1, w) }
                        do { let w = SIMD16<Float>(repeating: wp[1]); a1 = a1.addingProduct(v0, w); b1 = b1.addingProduct(v1, w) }
                        do { let w = SIMD16<Float>(repeating: wp[2]); a2 = a2.addingProduct(v0, w); b2 = b2.addingProduct(v1, w) }
                        do { let w = SIMD16<Float>(repeating: wp[3]); a3 = a3.addingProduct(v0, w); b3 = b3.addingProduct(v1, w) }
                        do { let w = SIMD16<Float>(repeating: wp[4]); a4 = a4.addingProduct(v0, w); b4 = b4.addingProduct(v1, w) }
                        do { let w = SIMD16<Float>(repeating: wp[5]); a5 = a5.addingProduct(v0, w); b5 = b5.addingProduct(v1, w) }
                        do { let w = SIMD16<Float>(repeating: wp[6]); a6 = a6.addingProduct(v0, w); b6 = b6.addingProduct(v1, w) }
                        do { let w = SIMD16<Float>(repeating: wp[7]); a7 = a7.addingProduct(v0, w); b7 = b7.addingProduct(v1, w) }
                        wp += 8
                    }
                }
            }
        }
        put(a0, 0, x); put(b0, 0, x + 16); put(a1, 1, x); put(b1, 1, x + 16)
        put(a2, 2, x); put(b2, 2, x + 16); put(a3, 3, x); put(b3, 3, x + 16)
        put(a4, 4, x); put(b4, 4, x + 16); put(a5, 5, x); put(b5, 5, x + 16)
        put(a6, 6, x); put(b6, 6, x + 16); put(a7, 7, x); put(b7, 7, x + 16)
        x += 32
    }
    if x < end {
        var a0 = SIMD16<Float>(repeating: bias[0]), a1 = SIMD16<Float>(repeating: bias[1])
        var a2 = SIMD16<Float>(repeating: bias[2]), a3 = SIMD16<Float>(repeating: bias[3])
        var a4 = SIMD16<Float>(repeating: bias[4]), a5 = SIMD16<Float>(repeating: bias[5])
        var a6 = SIMD16<Float>(repeating: bias[6]), a7 = SIMD16<Float>(repeating: bias[7])
        var wp = weights
        for ic in 0..<inChannels {
            for ky in 0..<kernelH {
                let row = input + ic * inChannelStride + ky * inRowStride + x
                for p in 0..<stride {
                    let phase = row + p * phaseStride
                    for m in 0..<(kernelW - p + stride - 1) / stride {
                        let v = SIMD16<Float>(loadFrom: phase + m)
                        a0 = a0.addingProduct(v, SIMD16<Float>(repeating: wp[0]))
                        a1 = a1.addingProduct(v, SIMD16<Float>(repeating: wp[1]))
                        a2 = a2.addingProduct(v, SIMD16<Float>(repeating: wp[2]))
                        a3 = a3.addingProduct(v, SIMD16<Float>(repeating: wp[3]))
                        a4 = a4.addingProduct(v, SIMD16<Float>(repeating: wp[4]))
                        a5 = a5.addingProduct(v, SIMD16<Float>(repeating: wp[5]))
                        a6 = a6.addingProduct(v, SIMD16<Float>(repeating: wp[6]))
                        a7 = a7.addingProduct(v, SIMD16<Float>(repeating: wp[7]))
                        wp += 8
                    }
                }
            }
        }
        put(a0, 0, x); put(a1, 1, x); put(a2, 2, x); put(a3, 3, x)
        put(a4, 4, x); put(a5, 5, x); put(a6, 6, x); put(a7, 7, x)
    }
}

/// A convolution with few input channels run directly on phase-split rows
/// (``f32_conv_phased_8x32_simd16``), writing NCHW: the age net's first layer.
///
/// Each task owns a range of output rows (of one or more samples); it splits
/// the padded input rows those read into their `strideW` phases (zeros for the
/// padding) in its own scratch, then computes each output row for every block
/// of 8 output channels while the row's inputs are in L1.
public struct PackedStridedDirectConvolution: Sendable {
    public let geometry: ConvGeometry
    /// Output channels per block of the micro-kernel.
    public static let blockWidth = 8
    /// `[block][inChannels][kernelH][phase][m][8]`, zero-padded past `outChannels`.
    let packed: [Float]
    /// `blocks * 8` values, zero-padded.
    let bias: [Float]
    let blocks: Int
    /// Floats per phase of one padded input row.
    let phaseWidth: Int

    /// Whether the kernel handles `g`: one group, no dilation, at most
    /// ``maxInChannels`` input channels (its reduction is all in registers per
    /// output row; many channels are better served by GEMM's blocking).
    public static func supports(_ g: ConvGeometry) -> Bool {
        g.isValid && g.groups == 1 && g.dilationH == 1 && g.dilationW == 1 && g.inChannels <= maxInChannels
    }

    /// Largest input channel count ``supports(_:)`` accepts.
    public static let maxInChannels = 4

    /// - Parameters:
    ///   - weights: OIHW, `outChannels * inChannels * kernelH * kernelW` values.
    ///   - bias: `outChannels` values.
    /// - Precondition: ``supports(_:)`` and the array sizes match.
    public init(geometry g: ConvGeometry, weights: [Float], bias: [Float]) {
        precondition(Self.supports(g), "unsupported geometry for the phased direct convolution")
        precondition(weights.count == g.outChannels * g.groupK && bias.count == g.outChannels)
        geometry = g
        let bw = Self.blockWidth
        blocks = (g.outChannels + bw - 1) / bw
        let s = g.strideW, kh = g.kernelH, kw = g.kernelW, cin = g.inChannels
        let taps = cin * kh * kw
        var packed = [Float](repeating: 0, count: blocks * taps * bw)
        for co in 0..<g.outChannels {
            let block = co / bw, lane = co % bw
            var t = 0
            // The kernel's tap order: channel, kernel row, phase, then m (kx = m * stride + p).
            for ci in 0..<cin {
                for ky in 0..<kh {
                    for p in 0..<s {
                        for kx in stride(from: p, to: kw, by: s) {
                            packed[(block * taps + t) * bw + lane] = weights[((co * cin + ci) * kh + ky) * kw + kx]
                            t += 1
                        }
                    }
                }
            }
        }
        self.packed = packed
        self.bias = bias + [Float](repeating: 0, count: blocks * bw - g.outChannels)
        phaseWidth = (g.outW + 15) / 16 * 16 + (kw - 1) / s
    }

    /// Scratch floats one thread needs: the phase-split copy of one sample's padded input.
    public var scratchPerThread: Int {
        geometry.inChannels * geometry.paddedInH * geometry.strideW * phaseWidth
    }

    /// Runs the convolution over `batch` NCHW samples, adding the bias and, with
    /// `relu`, clamping at 0.
    ///
    /// - Parameters:
    ///   - scratch: at least `threads * scratchPerThread` floats.
    ///   - threads: how many threads split the output rows (all samples' rows, in order).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, relu: Bool,
                    scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let g = geometry
        let oh = g.outH, ow = g.outW
        let rows = batch * oh
        let tasks = max(1, min(threads, rows))
        let perThread = scratchPerThread
        let lo: Float = relu ? 0 : -.infinity
        let s = g.strideW, sh = g.strideH, pw = phaseWidth
        let ph = g.paddedInH
        let rowStride = s * pw, channelStride = ph * rowStride
        let bw = Self.blockWidth
        let taps = g.inChannels * g.kernelH * g.kernelW
        // Fewer samples than threads: split the channel blocks instead of the rows,
        // so that each thread writes whole output planes. The layers after this one
        // (pooling, then convolutions split by channels) then read on each thread
        // mostly what that thread wrote; with rows split, half of every plane came
        // from the other core, which costs a cache-line transfer per line read
        // (measured: when the host put the two vCPUs on different L3s, the max pool
        // after the age net's first layer took 19 µs instead of 5).
        if batch < tasks && blocks >= tasks {
            packed.withUnsafeBufferPointer { wbuf in
                bias.withUnsafeBufferPointer { bbuf in
                    parallelFor(tasks) { t in
                        let split = scratch + t * perThread
                        let mine = sliceRange(t, of: tasks, count: blocks)
                        for n in 0..<batch {
                            splitPhases(input + n * g.inChannels * g.inH * g.inW, paddedRows: 0..<((oh - 1) * sh + g.kernelH),
                                        into: split)
                            let out = output + n * g.outChannels * oh * ow
                            for block in mine {
                                for oy in 0..<oh {
                                    // Stores past the row land on this plane's next rows, written later.
                                    f32_conv_phased_8x32_simd16(
                                        split + oy * sh * rowStride, channelStride, rowStride, pw, s,
                                        g.inChannels, g.kernelH, g.kernelW, wbuf.baseAddress! + block * taps * bw,
                                        bbuf.baseAddress! + block * bw, out + (block * bw * oh + oy) * ow, oh * ow,
                                        min(bw, g.outChannels - block * bw), ow, (oh - oy) * ow, lo)
                                }
                            }
                        }
                    }
                }
            }
            return
        }
        packed.withUnsafeBufferPointer { wbuf in
            bias.withUnsafeBufferPointer { bbuf in
                parallelFor(tasks) { t in
                    let split = scratch + t * perThread
                    let range = sliceRange(t, of: tasks, count: rows)
                    var r = range.lowerBound
                    while r < range.upperBound {
                        // One sample's share of the range.
                        let n = r / oh, oy0 = r - n * oh
                        let oy1 = min(oh, oy0 + range.upperBound - r)
                        let firstRow = oy0 * sh, lastRow = (oy1 - 1) * sh + g.kernelH
                        splitPhases(input + n * g.inChannels * g.inH * g.inW, paddedRows: firstRow..<lastRow, into: split)
                        let out = output + n * g.outChannels * oh * ow
                        for oy in oy0..<oy1 {
                            // Vector stores past the row land on the next rows, which
                            // this task writes later (not past its last row).
                            let storable = (oy1 - oy) * ow
                            for block in 0..<blocks {
                                f32_conv_phased_8x32_simd16(
                                    split + oy * sh * rowStride, channelStride, rowStride, pw, s,
                                    g.inChannels, g.kernelH, g.kernelW, wbuf.baseAddress! + block * taps * bw,
                                    bbuf.baseAddress! + block * bw, out + (block * bw * oh + oy) * ow, oh * ow,
                                    min(bw, g.outChannels - block * bw), ow, storable, lo)
                            }
                        }
                        r += oy1 - oy0
                    }
                }
            }
        }
    }

    /// Splits padded input rows `paddedRows` of one sample into phases:
    /// `split[c][row][p][i]` = padded input `(c, row, i * stride + p)`, zero
    /// outside the input; rows keep their padded index.
    @inline(__always)
    private func splitPhases(_ sample: UnsafePointer<Float>, paddedRows: Range<Int>, into split: UnsafeMutablePointer<Float>) {
        let g = geometry
        let s = g.strideW, pw = phaseWidth, inW = g.inW, inH = g.inH
        let rowStride = s * pw, channelStride = g.paddedInH * rowStride
        for c in 0..<g.inChannels {
            for row in paddedRows {
                let dst = split + c * channelStride + row * rowStride
                let iy = row - g.padTop
                if iy < 0 || iy >= inH {
                    dst.update(repeating: 0, count: rowStride)
                    continue
                }
                let src = sample + (c * inH + iy) * inW
                for p in 0..<s {
                    let d = dst + p * pw
                    // Element i reads input column i * s + p - padLeft.
                    var i = 0
                    let first = p - g.padLeft
                    if s == 2 && first >= 0 {
                        // Even lanes of 32-float runs from the phase's first input column.
                        while 2 * i + first + 32 <= inW {
                            SIMD16<Float>(evenLanesFrom: src + 2 * i + first).store(to: d + i)
                            i += 16
                        }
                    }
                    // leftovers
                    while i < pw {
                        let col = i * s + p - g.padLeft
                        d[i] = col >= 0 && col < inW ? src[col] : 0
                        i += 1
                    }
                }
            }
        }
    }
}
