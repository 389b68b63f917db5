import FaceRPCKernels
import Testing

@Suite("Winograd F(2x2, 3x3)")
struct WinogradTests {
    @Test("every GEMM variant matches the scalar convolution", arguments: KernelRegistry.gemmVariants)
    func variants(_ v: GemmVariant) {
        var rng = SplitMix64(seed: 12)
        let cases = [
            ConvGeometry(inChannels: 3, outChannels: 10, inH: 7, inW: 9, kernelH: 3, kernelW: 3,
                         padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
            ConvGeometry(inChannels: 5, outChannels: 4, inH: 8, inW: 6, kernelH: 3, kernelW: 3),
            ConvGeometry(inChannels: 2, outChannels: 9, inH: 5, inW: 11, kernelH: 3, kernelW: 3,
                         padTop: 2, padLeft: 0, padBottom: 0, padRight: 1),
            ConvGeometry(inChannels: 17, outChannels: 3, inH: 3, inW: 3, kernelH: 3, kernelW: 3,
                         padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
            // Wide rows: 8-tile vector chunks, then single-tile leftovers and an odd last column.
            ConvGeometry(inChannels: 2, outChannels: 5, inH: 4, inW: 37, kernelH: 3, kernelW: 3,
                         padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
            ConvGeometry(inChannels: 3, outChannels: 8, inH: 6, inW: 16, kernelH: 3, kernelW: 3,
                         padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
            // 16 tiles a row and an odd height: whole 8-tile runs stored as two
            // 16-wide rows, clipped bottom tiles scattered one by one.
            ConvGeometry(inChannels: 4, outChannels: 6, inH: 5, inW: 32, kernelH: 3, kernelW: 3,
                         padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
            // The age net's 7x7 maps, narrower: at batch 1 one column panel of tiles that
            // several threads transform together and split by row panels.
            ConvGeometry(inChannels: 13, outChannels: 29, inH: 7, inW: 7, kernelH: 3, kernelW: 3,
                         padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ]
        for g in cases {
            #expect(PackedWinogradConvolution.supports(g))
            for (batch, threads) in [(1, 1), (3, 2), (1, 3)] {
                let x = rng.floats(batch * g.inChannels * g.inH * g.inW)
                let w = rng.floats(g.outChannels * g.groupK), b = rng.floats(g.outChannels)
                let outCount = batch * g.outChannels * g.outH * g.outW
                let res = rng.floats(outCount)
                let conv = PackedWinogradConvolution(geometry: g, weights: w, bias: b, variant: v)
                for (relu, withResidual) in [(false, false), (true, true)] {
                    var y = [Float](repeating: .nan, count: outCount)
                    var scratch = [Float](repeating: .nan, count: threads * conv.scratchPerThread + batch * conv.scratchPerSample)
                    scratch.withUnsafeMutableBufferPointer { s in
                        y.withUnsafeMutableBufferPointer { yb in
                            res.withUnsafeBufferPointer { rb in
                                conv.run(input: x, output: yb.baseAddress!, batch: batch,
                                         residual: withResidual ? rb.baseAddress! : nil, relu: relu,
                                         scratch: s.baseAddress!, threads: threads)
                            }
                        }
                    }
                    var want = Reference.conv2d(x, batch: batch, geometry: g, weights: w, bias: b)
                    if withResidual { want = Reference.add(want, res) }
                    if relu { want = Reference.relu(want) }
                    expectClose(y, want, relative: 2e-4, "\(v.name) \(g) batch \(batch) relu \(relu) residual \(withResidual)")
                }
            }
        }
        #expect(!PackedWinogradConvolution.supports(ConvGeometry(inChannels: 2, outChannels: 2, inH: 5, inW: 5, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2)))
    }
}
