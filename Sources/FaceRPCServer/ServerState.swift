import Atomics
import FaceRPCCore
import FaceRPCMetrics
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// State shared by every connection of one server: the router, the limits, and
/// the counters that enforce the server-wide limits. Read from many event loops.
final class ServerState: Sendable {
    let router: Router
    let limits: ServerLimits
    let logger: Logger
    /// Required of calls on TCP connections when set.
    let authToken: AuthToken?
    /// Calls by method and status, latencies, open connections (swift-metrics;
    /// a no-op unless the process bootstrapped a backend).
    let metrics: RPCMetrics
    /// Open connections (including ones about to be refused).
    let connections = ManagedAtomic<Int>(0)
    /// Calls that run off the event loop, server-wide, against ``ServerLimits/maxQueuedCalls``.
    let queuedCalls = ManagedAtomic<Int>(0)
    /// Unary calls in flight: draining waits for this to reach zero.
    let unaryInFlight = ManagedAtomic<Int>(0)
    /// Set once on SIGTERM/SIGINT: health says NOT_SERVING, new work is refused.
    let draining: ManagedAtomic<Bool>
    /// Open child channels, so that shutdown can close them.
    let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    /// One ``TickFlusher`` per event loop, made on first use.
    private let flushers = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<TickFlusher>]>([:])

    /// Answers Health/Check of service "" without the router, when the
    /// router's Health/Check is the built-in one and the limits cannot refuse
    /// such a call (see ``ServerConnectionHandler``).
    let preencodedHealthCheck: PreencodedHealthCheck?

    init(router: Router, limits: ServerLimits, logger: Logger, draining: ManagedAtomic<Bool>, authToken: AuthToken? = nil,
         preencodedHealthCheck: PreencodedHealthCheck? = nil) {
        // The in-place answer skips the envelope checks a bare health call
        // always passes; with limits this small it might not, so the routed
        // path (which applies them) must answer.
        let limitsAdmitHealth = limits.maxMethodBytes >= Methods.healthCheck.utf8.count
            && limits.maxMetadataEntries >= 0 && limits.maxMetadataBytes >= 0
            && limits.maxConcurrentCallsPerConnection >= 1
        self.preencodedHealthCheck = limitsAdmitHealth ? preencodedHealthCheck : nil
        self.authToken = authToken
        self.draining = draining
        self.router = router
        self.limits = limits
        self.logger = logger
        self.metrics = RPCMetrics(methods: router.methods)
    }

    var isDraining: Bool { draining.load(ordering: .acquiring) }

    /// The flusher of `eventLoop`; call on that loop (once per connection).
    func tickFlusher(for eventLoop: any EventLoop) -> TickFlusher {
        flushers.withLockedValue { flushers in
            if let existing = flushers[ObjectIdentifier(eventLoop)] { return existing.value }
            let made = TickFlusher(eventLoop: eventLoop)
            flushers[ObjectIdentifier(eventLoop)] = NIOLoopBound(made, eventLoop: eventLoop)
            return made
        }
    }

    /// Reserves a slot for a call that will run off the event loop.
    func tryAcquireQueueSlot() -> Bool {
        let after = queuedCalls.wrappingIncrementThenLoad(ordering: .acquiringAndReleasing)
        if after > limits.maxQueuedCalls {
            queuedCalls.wrappingDecrement(ordering: .acquiringAndReleasing)
            return false
        }
        return true
    }

    func releaseQueueSlot() {
        queuedCalls.wrappingDecrement(ordering: .acquiringAndReleasing)
    }
}
