// Gradients of the elementwise layers, the fully-connected layer and the loss.

/// `f32_relu_backward_simd16`: `dx = y > 0 ? dy : 0`, with `y` the ReLU's output (so the
/// gradient at exactly 0 is 0, as in PyTorch and TensorFlow).
///
/// Lanes: 16; step: 64 elements (4 vectors) in the main loop, then one vector, then
/// scalar leftovers. In place (`dx` equal to `dy`) is fine. The test `y > 0` is done on
/// the bit patterns (a float is positive exactly when its pattern is a positive Int32):
/// the float comparison's mask was scalarised lane by lane in this unrolled loop.
@inline(__always)
public func f32_relu_backward_simd16(_ count: Int, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                     _ dx: UnsafeMutablePointer<Float>) {
    @inline(__always) func one(_ o: Int) {
        let yb = UnsafeRawPointer(y + o).loadUnaligned(as: SIMD16<Int32>.self)
        let g = UnsafeRawPointer(dy + o).loadUnaligned(as: SIMD16<Int32>.self)
        // All ones where the pattern is positive: 0 - yb is negative there (and for Int32.min, -0.0,
        // which the second term clears along with every other negative pattern).
        let keep = ((SIMD16<Int32>() &- yb) &>> 31) & ~(yb &>> 31)
        UnsafeMutableRawPointer(dx + o).storeBytes(of: g & keep, as: SIMD16<Int32>.self)
    }
    var i = 0
    while i + 64 <= count { one(i); one(i + 16); one(i + 32); one(i + 48); i += 64 }
    while i + 16 <= count { one(i); i += 16 }
    // leftovers
    while i < count {
        dx[i] = y[i] > 0 ? dy[i] : 0
        i += 1
    }
}

/// `f32_vmul_simd16`: `out = a * b` (dropout: activations or gradients times the scaled mask).
///
/// Lanes: 16; step: 64 elements (4 vectors) in the main loop, then one vector, then
/// scalar leftovers. In place is fine.
@inline(__always)
public func f32_vmul_simd16(_ count: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                            _ out: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 64 <= count {
        do { let o = i + 0; (SIMD16<Float>(loadFrom: a + o) * SIMD16<Float>(loadFrom: b + o)).store(to: out + o) }
        do { let o = i + 16; (SIMD16<Float>(loadFrom: a + o) * SIMD16<Float>(loadFrom: b + o)).store(to: out + o) }
        do { let o = i + 32; (SIMD16<Float>(loadFrom: a + o) * SIMD16<Float>(loadFrom: b + o)).store(to: out + o) }
        do { let o = i + 48; (SIMD16<Float>(loadFrom: a + o) * SIMD16<Float>(loadFrom: b + o)).store(to: out + o) }
        i += 64
    }
    while i + 16 <= count {
        (SIMD16<Float>(loadFrom: a + i) * SIMD16<Float>(loadFrom: b + i)).store(to: out + i)
        i += 16
    }
    // leftovers
    while i < count {
        out[i] = a[i] * b[i]
        i += 1
    }
}

/// `f32_dropout_mask`: the inverted-dropout mask for `count` activations: each value is
/// `1 / (1 - p)` with probability `1 - p`, else 0, drawn from `rng` (one draw per value,
/// in order, so a seed fixes the mask). `p == 0` gives all ones.
public func f32_dropout_mask(_ count: Int, p: Float, rng: inout SplitMix64, into mask: UnsafeMutablePointer<Float>) {
    if p <= 0 {
        mask.update(repeating: 1, count: count)
        return
    }
    let keep = 1 / (1 - p)
    for i in 0..<count { mask[i] = rng.nextUnitFloat() >= p ? keep : 0 }
}

public enum FullyConnectedBackward {
    /// Scratch floats ``f32_fc_backward_simd16`` needs.
    public static func scratchCount(batch: Int, inFeatures: Int, outFeatures: Int, threads: Int) -> Int {
        max(TrainingGemm.scratchCount(m: batch, n: inFeatures, k: outFeatures, threads: threads),
            TrainingGemm.scratchCount(m: outFeatures, n: inFeatures, k: batch, threads: threads))
    }

    /// `f32_fc_backward_simd16`: for `y = x · Wᵀ + b` (W `[out][in]`): `dW = dYᵀ · X`,
    /// `db = column sums of dY`, and, when `inputGrad` is given, `dX = dY · W`; all overwritten.
    /// `outputGrad` is already masked by the activation's derivative.
    public static func f32_fc_backward_simd16(input: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
                                              weights: UnsafePointer<Float>, batch: Int, inFeatures: Int, outFeatures: Int,
                                              inputGrad: UnsafeMutablePointer<Float>?,
                                              weightGrad: UnsafeMutablePointer<Float>, biasGrad: UnsafeMutablePointer<Float>,
                                              scratch: UnsafeMutablePointer<Float>, threads: Int) {
        TrainingGemm.f32_gemm_simd16(m: outFeatures, n: inFeatures, k: batch,
                                     a: outputGrad, lda: outFeatures, transA: true,
                                     b: input, ldb: inFeatures, transB: false,
                                     c: weightGrad, ldc: inFeatures, accumulate: false, scratch: scratch, threads: threads)
        if let inputGrad {
            TrainingGemm.f32_gemm_simd16(m: batch, n: inFeatures, k: outFeatures,
                                         a: outputGrad, lda: outFeatures, transA: false,
                                         b: weights, ldb: inFeatures, transB: false,
                                         c: inputGrad, ldc: inFeatures, accumulate: false, scratch: scratch, threads: threads)
        }
        biasGrad.update(from: outputGrad, count: outFeatures)
        for n in 1..<max(batch, 1) {
            f32_vadd_clamp_simd16(outFeatures, biasGrad, outputGrad + n * outFeatures, biasGrad, -.infinity)
        }
    }
}

public enum LossBackward {
    /// `f32_softmax_cross_entropy_backward`: softmax over each row of `logits` (`[batch][classes]`),
    /// the mean cross-entropy against `labels` (each in `0..<classes`), and its gradient
    /// `(p - onehot(label)) / batch` into `logitsGrad`; `probabilities` receives p.
    /// Returns the mean loss (log-sum-exp form, so large logits do not overflow) and how
    /// many rows have their label as the (first) argmax.
    public static func f32_softmax_cross_entropy_backward(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
                                                          batch: Int, classes: Int,
                                                          probabilities: UnsafeMutablePointer<Float>,
                                                          logitsGrad: UnsafeMutablePointer<Float>) -> (loss: Float, correct: Int) {
        var total = 0.0
        var correct = 0
        let inv = 1 / Float(batch)
        for n in 0..<batch {
            let z = logits + n * classes, p = probabilities + n * classes, g = logitsGrad + n * classes
            var m = -Float.infinity
            var arg = 0
            for i in 0..<classes where z[i] > m { m = z[i]; arg = i }
            var s: Float = 0
            for i in 0..<classes { let e = _expf(z[i] - m); p[i] = e; s += e }
            let label = Int(labels[n])
            for i in 0..<classes {
                p[i] /= s
                g[i] = (p[i] - (i == label ? 1 : 0)) * inv
            }
            total += Double(m) + _log(Double(s)) - Double(z[label])
            if arg == label { correct += 1 }
        }
        return (Float(total / Double(batch)), correct)
    }
}
