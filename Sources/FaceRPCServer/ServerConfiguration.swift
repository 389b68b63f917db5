import FaceRPCCore

/// Everything `facerpc serve` can be told. Validated by ``FaceRPCServer/start()``;
/// problems are ``ConfigurationError``s, reported before anything listens.
public struct ServerConfiguration: Sendable {
    /// Listeners. Empty means the defaults: ``Endpoint/defaultUnixPath`` and TCP on 127.0.0.1.
    public var endpoints: [Endpoint]
    /// When set, every call on a TCP listener must present it
    /// (`authorization: Bearer <token>`; UNAUTHENTICATED otherwise). The Unix
    /// socket is guarded by its file mode instead. TCP on a non-loopback
    /// address is refused at start-up without it.
    public var authToken: AuthToken? = nil
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
