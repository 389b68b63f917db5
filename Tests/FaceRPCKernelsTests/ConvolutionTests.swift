import FaceRPCKernels
import Testing

/// Odd geometries covering padding, stride, dilation, groups, depthwise and 1x1.
let convCases: [(String, ConvGeometry)] = [
    ("3x3 pad 1", ConvGeometry(inChannels: 3, outChannels: 10, inH: 7, inW: 9, kernelH: 3, kernelW: 3,
                               padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ("7x7 stride 2 valid", ConvGeometry(inChannels: 2, outChannels: 9, inH: 15, inW: 13, kernelH: 7, kernelW: 7,
                                        strideH: 2, strideW: 2)),
    ("3x2 stride 3x2 asymmetric pad dilation 2", ConvGeometry(inChannels: 4, outChannels: 5, inH: 11, inW: 10, kernelH: 3, kernelW: 2,
                                                              strideH: 3, strideW: 2, padTop: 2, padLeft: 0, padBottom: 1, padRight: 3,
                                                              dilationH: 2, dilationW: 2)),
    ("groups 2", ConvGeometry(inChannels: 4, outChannels: 6, inH: 6, inW: 5, kernelH: 3, kernelW: 3,
                              padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, groups: 2)),
    ("depthwise", ConvGeometry(inChannels: 5, outChannels: 5, inH: 8, inW: 7, kernelH: 3, kernelW: 3,
                               strideH: 2, strideW: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, groups: 5)),
    ("1x1", ConvGeometry(inChannels: 7, outChannels: 17, inH: 5, inW: 7, kernelH: 1, kernelW: 1)),
    ("7x7 stride 2 wide rows", ConvGeometry(inChannels: 2, outChannels: 6, inH: 9, inW: 75, kernelH: 7, kernelW: 7,
                                            strideH: 2, strideW: 2, padTop: 1, padLeft: 2, padBottom: 0, padRight: 1)),
    ("5x5 pad 2 wide", ConvGeometry(inChannels: 3, outChannels: 8, inH: 5, inW: 37, kernelH: 5, kernelW: 5,
                                    padTop: 2, padLeft: 2, padBottom: 2, padRight: 2)),
    // Shapes of the age net's small late layers (narrower): the transposed path's
    // tap-offset unfold over a padded copy, and straight from an unpadded input.
    ("3x3 output pad 1", ConvGeometry(inChannels: 24, outChannels: 70, inH: 3, inW: 3, kernelH: 3, kernelW: 3,
                                      padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
    ("3x3 stride 2 to 6x6", ConvGeometry(inChannels: 5, outChannels: 33, inH: 14, inW: 14, kernelH: 3, kernelW: 3,
                                         strideH: 2, strideW: 2)),
]

@Suite("Convolution (im2col panels + GEMM)")
struct ConvolutionTests {
    @Test("every GEMM variant matches the scalar convolution", arguments: KernelRegistry.gemmVariants)
    func variants(_ v: GemmVariant) {
        var rng = SplitMix64(seed: 11)
        for (name, g) in convCases {
            #expect(g.isValid, "\(name)")
            for (batch, threads) in [(1, 1), (3, 2)] {
                let x = rng.floats(batch * g.inChannels * g.inH * g.inW)
                let w = rng.floats(g.outChannels * g.groupK), b = rng.floats(g.outChannels)
                let outCount = batch * g.outChannels * g.outH * g.outW
                let res = rng.floats(outCount)
                let conv = PackedConvolution(geometry: g, weights: w, bias: b, variant: v)
                for (relu, withResidual, path) in [(false, false, PackedConvolution.Path.standard), (true, false, .standard),
                                                   (true, true, .standard), (false, true, .standard),
                                                   (false, false, .transposed), (true, true, .transposed)] {
                    var y = [Float](repeating: .nan, count: outCount)
                    var scratch = [Float](repeating: .nan, count: threads * conv.scratchPerThread + batch * conv.scratchPerSample)
                    scratch.withUnsafeMutableBufferPointer { s in
                        y.withUnsafeMutableBufferPointer { yb in
                            res.withUnsafeBufferPointer { rb in
                                conv.run(input: x, output: yb.baseAddress!, batch: batch,
                                         residual: withResidual ? rb.baseAddress! : nil, relu: relu,
                                         scratch: s.baseAddress!, threads: threads, path: path)
                            }
                        }
                    }
                    var want = Reference.conv2d(x, batch: batch, geometry: g, weights: w, bias: b)
                    if withResidual { want = Reference.add(want, res) }
                    if relu { want = Reference.relu(want) }
                    expectClose(y, want, "\(v.name) \(name) batch \(batch) threads \(threads) relu \(relu) residual \(withResidual) \(path)")
                }
            }
        }
    }

    @Test("output sizes follow the ONNX formula")
    func geometry() {
        let g = ConvGeometry(inChannels: 3, outChannels: 96, inH: 227, inW: 227, kernelH: 7, kernelW: 7, strideH: 4, strideW: 4)
        #expect(g.outH == 56 && g.outW == 56)
        let d = ConvGeometry(inChannels: 1, outChannels: 1, inH: 10, inW: 10, kernelH: 3, kernelW: 3, dilationH: 2, dilationW: 3)
        #expect(d.outH == 6 && d.outW == 4)
        #expect(!ConvGeometry(inChannels: 3, outChannels: 4, inH: 5, inW: 5, kernelH: 3, kernelW: 3, groups: 2).isValid)
        #expect(!ConvGeometry(inChannels: 1, outChannels: 1, inH: 2, inW: 5, kernelH: 3, kernelW: 3).isValid)
    }
}
