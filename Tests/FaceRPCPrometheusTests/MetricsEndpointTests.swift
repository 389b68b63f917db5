import FaceRPCTestSupport
import FaceRPCClient
import FaceRPCCore
import FaceRPCMetrics
import FaceRPCProtos
import Foundation
import Testing

/// `facerpc serve --metrics-address 127.0.0.1:0` as an operator runs it: real
/// calls over the RPC socket, then a scrape over a real HTTP connection.
@Suite(.serialized) struct MetricsEndpointTests {
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["FACERPC_BIN"] { return path }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: exe).deletingLastPathComponent()
        if folder.lastPathComponent.hasSuffix(".xctest") { folder = folder.deletingLastPathComponent() }
        return folder.appendingPathComponent("facerpc").path
    }

    /// The pretrained models, when this checkout has them.
    static var modelsDirectory: String? {
        let path = ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"] ?? "models"
        return FileManager.default.fileExists(atPath: path + "/age/model.json") ? path : nil
    }

    /// A running `facerpc serve` with metrics on, and the addresses it printed.
    final class Server: @unchecked Sendable {
        let process = Process()
        let folder: String
        var tcp: Endpoint = .tcp(host: "127.0.0.1", port: 0)
        var metricsPort = 0
        private let output = Pipe()

        init(models: String?) throws {
            var template = Array("/tmp/facerpc-metrics-XXXXXX".utf8CString)
            folder = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
            process.executableURL = URL(fileURLWithPath: MetricsEndpointTests.binary)
            process.arguments = ["serve", "--unix", folder + "/s.sock", "--tcp", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
                                 "--models", models ?? (folder + "/none"), "--threads", "1", "--compute-threads", "1",
                                 "--log-level", "critical"]
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var lines: [String] = []
            var pending = Data()
            let deadline = Date().addingTimeInterval(30)
            while !lines.contains(where: { $0.hasPrefix("metrics on ") }), Date() < deadline {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
            }
            guard let tcpLine = lines.first(where: { $0.hasPrefix("listening on tcp:") }),
                  let metricsLine = lines.first(where: { $0.hasPrefix("metrics on http://127.0.0.1:") }),
                  let port = Int(metricsLine.dropFirst("metrics on http://127.0.0.1:".count).prefix { $0.isNumber }),
                  metricsLine.hasSuffix("/metrics") else {
                stop()
                throw ConfigurationError("server did not report readiness: \(lines)")
            }
            tcp = try Endpoint.parseTCP(String(tcpLine.dropFirst("listening on tcp:".count)))
            metricsPort = port
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    func scrape(_ server: Server) async throws -> [Sample] {
        let port = server.metricsPort
        let answer = try #require(try await blocking { try HTTPGet.get(port: port, path: "/metrics") })
        #expect(answer.status == 200)
        return parseExposition(answer.body)
    }

    @Test func callsConnectionsAndProcessSeriesAfterALoad() async throws {
        let server = try Server(models: nil)
        defer { server.stop() }
        let client = try await FaceRPCConnection.connect(to: server.tcp)
        for _ in 0..<5 { #expect(try await client.checkHealth() == .serving) }
        #expect(try await client.checkHealth(service: "no-such-model") == .serviceUnknown, "NOT_FOUND on the wire")
        _ = try await client.listModels()
        _ = try await client.listModels()
        do {
            _ = try await client.unary(method: "/facerpc.v1.Nope/Nothing", request: [])
            Issue.record("an unknown method succeeded")
        } catch {
            #expect(error.code == .unimplemented)
        }

        let samples = try await scrape(server)
        let calls = MetricCatalog.rpcCalls.name
        #expect(samples.value(calls, ["method": Methods.healthCheck, "code": "OK"]) == 5)
        #expect(samples.value(calls, ["method": Methods.healthCheck, "code": "NOT_FOUND"]) == 1)
        #expect(samples.value(calls, ["method": Methods.listModels, "code": "OK"]) == 2)
        #expect(samples.value(calls, ["method": "other", "code": "UNIMPLEMENTED"]) == 1)
        let duration = MetricCatalog.rpcDuration.name
        #expect(samples.value(duration + "_count", ["method": Methods.healthCheck]) == 6)
        let healthSeconds = try #require(samples.value(duration + "_sum", ["method": Methods.healthCheck]))
        #expect(healthSeconds > 0 && healthSeconds < 1, "six health checks answered on the event loop take far under a second")
        #expect(samples.value(duration + "_bucket", ["method": Methods.healthCheck, "le": "+Inf"]) == 6)
        #expect(samples.value(MetricCatalog.connectionsOpen.name) == 1)
        let resident = try #require(samples.value(MetricCatalog.residentMemory.name))
        #expect(resident > 4_000_000 && resident < 8_000_000_000)
        #expect((samples.value(MetricCatalog.openFileDescriptors.name) ?? 0) >= 5)

        await client.close()
        // The closed connection leaves the gauge (the server sees the close asynchronously).
        var open = 1.0
        for _ in 0..<50 where open != 0 {
            open = try await scrape(server).value(MetricCatalog.connectionsOpen.name) ?? -1
            if open != 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(open == 0)
    }

    @Test(.enabled(if: modelsDirectory != nil, "needs the pretrained models (make setup)"))
    func modelSeriesAfterPredictCalls() async throws {
        let server = try Server(models: Self.modelsDirectory)
        defer { server.stop() }
        let client = try await FaceRPCConnection.connect(to: server.tcp)
        // Models load after the listeners are up.
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let age = try await client.checkHealth(service: "age")
            let gender = try await client.checkHealth(service: "gender")
            if age == .serving && gender == .serving { break }
            guard ContinuousClock.now < deadline else { Issue.record("models did not load"); return }
            try await Task.sleep(for: .milliseconds(100))
        }
        var random = SystemRandomNumberGenerator()
        let side: UInt32 = 96
        let pixels = (0..<Int(side * side * 3)).map { _ in UInt8.random(in: 0...255, using: &random) }
        var options = PredictOptions()
        options.faceCrop = true
        for _ in 0..<3 {
            let response = try await client.predict(PredictRequest(image: .raw(RawImage(width: side, height: side, rgb: pixels)), options: options))
            #expect(response.faces.count == 1)
        }

        let samples = try await scrape(server)
        #expect(samples.value(MetricCatalog.rpcCalls.name, ["method": Methods.predict, "code": "OK"]) == 3)
        for model in ["age", "gender"] {
            let batches = try #require(samples.value(MetricCatalog.batchSize.name + "_count", ["model": model]))
            let chips = try #require(samples.value(MetricCatalog.batchSize.name + "_sum", ["model": model]))
            #expect(batches >= 1 && batches <= 3)
            // Mirror averaging (the server default) runs each face as two rows.
            #expect(chips == 6, "three calls of one face each, each face as its chip and its mirror")
            #expect(samples.value(MetricCatalog.batchRunDuration.name + "_count", ["model": model]) == batches)
            #expect(samples.value(MetricCatalog.batchQueueDepth.name, ["model": model]) == 0)
            let info = samples.filter { $0.name == MetricCatalog.modelInfo.name && $0.labels["model"] == model }
            #expect(info.count == 1)
            #expect(info.first?.labels["state"] == "serving")
            #expect(info.first?.labels["version"]?.isEmpty == false)
            #expect(info.first?.value == 1)
        }
        await client.close()
    }
}
