import FaceRPCCore
import FaceRPCProtos
import FaceRPCWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One connection to a facerpc server, over which any number of calls are
/// pipelined by call id. Responses may arrive in any order.
///
/// Thread-safe: calls may be made from many tasks at once. Every call has a
/// deadline; the server enforces it, and the client gives up shortly after in
/// case the server never answers.
public final class FaceRPCConnection: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<ClientHandler>
    private let nextCallID = NIOLockedValueBox<UInt64>(0)
    /// Sent with every call, before the call's own metadata (credentials, say).
    public let defaultMetadata: [MetadataItem]

    /// How much longer than the deadline the client waits for the server's own
    /// DEADLINE_EXCEEDED before failing the call itself.
    public static let deadlineSlack: Duration = .milliseconds(500)

    private init(channel: any Channel, handler: NIOLoopBound<ClientHandler>, defaultMetadata: [MetadataItem]) {
        self.channel = channel
        self.handler = handler
        self.defaultMetadata = defaultMetadata
    }

    /// Connects to `endpoint`. Throws `RPCError(.unavailable)` when nothing
    /// listens there or the connection attempt exceeds `timeout`.
    /// - Parameter metadata: sent with every call, e.g. ``MetadataItem/bearer(_:)``
    ///   for a server started with `--auth-token-file`.
    public static func connect(
        to endpoint: Endpoint,
        timeout: Duration = .seconds(5),
        metadata: [MetadataItem] = [],
        maxFrameBytes: Int = ServerLimits().maxFrameBytes,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(RPCError) -> FaceRPCConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameToMessageDecoder(maxFrameBytes: maxFrameBytes)))
                    try channel.pipeline.syncOperations.addHandler(ClientHandler())
                }
            }
        let channel: any Channel
        do {
            switch endpoint {
            case .unix(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            case .tcp(let host, let port):
                channel = try await bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1).connect(host: host, port: port).get()
            }
        } catch {
            throw RPCError(code: .unavailable, message: "cannot connect to \(endpoint): \(error)")
        }
        do {
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ClientHandler.self), eventLoop: channel.eventLoop)
            }.get()
            return FaceRPCConnection(channel: channel, handler: handler, defaultMetadata: metadata)
        } catch {
            throw RPCError(code: .internalError, message: "client pipeline broken", cause: error)
        }
    }

    private func takeCallID() -> UInt64 {
        nextCallID.withLockedValue { id in
            id &+= 1
            if id == 0 { id = 1 }
            return id
        }
    }

    /// Makes one unary call and returns the response payload.
    /// - Parameter timeout: the call's deadline, sent to the server; nil sends none
    ///   (the server's default applies) and waits up to 5 minutes locally.
    public func unary(method: String, request: [UInt8], timeout: Duration? = .seconds(30),
                      metadata: [MetadataItem] = []) async throws(RPCError) -> [UInt8] {
        let callID = takeCallID()
        let envelope = Self.envelope(callID: callID, method: method, request: request, timeout: timeout, metadata: defaultMetadata + metadata)
        let localLimit = (timeout ?? .seconds(300)) + Self.deadlineSlack
        let loop = channel.eventLoop
        let handler = self.handler
        let promise = loop.makePromise(of: ResponseEnvelope.self)
        loop.execute {
            handler.value.startUnary(callID: callID, envelope: envelope, promise: promise, localLimit: localLimit)
        }
        let response: ResponseEnvelope
        do {
            response = try await promise.futureResult.get()
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .unavailable, message: "connection failed: \(error)", cause: error)
        }
        let code = StatusCode(rawValue: response.status?.code ?? StatusCode.unknown.rawValue)
        guard code == .ok else {
            throw RPCError(code: code, message: response.status?.message ?? "no status")
        }
        return response.payload
    }

    /// Makes a server-streaming call. The stream yields each message's payload
    /// and finishes on OK, or throws the call's `RPCError`. Ending iteration
    /// early cancels the call on the server.
    public func serverStreaming(method: String, request: [UInt8], timeout: Duration? = nil,
                                metadata: [MetadataItem] = []) -> AsyncThrowingStream<[UInt8], any Error> {
        let callID = takeCallID()
        let envelope = Self.envelope(callID: callID, method: method, request: request, timeout: timeout, metadata: defaultMetadata + metadata)
        let loop = channel.eventLoop
        let handler = self.handler
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                loop.execute { handler.value.cancel(callID: callID) }
            }
        }
        loop.execute { handler.value.startStream(callID: callID, envelope: envelope, continuation: continuation) }
        return stream
    }

    /// Closes the connection; calls still in flight fail with UNAVAILABLE.
    public func close() async {
        try? await channel.close()
    }

    private static func envelope(callID: UInt64, method: String, request: [UInt8], timeout: Duration?, metadata: [MetadataItem]) -> RequestEnvelope {
        var envelope = RequestEnvelope()
        envelope.callID = callID
        envelope.method = method
        envelope.payload = request
        if let timeout {
            envelope.timeoutMicros = UInt64(max(1, timeout.inNanoseconds / 1000))
        }
        envelope.metadata = metadata.map { item in
            var entry = MetadataEntry()
            entry.key = item.key
            entry.value = item.value
            return entry
        }
        return envelope
    }
}

// MARK: - Typed calls

extension FaceRPCConnection {
    /// Health/Check. "" asks about the whole server, a model name about that model.
    /// An unknown service comes back as `.serviceUnknown` (the server says NOT_FOUND).
    public func checkHealth(service: String = "", timeout: Duration = .seconds(5)) async throws(RPCError) -> HealthCheckResponse.ServingStatus {
        var request = HealthCheckRequest()
        request.service = service
        do {
            let payload = try await unary(method: Methods.healthCheck, request: request.serializedBytes(), timeout: timeout)
            return try decodeResponse(HealthCheckResponse.self, payload).status
        } catch where error.code == .notFound {
            return .serviceUnknown
        }
    }

    /// Models/List.
    public func listModels(timeout: Duration = .seconds(10)) async throws(RPCError) -> [ModelInfo] {
        let payload = try await unary(method: Methods.listModels, request: ListModelsRequest().serializedBytes(), timeout: timeout)
        return try decodeResponse(ListModelsResponse.self, payload).models
    }

    /// Predictor/Predict.
    public func predict(_ request: PredictRequest, timeout: Duration = .seconds(30)) async throws(RPCError) -> PredictResponse {
        let payload = try await unary(method: Methods.predict, request: request.serializedBytes(), timeout: timeout)
        return try decodeResponse(PredictResponse.self, payload)
    }
}

func decodeResponse<M: ProtoMessage>(_ type: M.Type, _ payload: [UInt8]) throws(RPCError) -> M {
    do {
        return try M(serializedBytes: payload)
    } catch {
        throw RPCError(code: .internalError, message: "undecodable \(M.self) from the server: \(error.message)", cause: error)
    }
}
