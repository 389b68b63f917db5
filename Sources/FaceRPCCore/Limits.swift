/// Every limit the server enforces on what a peer may send or hold, in one
/// place. Each is checked before anything of that size is allocated.
///
/// Defaults follow gRPC where gRPC has one (4 MiB messages); the rest are
/// sized for a 2-core replica serving thousands of calls per second.
public struct ServerLimits: Sendable, Equatable {
    /// Largest frame body (the encoded envelope), in bytes. gRPC's default message limit.
    public var maxFrameBytes: Int = 4 * 1024 * 1024
    /// Connections open at once; the next one is told RESOURCE_EXHAUSTED and closed.
    public var maxConnections: Int = 1024
    /// Calls in flight on one connection (like HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).
    public var maxConcurrentCallsPerConnection: Int = 128
    /// Calls that need a worker thread (everything but health), server-wide.
    /// Beyond it calls are refused with RESOURCE_EXHAUSTED instead of queueing without bound.
    public var maxQueuedCalls: Int = 256
    /// Length of `RequestEnvelope.method`, in bytes.
    public var maxMethodBytes: Int = 256
    /// Number of metadata entries on one call.
    public var maxMetadataEntries: Int = 64
    /// Total bytes of metadata keys and values on one call.
    public var maxMetadataBytes: Int = 8 * 1024
    /// Largest deadline a client may ask for; longer ones are clamped.
    public var maxTimeout: Duration = .seconds(3600)
    /// Deadline for unary calls that carry none.
    public var defaultUnaryTimeout: Duration = .seconds(60)
    /// A connection with no call in flight and no bytes received for this long is closed.
    public var idleTimeout: Duration = .seconds(300)
    /// Once a frame has started arriving, it must complete within this time
    /// (defeats slow-loris and half-open peers).
    public var frameReadTimeout: Duration = .seconds(15)
    /// How long a draining server waits for calls in flight before cancelling them.
    public var drainGracePeriod: Duration = .seconds(20)

    public init() {}
}
