import FaceRPCKernels
import Testing

/// Stride-1 unpadded geometries: P-net's three layers and heads, plus odd
/// channel counts (two blocks, a partial block), non-square kernels and widths
/// that leave every possible number of leftover lanes.
let directConvCases: [(name: String, inChannels: Int, outChannels: Int, kernelH: Int, kernelW: Int, inH: Int, inW: Int)] = [
    ("P-net conv1", 3, 10, 3, 3, 13, 37),
    ("P-net conv2", 10, 16, 3, 3, 9, 20),
    ("P-net conv3", 16, 32, 3, 3, 7, 45),
    ("P-net heads", 32, 6, 1, 1, 5, 17),
    ("17 outputs, 2x3 kernel", 5, 17, 2, 3, 6, 33),
    ("one output pixel", 4, 3, 3, 3, 3, 3),
    ("width 16 exactly", 2, 16, 3, 3, 4, 18),
    ("wide", 3, 20, 3, 3, 4, 100),
    // The 10-channel tile: pairs of vectors, a last single vector, a partial one.
    ("10 outputs, 3 vectors", 3, 10, 3, 3, 5, 50),
    ("7 outputs, 2 vectors and a partial one", 4, 7, 3, 3, 4, 41),
    ("10 outputs, 1x1, one vector", 32, 10, 1, 1, 2, 16),
]

@Suite("Direct convolution and the 2x2 pool (P-net kernels)")
struct DirectConvolutionTests {
    /// Runs `f32_dconv_prelu_16x16_simd16` row by row through
    /// ``PackedDirectConvolution`` over an input stored with the documented row
    /// slack, whose padding holds garbage (the kernel must not let it leak).
    func direct(_ x: [Float], inChannels: Int, inH: Int, inW: Int, conv: PackedDirectConvolution) -> [Float] {
        let outH = inH - conv.kernelH + 1, outW = inW - conv.kernelW + 1
        let stride = inW + conv.rowSlack
        var padded = [Float](repeating: 1e30, count: inChannels * inH * stride)
        for c in 0..<inChannels {
            for y in 0..<inH {
                for xx in 0..<inW { padded[(c * inH + y) * stride + xx] = x[(c * inH + y) * inW + xx] }
            }
        }
        var out = [Float](repeating: .nan, count: conv.outChannels * outH * outW)
        padded.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outH {
                    conv.runRow(input: src.baseAddress! + y * stride, inChannelStride: inH * stride, inRowStride: stride,
                                output: dst.baseAddress! + y * outW, outChannelStride: outH * outW, width: outW)
                }
            }
        }
        return out
    }

    @Test("matches the scalar convolution + PReLU on odd sizes", arguments: directConvCases.map(\.name))
    func matchesReference(_ name: String) {
        let t = directConvCases.first { $0.name == name }!
        var rng = SplitMix64(seed: 29)
        let x = rng.floats(t.inChannels * t.inH * t.inW)
        let w = rng.floats(t.outChannels * t.inChannels * t.kernelH * t.kernelW), b = rng.floats(t.outChannels)
        let slopes = rng.floats(t.outChannels, in: -0.5..<0.5)
        let g = ConvGeometry(inChannels: t.inChannels, outChannels: t.outChannels, inH: t.inH, inW: t.inW,
                             kernelH: t.kernelH, kernelW: t.kernelW)
        let linear = Reference.conv2d(x, batch: 1, geometry: g, weights: w, bias: b)
        let inner = g.outH * g.outW

        let withPReLU = PackedDirectConvolution(inChannels: t.inChannels, outChannels: t.outChannels, kernelH: t.kernelH,
                                                kernelW: t.kernelW, weights: w, bias: b, slopes: slopes)
        expectClose(direct(x, inChannels: t.inChannels, inH: t.inH, inW: t.inW, conv: withPReLU),
                    Reference.prelu(linear, channels: t.outChannels, inner: inner, slopes: slopes), name + " PReLU")

        let identity = PackedDirectConvolution(inChannels: t.inChannels, outChannels: t.outChannels, kernelH: t.kernelH,
                                               kernelW: t.kernelW, weights: w, bias: b, slopes: nil)
        expectClose(direct(x, inChannels: t.inChannels, inH: t.inH, inW: t.inW, conv: identity), linear, name + " linear")
    }

    @Test("lane-batched convolution and pooling match the scalar ones image by image")
    func laneBatched() {
        var rng = SplitMix64(seed: 37)
        let (cin, cout, h, w, k) = (3, 19, 9, 7, 3)
        let images = 11  // a partial block: lanes 11...15 are padding
        let imageElements = cin * h * w
        let x = rng.floats(images * imageElements)
        let weights = rng.floats(cout * cin * k * k), bias = rng.floats(cout)
        let slopes = rng.floats(cout, in: -0.5..<0.5)
        let conv = PackedDirectConvolution(inChannels: cin, outChannels: cout, kernelH: k, kernelW: k,
                                           weights: weights, bias: bias, slopes: slopes)
        let oh = h - k + 1, ow = w - k + 1
        var block = [Float](repeating: .nan, count: imageElements * 16)
        var convOut = [Float](repeating: .nan, count: cout * oh * ow * 16)
        // 3x3 stride 2 with one row and column of bottom/right padding, as R-net's first pool.
        let pool = PoolGeometry(channels: cout, inH: oh, inW: ow, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                                padBottom: 1, padRight: 1)
        var pooled = [Float](repeating: .nan, count: cout * pool.outH * pool.outW * 16)
        x.withUnsafeBufferPointer { src in
            block.withUnsafeMutableBufferPointer { b in
                LaneBatchedLayout.pack(src.baseAddress!, first: 0, count: images, imageElements: imageElements, into: b.baseAddress!)
            }
        }
        block.withUnsafeBufferPointer { b in
            convOut.withUnsafeMutableBufferPointer { o in
                for y in 0..<oh {
                    conv.runRow(input: b.baseAddress! + y * w * 16, inChannelStride: h * w * 16, inRowStride: w * 16,
                                tapStride: 16, output: o.baseAddress! + y * ow * 16, outChannelStride: oh * ow * 16,
                                width: ow * 16)
                }
            }
        }
        convOut.withUnsafeBufferPointer { c in
            pooled.withUnsafeMutableBufferPointer { p in
                for py in 0..<pool.outH {
                    let rows = (2 * py..<min(2 * py + 3, oh)).map { UnsafePointer(c.baseAddress! + $0 * ow * 16) }
                    rows.withUnsafeBufferPointer {
                        f32_maxpool_lanes_simd16($0, oh * ow * 16, cout, ow, 3, 2,
                                                 p.baseAddress! + py * pool.outW * 16, pool.outH * pool.outW * 16, pool.outW)
                    }
                }
            }
        }
        let g = ConvGeometry(inChannels: cin, outChannels: cout, inH: h, inW: w, kernelH: k, kernelW: k)
        var convLanes = [Float](repeating: .nan, count: images * cout * oh * ow)
        var poolLanes = [Float](repeating: .nan, count: images * cout * pool.outH * pool.outW)
        convOut.withUnsafeBufferPointer { c in
            convLanes.withUnsafeMutableBufferPointer {
                LaneBatchedLayout.unpack(c.baseAddress!, features: cout * oh * ow, first: 0, count: images, into: $0.baseAddress!)
            }
        }
        pooled.withUnsafeBufferPointer { c in
            poolLanes.withUnsafeMutableBufferPointer {
                LaneBatchedLayout.unpack(c.baseAddress!, features: cout * pool.outH * pool.outW, first: 0, count: images,
                                         into: $0.baseAddress!)
            }
        }
        let expectedConv = Reference.prelu(Reference.conv2d(x, batch: images, geometry: g, weights: weights, bias: bias),
                                           channels: cout, inner: oh * ow, slopes: slopes)
        expectClose(convLanes, expectedConv, "lane-batched conv + PReLU")
        expectClose(poolLanes, Reference.maxPool(expectedConv, batch: images, geometry: pool), "lane-batched max pool")
    }

    @Test("2x2 stride-2 max pool in ceil mode matches the scalar pool for every width", arguments: [1, 2])
    func maxPoolMatchesReference(rows: Int) {
        var rng = SplitMix64(seed: 31)
        for width in 1...70 {
            let x = rng.floats(rows * width, in: -4..<4)
            // Scalar reference: the max over the window's pixels that exist
            // (Reference.maxPool drops a window wider than the input).
            let expected = (0..<((width + 1) / 2)).map { o in
                (0..<rows).flatMap { r in [2 * o, 2 * o + 1].filter { $0 < width }.map { x[r * width + $0] } }.max()!
            }
            var got = [Float](repeating: .nan, count: (width + 1) / 2)
            x.withUnsafeBufferPointer { src in
                got.withUnsafeMutableBufferPointer { dst in
                    let a = src.baseAddress!
                    f32_maxpool_2x2s2_simd16(a, rows == 2 ? a + width : a, width, dst.baseAddress!)
                }
            }
            let identical = got == expected
            #expect(identical, "width \(width), \(rows) rows: \(zip(got, expected).filter { $0 != $1 }.count) wrong")
        }
    }
}
