import FaceRPCKernels
import Testing

@Suite("GEMM micro-kernels")
struct GemmTests {
    @Test("every micro-kernel matches the scalar GEMM, bias and clamp", arguments: KernelRegistry.gemmVariants)
    func microkernel(_ variant: GemmVariant) {
        var rng = SplitMix64(seed: 7)
        // The narrow companion kernel is checked with its own tile width.
        var kernels = [(name: variant.name, mr: variant.mr, nr: variant.nr, kernel: variant.kernel)]
        if let narrow = variant.narrowKernel {
            kernels.append((name: variant.name + " narrow", mr: variant.mr, nr: variant.narrowNR, kernel: narrow))
        }
        for v in kernels {
        for kc in [1, 2, 5, 37] {
            let a = rng.floats(kc * v.mr), b = rng.floats(kc * v.nr), bias = rng.floats(v.mr)
            // Unpack to row-major A (mr x kc) for the reference.
            var aRows = [Float](repeating: 0, count: v.mr * kc)
            for k in 0..<kc { for r in 0..<v.mr { aRows[r * kc + k] = a[k * v.mr + r] } }
            let ref = Reference.gemm(m: v.mr, n: v.nr, k: kc, a: aRows, b: b)
            let ldc = v.nr + 3
            for (lo, hi) in [(-Float.infinity, Float.infinity), (0, Float.infinity), (-0.5, 0.5)] {
                var c = [Float](repeating: .nan, count: v.mr * ldc)
                c.withUnsafeMutableBufferPointer { cb in
                    v.kernel(kc, a, b, bias, cb.baseAddress!, ldc, lo, hi)
                }
                var got: [Float] = [], want: [Float] = []
                for r in 0..<v.mr {
                    for j in 0..<v.nr {
                        got.append(c[r * ldc + j])
                        want.append(min(max(ref[r * v.nr + j] + bias[r], lo), hi))
                    }
                    // The padding past the tile must be untouched.
                    for j in v.nr..<ldc { #expect(c[r * ldc + j].isNaN) }
                }
                expectClose(got, want, "\(v.name) kc=\(kc) clamp=\(lo)...\(hi)")
            }
        }
        }
    }

    @Test("the indirect 9x32 kernel matches the scalar GEMM of the rows it points at")
    func indirect9x32() {
        var rng = SplitMix64(seed: 9)
        for kc in [1, 2, 7, 38] {
            // Nine rows scattered through one buffer, read at per-k offsets (with repeats).
            let source = rng.floats(500)
            let starts = (0..<9).map { _ in Int(rng.next() % 100) }
            let offsets = (0..<kc).map { _ in Int32(rng.next() % 400) }
            let b = rng.floats(kc * 32), bias = rng.floats(9)
            var aRows = [Float](repeating: 0, count: 9 * kc)
            for r in 0..<9 { for k in 0..<kc { aRows[r * kc + k] = source[starts[r] + Int(offsets[k])] } }
            let ref = Reference.gemm(m: 9, n: 32, k: kc, a: aRows, b: b)
            let ldc = 35
            for (lo, hi) in [(-Float.infinity, Float.infinity), (-0.5, 0.5)] {
                var c = [Float](repeating: .nan, count: 9 * ldc)
                source.withUnsafeBufferPointer { src in
                    let rows = starts.map { src.baseAddress! + $0 }
                    c.withUnsafeMutableBufferPointer { cb in
                        f32_igemm_9x32_simd16(kc, rows, offsets, b, bias, cb.baseAddress!, ldc, lo, hi)
                    }
                }
                var got: [Float] = [], want: [Float] = []
                for r in 0..<9 {
                    for j in 0..<32 {
                        got.append(c[r * ldc + j])
                        want.append(min(max(ref[r * 32 + j] + bias[r], lo), hi))
                    }
                    for j in 32..<ldc { #expect(c[r * ldc + j].isNaN) }
                }
                expectClose(got, want, "kc=\(kc) clamp=\(lo)...\(hi)")
            }
        }
    }

    @Test("every c16 micro-kernel matches the scalar GEMM, bias and clamp", arguments: KernelRegistry.gemmC16Variants)
    func microkernelC16(_ v: GemmVariant) {
        var rng = SplitMix64(seed: 8)
        for kc in [16, 32, 80] {
            // A blocked by 16 in k: [kc/16][mr][16].
            let a = rng.floats(kc * v.mr), b = rng.floats(kc * v.nr), bias = rng.floats(v.mr)
            var aRows = [Float](repeating: 0, count: v.mr * kc)
            for k in 0..<kc { for r in 0..<v.mr { aRows[r * kc + k] = a[((k / 16) * v.mr + r) * 16 + k % 16] } }
            let ref = Reference.gemm(m: v.mr, n: v.nr, k: kc, a: aRows, b: b)
            let ldc = v.nr + 5
            for (lo, hi) in [(-Float.infinity, Float.infinity), (-0.5, 0.5)] {
                var c = [Float](repeating: .nan, count: v.mr * ldc)
                c.withUnsafeMutableBufferPointer { cb in v.kernel(kc, a, b, bias, cb.baseAddress!, ldc, lo, hi) }
                var got: [Float] = [], want: [Float] = []
                for r in 0..<v.mr {
                    for j in 0..<v.nr {
                        got.append(c[r * ldc + j])
                        want.append(min(max(ref[r * v.nr + j] + bias[r], lo), hi))
                    }
                    for j in v.nr..<ldc { #expect(c[r * ldc + j].isNaN) }
                }
                expectClose(got, want, "\(v.name) kc=\(kc) clamp=\(lo)...\(hi)")
            }
        }
        #expect(v.name == "f32_gemm_\(v.mr)x\(v.nr)c16_simd16")
    }

    @Test("the registry names its variants XNNPACK style and their tiles match")
    func names() {
        #expect(!KernelRegistry.gemmVariants.isEmpty)
        for v in KernelRegistry.gemmVariants {
            #expect(v.name == "f32_gemm_\(v.mr)x\(v.nr)_simd\(v.name.hasSuffix("simd8") ? 8 : 16)")
            #expect(v.nr % (v.name.hasSuffix("simd8") ? 8 : 16) == 0)
        }
        #expect(Set(KernelRegistry.gemmVariants.map(\.name)).count == KernelRegistry.gemmVariants.count)
    }
}
