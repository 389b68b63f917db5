// The general GEMM of training: `C (=|+=) op(A) · op(B)` on plain row-major
// matrices, built on the inference micro-kernels (KernelRegistry) by packing
// both operands into their panel layouts, Goto/BLIS style.

/// `C[m x n] = op(A)[m x k] · op(B)[k x n]`, or `+=` when `accumulate`.
///
/// Operands are row-major with leading dimensions `lda`, `ldb`, `ldc`;
/// `op(X)` is `X` or its transpose (`transA`: A is stored `k x m`; `transB`:
/// B is stored `n x k`). Blocking: `nc = blockPanels * nr` columns by `kc`
/// reduction steps; inside a block, A and B are packed once (threads split the
/// panels), then the threads split the `mr x nr` tiles, column panel major, so
/// each thread keeps one B panel in L1 while every A panel streams past it.
/// Partial tiles go through a per-thread scratch tile; so does accumulation
/// (the micro-kernels start from a bias, not from C).
public enum TrainingGemm {
    /// Reduction steps per packed block: a 32-wide B panel of 256 steps is 32 KiB (L1).
    public static let kc = 256
    /// Column panels per block (the packed B block, 1 MiB for 32-wide panels, stays in L2).
    public static let blockPanels = 32

    /// Scratch floats ``f32_gemm_simd16(m:n:k:a:lda:transA:b:ldb:transB:c:ldc:accumulate:scratch:threads:variant:)`` needs.
    public static func scratchCount(m: Int, n: Int, k: Int, threads: Int,
                                    variant: GemmVariant = KernelRegistry.defaultGemm) -> Int {
        let mr = variant.mr, nr = variant.nr
        let kb = min(kc, max(k, 1))
        let aPanels = (m + mr - 1) / mr
        let bPanels = min(blockPanels, (n + nr - 1) / nr)
        return aPanels * mr * kb + bPanels * nr * kb + max(1, threads) * mr * nr + 16
    }

    /// See ``TrainingGemm``. `scratch` holds at least ``scratchCount(m:n:k:threads:variant:)`` floats.
    /// `k == 0` writes zeros (or leaves C unchanged when accumulating).
    public static func f32_gemm_simd16(m: Int, n: Int, k: Int,
                                       a: UnsafePointer<Float>, lda: Int, transA: Bool,
                                       b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                                       c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                       scratch: UnsafeMutablePointer<Float>, threads: Int,
                                       variant: GemmVariant = KernelRegistry.defaultGemm) {
        if m <= 0 || n <= 0 { return }
        if k <= 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        let mr = variant.mr, nr = variant.nr, kernel = variant.kernel
        let threads = max(1, threads)
        let aPanels = (m + mr - 1) / mr
        let kbMax = min(kc, k)
        let packedA = scratch
        let packedB = packedA + aPanels * mr * kbMax
        let tiles = packedB + min(blockPanels, (n + nr - 1) / nr) * nr * kbMax
        let zeros = tiles + threads * mr * nr
        zeros.update(repeating: 0, count: 16)
        let nc = blockPanels * nr
        var jc = 0
        while jc < n {
            let nb = min(nc, n - jc)
            let bPanels = (nb + nr - 1) / nr
            var pc = 0
            while pc < k {
                let kb = min(kc, k - pc)
                // Pack: A panels then B panels, split across the threads.
                let packItems = aPanels + bPanels
                let packTasks = min(threads, packItems)
                parallelFor(packTasks) { t in
                    for item in sliceRange(t, of: packTasks, count: packItems) {
                        if item < aPanels {
                            packA(a, lda: lda, trans: transA, m: m, firstRow: item * mr, mr: mr, firstK: pc, kb: kb,
                                  into: packedA + item * mr * kb)
                        } else {
                            let jp = item - aPanels
                            packB(b, ldb: ldb, trans: transB, n: n, firstColumn: jc + jp * nr, nr: nr, firstK: pc, kb: kb,
                                  into: packedB + jp * nr * kb)
                        }
                    }
                }
                let overwrite = pc == 0 && !accumulate
                let tileCount = aPanels * bPanels
                let tasks = min(threads, tileCount)
                parallelFor(tasks) { t in
                    let tile = tiles + t * mr * nr
                    for item in sliceRange(t, of: tasks, count: tileCount) {
                        let jp = item / aPanels, ip = item - jp * aPanels
                        let i0 = ip * mr, j0 = jc + jp * nr
                        let rows = min(mr, m - i0), cols = min(nr, n - j0)
                        let ap = packedA + ip * mr * kb, bp = packedB + jp * nr * kb
                        let cp = c + i0 * ldc + j0
                        if overwrite && rows == mr && cols == nr {
                            kernel(kb, ap, bp, zeros, cp, ldc, -.infinity, .infinity)
                            continue
                        }
                        kernel(kb, ap, bp, zeros, tile, nr, -.infinity, .infinity)
                        for r in 0..<rows {
                            if overwrite {
                                (cp + r * ldc).update(from: tile + r * nr, count: cols)
                            } else {
                                f32_vadd_clamp_simd16(cols, cp + r * ldc, tile + r * nr, cp + r * ldc, -.infinity)
                            }
                        }
                    }
                }
                pc += kb
            }
            jc += nb
        }
    }

    /// Packs rows `firstRow ..< firstRow + mr` of op(A), reduction steps `firstK ..< firstK + kb`,
    /// as `[kb][mr]`; rows past `m` are zero.
    @inline(__always)
    static func packA(_ a: UnsafePointer<Float>, lda: Int, trans: Bool, m: Int, firstRow i0: Int, mr: Int,
                      firstK p0: Int, kb: Int, into dst: UnsafeMutablePointer<Float>) {
        let rows = min(mr, m - i0)
        if trans {
            // op(A)(i, p) = a[p * lda + i]: each step's rows are contiguous.
            for kk in 0..<kb {
                let d = dst + kk * mr
                d.update(from: a + (p0 + kk) * lda + i0, count: rows)
                if rows < mr { (d + rows).update(repeating: 0, count: mr - rows) }
            }
        } else {
            if rows == 8 && mr == 8 {
                pack8Rows(a + i0 * lda + p0, ld: lda, count: kb, into: dst)
                return
            }
            if rows < mr { dst.update(repeating: 0, count: kb * mr) }
            for r in 0..<rows { transposeStrip(a + (i0 + r) * lda + p0, count: kb, into: dst + r, stride: mr) }
        }
    }

    /// Packs columns `firstColumn ..< firstColumn + nr` of op(B), steps `firstK ..< firstK + kb`,
    /// as `[kb][nr]`; columns past `n` are zero.
    @inline(__always)
    static func packB(_ b: UnsafePointer<Float>, ldb: Int, trans: Bool, n: Int, firstColumn j0: Int, nr: Int,
                      firstK p0: Int, kb: Int, into dst: UnsafeMutablePointer<Float>) {
        let cols = min(nr, n - j0)
        if !trans {
            for kk in 0..<kb {
                let d = dst + kk * nr
                d.update(from: b + (p0 + kk) * ldb + j0, count: cols)
                if cols < nr { (d + cols).update(repeating: 0, count: nr - cols) }
            }
        } else {
            // op(B)(p, j) = b[j * ldb + p].
            if cols < nr { dst.update(repeating: 0, count: kb * nr) }
            if cols == nr && nr % 16 == 0 {
                transpose16(b + j0 * ldb + p0, ld: ldb, rows: nr, count: kb, into: dst, stride: nr)
            } else {
                for j in 0..<cols { transposeStrip(b + (j0 + j) * ldb + p0, count: kb, into: dst + j, stride: nr) }
            }
        }
    }

    /// `dst[i * stride] = src[i]` for `i < count`.
    @inline(__always)
    static func transposeStrip(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutablePointer<Float>, stride: Int) {
        for i in 0..<count { dst[i * stride] = src[i] }
    }

    /// `dst[p * stride + r] = src[r * ld + p]` for `r < rows` (a multiple of 16), `p < count`:
    /// 16 source rows at a time, 16 steps at a time through a 16x16 block in registers.
    @inline(__always)
    static func transpose16(_ src: UnsafePointer<Float>, ld: Int, rows: Int, count: Int,
                            into dst: UnsafeMutablePointer<Float>, stride: Int) {
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 32) { buf in
            let block = buf.baseAddress!
            var r0 = 0
            while r0 < rows {
                var p = 0
                while p + 16 <= count {
                    for r in 0..<16 { block[r] = SIMD16<Float>(loadFrom: src + (r0 + r) * ld + p) }
                    let t = unshuffle4(block, count: 16)
                    for q in 0..<16 { t[q].store(to: dst + (p + q) * stride + r0) }
                    p += 16
                }
                // leftovers
                while p < count {
                    for r in 0..<16 { dst[p * stride + r0 + r] = src[(r0 + r) * ld + p] }
                    p += 1
                }
                r0 += 16
            }
        }
    }

    /// Packs 8 rows of `src` (row stride `ld`) as `[count][8]`: 16 steps at a time through an
    /// 8x16 block in registers, scalar leftovers.
    @inline(__always)
    static func pack8Rows(_ src: UnsafePointer<Float>, ld: Int, count: Int, into dst: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 16) { buf in
            let block = buf.baseAddress!
            var p = 0
            while p + 16 <= count {
                for r in 0..<8 { block[r] = SIMD16<Float>(loadFrom: src + r * ld + p) }
                let t = unshuffle4(block, count: 8)
                for q in 0..<8 { t[q].store(to: dst + p * 8 + q * 16) }
                p += 16
            }
            // leftovers
            while p < count {
                for r in 0..<8 { dst[p * 8 + r] = src[r * ld + p] }
                p += 1
            }
        }
    }

    /// Four perfect unshuffles of the `count` (8 or 16) vectors at `v` taken as one array of
    /// `16 * count` floats (even elements to the front half, odd ones to the back): each
    /// rotates the element index right by one bit, so four of them move a 16-wide row index
    /// below the column index — a transpose of rows x 16 into 16 x rows. Uses `v[count ..< 2 * count]`
    /// as the other buffer; returns where the result is. Even/odd halves of 32-lane pairs
    /// compile to two-source permutes.
    @inline(__always)
    static func unshuffle4(_ v: UnsafeMutablePointer<SIMD16<Float>>, count: Int) -> UnsafeMutablePointer<SIMD16<Float>> {
        var from = v, to = v + count
        let half = count / 2
        for _ in 0..<4 {
            for j in 0..<half {
                let pair = SIMD32<Float>(lowHalf: from[2 * j], highHalf: from[2 * j + 1])
                to[j] = pair.evenHalf
                to[j + half] = pair.oddHalf
            }
            swap(&from, &to)
        }
        return from
    }
}
