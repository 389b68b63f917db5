import Foundation
import FaceRPCImage

/// A batch of decoded, augmented and normalised samples.
public struct TrainingBatch: Sendable {
    /// `count × 3 × 227 × 227` floats: per sample the R, G and B planes, rows top to bottom.
    public var images: [Float]
    /// `count` class indices.
    public var labels: [Int32]
    public var count: Int
    /// The 0-based epoch the batch belongs to.
    public var epoch: Int
    /// The global batch index (0 is the first batch of epoch 0).
    public var index: Int
    /// For each sample, its index in the pipeline's `examples`.
    public var exampleIndices: [Int]
    /// For each sample, the crop and flip applied.
    public var crops: [CropParameters]
}

/// Decodes and augments batches on background threads while the caller
/// computes, through a bounded prefetch queue.
///
/// The sequence is a pure function of (examples, batch size, mode, seed):
/// batch `b` in training mode holds positions `(b mod B)·size ..< +size` of
/// epoch `b / B`'s permutation (B = ``batchesPerEpoch``; each epoch is a fresh
/// seeded shuffle of all examples; the `count mod size` left over in an epoch
/// are not used in that epoch), and sample `j`'s crop and flip are drawn from
/// (seed, b, j). Neither the number of workers nor their timing changes it, and
/// a pipeline started at `startBatch: k` yields exactly batches k, k+1, ... of
/// one started at 0.
///
/// Threads: `workers` POSIX threads (not Swift concurrency, not NIO), each
/// producing whole batches; at most `prefetch` batches are claimed but not yet
/// taken by ``next()``, so memory is bounded by
/// `(prefetch + 1) × batchSize × 3 × 227 × 227 × 4` bytes.
/// ``next()`` is meant for one consumer thread; ``close()`` may come from any thread.
public final class BatchPipeline: @unchecked Sendable {
    public enum Mode: Sendable {
        /// Random 227 crop and horizontal flip, reshuffled each epoch, endless.
        case training
        /// Centre 227 crop, no flip, one pass over the examples in their order;
        /// the last batch may be short.
        case evaluation
    }

    public enum Limits {
        public static let maxBatchSize = 1024
        public static let maxWorkers = 64
        public static let maxPrefetch = 64
        /// Most bytes of batches in memory at once: `(prefetch + 1) × batchSize × 618,348`.
        public static let maxBufferedBytes = 4 << 30
        /// Largest image file read, in bytes (checked with fstat before reading).
        public static let maxImageBytes = 32 << 20
        /// Decoder limits for training images: far smaller than the Predict
        /// defaults, since every image is squeezed to 256 × 256 anyway.
        public static let imageLimits = ImageLimits(maxPixels: 16_000_000, maxSide: 8192)
    }

    public let examples: [LabeledExample]
    public let batchSize: Int
    public let mode: Mode
    public let seed: UInt64
    /// Training: `examples.count / batchSize` (at least 1); evaluation: the
    /// number of batches in the pass, `ceil(examples.count / batchSize)`.
    public let batchesPerEpoch: Int

    private let state: PipelineState
    private var threads: [WorkerThread] = []
    private let threadsLock = NSLock()

    /// - Parameters:
    ///   - examples: at least one.
    ///   - batchSize: 1...``Limits/maxBatchSize``; a training batch has
    ///     `min(batchSize, examples.count)` samples.
    ///   - root: when given, error messages name files relative to it.
    ///   - startBatch: the first global batch index to produce (≥ 0); in
    ///     evaluation mode batches before it are skipped.
    ///   - workers: 1...``Limits/maxWorkers`` threads; prefetch: 1...``Limits/maxPrefetch`` batches.
    /// - Throws: ``TrainingDataError/emptyDataset(path:reason:)`` for no examples,
    ///   ``TrainingDataError/invalidArgument(_:)`` for parameters out of range.
    public init(examples: [LabeledExample], batchSize: Int, normalization: Normalization, mode: Mode, seed: UInt64,
                startBatch: Int = 0, workers: Int = 2, prefetch: Int = 3, root: DataRoot? = nil) throws {
        guard !examples.isEmpty else {
            throw TrainingDataError.emptyDataset(path: "", reason: "the pipeline was given no examples")
        }
        guard (1...Limits.maxBatchSize).contains(batchSize) else {
            throw TrainingDataError.invalidArgument("batch size \(batchSize) is not in 1...\(Limits.maxBatchSize)")
        }
        guard (1...Limits.maxWorkers).contains(workers) else {
            throw TrainingDataError.invalidArgument("data workers \(workers) is not in 1...\(Limits.maxWorkers)")
        }
        guard (1...Limits.maxPrefetch).contains(prefetch) else {
            throw TrainingDataError.invalidArgument("prefetch \(prefetch) is not in 1...\(Limits.maxPrefetch)")
        }
        guard startBatch >= 0 else { throw TrainingDataError.invalidArgument("start batch \(startBatch) is negative") }
        guard normalization.mean.count == 3, normalization.mean.allSatisfy(\.isFinite), normalization.scale.isFinite else {
            throw TrainingDataError.invalidArgument("normalization needs 3 finite means and a finite scale")
        }
        let batchBytes = min(batchSize, examples.count) * Augmentation.sampleFloats * MemoryLayout<Float>.size
        guard batchBytes * (prefetch + 1) <= Limits.maxBufferedBytes else {
            throw TrainingDataError.invalidArgument(
                "\(prefetch + 1) batches of \(batchSize) images need \(batchBytes * (prefetch + 1)) bytes; "
                    + "the limit is \(Limits.maxBufferedBytes)")
        }
        self.examples = examples
        self.batchSize = batchSize
        self.mode = mode
        self.seed = seed
        let n = examples.count
        let perEpoch = mode == .training ? max(1, n / batchSize) : (n + batchSize - 1) / batchSize
        self.batchesPerEpoch = perEpoch
        state = PipelineState(
            plan: BatchPlan(examples: examples, batchSize: batchSize, batchesPerEpoch: perEpoch, mode: mode, seed: seed,
                            table: Augmentation.lookupTable(normalization), root: root),
            start: startBatch, end: mode == .training ? Int.max : perEpoch, prefetch: prefetch)
        do {
            for index in 0..<workers {
                let state = self.state
                threads.append(try WorkerThread(name: "facerpc-data-\(index)") { state.workLoop() })
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Blocks until the next batch is ready and returns it; nil after the last
    /// batch of an evaluation pass (never in training).
    /// - Throws: the first ``TrainingDataError/badImage(path:reason:)`` (or
    ///   unreadable/missing file) in sequence order, naming the file, and the
    ///   same error on every later call; ``TrainingDataError/pipelineClosed``
    ///   once ``close()`` was called.
    public func next() throws -> TrainingBatch? {
        try state.next()
    }

    /// Stops the workers and waits for them to exit (a worker finishes the image
    /// it is decoding, then stops). Idempotent; `deinit` calls it. A ``next()``
    /// blocked in another thread throws ``TrainingDataError/pipelineClosed``.
    public func close() {
        state.stop(closing: true)
        threadsLock.lock()
        let running = threads
        threads = []
        threadsLock.unlock()
        for thread in running { thread.join() }
    }
}

/// The fixed description of the batch sequence: which examples and crops make
/// batch `b`, and how to render them.
struct BatchPlan: Sendable {
    let examples: [LabeledExample]
    let batchSize: Int
    let batchesPerEpoch: Int
    let mode: BatchPipeline.Mode
    let seed: UInt64
    let table: [Float]
    let root: DataRoot?

    func epoch(of batch: Int) -> Int { mode == .training ? batch / batchesPerEpoch : 0 }

    /// The example indices of batch `b`, given its epoch's order (nil in evaluation: in order).
    func indices(of batch: Int, order: [Int]?) -> [Int] {
        let position = mode == .training ? batch % batchesPerEpoch : batch
        let start = position * batchSize
        let end = min(start + batchSize, examples.count)
        return order.map { Array($0[start..<end]) } ?? Array(start..<end)
    }

    /// Epoch `e`'s shuffle of all examples (training).
    func order(ofEpoch epoch: Int) -> [Int] {
        SeededShuffle.permutation(count: examples.count, seed: SeededShuffle.mix(seed, UInt64(epoch)))
    }

    func crop(batch: Int, slot: Int) -> CropParameters {
        mode == .training ? Augmentation.training(seed: seed, batch: batch, slot: slot) : Augmentation.evaluation
    }

    func display(_ path: String) -> String { root?.relativePath(of: path) ?? path }

    /// Decodes and renders batch `index`; nil when `shouldStop` says so between images.
    func produce(index: Int, indices: [Int], shouldStop: () -> Bool) -> Result<TrainingBatch, TrainingDataError>? {
        let count = indices.count
        var images = [Float](repeating: 0, count: count * Augmentation.sampleFloats)
        var crops: [CropParameters] = []
        crops.reserveCapacity(count)
        for (slot, exampleIndex) in indices.enumerated() {
            if shouldStop() { return nil }
            let example = examples[exampleIndex]
            let image: RGBImage
            do {
                let bytes = try FileAccess.readFile(example.path, maxBytes: BatchPipeline.Limits.maxImageBytes,
                                                    display: display(example.path))
                image = try JPEGDecoder.decode(bytes, limits: BatchPipeline.Limits.imageLimits).image
            } catch let error as TrainingDataError {
                return .failure(error)
            } catch {
                return .failure(.badImage(path: display(example.path), reason: "\(error)"))
            }
            let crop = crop(batch: index, slot: slot)
            crops.append(crop)
            let resized = Augmentation.resized(image)
            table.withUnsafeBufferPointer { lut in
                images.withUnsafeMutableBufferPointer { all in
                    let dst = UnsafeMutableBufferPointer(rebasing: all[(slot * Augmentation.sampleFloats)...])
                    Augmentation.render(resized, crop: crop, table: lut, into: dst)
                }
            }
        }
        return .success(TrainingBatch(
            images: images, labels: indices.map { examples[$0].label }, count: count, epoch: epoch(of: index),
            index: index, exampleIndices: indices, crops: crops))
    }
}

/// Everything the workers and the consumer share, guarded by `condition`'s
/// lock; `@unchecked Sendable` is sound because every access holds it (the
/// plan is immutable).
final class PipelineState: @unchecked Sendable {
    let plan: BatchPlan
    private let condition = NSCondition()
    private let prefetch: Int
    /// One past the last batch (Int.max in training).
    private let end: Int
    private var nextToClaim: Int
    private var nextToDeliver: Int
    private var ready: [Int: Result<TrainingBatch, TrainingDataError>] = [:]
    private var stopped = false
    private var closed = false
    private var failure: TrainingDataError?
    /// The most recent epochs' orders; claims are nearly in order, so two suffice.
    private var orders: [Int: [Int]] = [:]

    init(plan: BatchPlan, start: Int, end: Int, prefetch: Int) {
        self.plan = plan
        self.prefetch = prefetch
        self.end = end
        nextToClaim = start
        nextToDeliver = start
    }

    func stop(closing: Bool) {
        condition.lock()
        stopped = true
        if closing { closed = true }
        condition.broadcast()
        condition.unlock()
    }

    private var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    func next() throws -> TrainingBatch? {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        if closed { throw TrainingDataError.pipelineClosed }
        if nextToDeliver >= end { return nil }
        while ready[nextToDeliver] == nil && !closed { condition.wait() }
        if closed { throw TrainingDataError.pipelineClosed }
        let result = ready.removeValue(forKey: nextToDeliver)!
        nextToDeliver += 1
        condition.broadcast()  // room for another claim
        switch result {
        case .success(let batch):
            return batch
        case .failure(let error):
            failure = error
            stopped = true  // later batches are never delivered; let the workers go
            throw error
        }
    }

    func workLoop() {
        while true {
            condition.lock()
            while !stopped && nextToClaim < end && nextToClaim >= nextToDeliver + prefetch { condition.wait() }
            if stopped || nextToClaim >= end {
                condition.unlock()
                return
            }
            let index = nextToClaim
            nextToClaim += 1
            var order: [Int]?
            if plan.mode == .training {
                let epoch = plan.epoch(of: index)
                if let cached = orders[epoch] {
                    order = cached
                } else {
                    let fresh = plan.order(ofEpoch: epoch)
                    if orders.count >= 2, let oldest = orders.keys.min() { orders[oldest] = nil }
                    orders[epoch] = fresh
                    order = fresh
                }
            }
            condition.unlock()

            let indices = plan.indices(of: index, order: order)
            let result = plan.produce(index: index, indices: indices, shouldStop: { isStopped })

            condition.lock()
            if let result { ready[index] = result }
            condition.broadcast()
            condition.unlock()
            if result == nil { return }
        }
    }
}
