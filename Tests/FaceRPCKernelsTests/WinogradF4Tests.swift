import FaceRPCKernels
import Testing

/// Winograd F(4x4, 3x3) against the scalar convolution.
///
/// Tolerance: F(4x4)'s transforms have larger coefficients than F(2x2)'s (`Bᵀ`
/// rows sum to 10 in magnitude, `Aᵀ` rows to 19, `G` has sixths and
/// twenty-fourths), so float rounding in the transformed domain cancels less
/// cleanly. The error is bounded relative to the magnitude of the sum being
/// computed, `Σ|x·w| + |b|` (+ `|residual|`), not to the result, which can
/// cancel to near zero. A float simulation of this pipeline (Double-transformed
/// weights, float input transform, GEMM and output transform) over 180 random
/// patches with 5 to 128 input channels gave at most 1.4e-6 of that magnitude
/// (F(2x2): 9e-8), and these cases at most 2.4e-6; the tests allow 1e-5
/// (about 170 float epsilons).
@Suite("Winograd F(4x4, 3x3)")
struct WinogradF4Tests {
    static let tolerance = 1e-5

    /// Odd maps (1x1 to 14x14, clipped tiles on the right and bottom), channels
    /// that are not multiples of 16 or of the 32-channel panels, with and without padding.
    static let cases: [ConvGeometry] = [
        ConvGeometry(inChannels: 5, outChannels: 7, inH: 1, inW: 1, kernelH: 3, kernelW: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(inChannels: 17, outChannels: 33, inH: 3, inW: 3, kernelH: 3, kernelW: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(inChannels: 9, outChannels: 20, inH: 5, inW: 7, kernelH: 3, kernelW: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(inChannels: 33, outChannels: 40, inH: 6, inW: 6, kernelH: 3, kernelW: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(inChannels: 12, outChannels: 16, inH: 13, inW: 11, kernelH: 3, kernelW: 3,
                     padTop: 2, padLeft: 0, padBottom: 0, padRight: 1),
        ConvGeometry(inChannels: 16, outChannels: 48, inH: 14, inW: 14, kernelH: 3, kernelW: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        // Many input channel blocks, a partial last one.
        ConvGeometry(inChannels: 137, outChannels: 40, inH: 6, inW: 5, kernelH: 3, kernelW: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        // Unpadded: a 3x5 output from a 5x7 map.
        ConvGeometry(inChannels: 3, outChannels: 5, inH: 5, inW: 7, kernelH: 3, kernelW: 3),
        // Unpadded, wide: full 16-pixel blocks in the packing transpose and a long tile row.
        ConvGeometry(inChannels: 20, outChannels: 3, inH: 4, inW: 37, kernelH: 3, kernelW: 3),
    ]

    @Test("every c16 GEMM variant matches the scalar convolution", arguments: KernelRegistry.gemmC16Variants)
    func variants(_ v: GemmVariant) {
        var rng = SplitMix64(seed: 43)
        for (index, g) in Self.cases.enumerated() {
            #expect(PackedWinogradF4Convolution.supports(g))
            // Batch 1 on several threads: one tile group, split by channel panels.
            for (batch, threads) in [(1, 1), (1, 2), (1, 3), (3, 2), (17, 1), (17, 2)] {
                let x = rng.floats(batch * g.inChannels * g.inH * g.inW)
                let w = rng.floats(g.outChannels * g.groupK), b = rng.floats(g.outChannels)
                let outCount = batch * g.outChannels * g.outH * g.outW
                let res = rng.floats(outCount)
                let conv = PackedWinogradF4Convolution(geometry: g, weights: w, bias: b, variant: v)
                // Σ|x·w| + |b|: the magnitude the error is relative to.
                let magnitude = Reference.conv2d(x.map(abs), batch: batch, geometry: g, weights: w.map(abs), bias: b.map(abs))
                let plain = Reference.conv2d(x, batch: batch, geometry: g, weights: w, bias: b)
                // All four epilogues across the cases.
                let epilogues = index % 2 == 0 ? [(false, false), (true, true)] : [(true, false), (false, true)]
                for (relu, withResidual) in epilogues {
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
                    var want = plain, scale = magnitude
                    if withResidual { want = Reference.add(want, res); scale = Reference.add(scale, res.map(abs)) }
                    if relu { want = Reference.relu(want) }
                    var worst = 0.0, worstIndex = 0
                    for i in 0..<outCount {
                        let e = Double(abs(y[i] - want[i])) / Double(scale[i])
                        if !(e <= worst) { worst = e; worstIndex = i }
                    }
                    #expect(worst <= Self.tolerance,
                            "\(v.name) \(g) batch \(batch) threads \(threads) relu \(relu) residual \(withResidual): error \(worst) of the magnitude at \(worstIndex) (got \(y[worstIndex]), want \(want[worstIndex]))")
                }
            }
        }
    }

    @Test("the output is written exactly once per element and nothing past it")
    func bounds() {
        // Output and residual buffers with guard regions: clipped tiles and partial
        // channel blocks must neither write nor depend on values outside the tensor.
        var rng = SplitMix64(seed: 44)
        let g = ConvGeometry(inChannels: 18, outChannels: 21, inH: 7, inW: 5, kernelH: 3, kernelW: 3,
                             padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let batch = 2, guardCount = 64
        let x = rng.floats(batch * g.inChannels * g.inH * g.inW)
        let w = rng.floats(g.outChannels * g.groupK), b = rng.floats(g.outChannels)
        let outCount = batch * g.outChannels * g.outH * g.outW
        let conv = PackedWinogradF4Convolution(geometry: g, weights: w, bias: b)
        var y = [Float](repeating: 12345, count: outCount + 2 * guardCount)
        var res = [Float](repeating: .nan, count: outCount + 2 * guardCount)
        let r = rng.floats(outCount)
        for i in 0..<outCount { res[guardCount + i] = r[i] }
        var scratch = [Float](repeating: .nan, count: 2 * conv.scratchPerThread + batch * conv.scratchPerSample)
        scratch.withUnsafeMutableBufferPointer { s in
            y.withUnsafeMutableBufferPointer { yb in
                res.withUnsafeBufferPointer { rb in
                    conv.run(input: x, output: yb.baseAddress! + guardCount, batch: batch,
                             residual: rb.baseAddress! + guardCount, relu: false, scratch: s.baseAddress!, threads: 2)
                }
            }
        }
        #expect(y[..<guardCount].allSatisfy { $0 == 12345 })
        #expect(y[(guardCount + outCount)...].allSatisfy { $0 == 12345 })
        let got = Array(y[guardCount..<(guardCount + outCount)])
        #expect(got.allSatisfy { $0.isFinite })
        let want = Reference.add(Reference.conv2d(x, batch: batch, geometry: g, weights: w, bias: b), r)
        expectClose(got, want, relative: 1e-5, "guarded run")
    }

    @Test("unsupported geometries are refused")
    func supports() {
        #expect(!PackedWinogradF4Convolution.supports(ConvGeometry(inChannels: 2, outChannels: 2, inH: 5, inW: 5, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2)))
        #expect(!PackedWinogradF4Convolution.supports(ConvGeometry(inChannels: 2, outChannels: 2, inH: 5, inW: 5, kernelH: 5, kernelW: 5)))
        #expect(!PackedWinogradF4Convolution.supports(ConvGeometry(inChannels: 4, outChannels: 4, inH: 5, inW: 5, kernelH: 3, kernelW: 3, groups: 2)))
    }
}
