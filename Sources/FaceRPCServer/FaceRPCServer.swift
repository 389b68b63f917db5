#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Atomics
import FaceRPCCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The facerpc server: listeners on Unix and TCP sockets, one
/// ``ServerConnectionHandler`` per connection, and a router of services.
///
/// Lifecycle: ``start()`` binds every listener (or throws a
/// ``ConfigurationError`` and binds none), ``initiateGracefulShutdown()``
/// drains, and ``waitUntilStopped()`` returns once everything is closed.
public final class FaceRPCServer: Sendable {
    public let configuration: ServerConfiguration
    private let state: ServerState
    private let group: MultiThreadedEventLoopGroup
    private let listeners = NIOLockedValueBox<[any Channel]>([])
    private let socketFiles = NIOLockedValueBox<[String]>([])
    private let stopped = NIOLockedValueBox<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// - Parameters:
    ///   - services: extra services (predict, training); health is built in,
    ///     models is added when `catalog` is given, debug when configured.
    public init(configuration: ServerConfiguration, services: [any RPCService] = [],
                catalog: (any ModelCatalog)? = nil, logger: Logger) {
        self.configuration = configuration
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        var router = Router()
        // Health reads the drain flag, which the state owns; the state needs
        // the finished router, so the flag is made first and shared.
        let draining = ManagedAtomic<Bool>(false)
        let health = HealthService(draining: draining, catalog: catalog)
        health.register(into: &router)
        if let catalog { ModelsService(catalog: catalog).register(into: &router) }
        if configuration.enableDebugService { DebugService().register(into: &router) }
        // The given services go last, so they may replace a built-in method;
        // gathered apart first to see whether they replace Health/Check, whose
        // pre-encoded answers must then not be used.
        var given = Router()
        for service in services { service.register(into: &given) }
        for method in given.methods { router.register(method, given.handler(for: method)!) }
        let healthCheck = given.handler(for: Methods.healthCheck) == nil ? PreencodedHealthCheck(health: health) : nil
        self.state = ServerState(router: router, limits: configuration.limits, logger: logger, draining: draining,
                                 authToken: configuration.authToken, preencodedHealthCheck: healthCheck)
    }

    /// True once a drain has begun.
    public var isDraining: Bool { state.isDraining }

    /// Connections open right now.
    public var openConnections: Int { state.connections.load(ordering: .relaxed) }

    /// Binds every listener. Returns the bound endpoints (a TCP port of 0 is
    /// replaced by the port the kernel chose).
    public func start() async throws -> [Endpoint] {
        var bound: [Endpoint] = []
        do {
            for endpoint in configuration.effectiveEndpoints {
                bound.append(try await bind(endpoint))
            }
        } catch {
            await closeListeners()
            throw error
        }
        return bound
    }

    private func bind(_ endpoint: Endpoint) async throws -> Endpoint {
        let state = self.state
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Void> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ServerConnectionHandler(state: state))
            }
        }
        switch endpoint {
        case .tcp(let host, let port):
            if !endpoint.isLoopback && configuration.authToken == nil {
                throw ConfigurationError("refusing to listen on non-loopback address \(host) without authentication: "
                    + "give --auth-token-file FILE (callers then send 'authorization: Bearer <token>')")
            }
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 512)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer(initializer)
                .bind(host: host, port: port).get()
            listeners.withLockedValue { $0.append(channel) }
            return .tcp(host: host, port: channel.localAddress?.port ?? port)

        case .unix(let path):
            try UnixSocketFile.prepare(path: path, isDefault: path == Endpoint.defaultUnixPath)
            // Bind under a restrictive umask so the socket is never, even
            // briefly, connectable by other users; then set the final mode.
            let previous = umask(0o177)
            let result: Result<any Channel, any Error>
            do {
                result = .success(try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 512)
                    .childChannelOption(.maxMessagesPerRead, value: 16)
                    .childChannelInitializer(initializer)
                    .bind(unixDomainSocketPath: path).get())
            } catch {
                result = .failure(error)
            }
            umask(previous)
            let channel = try result.get()
            listeners.withLockedValue { $0.append(channel) }
            socketFiles.withLockedValue { $0.append(path) }
            try UnixSocketFile.setPermissions(path: path, group: configuration.socketGroup)
            return endpoint
        }
    }

    /// Starts draining; safe to call from any thread, more than once.
    ///
    /// Health turns NOT_SERVING, listeners close (no new connections), socket
    /// files are removed, new non-health calls get UNAVAILABLE, and unary calls
    /// in flight get up to ``ServerLimits/drainGracePeriod`` to finish. Then
    /// every connection is closed (streams end with UNAVAILABLE).
    public func initiateGracefulShutdown() {
        guard state.draining.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        state.logger.info("draining", metadata: ["calls_in_flight": "\(state.unaryInFlight.load(ordering: .relaxed))"])
        Task { await self.drain() }
    }

    private func drain() async {
        await closeListeners()
        let giveUp = ContinuousClock.now + configuration.limits.drainGracePeriod
        while state.unaryInFlight.load(ordering: .acquiring) > 0, ContinuousClock.now < giveUp {
            try? await Task.sleep(for: .milliseconds(10))
        }
        // Health watchers poll for changes; give them time to see NOT_SERVING
        // before their connection goes away.
        try? await Task.sleep(for: HealthService.watchInterval * 3)
        let left = state.unaryInFlight.load(ordering: .acquiring)
        if left > 0 { state.logger.warning("grace period over; cancelling calls", metadata: ["calls": "\(left)"]) }
        for channel in state.channels.withLockedValue({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent())
        }
        let closeBy = ContinuousClock.now + .seconds(2)
        while state.connections.load(ordering: .acquiring) > 0, ContinuousClock.now < closeBy {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for channel in state.channels.withLockedValue({ Array($0.values) }) {
            try? await channel.close()
        }
        try? await group.shutdownGracefully()
        state.logger.info("stopped")
        let waiters = stopped.withLockedValue { value -> [CheckedContinuation<Void, Never>] in
            value.done = true
            defer { value.waiters = [] }
            return value.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func closeListeners() async {
        let channels = listeners.withLockedValue { channels in
            defer { channels = [] }
            return channels
        }
        for channel in channels { try? await channel.close() }
        for path in socketFiles.withLockedValue({ files in defer { files = [] }; return files }) {
            unlink(path)
        }
    }

    /// Returns once a drain has finished and everything is closed.
    public func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = stopped.withLockedValue { value -> Bool in
                if value.done { return true }
                value.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
