import FaceRPCTestSupport
import FaceRPCMetrics
import FaceRPCPrometheus
import Foundation
import Prometheus
import Synchronization
import Testing

/// The exporter on its own, on a private registry, over real loopback sockets.
@Suite(.serialized) struct MetricsHTTPServerTests {
    @Test func servesTheExpositionWithHelpLinesAndRefusesEverythingElse() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusBackend.makeFactory(registry: registry)
        let scrapes = Mutex(0)
        let training = TrainingMetrics(factory: factory)
        let server = MetricsHTTPServer(registry: registry) {
            scrapes.withLock { $0 += 1 }
            training.update(job: "j", model: "lh-age", step: 3, totalSteps: 4, loss: 0.5, examplesPerSecond: 100, state: .running)
        }
        let port = try await server.start(host: "127.0.0.1", port: 0)

        let ok = try #require(try await blocking { try HTTPGet.get(port: port, path: "/metrics") })
        #expect(ok.status == 200)
        #expect(ok.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(ok.headers["content-length"] == "\(ok.body.utf8.count)")
        #expect(ok.body.contains("# HELP facerpc_training_progress_ratio \(MetricCatalog.trainingProgress.help)\n# TYPE facerpc_training_progress_ratio gauge\n"))
        #expect(parseExposition(ok.body).value("facerpc_training_progress_ratio", ["job": "j"]) == 0.75)
        #expect(scrapes.withLock { $0 } == 1, "the hook runs before each scrape")

        let withQuery = try #require(try await blocking { try HTTPGet.get(port: port, path: "/metrics?name[]=x") })
        #expect(withQuery.status == 200)

        let head = try #require(try await blocking { try HTTPGet.get(port: port, path: "/metrics", method: "HEAD") })
        #expect(head.status == 200 && head.body.isEmpty)

        let missing = try #require(try await blocking { try HTTPGet.get(port: port, path: "/") })
        #expect(missing.status == 404)
        let post = try #require(try await blocking { try HTTPGet.get(port: port, path: "/metrics", method: "POST") })
        #expect(post.status == 405)
        #expect(post.headers["allow"] == "GET, HEAD")
        #expect(scrapes.withLock { $0 } == 3)

        // A request over the size limit is cut off without an answer.
        let huge = Array("GET /metrics HTTP/1.1\r\nX-Pad: \(String(repeating: "a", count: MetricsHTTPLimits.maxRequestBytes))\r\n\r\n".utf8)
        let refused = try await blocking { try HTTPGet.exchange(port: port, request: huge) }
        #expect(refused == nil || refused?.status != 200)
        #expect(scrapes.withLock { $0 } == 3)

        await server.stop()
        #expect(throws: (any Error).self) { try HTTPGet.get(port: port, path: "/metrics") }
    }
}

/// Runs blocking socket I/O off Swift's cooperative pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

