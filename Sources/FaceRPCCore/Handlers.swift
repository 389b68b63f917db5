/// One metadata entry of a call, like a gRPC header.
public struct MetadataItem: Hashable, Sendable {
    public var key: String
    public var value: String
    public init(key: String, value: String) { self.key = key; self.value = value }
}

/// What a method handler knows about the call it serves. Transport-neutral:
/// the same context comes from a socket or from the in-process test transport.
public struct CallContext: Sendable {
    /// Full method path, e.g. `/facerpc.v1.Health/Check`.
    public var method: String
    /// The client's call id (unique among its calls in flight on one connection).
    public var callID: UInt64
    public var metadata: [MetadataItem]
    /// When the call must be answered by. Handlers doing long work check it
    /// (and Task cancellation, which the server triggers when it passes).
    public var deadline: ContinuousClock.Instant
    /// A printable description of the peer, for logs.
    public var peer: String

    public init(method: String, callID: UInt64, metadata: [MetadataItem], deadline: ContinuousClock.Instant, peer: String) {
        self.method = method; self.callID = callID; self.metadata = metadata
        self.deadline = deadline; self.peer = peer
    }

    /// Throws DEADLINE_EXCEEDED once the deadline has passed, CANCELLED if the task was cancelled.
    public func checkAlive() throws(RPCError) {
        if ContinuousClock.now >= deadline { throw .deadlineExceeded() }
        if Task.isCancelled { throw RPCError(code: .cancelled, message: "call cancelled") }
    }
}

/// Sends the messages of a server-streaming call, in order.
public protocol ResponseStreamWriter: Sendable {
    /// Queues one encoded response message. Throws CANCELLED once the call has
    /// ended (the client cancelled, the deadline passed, or the connection closed).
    func send(_ payload: [UInt8]) async throws(RPCError)
}

/// How a method is served. Handlers see encoded request bytes and return
/// encoded response bytes: the core knows neither transport nor codec.
public enum MethodHandler: Sendable {
    /// Cheap, non-blocking work answered right on the connection's event loop
    /// (health checks). Never use it for anything that can take more than microseconds.
    case inlineUnary(@Sendable (CallContext, [UInt8]) throws(RPCError) -> [UInt8])
    /// Work that may take time; runs as a task off the event loops and counts
    /// against ``ServerLimits/maxQueuedCalls``.
    case unary(@Sendable (CallContext, [UInt8]) async throws(RPCError) -> [UInt8])
    /// A server stream: any number of messages, then a final status.
    case serverStreaming(@Sendable (CallContext, [UInt8], any ResponseStreamWriter) async throws(RPCError) -> Void)
}

/// Maps method paths to handlers. Built once at start-up, then read-only.
public struct Router: Sendable {
    private var handlers: [String: MethodHandler] = [:]

    public init() {}

    public mutating func register(_ method: String, _ handler: MethodHandler) {
        handlers[method] = handler
    }

    public func handler(for method: String) -> MethodHandler? { handlers[method] }

    /// All registered method paths, sorted.
    public var methods: [String] { handlers.keys.sorted() }
}

/// A group of methods that registers itself with a router (grpc-swift's
/// `RegistrableRPCService`): predict, models, training and debug are each one.
public protocol RPCService: Sendable {
    func register(into router: inout Router)
}
