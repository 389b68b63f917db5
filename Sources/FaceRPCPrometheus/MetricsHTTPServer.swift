import FaceRPCMetrics
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// Bounds on the metrics endpoint, which faces whoever can reach its port.
public enum MetricsHTTPLimits {
    /// Bytes one connection may send (request line, headers and any body)
    /// before it is closed; a scrape request is a few hundred bytes.
    public static let maxRequestBytes = 16 * 1024
    /// Connections open at once; more are closed on accept.
    public static let maxConnections = 32
    /// A connection is closed this long after it opened, answered or not
    /// (every response closes the connection anyway).
    public static let connectionLifetime: TimeAmount = .seconds(30)
}

/// A minimal HTTP/1.1 server for Prometheus: `GET /metrics` (or `HEAD`)
/// answers the registry's text exposition, any other path is 404 and any
/// other method on /metrics is 405. Each response closes its connection.
///
/// It runs on its own event-loop thread, so rendering a scrape never delays
/// an RPC. `beforeScrape` runs before each rendering, on that thread: it
/// refreshes the gauges read on demand (process memory, model versions).
public final class MetricsHTTPServer: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let beforeScrape: @Sendable () -> Void
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)
    private let connections = NIOLockedValueBox<Int>(0)

    public init(registry: PrometheusCollectorRegistry, beforeScrape: @escaping @Sendable () -> Void = {}) {
        self.registry = registry
        self.beforeScrape = beforeScrape
    }

    /// Binds `host:port` (port 0 picks a free one) and returns the bound port.
    public func start(host: String, port: Int) async throws -> Int {
        let registry = self.registry
        let beforeScrape = self.beforeScrape
        let connections = self.connections
        let bound = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let admitted = connections.withLockedValue { count -> Bool in
                    guard count < MetricsHTTPLimits.maxConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in connections.withLockedValue { $0 -= 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(RequestSizeLimiter(limit: MetricsHTTPLimits.maxRequestBytes))
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try sync.addHandler(MetricsRequestHandler(registry: registry, beforeScrape: beforeScrape))
                }
            }
            .bind(host: host, port: port).get()
        channel.withLockedValue { $0 = bound }
        return bound.localAddress?.port ?? port
    }

    /// Closes the listener and stops the event loop.
    public func stop() async {
        if let listener = channel.withLockedValue({ value in defer { value = nil }; return value }) {
            try? await listener.close()
        }
        try? await group.shutdownGracefully()
    }
}

/// Closes a connection that sends more than `limit` bytes: nothing a client
/// sends is buffered beyond that, whatever the HTTP decoder would allow.
private final class RequestSizeLimiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let limit: Int
    private var received = 0
    private var lifetime: Scheduled<Void>?

    init(limit: Int) { self.limit = limit }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        lifetime = context.eventLoop.scheduleTask(in: MetricsHTTPLimits.connectionLifetime) {
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        lifetime?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        guard received <= limit else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        lifetime?.cancel()
        context.fireChannelInactive()
    }
}

private final class MetricsRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Answer {
        case metrics(head: Bool)
        case status(HTTPResponseStatus)
    }

    private let registry: PrometheusCollectorRegistry
    private let beforeScrape: @Sendable () -> Void
    private var answer: Answer?
    private var version = HTTPVersion.http1_1

    init(registry: PrometheusCollectorRegistry, beforeScrape: @escaping @Sendable () -> Void) {
        self.registry = registry
        self.beforeScrape = beforeScrape
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            version = head.version
            let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            if path != "/metrics" {
                answer = .status(.notFound)
            } else if head.method == .GET || head.method == .HEAD {
                answer = .metrics(head: head.method == .HEAD)
            } else {
                answer = .status(.methodNotAllowed)
            }
        case .body:
            break // bounded by RequestSizeLimiter; a scrape has none
        case .end:
            guard let answer else { return }
            self.answer = nil
            respond(answer, context: context)
        }
    }

    private func respond(_ answer: Answer, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Connection", value: "close")
        let status: HTTPResponseStatus
        var body = context.channel.allocator.buffer(capacity: 0)
        var sendBody = true
        switch answer {
        case .metrics(let headOnly):
            beforeScrape()
            status = .ok
            body.writeBytes(PrometheusBackend.exposition(registry))
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            sendBody = !headOnly
        case .status(let code):
            status = code
            body.writeString("\(code.code) \(code.reasonPhrase)\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            if code == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        }
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if sendBody { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
