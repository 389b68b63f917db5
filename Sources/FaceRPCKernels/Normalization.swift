/// Channel-wise kernels: LRN, softmax.
public enum Normalization {
    /// `f32_lrn_simd16`: ONNX LRN across channels,
    /// `y = x / (bias + alpha / size * Σ x²)^beta` over the `size` channels around each one.
    ///
    /// Lanes: 16 along the plane. The window sum uses ``f32_vsqr_acc_simd16(_:_:_:)``
    /// (4 vectors per step, one vector, leftovers); the power then runs per vector,
    /// with `beta == 0.75` (every Caffe / Levi-Hassner model) as two square roots.
    /// `scratch` holds `spatial` floats per thread.
    public static func f32_lrn_simd16(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                      batch: Int, channels: Int, spatial: Int,
                                      size: Int, alpha: Float, beta: Float, bias: Float,
                                      scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let lo = (size - 1) / 2, hi = size - 1 - lo
        let planes = batch * channels
        let tasks = max(1, min(threads, planes))
        let scale = alpha / Float(size)
        parallelFor(tasks) { t in
            let acc = scratch + t * spatial
            for plane in sliceRange(t, of: tasks, count: planes) {
                let n = plane / channels, c = plane % channels
                acc.update(repeating: 0, count: spatial)
                for cc in max(0, c - lo)...min(channels - 1, c + hi) {
                    f32_vsqr_acc_simd16(spatial, input + (n * channels + cc) * spatial, acc)
                }
                let x = input + plane * spatial, y = output + plane * spatial
                let vb = SIMD16<Float>(repeating: bias), vs = SIMD16<Float>(repeating: scale)
                var i = 0
                while i + 16 <= spatial {
                    let d = vb.addingProduct(vs, SIMD16(loadFrom: acc + i))
                    let v = SIMD16<Float>(loadFrom: x + i)
                    if beta == 0.75 {
                        let r = d.squareRoot()
                        (v / (r * r.squareRoot())).store(to: y + i)
                    } else {
                        var p = SIMD16<Float>()
                        for l in 0..<16 { p[l] = _powf(d[l], -beta) }
                        (v * p).store(to: y + i)
                    }
                    i += 16
                }
                // leftovers
                while i < spatial {
                    y[i] = x[i] * _powf(bias + scale * acc[i], -beta)
                    i += 1
                }
            }
        }
    }

    /// `f32_softmax`: softmax over `rows` consecutive rows of `length` values
    /// (max-subtracted, so large logits do not overflow).
    public static func f32_softmax(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                                   rows: Int, length: Int) {
        for r in 0..<rows {
            let x = input + r * length, y = output + r * length
            var m = -Float.infinity
            for i in 0..<length { m = max(m, x[i]) }
            var s: Float = 0
            for i in 0..<length { let e = _expf(x[i] - m); y[i] = e; s += e }
            let inv = 1 / s
            for i in 0..<length { y[i] *= inv }
        }
    }
}

/// Data-movement kernels: pad, transpose.
public enum Layout {
    /// `f32_pad`: constant padding of H and W plus `channelsAfter` trailing channels.
    public static func f32_pad(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, batch: Int,
                               channels: Int, height: Int, width: Int,
                               top: Int, left: Int, bottom: Int, right: Int, channelsAfter: Int, value: Float) {
        let oc = channels + channelsAfter, oh = height + top + bottom, ow = width + left + right
        for n in 0..<batch {
            let dstSample = output + n * oc * oh * ow
            for c in 0..<oc {
                let dst = dstSample + c * oh * ow
                if c >= channels || top + bottom + left + right > 0 {
                    dst.update(repeating: value, count: oh * ow)
                }
                if c >= channels { continue }
                let src = input + (n * channels + c) * height * width
                if left + right == 0 {
                    (dst + top * ow).update(from: src, count: height * width)
                } else {
                    for y in 0..<height {
                        (dst + (y + top) * ow + left).update(from: src + y * width, count: width)
                    }
                }
            }
        }
    }

    /// `f32_transpose`: permutes per-sample axes; output axis `i` is input axis `perm[i]`.
    public static func f32_transpose(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, batch: Int,
                                     shape: [Int], perm: [Int]) {
        let rank = shape.count
        let count = shape.reduce(1, *)
        var inStrides = [Int](repeating: 1, count: rank)
        if rank >= 2 { for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] } }
        let outShape = perm.map { shape[$0] }
        let srcStride = perm.map { inStrides[$0] }
        var index = [Int](repeating: 0, count: rank)
        for n in 0..<batch {
            let src = input + n * count, dst = output + n * count
            for i in 0..<rank { index[i] = 0 }
            var offset = 0
            for o in 0..<count {
                dst[o] = src[offset]
                // Odometer increment of the output index; the source offset follows.
                var axis = rank - 1
                while axis >= 0 {
                    index[axis] += 1; offset += srcStride[axis]
                    if index[axis] < outShape[axis] { break }
                    offset -= srcStride[axis] * outShape[axis]; index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}
