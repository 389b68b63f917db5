import FaceRPCKernels
@testable import FaceRPCTraining
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Runs `steps` updates of `kind` on seeded weights and gradients (a new gradient each step) and
/// compares with the same rule written out in Double, one value at a time.
@Suite("Optimizers")
struct OptimizerTests {
    @Test("each optimizer matches hand-computed updates over several steps", arguments: OptimizerKind.allCases)
    func updates(_ kind: OptimizerKind) {
        var h = Hyperparameters()
        h.optimizer = kind
        h.learningRate = kind == .adadelta ? 1 : 0.05
        // Counts hit the 64-wide loop, the one-vector loop, leftovers, and the thread split.
        for count in [1, 37, 131, 9000] {
            var rng = SplitMix64(seed: UInt64(count))
            let w0 = rng.floats(count)
            let gradients = (0..<3).map { _ in rng.floats(count) }
            let optimizer = Optimizer(kind: kind, count: count)
            let weights = FloatBuffer(count: count)
            w0.withUnsafeBufferPointer { weights.pointer.update(from: $0.baseAddress!, count: count) }
            var w = w0.map(Double.init)
            var s0 = [Double](repeating: 0, count: count), s1 = s0
            let lr = Double(h.learningRate)
            for (t, g) in gradients.enumerated() {
                g.withUnsafeBufferPointer {
                    optimizer.apply(weights: weights.pointer, grads: $0.baseAddress!, lr: h.learningRate, stepsBefore: t,
                                    hyperparameters: h, threads: 3)
                }
                for i in 0..<count {
                    let gi = Double(g[i])
                    switch kind {
                    case .momentum:
                        s0[i] = Double(h.momentum) * s0[i] + gi
                        w[i] -= lr * s0[i]
                    case .adadelta:
                        let rho = Double(h.adadeltaRho), eps = Double(h.adadeltaEpsilon)
                        s0[i] = rho * s0[i] + (1 - rho) * gi * gi
                        let u = (s1[i] + eps).squareRoot() / (s0[i] + eps).squareRoot() * gi
                        s1[i] = rho * s1[i] + (1 - rho) * u * u
                        w[i] -= lr * u
                    case .adam:
                        let b1 = Double(h.adamBeta1), b2 = Double(h.adamBeta2), eps = Double(h.adamEpsilon)
                        let step = Double(t + 1)
                        s0[i] = b1 * s0[i] + (1 - b1) * gi
                        s1[i] = b2 * s1[i] + (1 - b2) * gi * gi
                        let lrT = lr * (1 - pow(b2, step)).squareRoot() / (1 - pow(b1, step))
                        w[i] -= lrT * s0[i] / (s1[i].squareRoot() + eps)
                    }
                }
            }
            let got = weights[0..<count]
            var worst = 0.0
            for i in 0..<count { worst = max(worst, abs(Double(got[i]) - w[i])) }
            #expect(worst <= 1e-5, "\(kind) count \(count): worst error \(worst)")
            // The slots hold the same state.
            let slot0 = optimizer.slots[0][0..<count]
            var worstSlot = 0.0
            for i in 0..<count { worstSlot = max(worstSlot, abs(Double(slot0[i]) - s0[i]) / max(1, abs(s0[i]))) }
            #expect(worstSlot <= 1e-5, "\(kind) count \(count): slot error \(worstSlot)")
        }
    }

    @Test("global-norm clipping scales only above the limit and reports the norm before clipping")
    func clipping() {
        for count in [3, 70, 5000] {
            var rng = SplitMix64(seed: 41)
            let g = rng.floats(count)
            let norm = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            for limit in [Float(0), Float(norm / 2), Float(norm * 2)] {
                let buffer = FloatBuffer(count: count)
                g.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: count) }
                let reported = GradientProcessing.clip(grads: buffer.pointer, count: count, clipNorm: limit)
                #expect(abs(Double(reported) - norm) <= 1e-5 * norm)
                let factor = limit > 0 && norm > Double(limit) ? Double(limit) / norm : 1
                let got = buffer[0..<count]
                for i in 0..<count { #expect(abs(Double(got[i]) - Double(g[i]) * factor) <= 1e-6) }
            }
        }
    }

    @Test("weight decay adds scale·w to the decayed ranges only and returns half their squared norm")
    func weightDecay() {
        var rng = SplitMix64(seed: 42)
        let count = 150
        let w = rng.floats(count), g = rng.floats(count)
        let grads = FloatBuffer(count: count)
        g.withUnsafeBufferPointer { grads.pointer.update(from: $0.baseAddress!, count: count) }
        let ranges = [0..<37, 64..<131]
        let half = w.withUnsafeBufferPointer {
            GradientProcessing.addWeightDecay(weights: $0.baseAddress!, grads: grads.pointer, decayed: ranges, scale: 0.25)
        }
        var want = 0.0
        let got = grads[0..<count]
        for i in 0..<count {
            let decayed = ranges.contains { $0.contains(i) }
            if decayed { want += 0.5 * Double(w[i]) * Double(w[i]) }
            #expect(abs(got[i] - (g[i] + (decayed ? 0.25 * w[i] : 0))) <= 1e-6)
        }
        #expect(abs(half - want) <= 1e-6 * want)
    }

    @Test("the learning rate decays in stairs")
    func staircase() {
        var h = Hyperparameters()
        h.learningRate = 0.01; h.lrDecayRate = 0.1; h.lrDecaySteps = 100
        #expect(h.learningRate(atStep: 0) == 0.01)
        #expect(h.learningRate(atStep: 99) == 0.01)
        #expect(abs(h.learningRate(atStep: 100) - 0.001) < 1e-9)
        #expect(abs(h.learningRate(atStep: 250) - 0.0001) < 1e-10)
        h.lrDecaySteps = 0
        #expect(h.learningRate(atStep: 1_000_000) == 0.01)
    }
}
