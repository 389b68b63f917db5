import FaceRPCClient
import FaceRPCCore
import FaceRPCProtos
import Foundation
import Testing

/// Whatever arrives on a socket, the server stays up and keeps answering
/// everyone else promptly.
@Suite struct AbuseTests {
    @Test func survivesMalformedFramesHalfOpenConnectionsAndChurn() async throws {
        let server = try await TestServer.start()
        var generator = SystemRandomNumberGenerator()

        // Hundreds of malformed, oversize, truncated and garbage frames.
        for round in 0..<400 {
            let socket = try RawSocket(round % 2 == 0 ? server.unix : server.tcp)
            switch round % 5 {
            case 0: socket.sendFrame((0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            case 1: socket.send([0x7F, 0xFF, 0xFF, 0xFF])                        // oversize header
            case 2: socket.send([0, 0, 1, 0] + [UInt8](repeating: 0x41, count: 10)) // truncated, then close
            case 3: socket.sendRequest(request(UInt64(round), "", [1, 2, 3]))      // empty method
            default: socket.sendRequest(request(UInt64(round), Methods.healthCheck, [0xFF, 0xFF]))
            }
        }

        // 300 half-open connections: a partial header, then silence.
        var halfOpen: [RawSocket] = []
        for index in 0..<300 {
            let socket = try RawSocket(index % 2 == 0 ? server.unix : server.tcp)
            socket.send([0, 0])
            halfOpen.append(socket)
        }

        // 1,000 connect/close cycles.
        for index in 0..<1000 {
            _ = try RawSocket(index % 2 == 0 ? server.unix : server.tcp)
        }

        let start = ContinuousClock.now
        let connection = try await FaceRPCConnection.connect(to: server.unix, timeout: .seconds(1))
        #expect(try await connection.checkHealth(timeout: .seconds(1)) == .serving)
        #expect(ContinuousClock.now - start < .seconds(1))
        await connection.close()
        withExtendedLifetime(halfOpen) {}
        await server.stop()
    }
}
