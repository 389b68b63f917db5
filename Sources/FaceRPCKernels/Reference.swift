/// Scalar reference implementations of every kernel.
///
/// Plain loops written for clarity, not speed: the optimised kernels and the
/// network executor are tested against these. All tensors are NCHW with the
/// batch dimension first.
public enum Reference {
    /// Cross-correlation as ONNX `Conv`; weights OIHW (`[out][in/groups][kh][kw]`).
    public static func conv2d(_ input: [Float], batch: Int, geometry g: ConvGeometry,
                              weights: [Float], bias: [Float], relu: Bool = false) -> [Float] {
        let oh = g.outH, ow = g.outW
        let cinG = g.groupInChannels, coutG = g.groupOutChannels
        var out = [Float](repeating: 0, count: batch * g.outChannels * oh * ow)
        for n in 0..<batch {
            for co in 0..<g.outChannels {
                let grp = co / coutG
                for y in 0..<oh {
                    for x in 0..<ow {
                        var acc = Double(bias[co])
                        for ci in 0..<cinG {
                            let cin = grp * cinG + ci
                            for ky in 0..<g.kernelH {
                                let iy = y * g.strideH - g.padTop + ky * g.dilationH
                                if iy < 0 || iy >= g.inH { continue }
                                for kx in 0..<g.kernelW {
                                    let ix = x * g.strideW - g.padLeft + kx * g.dilationW
                                    if ix < 0 || ix >= g.inW { continue }
                                    let xv = input[((n * g.inChannels + cin) * g.inH + iy) * g.inW + ix]
                                    let wv = weights[((co * cinG + ci) * g.kernelH + ky) * g.kernelW + kx]
                                    acc += Double(xv) * Double(wv)
                                }
                            }
                        }
                        let v = Float(acc)
                        out[((n * g.outChannels + co) * oh + y) * ow + x] = relu ? max(v, 0) : v
                    }
                }
            }
        }
        return out
    }

    /// `C[m x n] = A[m x k] · B[k x n]`, all row-major.
    public static func gemm(m: Int, n: Int, k: Int, a: [Float], b: [Float]) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k { acc += Double(a[i * k + p]) * Double(b[p * n + j]) }
                c[i * n + j] = Float(acc)
            }
        }
        return c
    }

    /// `y = x · Wᵀ + b` with `W` laid out `[outFeatures][inFeatures]`.
    public static func fullyConnected(_ input: [Float], batch: Int, inFeatures: Int, outFeatures: Int,
                                      weights: [Float], bias: [Float], relu: Bool = false) -> [Float] {
        var out = [Float](repeating: 0, count: batch * outFeatures)
        for n in 0..<batch {
            for o in 0..<outFeatures {
                var acc = Double(bias[o])
                for i in 0..<inFeatures { acc += Double(input[n * inFeatures + i]) * Double(weights[o * inFeatures + i]) }
                out[n * outFeatures + o] = relu ? max(Float(acc), 0) : Float(acc)
            }
        }
        return out
    }

    private static func pool(_ input: [Float], batch: Int, geometry g: PoolGeometry, max isMax: Bool) -> [Float] {
        let oh = g.outH, ow = g.outW
        var out = [Float](repeating: 0, count: batch * g.channels * oh * ow)
        for plane in 0..<(batch * g.channels) {
            for y in 0..<oh {
                for x in 0..<ow {
                    let y0 = y * g.strideH - g.padTop, x0 = x * g.strideW - g.padLeft
                    // The window clipped to the padded input gives the count_include_pad divisor.
                    let y1p = min(y0 + g.kernelH, g.inH + g.padBottom), x1p = min(x0 + g.kernelW, g.inW + g.padRight)
                    let padded = (y1p - y0) * (x1p - x0)
                    var best = -Float.infinity
                    var sum = 0.0
                    var count = 0
                    for iy in max(y0, 0)..<min(y0 + g.kernelH, g.inH) {
                        for ix in max(x0, 0)..<min(x0 + g.kernelW, g.inW) {
                            let v = input[(plane * g.inH + iy) * g.inW + ix]
                            best = max(best, v); sum += Double(v); count += 1
                        }
                    }
                    let r: Float = isMax ? best : Float(sum / Double(g.countIncludePad ? padded : max(count, 1)))
                    out[(plane * oh + y) * ow + x] = r
                }
            }
        }
        return out
    }

    public static func maxPool(_ input: [Float], batch: Int, geometry: PoolGeometry) -> [Float] {
        pool(input, batch: batch, geometry: geometry, max: true)
    }

    public static func averagePool(_ input: [Float], batch: Int, geometry: PoolGeometry) -> [Float] {
        pool(input, batch: batch, geometry: geometry, max: false)
    }

    /// Mean of each `spatial`-long plane.
    public static func globalAveragePool(_ input: [Float], planes: Int, spatial: Int) -> [Float] {
        (0..<planes).map { p in
            var s = 0.0
            for i in 0..<spatial { s += Double(input[p * spatial + i]) }
            return Float(s / Double(spatial))
        }
    }

    /// ONNX `LRN` across channels.
    public static func lrn(_ input: [Float], batch: Int, channels: Int, spatial: Int,
                           size: Int, alpha: Float, beta: Float, bias: Float) -> [Float] {
        var out = input
        let lo = (size - 1) / 2, hi = size - 1 - lo
        for n in 0..<batch {
            for c in 0..<channels {
                for i in 0..<spatial {
                    var s = 0.0
                    for cc in max(0, c - lo)...min(channels - 1, c + hi) {
                        let v = Double(input[(n * channels + cc) * spatial + i]); s += v * v
                    }
                    let idx = (n * channels + c) * spatial + i
                    let d = _pow(Double(bias) + Double(alpha) / Double(size) * s, Double(beta))
                    out[idx] = Float(Double(input[idx]) / d)
                }
            }
        }
        return out
    }

    public static func relu(_ x: [Float]) -> [Float] { x.map { max($0, 0) } }

    /// Per-channel slope for negative values; `inner` elements per channel.
    public static func prelu(_ x: [Float], channels: Int, inner: Int, slopes: [Float]) -> [Float] {
        x.indices.map { i in
            let c = (i / inner) % channels
            return x[i] < 0 ? x[i] * slopes[c] : x[i]
        }
    }

    /// Per-channel `x * scale + shift`; `inner` elements per channel.
    public static func affine(_ x: [Float], channels: Int, inner: Int, scale: [Float], shift: [Float]) -> [Float] {
        x.indices.map { i in
            let c = (i / inner) % channels
            return x[i] * scale[c] + shift[c]
        }
    }

    public static func add(_ a: [Float], _ b: [Float], relu: Bool = false) -> [Float] {
        zip(a, b).map { relu ? max($0 + $1, 0) : $0 + $1 }
    }

    /// Constant padding of H and W plus trailing channels.
    public static func pad(_ x: [Float], batch: Int, channels: Int, height: Int, width: Int,
                           top: Int, left: Int, bottom: Int, right: Int, channelsAfter: Int, value: Float) -> [Float] {
        let oc = channels + channelsAfter, oh = height + top + bottom, ow = width + left + right
        var out = [Float](repeating: value, count: batch * oc * oh * ow)
        for n in 0..<batch {
            for c in 0..<channels {
                for y in 0..<height {
                    for xx in 0..<width {
                        out[((n * oc + c) * oh + y + top) * ow + xx + left] = x[((n * channels + c) * height + y) * width + xx]
                    }
                }
            }
        }
        return out
    }

    /// Permutes the per-sample axes: output axis `i` is input axis `perm[i]`.
    public static func transpose(_ x: [Float], batch: Int, shape: [Int], perm: [Int]) -> [Float] {
        let count = shape.reduce(1, *)
        let outShape = perm.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        var out = [Float](repeating: 0, count: x.count)
        var index = [Int](repeating: 0, count: shape.count)
        for n in 0..<batch {
            for o in 0..<count {
                var rem = o
                for i in stride(from: outShape.count - 1, through: 0, by: -1) { index[i] = rem % outShape[i]; rem /= outShape[i] }
                var src = 0
                for i in 0..<perm.count { src += index[i] * inStrides[perm[i]] }
                out[n * count + o] = x[n * count + src]
            }
        }
        return out
    }

    /// Softmax over consecutive rows of `length` values.
    public static func softmax(_ x: [Float], length: Int) -> [Float] {
        var out = x
        for r in 0..<(x.count / length) {
            let row = x[(r * length)..<((r + 1) * length)]
            let m = row.max() ?? 0
            let e = row.map { _exp(Double($0 - m)) }
            let s = e.reduce(0, +)
            for i in 0..<length { out[r * length + i] = Float(e[i] / s) }
        }
        return out
    }
}

