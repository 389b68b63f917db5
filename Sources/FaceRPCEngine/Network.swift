import FaceRPCKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// A planned, ready-to-run network.
///
/// `init` infers and checks every shape (errors name the node), fuses
/// convolution + affine + residual add + ReLU chains, pre-packs the weights for
/// the GEMM micro-kernel and assigns every intermediate tensor to a reusable
/// buffer slot (liveness based). `run` then only executes kernels; its
/// workspace comes from a small pool, so concurrent calls from many threads
/// are safe and steady-state calls do not allocate beyond the result array.
public final class Network: Sendable {
    public let graph: Graph
    /// Threads each `run` uses unless overridden.
    public let threads: Int
    let plan: ExecutionPlan
    private let pool = WorkspacePool()

    /// Validates shapes (throws ``EngineError`` naming the node on any mismatch) and pre-packs weights.
    ///
    /// - Parameter threads: threads per `run` call (clamped to 1...64).
    public init(graph: Graph, threads: Int = 1) throws {
        self.graph = graph
        self.threads = min(max(threads, 1), 64)
        self.plan = try ExecutionPlan(graph: graph, gemm: KernelRegistry.defaultGemm)
    }

    /// Per-sample input shape, e.g. `[3, 64, 64]`.
    public var inputShape: TensorShape { plan.inputShape }
    /// Per-sample output shape, e.g. `[81]`.
    public var outputShape: TensorShape { plan.outputShape }
    /// Floating-point operations per sample (multiply-adds count 2), for GFLOP/s reports.
    public var flopsPerSample: Double { plan.flopsPerSample }
    /// Number of weights, biases, slopes and affine factors.
    public var parameterCount: Int { plan.parameterCount }

    /// Runs `batch` samples laid out NCHW contiguously; returns `batch * outputShape.product` floats.
    ///
    /// Safe to call concurrently from many threads.
    /// - Parameter threads: overrides the network's thread count for this call.
    public func run(_ input: [Float], batch: Int, threads: Int? = nil) throws -> [Float] {
        try input.withUnsafeBufferPointer { try run($0, batch: batch, threads: threads) }
    }

    /// ``run(_:batch:threads:)`` on a caller-owned buffer.
    public func run(_ input: UnsafeBufferPointer<Float>, batch: Int, threads: Int? = nil) throws -> [Float] {
        guard batch >= 1, batch <= EngineLimits.maxBatch else {
            throw EngineError("batch \(batch) is outside 1...\(EngineLimits.maxBatch)")
        }
        let inCount = plan.inputShape.elementCount
        guard input.count == batch * inCount else {
            throw EngineError("input has \(input.count) floats, expected batch \(batch) x \(inCount) for shape \(plan.inputShape)")
        }
        let threads = min(max(threads ?? self.threads, 1), 64)
        let outCount = plan.outputShape.elementCount
        // Large batches: each thread runs its own slice of samples start to end, with
        // no barrier per layer (a late thread then delays only itself). Small ones
        // split every layer across the threads instead.
        let split = threads > 1 && batch >= 8 * threads ? threads : 1
        let innerThreads = split > 1 ? 1 : threads
        for t in 0..<split {
            let r = sliceRange(t, of: split, count: batch)
            try checkWorkspace(batch: r.count, threads: innerThreads)
        }
        var result = [Float](repeating: 0, count: batch * outCount)
        result.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!, inBase = input.baseAddress!
            parallelFor(split) { t in
                let r = sliceRange(t, of: split, count: batch)
                execute(input: inBase + r.lowerBound * inCount, batch: r.count, threads: innerThreads,
                        into: outBase + r.lowerBound * outCount)
            }
        }
        return result
    }

    /// Workspace floats for one execution: slots scaled by the batch, then
    /// scratch; private slots for small batches on several threads (see
    /// ``ExecutionPlan/privateLayoutMaxBatch``).
    private func workspaceLayout(batch: Int, threads: Int) -> (slotOf: [Int], offsets: [Int], scratch: Int, total: Int) {
        let isPrivate = threads > 1 && batch <= ExecutionPlan.privateLayoutMaxBatch
        var offsets: [Int] = []
        var total = 0
        for size in isPrivate ? plan.privateStorageSizes : plan.storageSizes {
            offsets.append(total)
            total += (size * batch + 15) & ~15
        }
        let scratch = total
        total += threads * ((plan.scratchFixedPerThread + 15) & ~15) + batch * plan.scratchPerSample
        return (isPrivate ? plan.privateStorageOf : plan.storageOf, offsets, scratch, total)
    }

    private func checkWorkspace(batch: Int, threads: Int) throws {
        let total = workspaceLayout(batch: batch, threads: threads).total
        guard total <= EngineLimits.maxWorkspaceElements else {
            throw EngineError("batch \(batch) needs \(total) workspace floats, over the limit of \(EngineLimits.maxWorkspaceElements)")
        }
    }

    /// Median and fastest seconds per step over `runs` runs of `batch` seeded
    /// random samples on `threads` threads (no batch splitting), in plan order:
    /// where a network's time goes, for benchmarks. Both shrug off other
    /// processes' bursts; the fastest run also their sustained load.
    public func profileSteps(batch: Int, threads: Int, runs: Int) -> [(name: String, kind: String, seconds: Double, fastest: Double)] {
        let (slotOf, offsets, scratchOffset, total) = workspaceLayout(batch: batch, threads: threads)
        let workspace = AlignedFloatBuffer(count: total)
        var rng = SplitMix64(seed: 9)
        let input = rng.floats(batch * plan.inputShape.elementCount)
        let runs = max(1, runs)
        var seconds = [[Double]](repeating: [], count: plan.steps.count)
        let clock = ContinuousClock()
        input.withUnsafeBufferPointer { inBuf in
            let base = workspace.pointer
            func pointer(_ value: Int) -> UnsafeMutablePointer<Float> {
                let slot = slotOf[value]
                return slot < 0 ? UnsafeMutablePointer(mutating: inBuf.baseAddress!) : base + offsets[slot]
            }
            // Run 0 warms up and is not counted.
            for run in 0...runs {
                for (s, step) in plan.steps.enumerated() {
                    let start = clock.now
                    execute(step, batch: batch, threads: threads, input: { pointer(step.inputs[$0]) },
                            output: pointer(step.output), scratch: base + scratchOffset)
                    let d = clock.now - start
                    if run > 0 { seconds[s].append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18) }
                }
            }
        }
        return plan.steps.enumerated().map { (s, step) in
            let kind: String
            switch step.kind {
            case .conv: kind = "conv"
            case .stridedDirectConv: kind = "stridedDirect"
            case .convOrWinograd(let conv, _, _, _, _): kind = "\(ExecutionPlan.convPath(conv, batch: batch))"
            default: kind = "\(step.kind)".prefix { $0 != "(" }.description
            }
            let sorted = seconds[s].sorted()
            return (step.name, kind, sorted[runs / 2], sorted[0])
        }
    }

    /// Runs every step on `batch` samples; the sizes were validated by the caller.
    private func execute(input inputBase: UnsafePointer<Float>, batch: Int, threads: Int,
                         into result: UnsafeMutablePointer<Float>) {
        let (slotOf, offsets, scratchOffset, total) = workspaceLayout(batch: batch, threads: threads)
        let workspace = pool.take(minimumCount: total)
        defer { pool.give(workspace) }
        let base = workspace.pointer
        func pointer(_ value: Int) -> UnsafeMutablePointer<Float> {
            let slot = slotOf[value]
            return slot < 0 ? UnsafeMutablePointer(mutating: inputBase) : base + offsets[slot]
        }
        let scratch = base + scratchOffset
        for step in plan.steps {
            execute(step, batch: batch, threads: threads, input: { pointer(step.inputs[$0]) },
                    output: pointer(step.output), scratch: scratch)
        }
        result.update(from: pointer(plan.outputValue), count: batch * plan.outputShape.elementCount)
    }

    private func execute(_ step: Step, batch: Int, threads: Int, input: (Int) -> UnsafeMutablePointer<Float>,
                         output y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let x = input(0)
        switch step.kind {
        case .conv(let conv, let relu):
            let residual: UnsafePointer<Float>? = step.inputs.count > 1 ? UnsafePointer(input(1)) : nil
            conv.run(input: x, output: y, batch: batch, residual: residual, relu: relu, scratch: scratch, threads: threads)
        case .stridedDirectConv(let conv, let relu):
            conv.run(input: x, output: y, batch: batch, relu: relu, scratch: scratch, threads: threads)
        case .convOrWinograd(let conv, let wino, let wino4, let blocks, let relu):
            let residual: UnsafePointer<Float>? = step.inputs.count > 1 ? UnsafePointer(input(1)) : nil
            switch ExecutionPlan.convPath(conv, batch: batch) {
            case .winograd4:
                wino4.run(input: x, output: y, batch: batch, residual: residual, relu: relu, scratch: scratch, threads: threads)
            case .winograd2:
                wino.run(input: x, output: y, batch: batch, residual: residual, relu: relu, scratch: scratch, threads: threads)
            case .blocks:
                // convPath picks .blocks only where PackedBlockConvolution.supports the
                // geometry, and the plan packs one exactly there.
                blocks!.run(input: x, output: y, batch: batch, residual: residual, relu: relu, scratch: scratch, threads: threads)
            case .im2col:
                conv.run(input: x, output: y, batch: batch, residual: residual, relu: relu, scratch: scratch, threads: threads)
            }
        case .fullyConnected(let w, let b, let inF, let outF, let relu):
            let kernel = KernelRegistry.defaultFullyConnected.run
            w.withUnsafeBufferPointer { wb in
                b.withUnsafeBufferPointer { bb in
                    // Split output features in blocks of 4 so each thread streams its own weights.
                    let blocks = (outF + 3) / 4
                    let tasks = max(1, min(threads, blocks))
                    let wp = wb.baseAddress!, bp = bb.baseAddress!
                    parallelFor(tasks) { t in
                        let r = sliceRange(t, of: tasks, count: blocks)
                        kernel(x, batch, inF, outF, (r.lowerBound * 4)..<min(r.upperBound * 4, outF), wp, bp, y, relu)
                    }
                }
            }
        case .maxPool(let g):
            Pooling.f32_maxpool_simd16(x, y, batch: batch, geometry: g, threads: threads)
        case .averagePool(let g):
            Pooling.f32_avgpool_simd16(x, y, batch: batch, geometry: g, threads: threads)
        case .globalAveragePool(let channels, let spatial):
            Pooling.f32_gavgpool_simd16(x, y, planes: batch * channels, spatial: spatial)
        case .lrn(let s, let channels, let spatial):
            Normalization.f32_lrn_simd16(x, y, batch: batch, channels: channels, spatial: spatial, size: s.size,
                                         alpha: s.alpha, beta: s.beta, bias: s.bias, scratch: scratch, threads: threads)
        case .relu:
            f32_vclamp_simd16(batch * plan.storageElements(of: step.output), x, y, 0)
        case .prelu(let slopes, let channels, let inner):
            for n in 0..<batch {
                for c in 0..<channels {
                    let off = (n * channels + c) * inner
                    f32_vprelu_simd16(inner, x + off, slopes[c], y + off)
                }
            }
        case .affine(let scale, let shift, let channels, let inner):
            for n in 0..<batch {
                for c in 0..<channels {
                    let off = (n * channels + c) * inner
                    f32_vaffine_simd16(inner, x + off, scale[c], shift[c], y + off)
                }
            }
        case .add(let relu):
            f32_vadd_clamp_simd16(batch * plan.storageElements(of: step.output), x, input(1), y, relu ? 0 : -.infinity)
        case .extendedAdd(let a, let b, let channels, let height, let width, let relu):
            f32_extended_add(x, a, input(1), b, y, batch: batch, channels: channels, height: height, width: width,
                             minValue: relu ? 0 : -.infinity, threads: threads)
        case .pad(let c, let h, let w, let top, let left, let bottom, let right, let channelsAfter, let value):
            Layout.f32_pad(x, y, batch: batch, channels: c, height: h, width: w, top: top, left: left, bottom: bottom,
                           right: right, channelsAfter: channelsAfter, value: value)
        case .transpose(let shape, let perm):
            Layout.f32_transpose(x, y, batch: batch, shape: shape, perm: perm)
        case .softmax(let length):
            Normalization.f32_softmax(x, y, rows: batch * plan.storageElements(of: step.output) / length, length: length)
        }
    }
}

extension ExecutionPlan {
    /// Per-sample element count of a value.
    func storageElements(of value: Int) -> Int { valueElements[value] }
}

/// Workspaces (64-byte aligned float buffers) kept for reuse between runs.
///
/// `@unchecked Sendable`: the free list is only touched while holding `lock`;
/// a workspace taken from the pool belongs to exactly one `run` until given back.
final class WorkspacePool: @unchecked Sendable {
    typealias Workspace = AlignedFloatBuffer

    // Heap-allocated so the mutex never moves (Swift may copy an inout stored property).
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var free: [Workspace] = []
    /// More idle workspaces than this are dropped rather than kept.
    private let keep = 8

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_mutex_t())
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    func take(minimumCount: Int) -> Workspace {
        pthread_mutex_lock(lock)
        var found: Workspace? = nil
        if let i = free.lastIndex(where: { $0.count >= minimumCount }) { found = free.remove(at: i) }
        pthread_mutex_unlock(lock)
        return found ?? Workspace(count: minimumCount)
    }

    func give(_ w: Workspace) {
        pthread_mutex_lock(lock)
        if free.count < keep { free.append(w) } else { free.removeFirst(); free.append(w) }
        pthread_mutex_unlock(lock)
    }
}
