import FaceRPCCore
import FaceRPCMetrics
import FaceRPCRegistry
import Foundation

/// Batches the face chips of concurrent calls into one network run, like
/// Triton's dynamic batcher: the first chip to arrive waits at most
/// ``Configuration/maxDelay`` for others, and a batch closes early once it
/// holds ``Configuration/maxBatch`` chips.
///
/// One worker thread per model runs the batches (the network itself may use
/// several threads). The queue is bounded: past ``Configuration/maxQueuedSamples``
/// chips waiting, new work is refused with RESOURCE_EXHAUSTED instead of growing.
public final class DynamicBatcher: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Most chips in one network run.
        public var maxBatch: Int = 32
        /// Longest the oldest waiting chip is held back for others to join.
        public var maxDelay: Duration = .microseconds(1500)
        /// Most chips waiting, across all calls; beyond it calls are refused.
        public var maxQueuedSamples: Int = 1024
        /// Wait only for announced calls (``DynamicBatcher/announce()``): a
        /// batch closes at once when no announced call is still on its way,
        /// since nothing else could join it within `maxDelay`. Off, every
        /// batch that is not full waits the whole `maxDelay`.
        public var waitOnlyForAnnounced = false
        public init() {}
    }

    /// What one run of the model gives back for one request's chips.
    public struct Output: Sendable {
        /// `count * outputSize` values, one row per chip.
        public var values: [Float]
        public var outputSize: Int
        /// The model version that produced it.
        public var version: String
        /// Time spent waiting to join a batch, and running it, in seconds.
        public var queueSeconds: Double
        public var runSeconds: Double
        /// How many chips (from all calls) shared the run.
        public var batchSize: Int
    }

    public let modelName: String
    public let configuration: Configuration
    private let state: BatchQueue

    /// - Parameter model: returns the model to run now; called once per batch,
    ///   so a hot swap takes effect at the next batch and never mid-call.
    public init(modelName: String, configuration: Configuration = Configuration(),
                model: @escaping @Sendable () -> ServingModel?) {
        self.modelName = modelName
        self.configuration = configuration
        self.state = BatchQueue(configuration: configuration, modelName: modelName, model: model)
        let state = self.state
        let thread = Thread { state.workLoop() }
        thread.name = "facerpc-batch-\(modelName)"
        thread.start()
    }

    /// Runs `count` chips (`count * sampleSize` floats, NCHW) as part of a batch.
    ///
    /// - Parameter announced: this call was announced with ``announce()``;
    ///   its arrival ends the announcement.
    public func run(_ samples: [Float], count: Int, announced: Bool = false) async throws(RPCError) -> Output {
        precondition(count >= 1)
        let result: Result<Output, RPCError> = await withCheckedContinuation { continuation in
            state.enqueue(BatchQueue.Item(samples: samples, count: count, enqueued: .now, continuation: continuation),
                          announced: announced)
        }
        return try result.get()
    }

    /// Says a call will bring chips soon (its image is being decoded and its
    /// faces found). Each announcement ends exactly once: by
    /// `run(_:count:announced: true)` or by ``withdraw()``.
    public func announce() { state.announce() }

    /// Ends an announcement whose call brings no chips (no face, or an error).
    public func withdraw() { state.withdraw() }

    /// Chips waiting now (a gauge for metrics and tests).
    public var queuedSamples: Int { state.queuedSamples }
}

/// The waiting items of one batcher, guarded by `condition`'s lock
/// (`@unchecked Sendable`: every field is only touched with it held, except
/// the immutable ones).
final class BatchQueue: @unchecked Sendable {
    struct Item {
        var samples: [Float]
        var count: Int
        var enqueued: ContinuousClock.Instant
        var continuation: CheckedContinuation<Result<DynamicBatcher.Output, RPCError>, Never>
    }

    private let condition = NSCondition()
    private var items: [Item] = []
    private var queued = 0
    /// Announced calls not yet arrived.
    private var announced = 0
    private let configuration: DynamicBatcher.Configuration
    private let modelName: String
    private let model: @Sendable () -> ServingModel?
    /// Batch sizes, run times and queue depth for this model.
    private let metrics: BatchMetrics

    init(configuration: DynamicBatcher.Configuration, modelName: String, model: @escaping @Sendable () -> ServingModel?) {
        self.configuration = configuration
        self.modelName = modelName
        self.model = model
        self.metrics = BatchMetrics(model: modelName)
    }

    var queuedSamples: Int {
        condition.lock()
        defer { condition.unlock() }
        return queued
    }

    func announce() {
        condition.lock()
        announced += 1
        condition.unlock()
    }

    func withdraw() {
        condition.lock()
        announced -= 1
        // A batch waiting for this call need not wait any more.
        condition.signal()
        condition.unlock()
    }

    func enqueue(_ item: Item, announced wasAnnounced: Bool) {
        condition.lock()
        if wasAnnounced { announced -= 1 }
        if queued + item.count > configuration.maxQueuedSamples {
            condition.unlock()
            item.continuation.resume(returning: .failure(.resourceExhausted(
                "model '\(modelName)' is overloaded: \(configuration.maxQueuedSamples) faces already queued")))
            return
        }
        items.append(item)
        queued += item.count
        metrics.queueDepth(queued)
        condition.signal()
        condition.unlock()
    }

    /// Takes the next batch: waits for the first item, then until the batch
    /// is full, the oldest item has waited `maxDelay`, or (with
    /// `waitOnlyForAnnounced`) no announced call is still to come.
    private func nextBatch() -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty { condition.wait() }
        let closeAt = items[0].enqueued + configuration.maxDelay
        while queued < configuration.maxBatch {
            if configuration.waitOnlyForAnnounced && announced <= 0 { break }
            let left = ContinuousClock.now.duration(to: closeAt)
            if left <= .zero { break }
            _ = condition.wait(until: Date(timeIntervalSinceNow: left.inSeconds))
        }
        // Whole items only; an item larger than maxBatch runs on its own.
        var taken = 0
        var batch: [Item] = []
        while let first = items.first, batch.isEmpty || taken + first.count <= configuration.maxBatch {
            batch.append(items.removeFirst())
            taken += first.count
        }
        queued -= taken
        metrics.queueDepth(queued)
        return batch
    }

    func workLoop() {
        while true {
            let batch = nextBatch()
            run(batch)
        }
    }

    private func run(_ batch: [Item]) {
        let started = ContinuousClock.now
        guard let serving = model() else {
            for item in batch {
                item.continuation.resume(returning: .failure(.unavailable("model '\(modelName)' is not serving")))
            }
            return
        }
        let sampleSize = serving.model.inputShape.reduce(1, *)
        let outputSize = serving.model.outputShape.reduce(1, *)
        var input: [Float] = []
        var total = 0
        var runnable: [Item] = []
        for item in batch {
            guard item.samples.count == item.count * sampleSize else {
                // Prepared for another version's input size (a hot swap in between).
                item.continuation.resume(returning: .failure(.unavailable("model '\(modelName)' changed while the call was queued; retry")))
                continue
            }
            input += item.samples
            total += item.count
            runnable.append(item)
        }
        guard !runnable.isEmpty else { return }
        do {
            let output = try serving.model.run(input, batch: total)
            let finished = ContinuousClock.now
            let runSeconds = started.duration(to: finished).inSeconds
            metrics.batchRan(size: total, runNanoseconds: Int64(runSeconds * 1e9))
            var offset = 0
            for item in runnable {
                let slice = Array(output[offset..<(offset + item.count * outputSize)])
                offset += item.count * outputSize
                item.continuation.resume(returning: .success(DynamicBatcher.Output(
                    values: slice, outputSize: outputSize, version: serving.descriptor.version,
                    queueSeconds: item.enqueued.duration(to: started).inSeconds, runSeconds: runSeconds,
                    batchSize: total)))
            }
        } catch {
            for item in runnable {
                item.continuation.resume(returning: .failure(.internalError("model '\(modelName)' failed: \(error)", cause: error)))
            }
        }
    }
}
