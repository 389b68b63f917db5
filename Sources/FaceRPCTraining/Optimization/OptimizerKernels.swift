import FaceRPCKernels

// Update rules and gradient reductions over flat float buffers. Every kernel has
// the elementwise loop shape: 16 lanes, 64 values per main-loop step (4 separate
// vectors), one vector, then scalar leftovers, with the same formula in all three.

enum OptimizerKernels {
    /// `f32_momentum_update_simd16`: `v = momentum·v + g; w -= lr·v` (TensorFlow's MomentumOptimizer).
    @inline(__always)
    static func f32_momentum_update_simd16(_ count: Int, weights w: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                           velocity v: UnsafeMutablePointer<Float>, lr: Float, momentum: Float) {
        let vm = SIMD16<Float>(repeating: momentum), vlr = SIMD16<Float>(repeating: -lr)
        @inline(__always) func one(_ o: Int) {
            let nv = SIMD16<Float>(loadFrom: g + o).addingProduct(vm, SIMD16<Float>(loadFrom: v + o))
            nv.store(to: v + o)
            SIMD16<Float>(loadFrom: w + o).addingProduct(vlr, nv).store(to: w + o)
        }
        var i = 0
        while i + 64 <= count { one(i); one(i + 16); one(i + 32); one(i + 48); i += 64 }
        while i + 16 <= count { one(i); i += 16 }
        // leftovers
        while i < count {
            let nv = g[i] + momentum * v[i]
            v[i] = nv
            w[i] = w[i] + -lr * nv
            i += 1
        }
    }

    /// `f32_adadelta_update_simd16` (TensorFlow's ApplyAdadelta):
    /// `a = ρa + (1-ρ)g²; u = √(au + ε)/√(a + ε)·g; au = ρau + (1-ρ)u²; w -= lr·u`.
    @inline(__always)
    static func f32_adadelta_update_simd16(_ count: Int, weights w: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                           accum a: UnsafeMutablePointer<Float>, accumUpdate au: UnsafeMutablePointer<Float>,
                                           lr: Float, rho: Float, epsilon: Float) {
        let vr = SIMD16<Float>(repeating: rho), v1r = SIMD16<Float>(repeating: 1 - rho)
        let ve = SIMD16<Float>(repeating: epsilon), vlr = SIMD16<Float>(repeating: -lr)
        @inline(__always) func one(_ o: Int) {
            let gv = SIMD16<Float>(loadFrom: g + o)
            let na = (vr * SIMD16<Float>(loadFrom: a + o)).addingProduct(v1r, gv * gv)
            na.store(to: a + o)
            let oldAu = SIMD16<Float>(loadFrom: au + o)
            let u = (oldAu + ve).squareRoot() / (na + ve).squareRoot() * gv
            (vr * oldAu).addingProduct(v1r, u * u).store(to: au + o)
            SIMD16<Float>(loadFrom: w + o).addingProduct(vlr, u).store(to: w + o)
        }
        var i = 0
        while i + 64 <= count { one(i); one(i + 16); one(i + 32); one(i + 48); i += 64 }
        while i + 16 <= count { one(i); i += 16 }
        // leftovers
        while i < count {
            let gv = g[i]
            let na = rho * a[i] + (1 - rho) * (gv * gv)
            a[i] = na
            let u = (au[i] + epsilon).squareRoot() / (na + epsilon).squareRoot() * gv
            au[i] = rho * au[i] + (1 - rho) * (u * u)
            w[i] = w[i] + -lr * u
            i += 1
        }
    }

    /// `f32_adam_update_simd16` (TensorFlow's ApplyAdam): `m = β1m + (1-β1)g; v = β2v + (1-β2)g²;
    /// w -= lrT·m/(√v + ε)` with `lrT = lr·√(1-β2ᵗ)/(1-β1ᵗ)` computed by the caller.
    @inline(__always)
    static func f32_adam_update_simd16(_ count: Int, weights w: UnsafeMutablePointer<Float>, grads g: UnsafePointer<Float>,
                                       m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                                       lrT: Float, beta1: Float, beta2: Float, epsilon: Float) {
        let b1 = SIMD16<Float>(repeating: beta1), c1 = SIMD16<Float>(repeating: 1 - beta1)
        let b2 = SIMD16<Float>(repeating: beta2), c2 = SIMD16<Float>(repeating: 1 - beta2)
        let ve = SIMD16<Float>(repeating: epsilon), vlr = SIMD16<Float>(repeating: -lrT)
        @inline(__always) func one(_ o: Int) {
            let gv = SIMD16<Float>(loadFrom: g + o)
            let nm = (b1 * SIMD16<Float>(loadFrom: m + o)).addingProduct(c1, gv)
            let nv = (b2 * SIMD16<Float>(loadFrom: v + o)).addingProduct(c2, gv * gv)
            nm.store(to: m + o); nv.store(to: v + o)
            SIMD16<Float>(loadFrom: w + o).addingProduct(vlr, nm / (nv.squareRoot() + ve)).store(to: w + o)
        }
        var i = 0
        while i + 64 <= count { one(i); one(i + 16); one(i + 32); one(i + 48); i += 64 }
        while i + 16 <= count { one(i); i += 16 }
        // leftovers
        while i < count {
            let gv = g[i]
            let nm = beta1 * m[i] + (1 - beta1) * gv
            let nv = beta2 * v[i] + (1 - beta2) * (gv * gv)
            m[i] = nm; v[i] = nv
            w[i] = w[i] + -lrT * (nm / (nv.squareRoot() + epsilon))
            i += 1
        }
    }

    /// `f32_sum_squares_simd16`: `Σx²`, Float vectors per block of 4096 values, blocks summed in Double
    /// (millions of parameters would otherwise lose the small ones).
    @inline(__always)
    static func f32_sum_squares_simd16(_ count: Int, _ x: UnsafePointer<Float>) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(count, start + 4096)
            var s0 = SIMD16<Float>(), s1 = s0, s2 = s0, s3 = s0
            var i = start
            while i + 64 <= end {
                let v0 = SIMD16<Float>(loadFrom: x + i), v1 = SIMD16<Float>(loadFrom: x + i + 16)
                let v2 = SIMD16<Float>(loadFrom: x + i + 32), v3 = SIMD16<Float>(loadFrom: x + i + 48)
                s0 = s0.addingProduct(v0, v0); s1 = s1.addingProduct(v1, v1)
                s2 = s2.addingProduct(v2, v2); s3 = s3.addingProduct(v3, v3)
                i += 64
            }
            while i + 16 <= end { let v = SIMD16<Float>(loadFrom: x + i); s0 = s0.addingProduct(v, v); i += 16 }
            var s = Double(((s0 + s1) + (s2 + s3)).sum())
            // leftovers
            while i < end { s += Double(x[i]) * Double(x[i]); i += 1 }
            total += s
            start = end
        }
        return total
    }

    /// `f32_axpy_simd16`: `y += a·x`.
    @inline(__always)
    static func f32_axpy_simd16(_ count: Int, _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let va = SIMD16<Float>(repeating: a)
        @inline(__always) func one(_ o: Int) { SIMD16<Float>(loadFrom: y + o).addingProduct(va, SIMD16<Float>(loadFrom: x + o)).store(to: y + o) }
        var i = 0
        while i + 64 <= count { one(i); one(i + 16); one(i + 32); one(i + 48); i += 64 }
        while i + 16 <= count { one(i); i += 16 }
        // leftovers
        while i < count { y[i] = y[i] + a * x[i]; i += 1 }
    }

    /// `f32_scale_simd16`: `x *= s`.
    @inline(__always)
    static func f32_scale_simd16(_ count: Int, _ s: Float, _ x: UnsafeMutablePointer<Float>) {
        let vs = SIMD16<Float>(repeating: s)
        @inline(__always) func one(_ o: Int) { (SIMD16<Float>(loadFrom: x + o) * vs).store(to: x + o) }
        var i = 0
        while i + 64 <= count { one(i); one(i + 16); one(i + 32); one(i + 48); i += 64 }
        while i + 16 <= count { one(i); i += 16 }
        // leftovers
        while i < count { x[i] *= s; i += 1 }
    }
}

