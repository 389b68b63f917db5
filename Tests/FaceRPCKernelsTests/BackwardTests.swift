import FaceRPCKernels
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Double-precision forward passes, the functions the finite differences differentiate.
enum DoubleForward {
    static func conv(_ x: [Double], _ w: [Double], _ b: [Double], batch: Int, _ g: ConvGeometry) -> [Double] {
        let oh = g.outH, ow = g.outW, cinG = g.groupInChannels, coutG = g.groupOutChannels
        var out = [Double](repeating: 0, count: batch * g.outChannels * oh * ow)
        for n in 0..<batch {
            for co in 0..<g.outChannels {
                for y in 0..<oh {
                    for xo in 0..<ow {
                        var acc = b[co]
                        for ci in 0..<cinG {
                            let cin = co / coutG * cinG + ci
                            for ky in 0..<g.kernelH {
                                let iy = y * g.strideH - g.padTop + ky * g.dilationH
                                if iy < 0 || iy >= g.inH { continue }
                                for kx in 0..<g.kernelW {
                                    let ix = xo * g.strideW - g.padLeft + kx * g.dilationW
                                    if ix < 0 || ix >= g.inW { continue }
                                    acc += x[((n * g.inChannels + cin) * g.inH + iy) * g.inW + ix]
                                        * w[((co * cinG + ci) * g.kernelH + ky) * g.kernelW + kx]
                                }
                            }
                        }
                        out[((n * g.outChannels + co) * oh + y) * ow + xo] = acc
                    }
                }
            }
        }
        return out
    }

    static func maxPool(_ x: [Double], batch: Int, _ g: PoolGeometry) -> [Double] {
        var out: [Double] = []
        for plane in 0..<(batch * g.channels) {
            for y in 0..<g.outH {
                for xo in 0..<g.outW {
                    let y0 = y * g.strideH - g.padTop, x0 = xo * g.strideW - g.padLeft
                    var best = -Double.infinity
                    for iy in max(y0, 0)..<min(y0 + g.kernelH, g.inH) {
                        for ix in max(x0, 0)..<min(x0 + g.kernelW, g.inW) { best = max(best, x[(plane * g.inH + iy) * g.inW + ix]) }
                    }
                    out.append(best)
                }
            }
        }
        return out
    }

    static func lrn(_ x: [Double], batch: Int, channels: Int, spatial: Int, size: Int, alpha: Double, beta: Double, bias: Double) -> [Double] {
        let lo = (size - 1) / 2, hi = size - 1 - lo
        var out = x
        for n in 0..<batch {
            for c in 0..<channels {
                for i in 0..<spatial {
                    var s = 0.0
                    for cc in max(0, c - lo)...min(channels - 1, c + hi) { let v = x[(n * channels + cc) * spatial + i]; s += v * v }
                    out[(n * channels + c) * spatial + i] = x[(n * channels + c) * spatial + i] / pow(bias + alpha / Double(size) * s, beta)
                }
            }
        }
        return out
    }

    static func fc(_ x: [Double], _ w: [Double], _ b: [Double], batch: Int, inF: Int, outF: Int) -> [Double] {
        var out = [Double](repeating: 0, count: batch * outF)
        for n in 0..<batch {
            for o in 0..<outF {
                var acc = b[o]
                for i in 0..<inF { acc += x[n * inF + i] * w[o * inF + i] }
                out[n * outF + o] = acc
            }
        }
        return out
    }

    static func softmaxCrossEntropy(_ z: [Double], labels: [Int32], classes: Int) -> Double {
        var loss = 0.0
        for n in 0..<labels.count {
            let row = Array(z[(n * classes)..<((n + 1) * classes)])
            let m = row.max()!
            loss += m + log(row.map { exp($0 - m) }.reduce(0, +)) - row[Int(labels[n])]
        }
        return loss / Double(labels.count)
    }
}

/// Central differences of `f` at `x` for the coordinates `indices` (all when nil), step `h`.
func centralDifferences(_ x: [Float], indices: [Int]? = nil, h: Double = 1e-4, _ f: ([Double]) -> Double) -> [(Int, Double)] {
    var xd = x.map(Double.init)
    return (indices ?? Array(x.indices)).map { i in
        let v = xd[i]
        xd[i] = v + h; let up = f(xd)
        xd[i] = v - h; let down = f(xd)
        xd[i] = v
        return (i, (up - down) / (2 * h))
    }
}

/// `Σ r·y`: the scalar whose gradient with respect to y is r.
func project(_ y: [Double], _ r: [Float]) -> Double {
    var s = 0.0
    for i in y.indices { s += y[i] * Double(r[i]) }
    return s
}

/// Checks analytic gradient values against finite differences, relative to the largest difference.
func expectMatchesDifferences(_ analytic: [Float], _ numeric: [(Int, Double)], relative: Double = 1e-4, _ what: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
    let scale = max(numeric.map { abs($0.1) }.max() ?? 0, 1e-6)
    var worst = 0.0, worstIndex = -1
    for (i, d) in numeric {
        let e = abs(Double(analytic[i]) - d)
        if !(e <= worst) { worst = e; worstIndex = i }
    }
    #expect(worst <= relative * scale, "\(what): worst error \(worst) at \(worstIndex), scale \(scale)", sourceLocation: sourceLocation)
}

/// Up to `count` distinct seeded indices below `total`.
func sampleIndices(_ total: Int, _ count: Int, _ rng: inout SplitMix64) -> [Int] {
    if total <= count { return Array(0..<total) }
    var set = Set<Int>()
    while set.count < count { set.insert(Int(rng.next() % UInt64(total))) }
    return set.sorted()
}

@Suite("Backward kernels")
struct BackwardTests {
    static let convCases: [ConvGeometry] = [
        // Levi-Hassner's three shapes on small odd inputs, plus stride, asymmetric padding, dilation and groups.
        ConvGeometry(inChannels: 3, outChannels: 5, inH: 19, inW: 23, kernelH: 7, kernelW: 7, strideH: 4, strideW: 4),
        ConvGeometry(inChannels: 4, outChannels: 6, inH: 9, inW: 11, kernelH: 5, kernelW: 5,
                     padTop: 2, padLeft: 2, padBottom: 2, padRight: 2),
        ConvGeometry(inChannels: 5, outChannels: 7, inH: 7, inW: 5, kernelH: 3, kernelW: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ConvGeometry(inChannels: 2, outChannels: 3, inH: 10, inW: 9, kernelH: 3, kernelW: 2, strideH: 2, strideW: 3,
                     padTop: 1, padLeft: 0, padBottom: 2, padRight: 1, dilationH: 2, dilationW: 1),
        ConvGeometry(inChannels: 4, outChannels: 6, inH: 8, inW: 37, kernelH: 3, kernelW: 3,
                     padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, groups: 2),
    ]

    @Test("convolution: reference gradients match finite differences; SIMD matches the reference", arguments: convCases)
    func convolution(_ g: ConvGeometry) {
        var rng = SplitMix64(seed: 11)
        let batch = 2
        let x = rng.floats(batch * g.inChannels * g.inH * g.inW)
        let w = rng.floats(g.outChannels * g.groupK), b = rng.floats(g.outChannels)
        let r = rng.floats(batch * g.outChannels * g.outH * g.outW)
        let ref = Reference.conv2dBackward(x, outputGrad: r, batch: batch, geometry: g, weights: w)
        let xd = x.map(Double.init), wd = w.map(Double.init), bd = b.map(Double.init)
        expectMatchesDifferences(ref.input, centralDifferences(x, indices: sampleIndices(x.count, 300, &rng)) {
            project(DoubleForward.conv($0, wd, bd, batch: batch, g), r)
        }, "dX \(g)")
        expectMatchesDifferences(ref.weights, centralDifferences(w, indices: sampleIndices(w.count, 300, &rng)) {
            project(DoubleForward.conv(xd, $0, bd, batch: batch, g), r)
        }, "dW \(g)")
        expectMatchesDifferences(ref.bias, centralDifferences(b) { project(DoubleForward.conv(xd, wd, $0, batch: batch, g), r) }, "db \(g)")

        for threads in [1, 3] {
          for path in [ConvolutionBackward.WeightGradientPath.packed, .dotProducts] {
            var scratch = [Float](repeating: .nan, count: ConvolutionBackward.scratchCount(geometry: g, threads: threads))
            var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: w.count)
            var db = [Float](repeating: .nan, count: b.count)
            scratch.withUnsafeMutableBufferPointer { s in
                dw.withUnsafeMutableBufferPointer { dwb in
                    db.withUnsafeMutableBufferPointer { dbb in
                        ConvolutionBackward.f32_conv_backward_weights_simd16(
                            input: x, outputGrad: r, batch: batch, geometry: g, weightGrad: dwb.baseAddress!,
                            biasGrad: dbb.baseAddress!, scratch: s.baseAddress!, threads: threads, path: path)
                    }
                }
                dx.withUnsafeMutableBufferPointer { dxb in
                    ConvolutionBackward.f32_conv_backward_data_simd16(
                        outputGrad: r, weights: w, batch: batch, geometry: g, inputGrad: dxb.baseAddress!,
                        scratch: s.baseAddress!, threads: threads)
                }
            }
            expectClose(dx, ref.input, "SIMD dX \(g) threads \(threads)")
            expectClose(dw, ref.weights, "SIMD dW \(g) threads \(threads) \(path)")
            expectClose(db, ref.bias, "SIMD db \(g) threads \(threads)")
          }
        }
    }

    static let poolCases: [PoolGeometry] = [
        // Levi-Hassner's 3x3/2 floor-mode pool; wide rows reach the 16-lane path.
        PoolGeometry(channels: 3, inH: 11, inW: 13, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2),
        PoolGeometry(channels: 2, inH: 7, inW: 71, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2),
        PoolGeometry(channels: 2, inH: 5, inW: 53, kernelH: 2, kernelW: 3, strideH: 1, strideW: 1),
        PoolGeometry(channels: 2, inH: 10, inW: 7, kernelH: 3, kernelW: 2, strideH: 2, strideW: 2, ceilMode: true),
        PoolGeometry(channels: 2, inH: 8, inW: 9, kernelH: 3, kernelW: 3, strideH: 2, strideW: 3,
                     padTop: 1, padLeft: 1, padBottom: 2, padRight: 1, ceilMode: true),
    ]

    @Test("max pooling: reference gradient matches finite differences; SIMD matches the reference", arguments: poolCases)
    func maxPool(_ g: PoolGeometry) {
        var rng = SplitMix64(seed: 12)
        let batch = 2
        let x = rng.floats(batch * g.channels * g.inH * g.inW)
        let r = rng.floats(batch * g.channels * g.outH * g.outW)
        let ref = Reference.maxPoolBackward(x, outputGrad: r, batch: batch, geometry: g)
        // A small step keeps every window's winner (seeded data has no near-ties this close).
        expectMatchesDifferences(ref, centralDifferences(x, h: 1e-6) { project(DoubleForward.maxPool($0, batch: batch, g), r) },
                                 relative: 1e-5, "reference \(g)")
        let y = Reference.maxPool(x, batch: batch, geometry: g)
        for threads in [1, 3] {
            var dx = [Float](repeating: .nan, count: x.count)
            dx.withUnsafeMutableBufferPointer {
                PoolingBackward.f32_maxpool_backward_simd16(input: x, output: y, outputGrad: r, batch: batch, geometry: g,
                                                            inputGrad: $0.baseAddress!, threads: threads)
            }
            expectClose(dx, ref, relative: 1e-6, "SIMD \(g) threads \(threads)")
        }
        // Ties (ReLU zeros) go to the first position of the window, one gradient per output.
        let zeros = [Float](repeating: 0, count: x.count)
        let tied = Reference.maxPoolBackward(zeros, outputGrad: r, batch: batch, geometry: g)
        var dx = [Float](repeating: .nan, count: x.count)
        dx.withUnsafeMutableBufferPointer {
            PoolingBackward.f32_maxpool_backward_simd16(input: zeros, output: Reference.maxPool(zeros, batch: batch, geometry: g),
                                                        outputGrad: r, batch: batch, geometry: g, inputGrad: $0.baseAddress!, threads: 2)
        }
        expectClose(dx, tied, relative: 1e-6, "ties \(g)")
    }

    @Test("LRN: reference gradient matches finite differences; SIMD matches the reference",
          arguments: [(7, 37, 5, Float(0.75)), (9, 16, 5, 0.75), (6, 21, 4, 0.6), (3, 5, 5, 0.75)])
    func lrn(_ c: (channels: Int, spatial: Int, size: Int, beta: Float)) {
        var rng = SplitMix64(seed: 13)
        let batch = 3
        // Large inputs and alpha so the normalisation term matters.
        let x = rng.floats(batch * c.channels * c.spatial, in: -3..<3)
        let r = rng.floats(x.count)
        let alpha: Float = 0.5, bias: Float = 1
        let ref = Reference.lrnBackward(x, outputGrad: r, batch: batch, channels: c.channels, spatial: c.spatial,
                                        size: c.size, alpha: alpha, beta: c.beta, bias: bias)
        expectMatchesDifferences(ref, centralDifferences(x, indices: sampleIndices(x.count, 400, &rng)) {
            project(DoubleForward.lrn($0, batch: batch, channels: c.channels, spatial: c.spatial, size: c.size,
                                      alpha: Double(alpha), beta: Double(c.beta), bias: Double(bias)), r)
        }, relative: 1e-5, "reference \(c)")
        for threads in [1, 2] {
            var scratch = [Float](repeating: .nan, count: threads * NormalizationBackward.lrnScratchPerThread(channels: c.channels, spatial: c.spatial))
            var dx = [Float](repeating: .nan, count: x.count)
            scratch.withUnsafeMutableBufferPointer { s in
                dx.withUnsafeMutableBufferPointer {
                    NormalizationBackward.f32_lrn_backward_simd16(input: x, outputGrad: r, batch: batch, channels: c.channels,
                                                                  spatial: c.spatial, size: c.size, alpha: alpha, beta: c.beta,
                                                                  bias: bias, inputGrad: $0.baseAddress!, scratch: s.baseAddress!,
                                                                  threads: threads)
                }
            }
            expectClose(dx, ref, relative: 1e-5, "SIMD \(c) threads \(threads)")
        }
    }

    @Test("fully connected: reference gradients match finite differences; SIMD matches the reference",
          arguments: [(5, 37, 11), (1, 16, 3), (33, 70, 40)])
    func fullyConnected(_ c: (batch: Int, inF: Int, outF: Int)) {
        var rng = SplitMix64(seed: 14)
        let x = rng.floats(c.batch * c.inF), w = rng.floats(c.outF * c.inF), b = rng.floats(c.outF)
        let r = rng.floats(c.batch * c.outF)
        let ref = Reference.fullyConnectedBackward(x, outputGrad: r, batch: c.batch, inFeatures: c.inF, outFeatures: c.outF, weights: w)
        let xd = x.map(Double.init), wd = w.map(Double.init), bd = b.map(Double.init)
        func f(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            project(DoubleForward.fc(x, w, b, batch: c.batch, inF: c.inF, outF: c.outF), r)
        }
        expectMatchesDifferences(ref.input, centralDifferences(x, indices: sampleIndices(x.count, 200, &rng)) { f($0, wd, bd) }, "dX")
        expectMatchesDifferences(ref.weights, centralDifferences(w, indices: sampleIndices(w.count, 200, &rng)) { f(xd, $0, bd) }, "dW")
        expectMatchesDifferences(ref.bias, centralDifferences(b) { f(xd, wd, $0) }, "db")
        for threads in [1, 3] {
            var scratch = [Float](repeating: .nan, count: FullyConnectedBackward.scratchCount(
                batch: c.batch, inFeatures: c.inF, outFeatures: c.outF, threads: threads))
            var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: w.count)
            var db = [Float](repeating: .nan, count: b.count)
            scratch.withUnsafeMutableBufferPointer { s in
                dx.withUnsafeMutableBufferPointer { dxb in
                    dw.withUnsafeMutableBufferPointer { dwb in
                        db.withUnsafeMutableBufferPointer { dbb in
                            FullyConnectedBackward.f32_fc_backward_simd16(
                                input: x, outputGrad: r, weights: w, batch: c.batch, inFeatures: c.inF, outFeatures: c.outF,
                                inputGrad: dxb.baseAddress!, weightGrad: dwb.baseAddress!, biasGrad: dbb.baseAddress!,
                                scratch: s.baseAddress!, threads: threads)
                        }
                    }
                }
            }
            expectClose(dx, ref.input, "SIMD dX \(c)"); expectClose(dw, ref.weights, "SIMD dW \(c)")
            expectClose(db, ref.bias, "SIMD db \(c)")
        }
    }

    @Test("ReLU and dropout gradients match the reference and finite differences on odd counts")
    func reluAndDropout() {
        var rng = SplitMix64(seed: 15)
        for count in oddCounts {
            let x = rng.floats(count), r = rng.floats(count)
            let y = Reference.relu(x)
            let want = Reference.reluBackward(output: y, outputGrad: r)
            // Away from the kink ReLU is linear: the differences are exact up to rounding.
            let numeric = centralDifferences(x, h: 1e-6) { xs in project(xs.map { max($0, 0) }, r) }
            expectMatchesDifferences(want, numeric, relative: 1e-6, "relu reference \(count)")
            var dx = [Float](repeating: .nan, count: count)
            dx.withUnsafeMutableBufferPointer { f32_relu_backward_simd16(count, y, r, $0.baseAddress!) }
            #expect(dx == want, "relu \(count)")

            // Inverted dropout: the mask is 0 or 1/(1-p), seeded; forward and backward multiply by it.
            var mask = [Float](repeating: .nan, count: count)
            var maskRng = SplitMix64(seed: 99)
            mask.withUnsafeMutableBufferPointer { f32_dropout_mask(count, p: 0.5, rng: &maskRng, into: $0.baseAddress!) }
            #expect(mask.allSatisfy { $0 == 0 || $0 == 2 })
            var again = [Float](repeating: .nan, count: count)
            maskRng = SplitMix64(seed: 99)
            again.withUnsafeMutableBufferPointer { f32_dropout_mask(count, p: 0.5, rng: &maskRng, into: $0.baseAddress!) }
            #expect(mask == again)
            var g = [Float](repeating: .nan, count: count)
            g.withUnsafeMutableBufferPointer { f32_vmul_simd16(count, r, mask, $0.baseAddress!) }
            let numericDrop = centralDifferences(x, h: 1e-3) { xs in project(zip(xs, mask).map { $0 * Double($1) }, r) }
            expectMatchesDifferences(g, numericDrop, relative: 1e-6, "dropout \(count)")
        }
        // About half the values survive at p = 0.5.
        var big = [Float](repeating: 0, count: 4096)
        var maskRng = SplitMix64(seed: 5)
        big.withUnsafeMutableBufferPointer { f32_dropout_mask(4096, p: 0.5, rng: &maskRng, into: $0.baseAddress!) }
        let kept = big.filter { $0 > 0 }.count
        #expect(kept > 1900 && kept < 2200)
    }

    @Test("softmax cross-entropy: gradient matches finite differences and the reference")
    func softmaxCrossEntropy() {
        var rng = SplitMix64(seed: 16)
        for (batch, classes) in [(5, 8), (3, 2), (1, 7)] {
            let z = rng.floats(batch * classes, in: -4..<4)
            let labels = (0..<batch).map { _ in Int32(rng.next() % UInt64(classes)) }
            let ref = Reference.softmaxCrossEntropy(z, labels: labels, classes: classes)
            expectMatchesDifferences(ref.grad, centralDifferences(z) { DoubleForward.softmaxCrossEntropy($0, labels: labels, classes: classes) },
                                     relative: 1e-5, "reference \(batch)x\(classes)")
            var p = [Float](repeating: .nan, count: z.count), g = p
            let (loss, correct) = p.withUnsafeMutableBufferPointer { pb in
                g.withUnsafeMutableBufferPointer { gb in
                    LossBackward.f32_softmax_cross_entropy_backward(logits: z, labels: labels, batch: batch, classes: classes,
                                                                    probabilities: pb.baseAddress!, logitsGrad: gb.baseAddress!)
                }
            }
            #expect(abs(Double(loss) - ref.loss) <= 1e-5 * max(1, ref.loss))
            expectClose(g, ref.grad, relative: 1e-5, "grad \(batch)x\(classes)")
            expectClose(p, Reference.softmax(z, length: classes), relative: 1e-5, "probabilities")
            let wantCorrect = (0..<batch).filter { n in
                let row = z[(n * classes)..<((n + 1) * classes)]
                return row.firstIndex(of: row.max()!)! - n * classes == Int(labels[n])
            }.count
            #expect(correct == wantCorrect)
        }
    }

    @Test("training GEMM matches the scalar GEMM: transposes, accumulate, blocks, partial tiles",
          arguments: KernelRegistry.gemmVariants)
    func gemm(_ variant: GemmVariant) {
        var rng = SplitMix64(seed: 17)
        // k above kc and n above one block of panels exercise the blocking.
        let shapes = [(1, 1, 1), (7, 13, 5), (17, 33, 300), (9, variant.nr * TrainingGemm.blockPanels + 5, 19), (40, 70, 257)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    for accumulate in [false, true] {
                        let a = rng.floats(m * k), b = rng.floats(k * n)
                        // Row-major op(A), op(B) for the reference.
                        let opA = transA ? (0..<(m * k)).map { i in a[(i % k) * m + i / k] } : a
                        let opB = transB ? (0..<(k * n)).map { i in b[(i % n) * k + i / n] } : b
                        var want = Reference.gemm(m: m, n: n, k: k, a: opA, b: opB)
                        let ldc = n + 3
                        let start = rng.floats(m * ldc)
                        var c = start
                        let threads = (m + n) % 2 == 0 ? 3 : 1
                        var scratch = [Float](repeating: .nan, count: TrainingGemm.scratchCount(m: m, n: n, k: k, threads: threads, variant: variant))
                        scratch.withUnsafeMutableBufferPointer { s in
                            c.withUnsafeMutableBufferPointer { cb in
                                TrainingGemm.f32_gemm_simd16(m: m, n: n, k: k, a: a, lda: transA ? m : k, transA: transA,
                                                             b: b, ldb: transB ? k : n, transB: transB,
                                                             c: cb.baseAddress!, ldc: ldc, accumulate: accumulate,
                                                             scratch: s.baseAddress!, threads: threads, variant: variant)
                            }
                        }
                        var got: [Float] = []
                        for i in 0..<m {
                            for j in 0..<n {
                                got.append(c[i * ldc + j])
                                if accumulate { want[i * n + j] += start[i * ldc + j] }
                            }
                            // Columns past n are untouched.
                            for j in n..<ldc { #expect(c[i * ldc + j] == start[i * ldc + j]) }
                        }
                        expectClose(got, want, "\(variant.name) \(m)x\(n)x\(k) tA \(transA) tB \(transB) acc \(accumulate)")
                    }
                }
            }
        }
    }

    @Test("dot-product GEMM (C = A·Bᵀ) matches the scalar GEMM: partial blocks, chunks, leftovers, accumulate")
    func dotGemm() {
        var rng = SplitMix64(seed: 18)
        for (m, n, k) in [(1, 1, 1), (5, 7, 33), (8, 9, TrainingGemm.dotChunk + 37), (13, 4, 16)] {
            for accumulate in [false, true] {
                let lda = k + 2, ldb = k + 5, ldc = n + 3
                let a = rng.floats(m * lda), b = rng.floats(n * ldb)
                let start = rng.floats(m * ldc)
                var c = start
                c.withUnsafeMutableBufferPointer { cb in
                    TrainingGemm.f32_gemm_dot_4x4_simd16(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: cb.baseAddress!,
                                                         ldc: ldc, accumulate: accumulate, threads: 3)
                }
                // Row-major A (m x k) and Bᵀ (k x n) for the reference.
                let opA = (0..<(m * k)).map { a[($0 / k) * lda + $0 % k] }
                let opB = (0..<(k * n)).map { b[($0 % n) * ldb + $0 / n] }
                var want = Reference.gemm(m: m, n: n, k: k, a: opA, b: opB)
                var got: [Float] = []
                for i in 0..<m {
                    for j in 0..<n {
                        got.append(c[i * ldc + j])
                        if accumulate { want[i * n + j] += start[i * ldc + j] }
                    }
                    for j in n..<ldc { #expect(c[i * ldc + j] == start[i * ldc + j]) }
                }
                expectClose(got, want, "dot \(m)x\(n)x\(k) accumulate \(accumulate)")
            }
        }
    }
}
