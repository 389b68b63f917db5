import CoreMetrics
import FaceRPCCore
import NIOConcurrencyHelpers

/// Per-call metrics of one server: a counter by method and status code, a
/// latency histogram by method, and the open-connection gauge.
///
/// Method labels come only from the methods the server registered (plus
/// ``MetricLimits/otherMethod``), never from the raw path a client sent, so
/// the number of series is bounded. Handles are created once and cached:
/// recording a call costs a dictionary look-up, one uncontended lock and two
/// atomic updates in the backend; recording through a resolved
/// ``CallSeries`` skips the look-up and the lock, and records a batch of
/// calls with one counter update.
public final class RPCMetrics: Sendable {
    private struct CounterKey: Hashable {
        var method: Int
        var code: UInt32
    }

    private let factory: any MetricsFactory
    /// Method path to its index in `labels` and `timers`; unknown paths use the last index.
    private let index: [String: Int]
    private let labels: [String]
    private let timers: [Timer]
    /// Created on first use, so that only codes that happened become series.
    private let counters = NIOLockedValueBox<[CounterKey: Counter]>([:])
    private let connections: Meter

    /// - Parameters:
    ///   - methods: the method paths the server serves (the router's list).
    ///   - factory: the swift-metrics backend; the bootstrapped one by default
    ///     (a no-op one when `facerpc serve` runs without `--metrics-address`).
    public init(methods: [String], factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        let labels = methods + [MetricLimits.otherMethod]
        self.labels = labels
        var index: [String: Int] = [:]
        for (position, method) in methods.enumerated() { index[method] = position }
        self.index = index
        self.timers = labels.map {
            Timer(label: MetricCatalog.rpcDuration.name, dimensions: [("method", $0)], factory: factory)
        }
        self.connections = Meter(label: MetricCatalog.connectionsOpen.name, factory: factory)
    }

    /// The label a method path is counted under: itself if served, else "other".
    public func methodLabel(_ path: String) -> String {
        labels[index[path] ?? labels.count - 1]
    }

    /// Records one finished call.
    /// - Parameters:
    ///   - method: the request's method path (any string; unknown ones count as "other").
    ///   - code: the final status sent.
    ///   - nanoseconds: from the request frame being read to the status being written.
    public func callFinished(method: String, code: StatusCode, nanoseconds: Int64) {
        let position = index[method] ?? labels.count - 1
        timers[position].recordNanoseconds(max(0, nanoseconds))
        counter(position: position, code: code).increment()
    }

    /// The instruments of one method and status code, resolved once so that
    /// a hot path can count calls without the look-up and lock of
    /// ``callFinished(method:code:nanoseconds:)``.
    public struct CallSeries: Sendable {
        fileprivate let timer: Timer
        fileprivate let counter: Counter
    }

    /// The series calls of `method` (unknown paths count as "other") ending
    /// with `code` are recorded in. Creates the counter series if no such
    /// call was recorded before, so resolve it when the first such call ends.
    public func series(method: String, code: StatusCode) -> CallSeries {
        let position = index[method] ?? labels.count - 1
        return CallSeries(timer: timers[position], counter: counter(position: position, code: code))
    }

    /// Records `count` finished calls of one series at once, each with the
    /// latency `nanoseconds`: the same counts and histogram observations as
    /// `count` calls of ``callFinished(method:code:nanoseconds:)``.
    public func callsFinished(_ series: CallSeries, count: Int, nanoseconds: Int64) {
        guard count > 0 else { return }
        series.counter.increment(by: Int64(count))
        let nanoseconds = max(0, nanoseconds)
        for _ in 0..<count { series.timer.recordNanoseconds(nanoseconds) }
    }

    private func counter(position: Int, code: StatusCode) -> Counter {
        let key = CounterKey(method: position, code: code.rawValue)
        return counters.withLockedValue { counters -> Counter in
            if let existing = counters[key] { return existing }
            let made = Counter(label: MetricCatalog.rpcCalls.name,
                               dimensions: [("method", labels[position]), ("code", code.name)], factory: factory)
            counters[key] = made
            return made
        }
    }

    /// A connection was accepted (counted even if it is then refused for being over the limit).
    public func connectionOpened() { connections.increment() }

    /// A connection closed.
    public func connectionClosed() { connections.decrement() }
}
