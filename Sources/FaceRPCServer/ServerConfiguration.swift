import FaceRPCCore

/// Everything `facerpc serve` can be told. Validated by ``FaceRPCServer/start()``;
/// problems are ``ConfigurationError``s, reported before anything listens.
public struct ServerConfiguration: Sendable {
    /// Listeners. Empty means the defaults: ``Endpoint/defaultUnixPath`` and TCP on 127.0.0.1.
    public var endpoints: [Endpoint]
    /// TCP on a non-loopback address must be asked for explicitly.
    public var allowNonLoopback: Bool = false
    /// Unix socket file mode: 0600 by default, 0660 when a group is given.
    public var socketGroup: String? = nil
    public var limits = ServerLimits()
    /// Event loop threads (network I/O only; inference runs elsewhere).
    public var eventLoopThreads: Int = 1
    /// Serves `/facerpc.v1.Debug/Sleep` (tests hold calls in flight with it).
    public var enableDebugService: Bool = false

    public init(endpoints: [Endpoint] = []) {
        self.endpoints = endpoints
    }

    /// The listeners actually used: the given ones, or the two defaults.
    public var effectiveEndpoints: [Endpoint] {
        endpoints.isEmpty
            ? [.unix(path: Endpoint.defaultUnixPath), .tcp(host: "127.0.0.1", port: Endpoint.defaultTCPPort)]
            : endpoints
    }
}
