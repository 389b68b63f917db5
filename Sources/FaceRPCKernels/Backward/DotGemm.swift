// `C = A · Bᵀ` when both operands run along the reduction in memory (a convolution's
// weight gradient: output gradients `[M][P]` against unfolded inputs `[K][P]`). Dot
// products need no packing; the packed GEMM would transpose both operands first,
// which costs as much as the multiply when M and K are small (the first layer).

extension TrainingGemm {
    /// Reduction steps per pass: a pass's rows of A and B (4 KiB each) stay in L2.
    public static let dotChunk = 1024

    /// `f32_gemm_dot_4x4_simd16`: `C[i][j] (=|+=) Σₚ A[i][p] · B[j][p]` for `i < m`, `j < n`, `p < k`;
    /// A is `m x k` (row stride `lda`), B is `n x k` (`ldb`), C is `m x n` (`ldc`).
    ///
    /// Lanes: 16 along p; register block 4 rows of A x 4 rows of B = 16 accumulators, one
    /// vector of p per main-loop step, scalar leftovers; the reduction runs in chunks of
    /// ``dotChunk`` (each chunk's sums added to C). Missing rows of a partial block repeat
    /// the last real one and their results are dropped. Blocks of 4 rows of A (rows of C)
    /// are split across `threads`, so the result does not depend on the thread count.
    public static func f32_gemm_dot_4x4_simd16(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                               b: UnsafePointer<Float>, ldb: Int,
                                               c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, threads: Int) {
        if m <= 0 || n <= 0 { return }
        let blocks = (m + 3) / 4
        let tasks = max(1, min(threads, blocks))
        parallelFor(tasks) { t in
            for blk in sliceRange(t, of: tasks, count: blocks) {
                let i0 = blk * 4
                let rows = min(4, m - i0)
                if !accumulate { for r in 0..<rows { (c + (i0 + r) * ldc).update(repeating: 0, count: n) } }
                let a0 = a + i0 * lda, a1 = a + min(i0 + 1, m - 1) * lda
                let a2 = a + min(i0 + 2, m - 1) * lda, a3 = a + min(i0 + 3, m - 1) * lda
                var p0 = 0
                while p0 < k {
                    let pEnd = min(k, p0 + dotChunk)
                    var j0 = 0
                    while j0 < n {
                        let cols = min(4, n - j0)
                        let b0 = b + j0 * ldb, b1 = b + min(j0 + 1, n - 1) * ldb
                        let b2 = b + min(j0 + 2, n - 1) * ldb, b3 = b + min(j0 + 3, n - 1) * ldb
                        var s00 = SIMD16<Float>(), s01 = s00, s02 = s00, s03 = s00
                        var s10 = s00, s11 = s00, s12 = s00, s13 = s00
                        var s20 = s00, s21 = s00, s22 = s00, s23 = s00
                        var s30 = s00, s31 = s00, s32 = s00, s33 = s00
                        var p = p0
                        while p + 16 <= pEnd {
                            let vb0 = SIMD16<Float>(loadFrom: b0 + p), vb1 = SIMD16<Float>(loadFrom: b1 + p)
                            let vb2 = SIMD16<Float>(loadFrom: b2 + p), vb3 = SIMD16<Float>(loadFrom: b3 + p)
                            let va0 = SIMD16<Float>(loadFrom: a0 + p)
                            s00 = s00.addingProduct(va0, vb0); s01 = s01.addingProduct(va0, vb1)
                            s02 = s02.addingProduct(va0, vb2); s03 = s03.addingProduct(va0, vb3)
                            let va1 = SIMD16<Float>(loadFrom: a1 + p)
                            s10 = s10.addingProduct(va1, vb0); s11 = s11.addingProduct(va1, vb1)
                            s12 = s12.addingProduct(va1, vb2); s13 = s13.addingProduct(va1, vb3)
                            let va2 = SIMD16<Float>(loadFrom: a2 + p)
                            s20 = s20.addingProduct(va2, vb0); s21 = s21.addingProduct(va2, vb1)
                            s22 = s22.addingProduct(va2, vb2); s23 = s23.addingProduct(va2, vb3)
                            let va3 = SIMD16<Float>(loadFrom: a3 + p)
                            s30 = s30.addingProduct(va3, vb0); s31 = s31.addingProduct(va3, vb1)
                            s32 = s32.addingProduct(va3, vb2); s33 = s33.addingProduct(va3, vb3)
                            p += 16
                        }
                        // No arrays here: this runs once per block and chunk.
                        @inline(__always) func finish(_ r: Int, _ q: Int, _ sum: SIMD16<Float>, _ ar: UnsafePointer<Float>,
                                                      _ br: UnsafePointer<Float>) {
                            guard r < rows && q < cols else { return }
                            var v = sum.sum()
                            // leftovers
                            for pp in p..<pEnd { v += ar[pp] * br[pp] }
                            c[(i0 + r) * ldc + j0 + q] += v
                        }
                        finish(0, 0, s00, a0, b0); finish(0, 1, s01, a0, b1); finish(0, 2, s02, a0, b2); finish(0, 3, s03, a0, b3)
                        finish(1, 0, s10, a1, b0); finish(1, 1, s11, a1, b1); finish(1, 2, s12, a1, b2); finish(1, 3, s13, a1, b3)
                        finish(2, 0, s20, a2, b0); finish(2, 1, s21, a2, b1); finish(2, 2, s22, a2, b2); finish(2, 3, s23, a2, b3)
                        finish(3, 0, s30, a3, b0); finish(3, 1, s31, a3, b1); finish(3, 2, s32, a3, b2); finish(3, 3, s33, a3, b3)
                        j0 += 4
                    }
                    p0 = pEnd
                }
            }
        }
    }
}
