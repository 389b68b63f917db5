import FaceRPCKernels
import Testing

/// Counts that hit every loop of the elementwise shape: main loop, one-vector loop, leftovers.
let oddCounts = [1, 15, 16, 17, 63, 64, 65, 131]

@Suite("Layer kernels")
struct LayerKernelTests {
    @Test("fully connected variants match the reference", arguments: KernelRegistry.fullyConnectedVariants)
    func fullyConnected(_ v: FullyConnectedVariant) {
        var rng = SplitMix64(seed: 3)
        for (batch, inF, outF) in [(1, 37, 7), (3, 16, 5), (5, 70, 9), (4, 3, 4)] {
            let x = rng.floats(batch * inF), w = rng.floats(inF * outF), b = rng.floats(outF)
            for relu in [false, true] {
                var y = [Float](repeating: .nan, count: batch * outF)
                // Two calls on disjoint feature ranges, as the executor's threads make them.
                let split = outF / 2
                y.withUnsafeMutableBufferPointer { yb in
                    v.run(x, batch, inF, outF, 0..<split, w, b, yb.baseAddress!, relu)
                    v.run(x, batch, inF, outF, split..<outF, w, b, yb.baseAddress!, relu)
                }
                let want = Reference.fullyConnected(x, batch: batch, inFeatures: inF, outFeatures: outF,
                                                    weights: w, bias: b, relu: relu)
                expectClose(y, want, "\(v.name) batch \(batch) in \(inF) out \(outF)")
            }
        }
    }

    @Test("max and average pooling match the reference (padding, ceil mode, count_include_pad)")
    func pooling() {
        var rng = SplitMix64(seed: 5)
        let cases = [
            PoolGeometry(channels: 3, inH: 9, inW: 11, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2),
            PoolGeometry(channels: 2, inH: 10, inW: 7, kernelH: 3, kernelW: 2, strideH: 2, strideW: 2, ceilMode: true),
            PoolGeometry(channels: 2, inH: 8, inW: 9, kernelH: 3, kernelW: 3, strideH: 2, strideW: 3,
                         padTop: 1, padLeft: 1, padBottom: 2, padRight: 1, ceilMode: true, countIncludePad: true),
            PoolGeometry(channels: 2, inH: 8, inW: 9, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1,
                         padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, countIncludePad: false),
            PoolGeometry(channels: 1, inH: 40, inW: 37, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2),
            // Unpadded, windows inside the input: the vector path (the age net's
            // 3x3/2 max pool on 29x29 and 2x2/2 average pools), odd and wide rows.
            PoolGeometry(channels: 5, inH: 29, inW: 29, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2),
            PoolGeometry(channels: 3, inH: 14, inW: 14, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2),
            PoolGeometry(channels: 2, inH: 7, inW: 71, kernelH: 3, kernelW: 2, strideH: 1, strideW: 2),
            PoolGeometry(channels: 2, inH: 6, inW: 37, kernelH: 2, kernelW: 3, strideH: 2, strideW: 1),
            PoolGeometry(channels: 1, inH: 3, inW: 1, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1),
            // Unpadded ceil mode with overhanging last windows: max pooling takes
            // the vector path (MTCNN's R-net 22x22 -> 11x11 and O-net pools),
            // including a row wider than one 16-output block.
            PoolGeometry(channels: 3, inH: 22, inW: 22, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, ceilMode: true),
            PoolGeometry(channels: 2, inH: 9, inW: 9, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, ceilMode: true),
            PoolGeometry(channels: 2, inH: 9, inW: 9, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, ceilMode: true),
            PoolGeometry(channels: 2, inH: 5, inW: 67, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, ceilMode: true),
            PoolGeometry(channels: 2, inH: 6, inW: 5, kernelH: 3, kernelW: 3, strideH: 3, strideW: 1, ceilMode: true),
            // Padding only at the bottom and right (the converted R- and O-net's first pools).
            PoolGeometry(channels: 3, inH: 22, inW: 22, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                         padBottom: 1, padRight: 1),
            PoolGeometry(channels: 2, inH: 46, inW: 46, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                         padBottom: 1, padRight: 1),
            PoolGeometry(channels: 2, inH: 7, inW: 9, kernelH: 2, kernelW: 3, strideH: 1, strideW: 1,
                         padBottom: 1, padRight: 2),
        ]
        for g in cases {
            #expect(g.isValid)
            let batch = 2
            let x = rng.floats(batch * g.channels * g.inH * g.inW)
            // Several threads split the planes: vector stores past a row must stay in a thread's own planes.
            for threads in [1, 2, 3] {
                var ymax = [Float](repeating: .nan, count: batch * g.channels * g.outH * g.outW)
                var yavg = ymax
                ymax.withUnsafeMutableBufferPointer { Pooling.f32_maxpool_simd16(x, $0.baseAddress!, batch: batch, geometry: g, threads: threads) }
                yavg.withUnsafeMutableBufferPointer { Pooling.f32_avgpool_simd16(x, $0.baseAddress!, batch: batch, geometry: g, threads: threads) }
                expectClose(ymax, Reference.maxPool(x, batch: batch, geometry: g), "max \(g) threads \(threads)")
                expectClose(yavg, Reference.averagePool(x, batch: batch, geometry: g), "avg \(g) threads \(threads)")
            }
        }
        // ceil mode: 10 rows, kernel 3, stride 2 -> 5 windows instead of 4.
        #expect(PoolGeometry(channels: 1, inH: 10, inW: 10, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, ceilMode: true).outH == 5)
        #expect(PoolGeometry(channels: 1, inH: 10, inW: 10, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2).outH == 4)
    }

    @Test("global average pooling matches the reference")
    func globalAverage() {
        var rng = SplitMix64(seed: 6)
        // 3 planes, and 11: small planes go four at a time, then leftovers.
        for planes in [3, 11] {
            for spatial in oddCounts {
                let x = rng.floats(planes * spatial)
                var y = [Float](repeating: .nan, count: planes)
                y.withUnsafeMutableBufferPointer { Pooling.f32_gavgpool_simd16(x, $0.baseAddress!, planes: planes, spatial: spatial) }
                expectClose(y, Reference.globalAveragePool(x, planes: planes, spatial: spatial), "planes \(planes) spatial \(spatial)")
            }
        }
    }

    @Test("LRN matches the reference for beta 0.75 and a general beta")
    func lrn() {
        var rng = SplitMix64(seed: 8)
        for (channels, spatial, size, beta) in [(7, 17, 5, Float(0.75)), (4, 33, 3, 0.6), (1, 5, 5, 0.75)] {
            let batch = 2
            let x = rng.floats(batch * channels * spatial, in: -3..<3)
            var y = [Float](repeating: .nan, count: x.count)
            var scratch = [Float](repeating: 0, count: 2 * spatial)
            scratch.withUnsafeMutableBufferPointer { s in
                y.withUnsafeMutableBufferPointer {
                    Normalization.f32_lrn_simd16(x, $0.baseAddress!, batch: batch, channels: channels, spatial: spatial,
                                                 size: size, alpha: 0.5, beta: beta, bias: 1, scratch: s.baseAddress!, threads: 2)
                }
            }
            let want = Reference.lrn(x, batch: batch, channels: channels, spatial: spatial, size: size, alpha: 0.5, beta: beta, bias: 1)
            expectClose(y, want, "lrn c \(channels) s \(spatial) size \(size) beta \(beta)")
        }
    }

    @Test("elementwise kernels match the reference on every loop tail")
    func elementwise() {
        var rng = SplitMix64(seed: 9)
        for n in oddCounts {
            let a = rng.floats(n), b = rng.floats(n)
            var y = [Float](repeating: .nan, count: n)
            y.withUnsafeMutableBufferPointer { f32_vadd_clamp_simd16(n, a, b, $0.baseAddress!, -.infinity) }
            expectClose(y, Reference.add(a, b), "add \(n)")
            y.withUnsafeMutableBufferPointer { f32_vadd_clamp_simd16(n, a, b, $0.baseAddress!, 0) }
            expectClose(y, Reference.add(a, b, relu: true), "add relu \(n)")
            y.withUnsafeMutableBufferPointer { f32_vclamp_simd16(n, a, $0.baseAddress!, 0) }
            expectClose(y, Reference.relu(a), "relu \(n)")
            y.withUnsafeMutableBufferPointer { f32_vprelu_simd16(n, a, 0.25, $0.baseAddress!) }
            expectClose(y, Reference.prelu(a, channels: 1, inner: n, slopes: [0.25]), "prelu \(n)")
            y.withUnsafeMutableBufferPointer { f32_vaffine_simd16(n, a, 1.5, -0.25, $0.baseAddress!) }
            expectClose(y, Reference.affine(a, channels: 1, inner: n, scale: [1.5], shift: [-0.25]), "affine \(n)")
            y.withUnsafeMutableBufferPointer { f32_vmax_simd16(n, a, b, $0.baseAddress!) }
            expectClose(y, zip(a, b).map { max($0, $1) }, "max \(n)")
            var acc = b
            acc.withUnsafeMutableBufferPointer { f32_vsqr_acc_simd16(n, a, $0.baseAddress!) }
            expectClose(acc, zip(a, b).map { $1 + $0 * $0 }, "sqr acc \(n)")
        }
    }

    @Test("the extended add matches average pool, zero pads and add run one by one")
    func extendedAdd() {
        var rng = SplitMix64(seed: 61)
        // (operand a, operand b, output channels, height, width): a pooled shortcut
        // with fewer channels plus a smaller conv output (the age net's 14x14 -> 7x7
        // block), a full-extent operand (one vector pass), a 3x3 pool that drops a
        // trailing row and column, and operands in either order.
        let cases: [(ExtendedOperand, ExtendedOperand, Int, Int, Int)] = [
            (ExtendedOperand(channels: 5, height: 10, width: 9, pool: 2), ExtendedOperand(channels: 8, height: 4, width: 3), 11, 5, 4),
            (ExtendedOperand(channels: 6, height: 7, width: 7, pool: 2), ExtendedOperand(channels: 12, height: 3, width: 3), 12, 3, 3),
            (ExtendedOperand(channels: 12, height: 5, width: 6), ExtendedOperand(channels: 3, height: 11, width: 7, pool: 3), 13, 5, 6),
        ]
        for (a, b, channels, height, width) in cases {
            for (batch, threads) in [(1, 1), (1, 2), (2, 3), (3, 2)] {
                let xa = rng.floats(batch * a.channels * a.height * a.width)
                let xb = rng.floats(batch * b.channels * b.height * b.width)
                func reference(_ x: [Float], _ o: ExtendedOperand) -> [Float] {
                    var v = x
                    if o.pool > 1 {
                        v = Reference.averagePool(x, batch: batch, geometry: PoolGeometry(
                            channels: o.channels, inH: o.height, inW: o.width, kernelH: o.pool, kernelW: o.pool,
                            strideH: o.pool, strideW: o.pool))
                    }
                    return Reference.pad(v, batch: batch, channels: o.channels, height: o.placedHeight, width: o.placedWidth,
                                         top: 0, left: 0, bottom: height - o.placedHeight, right: width - o.placedWidth,
                                         channelsAfter: channels - o.channels, value: 0)
                }
                for relu in [false, true] {
                    let want = Reference.add(reference(xa, a), reference(xb, b), relu: relu)
                    var y = [Float](repeating: .nan, count: batch * channels * height * width)
                    y.withUnsafeMutableBufferPointer { yb in
                        f32_extended_add(xa, a, xb, b, yb.baseAddress!, batch: batch, channels: channels, height: height,
                                         width: width, minValue: relu ? 0 : -.infinity, threads: threads)
                    }
                    expectClose(y, want, relative: 1e-6, "\(a) + \(b) batch \(batch) threads \(threads) relu \(relu)")
                }
            }
        }
    }

    @Test("pad, transpose and softmax match the reference")
    func layout() {
        var rng = SplitMix64(seed: 10)
        let (batch, c, h, w) = (2, 3, 5, 7)
        let x = rng.floats(batch * c * h * w)
        for (t, l, bo, r, ca) in [(1, 2, 0, 1, 2), (0, 0, 0, 0, 5), (2, 0, 1, 0, 0)] {
            let want = Reference.pad(x, batch: batch, channels: c, height: h, width: w, top: t, left: l, bottom: bo, right: r,
                                     channelsAfter: ca, value: -2)
            var y = [Float](repeating: .nan, count: want.count)
            y.withUnsafeMutableBufferPointer {
                Layout.f32_pad(x, $0.baseAddress!, batch: batch, channels: c, height: h, width: w, top: t, left: l,
                               bottom: bo, right: r, channelsAfter: ca, value: -2)
            }
            #expect(y == want)
        }
        for perm in [[0, 2, 1], [2, 0, 1], [1, 2, 0], [0, 1, 2]] {
            var y = [Float](repeating: .nan, count: x.count)
            y.withUnsafeMutableBufferPointer { Layout.f32_transpose(x, $0.baseAddress!, batch: batch, shape: [c, h, w], perm: perm) }
            #expect(y == Reference.transpose(x, batch: batch, shape: [c, h, w], perm: perm), "perm \(perm)")
        }
        // Transposing [c,h,w] by [1,2,0] then by [2,0,1] is the identity.
        let t1 = Reference.transpose(x, batch: batch, shape: [c, h, w], perm: [1, 2, 0])
        #expect(Reference.transpose(t1, batch: batch, shape: [h, w, c], perm: [2, 0, 1]) == x)
        let logits = rng.floats(4 * 81, in: -30..<30)
        var p = [Float](repeating: .nan, count: logits.count)
        p.withUnsafeMutableBufferPointer { Normalization.f32_softmax(logits, $0.baseAddress!, rows: 4, length: 81) }
        expectClose(p, Reference.softmax(logits, length: 81), relative: 1e-5, "softmax")
        for r in 0..<4 { #expect(abs(p[(r * 81)..<((r + 1) * 81)].reduce(0, +) - 1) < 1e-5) }
    }

    @Test("SplitMix64 is deterministic and roughly normal")
    func random() {
        var a = SplitMix64(seed: 1), b = SplitMix64(seed: 1), c = SplitMix64(seed: 2)
        let xa = (0..<4).map { _ in a.next() }
        #expect(xa == (0..<4).map { _ in b.next() })
        #expect(xa != (0..<4).map { _ in c.next() })
        var g = SplitMix64(seed: 3)
        let n = (0..<20_000).map { _ in Double(g.nextNormal(mean: 1, standardDeviation: 2)) }
        let mean = n.reduce(0, +) / Double(n.count)
        let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n.count)
        #expect(abs(mean - 1) < 0.05)
        #expect(abs(variance.squareRoot() - 2) < 0.05)
    }
}
