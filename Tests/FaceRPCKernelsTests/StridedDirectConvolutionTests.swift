import FaceRPCKernels
import Testing

@Suite("Phased direct convolution (first layers: few input channels, strided)")
struct StridedDirectConvolutionTests {
    /// The age net's first layer, then odd sizes: every stride 1 to 3 (in both
    /// directions independently), padding on each side, partial channel blocks,
    /// output widths that leave one vector, two, or a pair and a partial one.
    static let cases: [ConvGeometry] = [
        ConvGeometry(inChannels: 3, outChannels: 64, inH: 64, inW: 64, kernelH: 7, kernelW: 7, strideH: 2, strideW: 2),
        ConvGeometry(inChannels: 3, outChannels: 13, inH: 23, inW: 37, kernelH: 7, kernelW: 7, strideH: 2, strideW: 2),
        ConvGeometry(inChannels: 1, outChannels: 9, inH: 19, inW: 71, kernelH: 5, kernelW: 3, strideH: 1, strideW: 2,
                     padTop: 2, padLeft: 1, padBottom: 0, padRight: 2),
        ConvGeometry(inChannels: 4, outChannels: 8, inH: 17, inW: 50, kernelH: 3, kernelW: 3, strideH: 2, strideW: 1,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(inChannels: 2, outChannels: 5, inH: 11, inW: 100, kernelH: 4, kernelW: 5, strideH: 3, strideW: 3,
                     padTop: 0, padLeft: 2, padBottom: 3, padRight: 1),
        ConvGeometry(inChannels: 3, outChannels: 17, inH: 9, inW: 9, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                     padTop: 1, padLeft: 0, padBottom: 1, padRight: 0),
        // One output pixel.
        ConvGeometry(inChannels: 3, outChannels: 3, inH: 7, inW: 7, kernelH: 7, kernelW: 7, strideH: 2, strideW: 2),
    ]

    @Test("matches the scalar reference on odd sizes, batches and thread counts", arguments: cases.indices)
    func reference(_ index: Int) {
        let g = Self.cases[index]
        #expect(PackedStridedDirectConvolution.supports(g))
        var rng = SplitMix64(seed: UInt64(100 + index))
        let w = rng.floats(g.outChannels * g.groupK), b = rng.floats(g.outChannels)
        let conv = PackedStridedDirectConvolution(geometry: g, weights: w, bias: b)
        for batch in [1, 3] {
            let x = rng.floats(batch * g.inChannels * g.inH * g.inW)
            for relu in [false, true] {
                let want = Reference.conv2d(x, batch: batch, geometry: g, weights: w, bias: b, relu: relu)
                // Fewer samples than threads split the channel blocks when there are
                // enough of them (64 or 13 channels at batch 1), else the rows.
                for threads in [1, 2, 5] {
                    var y = [Float](repeating: .nan, count: batch * g.outChannels * g.outH * g.outW)
                    var scratch = [Float](repeating: .nan, count: threads * conv.scratchPerThread)
                    scratch.withUnsafeMutableBufferPointer { s in
                        y.withUnsafeMutableBufferPointer { out in
                            conv.run(input: x, output: out.baseAddress!, batch: batch, relu: relu,
                                     scratch: s.baseAddress!, threads: threads)
                        }
                    }
                    expectClose(y, want, "case \(index) batch \(batch) relu \(relu) threads \(threads)")
                }
            }
        }
    }

    @Test("takes only one-group, undilated geometries with few input channels")
    func supports() {
        #expect(!PackedStridedDirectConvolution.supports(
            ConvGeometry(inChannels: 8, outChannels: 8, inH: 9, inW: 9, kernelH: 3, kernelW: 3)))
        #expect(!PackedStridedDirectConvolution.supports(
            ConvGeometry(inChannels: 4, outChannels: 8, inH: 9, inW: 9, kernelH: 3, kernelW: 3, groups: 2)))
        #expect(!PackedStridedDirectConvolution.supports(
            ConvGeometry(inChannels: 3, outChannels: 8, inH: 9, inW: 9, kernelH: 3, kernelW: 3, dilationH: 2, dilationW: 2)))
    }
}
