import FaceRPCClient
import FaceRPCCore
import FaceRPCProtos
import Foundation
import Testing

/// Who may call: the token on TCP, the file mode on the Unix socket, and no
/// non-loopback listener without a token.
@Suite(.serialized) struct AccessControlTests {
    static func tokenFile(_ token: String) throws -> String {
        let path = NSTemporaryDirectory() + "facerpc-token-\(UInt32.random(in: 0...UInt32.max))"
        try token.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }

    @Test("a non-loopback listener without a token refuses to start, naming the flag")
    func nonLoopbackNeedsToken() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeProcessTests.binary)
        process.arguments = ["serve", "--tcp", "0.0.0.0:0", "--unix", NSTemporaryDirectory() + "facerpc-ac.sock", "--log-level", "critical"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(message.contains("--auth-token-file"), "\(message)")
    }

    @Test("a token shorter than 16 bytes is refused at start-up")
    func shortTokenRefused() throws {
        let file = try Self.tokenFile("short\n")
        defer { unlink(file) }
        let result = try ServeProcessTests.cli(["serve", "--tcp", "127.0.0.1:0", "--auth-token-file", file, "--log-level", "critical"])
        #expect(result.code != 0)
    }

    @Test("with a token, TCP calls need it (constant-time checked) and the Unix socket does not")
    func tokenOnTCP() async throws {
        let token = "s3cr3t-" + String(UInt64.random(in: 0...UInt64.max), radix: 36) + "-facerpc"
        let file = try Self.tokenFile(token + "\n")
        defer { unlink(file) }
        // Loopback TCP: with a token configured, every TCP listener requires it.
        let server = try ServeProcessTests.ServeProcess(extraArguments: ["--auth-token-file", file])
        defer { server.stop() }

        let anonymous = try await FaceRPCConnection.connect(to: server.tcp)
        let refused = await #expect(throws: RPCError.self) { _ = try await anonymous.listModels() }
        #expect(refused?.code == .unauthenticated)
        #expect(refused?.message.contains("authorization: Bearer") == true)
        await anonymous.close()

        for wrong in ["", token + "x", String(token.dropLast()) + "X", "Basic " + token] {
            let connection = try await FaceRPCConnection.connect(to: server.tcp, metadata: [MetadataItem(key: "authorization", value: wrong.hasPrefix("Basic") ? wrong : "Bearer " + wrong)])
            let error = await #expect(throws: RPCError.self) { _ = try await connection.checkHealth() }
            #expect(error?.code == .unauthenticated, "accepted '\(wrong)'")
            await connection.close()
        }

        let authorised = try await FaceRPCConnection.connect(to: server.tcp, metadata: [.bearer(token)])
        #expect(try await authorised.checkHealth() == .serving)
        _ = try await authorised.listModels()
        await authorised.close()

        let local = try await FaceRPCConnection.connect(to: .unixPath(server.unixPath))
        #expect(try await local.checkHealth() == .serving)
        await local.close()

        // The CLI presents it with --token-file; without, the probe is an error (exit 2), not NOT_SERVING.
        guard case .tcp(let address, let port) = server.tcp else { Issue.record("no TCP listener"); return }
        let host = "\(address):\(port)"
        #expect(try ServeProcessTests.cli(["health", "--tcp", host, "--token-file", file]).code == 0)
        #expect(try ServeProcessTests.cli(["health", "--tcp", host]).code == 2)
    }
}
