import FaceRPCKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// One optimizer's slots for a flat parameter vector, and its update.
///
/// The caller owns parameters and gradients (same flat layout as the slots). Updates
/// split the vector into 16-aligned chunks across threads; every value's update is
/// independent, so the result does not depend on the thread count.
final class Optimizer {
    let kind: OptimizerKind
    let count: Int
    /// momentum: velocity; adadelta: accum, accum_update; adam: m, v.
    let slots: [FloatBuffer]

    init(kind: OptimizerKind, count: Int) {
        self.kind = kind
        self.count = count
        slots = Self.slotNames(kind).map { _ in FloatBuffer(count: count) }
    }

    /// Checkpoint suffixes of the slots, in `slots` order (`<parameter>/<suffix>`).
    static func slotNames(_ kind: OptimizerKind) -> [String] {
        switch kind {
        case .momentum: return ["momentum"]
        case .adadelta: return ["accum", "accum_update"]
        case .adam: return ["m", "v"]
        }
    }

    /// Applies one update with learning rate `lr`; `stepsBefore` updates were applied before
    /// (Adam's bias correction uses `t = stepsBefore + 1`).
    func apply(weights: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, lr: Float, stepsBefore: Int,
               hyperparameters h: Hyperparameters, threads: Int) {
        let count = self.count
        let chunks = (count + 4095) / 4096
        let tasks = max(1, min(threads, chunks))
        let s0 = slots[0].pointer, s1 = slots.count > 1 ? slots[1].pointer : slots[0].pointer
        let kind = self.kind
        var lrT = lr
        if kind == .adam {
            let t = Double(stepsBefore + 1)
            lrT = Float(Double(lr) * (1 - pow(Double(h.adamBeta2), t)).squareRoot() / (1 - pow(Double(h.adamBeta1), t)))
        }
        parallelFor(tasks) { task in
            let r = sliceRange(task, of: tasks, count: chunks)
            let lo = r.lowerBound * 4096, n = min(count, r.upperBound * 4096) - lo
            switch kind {
            case .momentum:
                OptimizerKernels.f32_momentum_update_simd16(n, weights: weights + lo, grads: grads + lo, velocity: s0 + lo,
                                                            lr: lr, momentum: h.momentum)
            case .adadelta:
                OptimizerKernels.f32_adadelta_update_simd16(n, weights: weights + lo, grads: grads + lo, accum: s0 + lo,
                                                            accumUpdate: s1 + lo, lr: lr, rho: h.adadeltaRho,
                                                            epsilon: h.adadeltaEpsilon)
            case .adam:
                OptimizerKernels.f32_adam_update_simd16(n, weights: weights + lo, grads: grads + lo, m: s0 + lo, v: s1 + lo,
                                                        lrT: lrT, beta1: h.adamBeta1, beta2: h.adamBeta2, epsilon: h.adamEpsilon)
            }
        }
    }
}

/// Weight decay and global-norm clipping of a flat gradient vector.
enum GradientProcessing {
    /// Adds `scale·w` to the gradients of `decayed` ranges (the weights, not the biases) and
    /// returns `0.5·Σw²` over those ranges (in Double).
    static func addWeightDecay(weights: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>, decayed: [Range<Int>],
                               scale: Float) -> Double {
        var half = 0.0
        for r in decayed {
            half += 0.5 * OptimizerKernels.f32_sum_squares_simd16(r.count, weights + r.lowerBound)
            if scale != 0 { OptimizerKernels.f32_axpy_simd16(r.count, scale, weights + r.lowerBound, grads + r.lowerBound) }
        }
        return half
    }

    /// The global norm of `grads`; when `clipNorm > 0` and the norm exceeds it, scales them by
    /// `clipNorm / norm` (TensorFlow's clip_by_global_norm). Returns the norm before clipping.
    static func clip(grads: UnsafeMutablePointer<Float>, count: Int, clipNorm: Float) -> Float {
        let norm = OptimizerKernels.f32_sum_squares_simd16(count, grads).squareRoot()
        if clipNorm > 0 && norm > Double(clipNorm) {
            OptimizerKernels.f32_scale_simd16(count, Float(Double(clipNorm) / norm), grads)
        }
        return Float(norm)
    }
}
