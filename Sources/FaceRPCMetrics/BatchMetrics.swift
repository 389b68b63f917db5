import CoreMetrics

/// The dynamic batcher's metrics for one model: the size of every batch it
/// formed, how long the network run took, and the chips waiting.
public struct BatchMetrics: Sendable {
    private let sizes: Recorder
    private let runs: Timer
    private let depth: Gauge

    public init(model: String, factory: any MetricsFactory = MetricsSystem.factory) {
        let dimensions = [("model", MetricLimits.boundedLabel(model))]
        sizes = Recorder(label: MetricCatalog.batchSize.name, dimensions: dimensions, aggregate: true, factory: factory)
        runs = Timer(label: MetricCatalog.batchRunDuration.name, dimensions: dimensions, factory: factory)
        depth = Gauge(label: MetricCatalog.batchQueueDepth.name, dimensions: dimensions, factory: factory)
        depth.record(0)
    }

    /// One network run of `size` chips that took `runNanoseconds`.
    public func batchRan(size: Int, runNanoseconds: Int64) {
        sizes.record(size)
        runs.recordNanoseconds(max(0, runNanoseconds))
    }

    /// Chips waiting now. Call it where the queue changes, under the queue's
    /// lock, so successive values arrive in order.
    public func queueDepth(_ chips: Int) {
        depth.record(chips)
    }
}
