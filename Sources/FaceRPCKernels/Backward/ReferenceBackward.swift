/// Scalar reference gradients (Double accumulation), the backward counterparts of
/// the forward references: the SIMD backward kernels are tested against these, and
/// these against finite differences.
extension Reference {
    /// Gradients of ``conv2d(_:batch:geometry:weights:bias:relu:)`` (without ReLU) for
    /// the output gradient `dy`: input, weights (OIHW), bias.
    public static func conv2dBackward(_ input: [Float], outputGrad dy: [Float], batch: Int, geometry g: ConvGeometry,
                                      weights: [Float]) -> (input: [Float], weights: [Float], bias: [Float]) {
        let oh = g.outH, ow = g.outW
        let cinG = g.groupInChannels, coutG = g.groupOutChannels
        var dx = [Double](repeating: 0, count: input.count)
        var dw = [Double](repeating: 0, count: weights.count)
        var db = [Double](repeating: 0, count: g.outChannels)
        for n in 0..<batch {
            for co in 0..<g.outChannels {
                let grp = co / coutG
                for y in 0..<oh {
                    for x in 0..<ow {
                        let gy = Double(dy[((n * g.outChannels + co) * oh + y) * ow + x])
                        db[co] += gy
                        for ci in 0..<cinG {
                            let cin = grp * cinG + ci
                            for ky in 0..<g.kernelH {
                                let iy = y * g.strideH - g.padTop + ky * g.dilationH
                                if iy < 0 || iy >= g.inH { continue }
                                for kx in 0..<g.kernelW {
                                    let ix = x * g.strideW - g.padLeft + kx * g.dilationW
                                    if ix < 0 || ix >= g.inW { continue }
                                    let xi = ((n * g.inChannels + cin) * g.inH + iy) * g.inW + ix
                                    let wi = ((co * cinG + ci) * g.kernelH + ky) * g.kernelW + kx
                                    dx[xi] += gy * Double(weights[wi])
                                    dw[wi] += gy * Double(input[xi])
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx.map { Float($0) }, dw.map { Float($0) }, db.map { Float($0) })
    }

    /// Input gradient of ``maxPool(_:batch:geometry:)``: each output's gradient goes to the
    /// first (row-major) input of its clipped window holding the maximum.
    public static func maxPoolBackward(_ input: [Float], outputGrad dy: [Float], batch: Int, geometry g: PoolGeometry) -> [Float] {
        let oh = g.outH, ow = g.outW
        var dx = [Double](repeating: 0, count: input.count)
        for plane in 0..<(batch * g.channels) {
            for y in 0..<oh {
                for x in 0..<ow {
                    let y0 = y * g.strideH - g.padTop, x0 = x * g.strideW - g.padLeft
                    var best = -Float.infinity
                    var at = -1
                    for iy in max(y0, 0)..<min(y0 + g.kernelH, g.inH) {
                        for ix in max(x0, 0)..<min(x0 + g.kernelW, g.inW) {
                            let i = (plane * g.inH + iy) * g.inW + ix
                            if at < 0 || input[i] > best { best = input[i]; at = i }
                        }
                    }
                    if at >= 0 { dx[at] += Double(dy[(plane * oh + y) * ow + x]) }
                }
            }
        }
        return dx.map { Float($0) }
    }

    /// Input gradient of ``lrn(_:batch:channels:spatial:size:alpha:beta:bias:)``, by the chain
    /// rule through every window that holds each input.
    public static func lrnBackward(_ input: [Float], outputGrad dy: [Float], batch: Int, channels: Int, spatial: Int,
                                   size: Int, alpha: Float, beta: Float, bias: Float) -> [Float] {
        let lo = (size - 1) / 2, hi = size - 1 - lo
        let scale = Double(alpha) / Double(size), b = Double(beta)
        var dx = [Double](repeating: 0, count: input.count)
        func at(_ n: Int, _ c: Int, _ i: Int) -> Int { (n * channels + c) * spatial + i }
        for n in 0..<batch {
            for i in 0..<spatial {
                var d = [Double](repeating: 0, count: channels)
                for c in 0..<channels {
                    var s = 0.0
                    for cc in max(0, c - lo)...min(channels - 1, c + hi) { let v = Double(input[at(n, cc, i)]); s += v * v }
                    d[c] = Double(bias) + scale * s
                }
                for c in 0..<channels {
                    // y_c = x_c d_c^-β: ∂y_c/∂x_c = d_c^-β, ∂y_c/∂x_j = -β x_c d_c^(-β-1) · 2 scale x_j.
                    let g = Double(dy[at(n, c, i)]), xc = Double(input[at(n, c, i)])
                    dx[at(n, c, i)] += g * _pow(d[c], -b)
                    let common = -b * xc * _pow(d[c], -b - 1) * 2 * scale * g
                    for j in max(0, c - lo)...min(channels - 1, c + hi) {
                        dx[at(n, j, i)] += common * Double(input[at(n, j, i)])
                    }
                }
            }
        }
        return dx.map { Float($0) }
    }

    /// Gradients of ``fullyConnected(_:batch:inFeatures:outFeatures:weights:bias:relu:)`` (without ReLU):
    /// input, weights (`[out][in]`), bias.
    public static func fullyConnectedBackward(_ input: [Float], outputGrad dy: [Float], batch: Int, inFeatures: Int,
                                              outFeatures: Int, weights: [Float]) -> (input: [Float], weights: [Float], bias: [Float]) {
        var dx = [Float](repeating: 0, count: batch * inFeatures)
        var dw = [Float](repeating: 0, count: outFeatures * inFeatures)
        var db = [Float](repeating: 0, count: outFeatures)
        for n in 0..<batch {
            for i in 0..<inFeatures {
                var s = 0.0
                for o in 0..<outFeatures { s += Double(dy[n * outFeatures + o]) * Double(weights[o * inFeatures + i]) }
                dx[n * inFeatures + i] = Float(s)
            }
        }
        for o in 0..<outFeatures {
            var sb = 0.0
            for n in 0..<batch { sb += Double(dy[n * outFeatures + o]) }
            db[o] = Float(sb)
            for i in 0..<inFeatures {
                var s = 0.0
                for n in 0..<batch { s += Double(dy[n * outFeatures + o]) * Double(input[n * inFeatures + i]) }
                dw[o * inFeatures + i] = Float(s)
            }
        }
        return (dx, dw, db)
    }

    /// ReLU's input gradient from its output: `y > 0 ? dy : 0`.
    public static func reluBackward(output y: [Float], outputGrad dy: [Float]) -> [Float] {
        zip(y, dy).map { $0 > 0 ? $1 : 0 }
    }

    /// Mean softmax cross-entropy over rows of `classes` logits and its gradient.
    public static func softmaxCrossEntropy(_ logits: [Float], labels: [Int32], classes: Int) -> (loss: Double, grad: [Float]) {
        let batch = labels.count
        var loss = 0.0
        var grad = [Float](repeating: 0, count: logits.count)
        for n in 0..<batch {
            let row = (0..<classes).map { Double(logits[n * classes + $0]) }
            let m = row.max()!
            let e = row.map { _exp($0 - m) }
            let s = e.reduce(0, +)
            loss += m + _log(s) - row[Int(labels[n])]
            for i in 0..<classes {
                grad[n * classes + i] = Float((e[i] / s - (i == Int(labels[n]) ? 1 : 0)) / Double(batch))
            }
        }
        return (loss / Double(batch), grad)
    }
}
