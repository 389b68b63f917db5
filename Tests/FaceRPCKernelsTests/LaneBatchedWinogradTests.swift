import FaceRPCKernels
import Testing

/// 3x3 geometries for the lane-batched Winograd convolution: R- and O-net's
/// layers, and odd sizes (odd output widths and heights, so the last tile is
/// clipped both ways; one output pixel; partial channel blocks).
let laneWinogradCases: [(name: String, inChannels: Int, outChannels: Int, inH: Int, inW: Int)] = [
    ("R-net conv2", 28, 48, 11, 11),
    ("O-net conv2", 32, 64, 23, 23),
    ("O-net conv3", 64, 64, 10, 10),
    ("odd width, even height", 5, 17, 6, 9),
    ("one output pixel", 3, 2, 3, 3),
    ("one row of two", 7, 33, 3, 4),
    ("tall and narrow", 16, 16, 12, 3),
]

@Suite("Winograd F(2x2, 3x3) on lane-batched images (R- and O-net)")
struct LaneBatchedWinogradTests {
    @Test("matches the scalar convolution + PReLU, image by image", arguments: laneWinogradCases.map(\.name))
    func matchesReference(_ name: String) {
        let t = laneWinogradCases.first { $0.name == name }!
        var rng = SplitMix64(seed: UInt64(t.inChannels * 1_000 + t.outChannels * 10 + t.inW))
        let images = 13  // lanes 13...15 are padding
        let (cin, cout, h, w) = (t.inChannels, t.outChannels, t.inH, t.inW)
        let oh = h - 2, ow = w - 2
        let imageElements = cin * h * w
        let x = rng.floats(images * imageElements)
        let weights = rng.floats(cout * cin * 9), bias = rng.floats(cout)
        let slopes = rng.floats(cout, in: -0.5..<0.5)
        let conv = PackedLaneWinogradConvolution(inChannels: cin, outChannels: cout, weights: weights, bias: bias, slopes: slopes)

        var block = [Float](repeating: .nan, count: imageElements * 16)
        x.withUnsafeBufferPointer { src in
            block.withUnsafeMutableBufferPointer { b in
                LaneBatchedLayout.pack(src.baseAddress!, first: 0, count: images, imageElements: imageElements, into: b.baseAddress!)
            }
        }
        var out = [Float](repeating: .nan, count: cout * oh * ow * 16)
        var scratch = [Float](repeating: .nan, count: conv.scratchCount(outputWidth: ow))
        block.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { o in
                scratch.withUnsafeMutableBufferPointer { s in
                    let base = o.baseAddress!
                    func row(_ r: Int) -> UnsafeMutablePointer<Float> { base + r * ow * 16 }
                    var y = 0
                    while y < oh {
                        conv.runRowPair(input: b.baseAddress! + y * w * 16, inChannelStride: h * w * 16, inRowStride: w * 16,
                                        inputRows: min(4, h - y), outputWidth: ow, scratch: s.baseAddress!,
                                        row0: row(y), row1: y + 1 < oh ? row(y + 1) : nil, outChannelStride: oh * ow * 16)
                        y += 2
                    }
                }
            }
        }
        var unpacked = [Float](repeating: .nan, count: images * cout * oh * ow)
        out.withUnsafeBufferPointer { c in
            unpacked.withUnsafeMutableBufferPointer {
                LaneBatchedLayout.unpack(c.baseAddress!, features: cout * oh * ow, first: 0, count: images, into: $0.baseAddress!)
            }
        }
        let g = ConvGeometry(inChannels: cin, outChannels: cout, inH: h, inW: w, kernelH: 3, kernelW: 3)
        let expected = Reference.prelu(Reference.conv2d(x, batch: images, geometry: g, weights: weights, bias: bias),
                                       channels: cout, inner: oh * ow, slopes: slopes)
        // The transforms add and subtract up to 9 inputs before the products,
        // so the error grows like the sums' magnitude times a few ulps per
        // channel: 1e-5 of the largest output, checked on up to 576 taps.
        expectClose(unpacked, expected, relative: 1e-5, name)
        #expect(!unpacked.contains { $0.isNaN }, "every output written")
    }

    @Test("the packed transform points are G g Gᵀ: a lone centre tap passes the input through")
    func centreTapIsIdentity() {
        // Weights 1 at the centre of channel 0 -> output 0, nothing else: the
        // output is the input's inner pixels, exactly (the transforms of a
        // one-tap kernel multiply by 1 and 1/2 only).
        let (cin, cout, h, w) = (2, 1, 5, 6)
        var weights = [Float](repeating: 0, count: cout * cin * 9)
        weights[4] = 1
        let conv = PackedLaneWinogradConvolution(inChannels: cin, outChannels: cout, weights: weights, bias: [0], slopes: nil)
        var rng = SplitMix64(seed: 5)
        let block = rng.floats(cin * h * w * 16)
        let oh = h - 2, ow = w - 2
        var out = [Float](repeating: .nan, count: oh * ow * 16)
        var scratch = [Float](repeating: 0, count: conv.scratchCount(outputWidth: ow))
        block.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { o in
                scratch.withUnsafeMutableBufferPointer { s in
                    for y in stride(from: 0, to: oh, by: 2) {
                        conv.runRowPair(input: b.baseAddress! + y * w * 16, inChannelStride: h * w * 16, inRowStride: w * 16,
                                        inputRows: min(4, h - y), outputWidth: ow, scratch: s.baseAddress!,
                                        row0: o.baseAddress! + y * ow * 16, row1: y + 1 < oh ? o.baseAddress! + (y + 1) * ow * 16 : nil,
                                        outChannelStride: oh * ow * 16)
                    }
                }
            }
        }
        var worst: Float = 0
        for y in 0..<oh {
            for x in 0..<ow {
                for lane in 0..<16 {
                    worst = max(worst, abs(out[(y * ow + x) * 16 + lane] - block[((y + 1) * w + x + 1) * 16 + lane]))
                }
            }
        }
        #expect(worst <= 1e-6)
    }
}
