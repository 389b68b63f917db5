import FaceRPCEngine

/// Runs a ``Graph`` with plain scalar loops, straight from the ONNX operator
/// definitions: a reference that shares no code with the importer or the
/// engine's kernels. Slow, and meant to be.
struct ScalarInterpreter {
    struct Failure: Error, CustomStringConvertible { var description: String }

    let graph: Graph

    /// Runs a batch of `batch` samples laid out NCHW; returns the output and its per-sample shape.
    func run(_ input: [Float], batch: Int) throws -> (shape: [Int], data: [Float]) {
        guard input.count == batch * graph.inputShape.reduce(1, *) else {
            throw Failure(description: "input has \(input.count) values, expected \(batch) x \(graph.inputShape)")
        }
        var values: [String: (shape: [Int], data: [Float])] = [graph.inputName: (graph.inputShape, input)]
        for node in graph.nodes {
            let args = try node.inputs.map { name in
                guard let v = values[name] else { throw Failure(description: "\(node.name): input \(name) undefined") }
                return v
            }
            guard node.outputs.count == 1 else { throw Failure(description: "\(node.name): one output expected") }
            values[node.outputs[0]] = try apply(node, args, batch: batch)
        }
        guard let out = values[graph.outputName] else { throw Failure(description: "output \(graph.outputName) undefined") }
        return out
    }

    private func apply(_ node: GraphNode, _ args: [(shape: [Int], data: [Float])], batch n: Int) throws -> (shape: [Int], data: [Float]) {
        let (shape, x) = args[0]
        switch node.op {
        case .conv2d(let c):
            return conv(c, shape, x, n)
        case .fullyConnected(let f):
            var y = [Float](repeating: 0, count: n * f.outFeatures)
            for b in 0..<n {
                for o in 0..<f.outFeatures {
                    var s = f.bias[o]
                    for i in 0..<f.inFeatures { s += f.weights[o * f.inFeatures + i] * x[b * f.inFeatures + i] }
                    y[b * f.outFeatures + o] = f.activation == .relu ? max(s, 0) : s
                }
            }
            return ([f.outFeatures], y)
        case .maxPool(let p):
            return pool(p, isMax: true, shape, x, n)
        case .averagePool(let p):
            return pool(p, isMax: false, shape, x, n)
        case .globalAveragePool:
            let (c, hw) = (shape[0], shape[1] * shape[2])
            var y = [Float](repeating: 0, count: n * c)
            for i in 0..<(n * c) {
                var s: Float = 0
                for k in 0..<hw { s += x[i * hw + k] }
                y[i] = s / Float(hw)
            }
            return ([c, 1, 1], y)
        case .lrn(let l):
            let (c, hw) = (shape[0], shape[1] * shape[2])
            var y = x
            for b in 0..<n {
                for ch in 0..<c {
                    let lo = max(0, ch - (l.size - 1) / 2), hi = min(c - 1, ch + l.size / 2)
                    for k in 0..<hw {
                        var sq: Float = 0
                        for j in lo...hi { let v = x[(b * c + j) * hw + k]; sq += v * v }
                        let i = (b * c + ch) * hw + k
                        y[i] = x[i] / pow(l.bias + l.alpha / Float(l.size) * sq, l.beta)
                    }
                }
            }
            return (shape, y)
        case .relu:
            return (shape, x.map { max($0, 0) })
        case .prelu(let slopes):
            return (shape, perChannel(shape, x, n) { v, c in v < 0 ? v * slopes[c] : v })
        case .affine(let scale, let shift):
            return (shape, perChannel(shape, x, n) { v, c in v * scale[c] + shift[c] })
        case .add:
            return (shape, zip(x, args[1].data).map { $0 + $1 })
        case .pad(let top, let left, let bottom, let right, let channelsAfter, let value):
            let (c, h, w) = (shape[0], shape[1], shape[2])
            let (oc, oh, ow) = (c + channelsAfter, h + top + bottom, w + left + right)
            var y = [Float](repeating: value, count: n * oc * oh * ow)
            for b in 0..<n { for ch in 0..<c { for i in 0..<h { for j in 0..<w {
                y[((b * oc + ch) * oh + i + top) * ow + j + left] = x[((b * c + ch) * h + i) * w + j]
            } } } }
            return ([oc, oh, ow], y)
        case .flatten:
            return ([shape.reduce(1, *)], x)
        case .reshape(let s):
            return (s, x)
        case .transpose(let perm):
            let out = perm.map { shape[$0] }
            let per = shape.reduce(1, *)
            var strides = [Int](repeating: 1, count: shape.count)
            for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
            var y = [Float](repeating: 0, count: x.count)
            for b in 0..<n {
                for k in 0..<per {
                    var rem = k, src = 0
                    for axis in stride(from: out.count - 1, through: 0, by: -1) {
                        src += (rem % out[axis]) * strides[perm[axis]]
                        rem /= out[axis]
                    }
                    y[b * per + k] = x[b * per + src]
                }
            }
            return (out, y)
        case .softmax:
            let last = shape.last!
            var y = x
            for row in 0..<(x.count / last) {
                let r = (row * last)..<((row + 1) * last)
                let m = x[r].max()!
                var sum: Float = 0
                for i in r { y[i] = exp(x[i] - m); sum += y[i] }
                for i in r { y[i] /= sum }
            }
            return (shape, y)
        case .dropout:
            return (shape, x)
        }
    }

    private func perChannel(_ shape: [Int], _ x: [Float], _ n: Int, _ f: (Float, Int) -> Float) -> [Float] {
        let c = shape[0], inner = shape.dropFirst().reduce(1, *)
        var y = x
        for i in x.indices { y[i] = f(x[i], (i / inner) % c) }
        return y
    }

    private func conv(_ c: Conv2DSpec, _ shape: [Int], _ x: [Float], _ n: Int) -> (shape: [Int], data: [Float]) {
        let (h, w) = (shape[1], shape[2])
        let oh = (h + c.padTop + c.padBottom - c.dilationH * (c.kernelH - 1) - 1) / c.strideH + 1
        let ow = (w + c.padLeft + c.padRight - c.dilationW * (c.kernelW - 1) - 1) / c.strideW + 1
        let inPerGroup = c.inChannels / c.groups, outPerGroup = c.outChannels / c.groups
        var y = [Float](repeating: 0, count: n * c.outChannels * oh * ow)
        x.withUnsafeBufferPointer { x in
            c.weights.withUnsafeBufferPointer { wt in
                y.withUnsafeMutableBufferPointer { y in
                    for b in 0..<n { for o in 0..<c.outChannels {
                        let g = o / outPerGroup
                        for i in 0..<oh { for j in 0..<ow {
                            var s: Float = c.bias[o]
                            for ic in 0..<inPerGroup {
                                let plane = (b * c.inChannels + g * inPerGroup + ic) * h * w
                                let kbase = (o * inPerGroup + ic) * c.kernelH * c.kernelW
                                for ki in 0..<c.kernelH {
                                    let yy = i * c.strideH - c.padTop + ki * c.dilationH
                                    if yy < 0 || yy >= h { continue }
                                    for kj in 0..<c.kernelW {
                                        let xx = j * c.strideW - c.padLeft + kj * c.dilationW
                                        if xx < 0 || xx >= w { continue }
                                        s += x[plane + yy * w + xx] * wt[kbase + ki * c.kernelW + kj]
                                    }
                                }
                            }
                            y[((b * c.outChannels + o) * oh + i) * ow + j] = c.activation == .relu ? max(s, 0) : s
                        } }
                    } }
                }
            }
        }
        return ([c.outChannels, oh, ow], y)
    }

    /// Output length along one axis; with ceil mode a window must start inside
    /// the input or its leading padding (the rule of ONNX Runtime and PyTorch).
    static func pooledLength(_ size: Int, _ k: Int, _ s: Int, _ p0: Int, _ p1: Int, ceil: Bool) -> Int {
        let span = size + p0 + p1 - k
        var out = (ceil ? (span + s - 1) / s : span / s) + 1
        if ceil && (out - 1) * s >= size + p0 { out -= 1 }
        return out
    }

    private func pool(_ p: Pool2DSpec, isMax: Bool, _ shape: [Int], _ x: [Float], _ n: Int) -> (shape: [Int], data: [Float]) {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        let oh = Self.pooledLength(h, p.kernelH, p.strideH, p.padTop, p.padBottom, ceil: p.ceilMode)
        let ow = Self.pooledLength(w, p.kernelW, p.strideW, p.padLeft, p.padRight, ceil: p.ceilMode)
        var y = [Float](repeating: 0, count: n * c * oh * ow)
        for plane in 0..<(n * c) {
            for i in 0..<oh { for j in 0..<ow {
                let h0 = i * p.strideH - p.padTop, w0 = j * p.strideW - p.padLeft
                // With padding counted, the divisor covers the window clipped to the padded input.
                let padArea = (min(h0 + p.kernelH, h + p.padBottom) - h0) * (min(w0 + p.kernelW, w + p.padRight) - w0)
                var m = -Float.infinity, s: Float = 0, count = 0
                for yy in max(h0, 0)..<min(h0 + p.kernelH, h) {
                    for xx in max(w0, 0)..<min(w0 + p.kernelW, w) {
                        let v = x[(plane * h + yy) * w + xx]
                        m = max(m, v); s += v; count += 1
                    }
                }
                y[(plane * oh + i) * ow + j] = isMax ? m : s / Float(p.countIncludePad ? padArea : count)
            } }
        }
        return ([c, oh, ow], y)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
