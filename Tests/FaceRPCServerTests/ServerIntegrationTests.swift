import FaceRPCClient
import FaceRPCCore
import FaceRPCProtos
import FaceRPCServer
import Foundation
import Testing

/// The real server on real sockets (a temporary Unix socket and a free TCP
/// port), driven by the real client and by a raw socket that sends exactly
/// the bytes each case needs.
@Suite struct ServerIntegrationTests {
    func sleepRequest(_ millis: UInt32, echo: [UInt8] = []) -> [UInt8] {
        SleepRequest(millis: millis, echo: echo).serializedBytes()
    }

    @Test func healthOnBothTransports() async throws {
        let server = try await TestServer.start()
        for endpoint in [server.unix, server.tcp] {
            let connection = try await FaceRPCConnection.connect(to: endpoint)
            #expect(try await connection.checkHealth() == .serving)
            #expect(try await connection.checkHealth(service: "no-such-model") == .serviceUnknown)
            await connection.close()
        }
        await server.stop()
    }

    @Test func socketFileIsPrivate() async throws {
        let server = try await TestServer.start()
        var info = stat()
        #expect(lstat(server.unixPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        await server.stop()
        #expect(access(server.unixPath, F_OK) != 0, "socket file removed on shutdown")
    }

    @Test func hundredPipelinedCallsCompleteOutOfOrder() async throws {
        let server = try await TestServer.start()
        let socket = try RawSocket(server.tcp)
        // Later calls sleep less, so they finish first.
        var burst: [UInt8] = []
        for id in 1...100 {
            let body = request(UInt64(id), Methods.debugSleep, sleepRequest(UInt32(300 - 3 * id), echo: [UInt8(id)])).serializedBytes()
            burst += withUnsafeBytes(of: UInt32(body.count).bigEndian) { Array($0) } + body
        }
        socket.send(burst)
        var order: [UInt64] = []
        for _ in 1...100 {
            let response = try #require(await socket.readResponse())
            #expect(response.status?.code == 0)
            let echo = try SleepResponse(serializedBytes: response.payload).echo
            #expect(echo == [UInt8(response.callID)])
            order.append(response.callID)
        }
        #expect(Set(order) == Set(1...100))
        #expect(order != order.sorted(), "responses came back in send order")
        await server.stop()
    }

    @Test func pipelinedCallsThroughTheClient() async throws {
        let server = try await TestServer.start()
        let connection = try await FaceRPCConnection.connect(to: server.unix)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 0..<100 {
                group.addTask {
                    let reply = try await connection.unary(method: Methods.debugSleep,
                                                          request: SleepRequest(millis: UInt32(id % 7) * 5, echo: [UInt8(id)]).serializedBytes())
                    #expect(try SleepResponse(serializedBytes: reply).echo == [UInt8(id)])
                }
            }
            try await group.waitForAll()
        }
        await connection.close()
        await server.stop()
    }

    @Test func oversizeFrameIsRefusedThenClosed() async throws {
        var limits = ServerLimits()
        limits.maxFrameBytes = 1024
        let server = try await TestServer.start(limits: limits)
        let socket = try RawSocket(server.unix)
        socket.send([0, 0, 4, 1])  // 1025: only the header is ever sent
        let response = try #require(await socket.readResponse())
        #expect(response.callID == 0)
        #expect(response.status?.code == StatusCode.resourceExhausted.rawValue)
        #expect(response.status?.message.contains("1025") == true)
        #expect(await socket.waitForClose(timeout: 2))

        // The default 4 MiB limit, against the largest length a header can declare.
        let other = try RawSocket(server.tcp)
        other.send([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(await other.readResponse()?.status?.code == StatusCode.resourceExhausted.rawValue)
        #expect(await other.waitForClose(timeout: 2))
        await server.stop()
    }

    @Test func garbageFrameIsInvalidArgumentAndTheConnectionSurvives() async throws {
        let server = try await TestServer.start()
        let socket = try RawSocket(server.unix)
        socket.sendFrame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x12])
        let response = try #require(await socket.readResponse())
        #expect(response.callID == 0)
        #expect(response.status?.code == StatusCode.invalidArgument.rawValue)
        socket.sendRequest(request(5, Methods.healthCheck))
        let health = try #require(await socket.readResponse())
        #expect(health.callID == 5)
        #expect(try HealthCheckResponse(serializedBytes: health.payload).status == .serving)
        await server.stop()
    }

    @Test func badPayloadIsInvalidArgument() async throws {
        let server = try await TestServer.start()
        let socket = try RawSocket(server.unix)
        socket.sendRequest(request(3, Methods.healthCheck, [0x0A, 0x05, 0x61]))  // string field cut short
        let response = try #require(await socket.readResponse())
        #expect(response.callID == 3)
        #expect(response.status?.code == StatusCode.invalidArgument.rawValue)
        socket.sendRequest(request(0, Methods.healthCheck))
        #expect(await socket.readResponse()?.status?.code == StatusCode.invalidArgument.rawValue)
        await server.stop()
    }

    @Test func unknownMethodIsUnimplemented() async throws {
        let server = try await TestServer.start()
        let connection = try await FaceRPCConnection.connect(to: server.tcp)
        await #expect(throws: RPCError.self) {
            _ = try await connection.unary(method: "/facerpc.v1.Nope/Nothing", request: [])
        }
        do {
            _ = try await connection.unary(method: "/facerpc.v1.Nope/Nothing", request: [])
        } catch {
            #expect(error.code == .unimplemented)
            #expect(error.message.contains("/facerpc.v1.Nope/Nothing"))
        }
        await server.stop()
    }

    @Test func missedDeadlineIsDeadlineExceeded() async throws {
        let server = try await TestServer.start()
        let socket = try RawSocket(server.unix)
        let start = Date()
        socket.sendRequest(request(9, Methods.debugSleep, sleepRequest(3000), timeoutMicros: 100_000))
        let response = try #require(await socket.readResponse())
        #expect(response.callID == 9)
        #expect(response.status?.code == StatusCode.deadlineExceeded.rawValue)
        #expect(Date().timeIntervalSince(start) < 2, "answered at the deadline, not after the work")
        await server.stop()
    }

    @Test func clientCancelEndsTheCall() async throws {
        let server = try await TestServer.start()
        let socket = try RawSocket(server.unix)
        socket.sendRequest(request(4, Methods.debugSleep, sleepRequest(10_000)))
        var cancel = RequestEnvelope()
        cancel.callID = 4
        cancel.cancel = true
        socket.sendRequest(cancel)
        let response = try #require(await socket.readResponse(timeout: 2))
        #expect(response.callID == 4)
        #expect(response.status?.code == StatusCode.cancelled.rawValue)
        await server.stop()
    }

    @Test func perConnectionCallLimit() async throws {
        var limits = ServerLimits()
        limits.maxConcurrentCallsPerConnection = 2
        let server = try await TestServer.start(limits: limits)
        let socket = try RawSocket(server.unix)
        for id in 1...3 { socket.sendRequest(request(UInt64(id), Methods.debugSleep, sleepRequest(300))) }
        let first = try #require(await socket.readResponse())
        #expect(first.callID == 3)
        #expect(first.status?.code == StatusCode.resourceExhausted.rawValue)
        #expect(await socket.readResponse()?.status?.code == 0)
        #expect(await socket.readResponse()?.status?.code == 0)
        await server.stop()
    }

    @Test func serverWideQueueLimit() async throws {
        var limits = ServerLimits()
        limits.maxQueuedCalls = 2
        let server = try await TestServer.start(limits: limits)
        let a = try RawSocket(server.unix), b = try RawSocket(server.tcp)
        a.sendRequest(request(1, Methods.debugSleep, sleepRequest(400)))
        b.sendRequest(request(1, Methods.debugSleep, sleepRequest(400)))
        try await Task.sleep(for: .milliseconds(100))
        let c = try RawSocket(server.unix)
        c.sendRequest(request(1, Methods.debugSleep, sleepRequest(10)))
        #expect(await c.readResponse()?.status?.code == StatusCode.resourceExhausted.rawValue)
        // Health is answered on the event loop and is never refused for load.
        c.sendRequest(request(2, Methods.healthCheck))
        #expect(await c.readResponse()?.status?.code == 0)
        #expect(await a.readResponse()?.status?.code == 0)
        #expect(await b.readResponse()?.status?.code == 0)
        await server.stop()
    }

    @Test func connectionLimitRefusesClearly() async throws {
        var limits = ServerLimits()
        limits.maxConnections = 3
        let server = try await TestServer.start(limits: limits)
        let held = try (0..<3).map { _ in try RawSocket(server.unix) }
        for socket in held { socket.sendRequest(request(1, Methods.healthCheck)); #expect(await socket.readResponse()?.status?.code == 0) }
        let extra = try RawSocket(server.unix)
        let refusal = try #require(await extra.readResponse())
        #expect(refusal.callID == 0)
        #expect(refusal.status?.code == StatusCode.resourceExhausted.rawValue)
        #expect(refusal.status?.message.contains("too many connections") == true)
        #expect(await extra.waitForClose(timeout: 2))
        // Optimised builds may release (and close) the held sockets after their last use.
        withExtendedLifetime(held) {}
        await server.stop()
    }

    @Test func idleAndHalfOpenConnectionsTimeOut() async throws {
        var limits = ServerLimits()
        limits.idleTimeout = .milliseconds(300)
        limits.frameReadTimeout = .milliseconds(300)
        let server = try await TestServer.start(limits: limits)
        let idle = try RawSocket(server.unix)
        let halfFrame = try RawSocket(server.tcp)
        halfFrame.send([0, 0, 0, 50, 1, 2, 3])  // promises 50 bytes, sends 3
        let response = try #require(await halfFrame.readResponse(timeout: 3))
        #expect(response.status?.code == StatusCode.deadlineExceeded.rawValue)
        #expect(await halfFrame.waitForClose(timeout: 3))
        #expect(await idle.waitForClose(timeout: 3))
        await server.stop()
    }

    @Test func watchStreamsHealthChanges() async throws {
        let server = try await TestServer.start()
        let connection = try await FaceRPCConnection.connect(to: server.unix)
        let stream = connection.serverStreaming(method: Methods.healthWatch, request: HealthCheckRequest().serializedBytes())
        var iterator = stream.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        #expect(try HealthCheckResponse(serializedBytes: first).status == .serving)
        server.server.initiateGracefulShutdown()
        let second = try #require(try await iterator.next())
        #expect(try HealthCheckResponse(serializedBytes: second).status == .notServing)
        await server.server.waitUntilStopped()
    }

    @Test func drainFinishesCallsInFlightAndRefusesNewWork() async throws {
        let server = try await TestServer.start()
        let busy = try await FaceRPCConnection.connect(to: server.unix)
        let calls = (0..<5).map { id in
            Task { try await busy.unary(method: Methods.debugSleep, request: SleepRequest(millis: 600, echo: [UInt8(id)]).serializedBytes()) }
        }
        try await Task.sleep(for: .milliseconds(150))
        server.server.initiateGracefulShutdown()
        try await Task.sleep(for: .milliseconds(50))

        #expect(try await busy.checkHealth() == .notServing)
        do {
            _ = try await busy.unary(method: Methods.debugSleep, request: SleepRequest(millis: 1).serializedBytes())
            Issue.record("a new call was accepted while draining")
        } catch {
            #expect(error.code == .unavailable)
        }
        // The listeners close as the drain begins; allow the event loop a moment.
        for endpoint in [server.unix, server.tcp] {
            var refused = false
            for _ in 0..<100 where !refused {
                do {
                    let late = try await FaceRPCConnection.connect(to: endpoint, timeout: .seconds(1))
                    await late.close()
                    try await Task.sleep(for: .milliseconds(20))
                } catch {
                    refused = true
                }
            }
            #expect(refused, "\(endpoint) still accepts connections while draining")
        }
        for (id, call) in calls.enumerated() {
            let reply = try await call.value
            #expect(try SleepResponse(serializedBytes: reply).echo == [UInt8(id)])
        }
        await server.server.waitUntilStopped()
        #expect(access(server.unixPath, F_OK) != 0)
    }
}
