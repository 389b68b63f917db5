import FaceRPCClient
import FaceRPCCore
import FaceRPCProtos
import Foundation
import Testing

/// The `facerpc` binary as an operator runs it: `serve` in its own process,
/// stopped with SIGTERM, and probed with `facerpc health`.
@Suite(.serialized) struct ServeProcessTests {
    /// The binary built next to this test bundle.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["FACERPC_BIN"] { return path }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The .xctest bundle may be a folder on some platforms.
        if folder.lastPathComponent.hasSuffix(".xctest") { folder = folder.deletingLastPathComponent() }
        return folder.appendingPathComponent("facerpc").path
    }

    /// A running `facerpc serve` and the endpoints it printed.
    final class ServeProcess: @unchecked Sendable {
        let process = Process()
        let folder: String
        let unixPath: String
        var tcp: Endpoint = .tcp(host: "127.0.0.1", port: 0)
        private let output = Pipe()

        /// - Parameter models: the models folder (default: an empty one inside the process's own temporary folder).
        init(extraArguments: [String] = [], models: String? = nil, logLevel: String = "critical") throws {
            var template = Array("/tmp/facerpc-cli-XXXXXX".utf8CString)
            folder = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
            unixPath = folder + "/serve.sock"
            process.executableURL = URL(fileURLWithPath: ServeProcessTests.binary)
            process.arguments = ["serve", "--unix", unixPath, "--tcp", "127.0.0.1:0", "--models", models ?? folder + "/models",
                                 "--enable-debug-service", "--log-level", logLevel] + extraArguments
            process.standardOutput = output
            try process.run()
            // Readiness: one "listening on" line per listener.
            var lines: [String] = []
            var pending = Data()
            let deadline = Date().addingTimeInterval(20)
            while lines.count < 2, Date() < deadline {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
            }
            guard lines.contains("listening on unix:\(unixPath)"),
                  let tcpLine = lines.first(where: { $0.hasPrefix("listening on tcp:") }) else {
                process.terminate()
                throw ConfigurationError("server did not report readiness: \(lines)")
            }
            tcp = try Endpoint.parseTCP(String(tcpLine.dropFirst("listening on tcp:".count)))
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// Runs the CLI and returns its exit code and standard output.
    static func cli(_ arguments: [String]) throws -> (code: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func healthCommandExitCodes() async throws {
        let server = try ServeProcess()
        defer { server.stop() }
        let unix = try Self.cli(["health", "--unix", server.unixPath])
        #expect(unix.code == 0)
        #expect(unix.output.contains("SERVING"))
        guard case .tcp(let host, let port) = server.tcp else { return }
        #expect(try Self.cli(["health", "--tcp", "\(host):\(port)"]).code == 0)
        #expect(try Self.cli(["health", "--unix", server.unixPath, "--service", "no-such-model"]).code == 1)
        #expect(try Self.cli(["health", "--unix", server.folder + "/dead.sock"]).code == 2)
        #expect(try Self.cli(["health", "--tcp", "127.0.0.1:1"]).code == 2)
    }

    @Test func socketIsPrivateAndAStaleOneIsReplaced() async throws {
        let first = try ServeProcess()
        var info = stat()
        #expect(lstat(first.unixPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        // A second server on a live socket must refuse, not steal it.
        let second = Process()
        second.executableURL = URL(fileURLWithPath: Self.binary)
        second.arguments = ["serve", "--unix", first.unixPath, "--log-level", "critical"]
        second.standardOutput = FileHandle.nullDevice
        second.standardError = FileHandle.nullDevice
        try second.run()
        second.waitUntilExit()
        #expect(second.terminationStatus != 0)
        #expect(try Self.cli(["health", "--unix", first.unixPath]).code == 0)
        // kill -9 leaves a stale socket file; the next server replaces it.
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        #expect(access(first.unixPath, F_OK) == 0)
        let third = try ServeProcess()
        defer { third.stop() }
        #expect(try Self.cli(["health", "--unix", third.unixPath]).code == 0)
    }

    @Test func refusesNonLoopbackWithoutToken() throws {
        let result = try Self.cli(["serve", "--tcp", "0.0.0.0:0", "--log-level", "critical"])
        #expect(result.code != 0)
    }

    /// `serve --min-face-size` sets the smallest face of requests that name
    /// none; a request's own size still wins. 2008_002079.jpg has a face of
    /// about 26 px that only the 20 px pyramid finds.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"] != nil, "FACERPC_MODELS_DIR not set"))
    func serveMinFaceSizeIsThePredictDefault() throws {
        let photo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/../shared/data/detection/dlib_faces/2008_002079.jpg"
        try #require(FileManager.default.fileExists(atPath: photo), "../shared/data not found")
        #expect(try Self.cli(["serve", "--min-face-size", "1", "--log-level", "critical"]).code != 0)
        let server = try ServeProcess(extraArguments: ["--min-face-size", "20"],
                                      models: ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"])
        defer { server.stop() }
        // The server listens while the networks load; Predict waits for them.
        let loaded = Date().addingTimeInterval(60)
        while Date() < loaded, try ["age", "gender"].contains(where: {
            try Self.cli(["health", "--unix", server.unixPath, "--service", $0]).code != 0
        }) {
            usleep(100_000)
        }
        func faces(_ extra: [String]) throws -> Int {
            let result = try Self.cli(["predict", "--unix", server.unixPath, "--json"] + extra + [photo])
            #expect(result.code == 0)
            let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            return (json?["faces"] as? [Any])?.count ?? -1
        }
        let byServerDefault = try faces([])
        let at40 = try faces(["--min-face-size", "40"])
        #expect(at40 >= 4)
        #expect(byServerDefault > at40, "server default 20 px: \(byServerDefault) faces; request 40 px: \(at40)")
    }

    @Test func sigtermDrainsCallsInFlight() async throws {
        let server = try ServeProcess()
        defer { server.stop() }
        // Under load: 4 connections (Unix and TCP) with 16 calls in flight each when SIGTERM lands.
        var connections: [FaceRPCConnection] = []
        for index in 0..<4 {
            connections.append(try await FaceRPCConnection.connect(to: index % 2 == 0 ? server.tcp : .unixPath(server.unixPath)))
        }
        let calls = (0..<64).map { id in
            Task { [connection = connections[id % 4]] in
                try await connection.unary(method: Methods.debugSleep,
                                           request: SleepRequest(millis: UInt32(600 + id * 5), echo: [UInt8(id)]).serializedBytes())
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        kill(server.process.processIdentifier, SIGTERM)
        try await Task.sleep(for: .milliseconds(100))
        let connection = connections[0]
        #expect(try await connection.checkHealth() == .notServing)
        for (id, call) in calls.enumerated() {
            let reply = try await call.value
            #expect(try SleepResponse(serializedBytes: reply).echo == [UInt8(id)], "call \(id) lost during drain")
        }
        await offloadWait(server.process)
        #expect(server.process.terminationStatus == 0)
        #expect(access(server.unixPath, F_OK) != 0, "socket file removed")
    }
}

/// Waits for a process without blocking Swift's cooperative pool.
func offloadWait(_ process: Process) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().async {
            process.waitUntilExit()
            continuation.resume()
        }
    }
}
