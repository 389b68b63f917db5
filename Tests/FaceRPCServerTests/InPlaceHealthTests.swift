import FaceRPCCore
import FaceRPCProtos
import FaceRPCServer
import Foundation
import Testing

/// Health/Check of service "" with an empty payload is answered from
/// pre-encoded frames; the same question asked with an explicitly encoded
/// empty service name (payload `0a 00`) goes through the router. Both must
/// give the same bytes, in every state, and every rule of the routed path
/// (tokens, call-id reuse, the per-connection limit) must still apply.
@Suite struct InPlaceHealthTests {
    /// The raw frame body of the next response.
    func readFrame(_ socket: RawSocket) async -> [UInt8]? {
        await offload {
            guard let header = socket.read(count: 4, timeout: 5) else { return nil }
            let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
            return socket.read(count: length, timeout: 5)
        }
    }

    /// `request` encoded by hand in the load generator's shape (call_id, method, and a payload only if given).
    func health(_ callID: UInt8, payload: [UInt8]? = nil) -> [UInt8] {
        var body: [UInt8] = [0x08, callID, 0x12, UInt8(Methods.healthCheck.utf8.count)] + Array(Methods.healthCheck.utf8)
        if let payload { body += [0x2a, UInt8(payload.count)] + payload }
        return body
    }

    @Test func inPlaceAndRoutedAnswersAreTheSameBytesServingAndDraining() async throws {
        let server = try await TestServer.start()
        let sockets = [try RawSocket(server.unix), try RawSocket(server.tcp)]
        for draining in [false, true] {
            if draining {
                server.server.initiateGracefulShutdown()
                try await Task.sleep(for: .milliseconds(30))
            }
            for socket in sockets {
                // Pipelined: in one write, the in-place answers between routed ones.
                socket.send(([1, 2, 3, 4] as [UInt8]).flatMap { id -> [UInt8] in
                    let body = health(id, payload: id % 2 == 0 ? [0x0a, 0x00] : nil)
                    return withUnsafeBytes(of: UInt32(body.count).bigEndian) { Array($0) } + body
                })
                var frames: [UInt8: [UInt8]] = [:]
                for _ in 0..<4 {
                    let frame = try #require(await readFrame(socket))
                    #expect(frame.count > 2 && frame[0] == 0x08)
                    frames[frame[1]] = Array(frame.dropFirst(2))
                }
                #expect(frames.count == 4)
                #expect(frames[1] == frames[2] && frames[3] == frames[4] && frames[1] == frames[4], "draining \(draining)")
                let envelope = try ResponseEnvelope(serializedBytes: [0x08, 1] + (frames[1] ?? []))
                #expect(envelope.status?.code == 0 && envelope.endOfStream)
                #expect(try HealthCheckResponse(serializedBytes: envelope.payload).status == (draining ? .notServing : .serving))
            }
        }
        await server.server.waitUntilStopped()
    }

    @Test func tcpWithATokenRefusesHealthWithoutIt() async throws {
        let token = try AuthToken("in-place-health-secret-0123456789")
        let server = try await TestServer.start(authToken: token)
        let tcp = try RawSocket(server.tcp), unix = try RawSocket(server.unix)
        tcp.sendFrame(health(1))
        let refused = try #require(await tcp.readResponse())
        #expect(refused.callID == 1 && refused.status?.code == StatusCode.unauthenticated.rawValue)
        var withToken = request(2, Methods.healthCheck)
        withToken.metadata = [MetadataEntry(key: token.metadata.key, value: token.metadata.value)]
        tcp.sendRequest(withToken)
        #expect(await tcp.readResponse()?.status?.code == 0)
        // The Unix socket is guarded by its file mode, not the token.
        unix.sendFrame(health(3))
        let answer = try #require(await unix.readResponse())
        #expect(answer.callID == 3 && answer.status?.code == 0)
        await server.stop()
    }

    @Test func callLimitAndIDReuseStillApply() async throws {
        var limits = ServerLimits()
        limits.maxConcurrentCallsPerConnection = 1
        let server = try await TestServer.start(limits: limits)
        let socket = try RawSocket(server.unix)
        socket.sendRequest(request(7, Methods.debugSleep, SleepRequest(millis: 300).serializedBytes()))
        try await Task.sleep(for: .milliseconds(50))
        socket.sendFrame(health(7))
        let reused = try #require(await socket.readResponse())
        #expect(reused.callID == 0 && reused.status?.code == StatusCode.invalidArgument.rawValue)
        #expect(reused.status?.message.contains("reused") == true)
        socket.sendFrame(health(8))
        let over = try #require(await socket.readResponse())
        #expect(over.callID == 8 && over.status?.code == StatusCode.resourceExhausted.rawValue)
        #expect(await socket.readResponse()?.callID == 7)
        socket.sendFrame(health(9))
        let fine = try #require(await socket.readResponse())
        #expect(fine.callID == 9 && fine.status?.code == 0)
        await server.stop()
    }

    /// A service that replaces Health/Check turns the pre-encoded answers off.
    struct AlwaysNotServing: RPCService {
        func register(into router: inout Router) {
            router.register(Methods.healthCheck, .inlineUnary { _, _ throws(RPCError) in
                var response = HealthCheckResponse()
                response.status = .notServing
                return response.serializedBytes()
            })
        }
    }

    @Test func aReplacedHealthCheckIsNotAnsweredInPlace() async throws {
        let server = try await TestServer.start(services: [AlwaysNotServing()])
        let socket = try RawSocket(server.unix)
        socket.sendFrame(health(1))
        let answer = try #require(await socket.readResponse())
        #expect(answer.status?.code == 0)
        #expect(try HealthCheckResponse(serializedBytes: answer.payload).status == .notServing)
        await server.stop()
    }
}
