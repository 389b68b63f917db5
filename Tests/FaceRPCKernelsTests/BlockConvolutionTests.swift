import FaceRPCKernels
import Testing

/// The 3x3 block convolution (padded taps skipped) against the scalar convolution.
///
/// Tolerance: the block path sums the same products as the reference in another
/// order (tap by tap, then channel by channel, with the even and odd channels of
/// corner taps in separate sums), so the error is float rounding of a sum,
/// bounded relative to `Σ|x·w| + |b|` (+ `|residual|`), not to the result, which
/// can cancel to near zero: 1e-5 of that magnitude (about 80 float epsilons).
@Suite("3x3 block convolution without padded taps")
struct BlockConvolutionTests {
    static let tolerance = 1e-5

    static func geometry(_ cin: Int, _ cout: Int, _ h: Int, _ w: Int) -> ConvGeometry {
        ConvGeometry(inChannels: cin, outChannels: cout, inH: h, inW: w, kernelH: 3, kernelW: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
    }

    /// Maps with every border combination of a block: 3x3 (all four sides), 6x6
    /// (corners), 9x9 and 6x9 (edges and an inner block), 3x12 (top and bottom
    /// together with inner columns). Channel counts that are not multiples of
    /// the 32-channel panel; odd and single input channels (the kernels' leftovers).
    static let cases: [ConvGeometry] = [
        geometry(1, 5, 3, 3),
        geometry(37, 33, 3, 3),
        geometry(130, 64, 3, 3),
        geometry(9, 40, 6, 6),
        geometry(16, 7, 9, 9),
        geometry(5, 70, 6, 9),
        geometry(12, 32, 3, 12),
        geometry(8, 3, 12, 3),
    ]

    @Test("matches the scalar convolution on every border combination, batch and thread count")
    func matchesReference() {
        var rng = SplitMix64(seed: 51)
        for (index, g) in Self.cases.enumerated() {
            #expect(PackedBlockConvolution.supports(g))
            for (batch, threads) in [(1, 1), (1, 2), (1, 3), (2, 2), (3, 1), (5, 2)] {
                let x = rng.floats(batch * g.inChannels * g.inH * g.inW)
                let w = rng.floats(g.outChannels * g.groupK), b = rng.floats(g.outChannels)
                let outCount = batch * g.outChannels * g.outH * g.outW
                let res = rng.floats(outCount)
                let conv = PackedBlockConvolution(geometry: g, weights: w, bias: b)
                let magnitude = Reference.conv2d(x.map(abs), batch: batch, geometry: g, weights: w.map(abs), bias: b.map(abs))
                let plain = Reference.conv2d(x, batch: batch, geometry: g, weights: w, bias: b)
                // All four epilogues across the cases.
                let epilogues = index % 2 == 0 ? [(false, false), (true, true)] : [(true, false), (false, true)]
                for (relu, withResidual) in epilogues {
                    var y = [Float](repeating: .nan, count: outCount)
                    var scratch = [Float](repeating: .nan, count: threads * conv.scratchPerThread)
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
                            "\(g) batch \(batch) threads \(threads) relu \(relu) residual \(withResidual): error \(worst) of the magnitude at \(worstIndex) (got \(y[worstIndex]), want \(want[worstIndex]))")
                }
            }
        }
    }

    @Test("padding never enters the sum: the input's neighbours in memory are not read")
    func readsOnlyTheInput() {
        // The input sits between NaN guards: a tap that read past the outer border
        // sides would turn its pixel NaN, and one that read a neighbouring row or
        // sample instead of padding would miss the reference.
        var rng = SplitMix64(seed: 52)
        let g = Self.geometry(11, 35, 6, 6)
        let batch = 2, guardCount = 200
        let real = rng.floats(batch * g.inChannels * g.inH * g.inW)
        var x = [Float](repeating: .nan, count: real.count + 2 * guardCount)
        for i in real.indices { x[guardCount + i] = real[i] }
        let w = rng.floats(g.outChannels * g.groupK), b = rng.floats(g.outChannels)
        let conv = PackedBlockConvolution(geometry: g, weights: w, bias: b)
        let outCount = batch * g.outChannels * g.outH * g.outW
        var y = [Float](repeating: 12345, count: outCount + 2 * guardCount)
        var scratch = [Float](repeating: .nan, count: 2 * conv.scratchPerThread)
        x.withUnsafeBufferPointer { xb in
            scratch.withUnsafeMutableBufferPointer { s in
                y.withUnsafeMutableBufferPointer { yb in
                    conv.run(input: xb.baseAddress! + guardCount, output: yb.baseAddress! + guardCount, batch: batch,
                             residual: nil, relu: false, scratch: s.baseAddress!, threads: 2)
                }
            }
        }
        // Nothing written outside the output either.
        #expect(y[..<guardCount].allSatisfy { $0 == 12345 })
        #expect(y[(guardCount + outCount)...].allSatisfy { $0 == 12345 })
        let got = Array(y[guardCount..<(guardCount + outCount)])
        #expect(got.allSatisfy { $0.isFinite })
        expectClose(got, Reference.conv2d(real, batch: batch, geometry: g, weights: w, bias: b), relative: 1e-5, "guarded run")
    }

    @Test("multiplies only the taps that read the input")
    func validTaps() {
        // A corner pixel of a 3x3 map sees 4 taps, an edge pixel 6, the centre 9.
        #expect(PackedBlockConvolution.validTaps(Self.geometry(1, 1, 3, 3)) == 4 * 4 + 4 * 6 + 9)
        #expect(PackedBlockConvolution.validTaps(Self.geometry(1, 1, 6, 6)) == 16 * 16)
        #expect(PackedBlockConvolution.validTaps(Self.geometry(1, 1, 6, 9)) == 16 * 25)
    }

    @Test("unsupported geometries are refused")
    func supports() {
        // Sides that are not multiples of 3, other padding, stride, kernel, groups.
        #expect(!PackedBlockConvolution.supports(Self.geometry(4, 4, 7, 7)))
        #expect(!PackedBlockConvolution.supports(Self.geometry(4, 4, 6, 4)))
        #expect(!PackedBlockConvolution.supports(ConvGeometry(inChannels: 4, outChannels: 4, inH: 6, inW: 6, kernelH: 3, kernelW: 3)))
        #expect(!PackedBlockConvolution.supports(ConvGeometry(inChannels: 4, outChannels: 4, inH: 6, inW: 6, kernelH: 3, kernelW: 3,
                                                              padTop: 1, padLeft: 1, padBottom: 0, padRight: 1)))
        #expect(!PackedBlockConvolution.supports(ConvGeometry(inChannels: 4, outChannels: 4, inH: 6, inW: 6, kernelH: 3, kernelW: 3,
                                                              strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)))
        #expect(!PackedBlockConvolution.supports(ConvGeometry(inChannels: 4, outChannels: 4, inH: 6, inW: 6, kernelH: 5, kernelW: 5,
                                                              padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)))
        #expect(!PackedBlockConvolution.supports(ConvGeometry(inChannels: 4, outChannels: 4, inH: 6, inW: 6, kernelH: 3, kernelW: 3,
                                                              padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, groups: 2)))
    }
}
