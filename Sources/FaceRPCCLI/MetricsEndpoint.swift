import FaceRPCCore
import FaceRPCMetrics
import FaceRPCPrometheus
import FaceRPCRegistry
import Prometheus

/// `facerpc serve --metrics-address`: the Prometheus endpoint beside the RPC listeners.
enum MetricsEndpoint {
    /// The port Prometheus' own exporters conventionally leave to applications.
    static let conventionalPort = 9464

    /// Parses `HOST:PORT`, `[V6]:PORT`, `:PORT` or `PORT`. Without a host it
    /// is loopback (127.0.0.1): exposing metrics elsewhere must be spelled out.
    static func parse(_ text: String) throws(ConfigurationError) -> (host: String, port: Int) {
        let spelled = text.hasPrefix(":") ? "127.0.0.1" + text : (Int(text) != nil ? "127.0.0.1:" + text : text)
        guard case .tcp(let host, let port) = try Endpoint.parseTCP(spelled) else {
            throw ConfigurationError("bad metrics address '\(text)'")
        }
        if !text.contains(":") && Int(text) == nil { return (host, conventionalPort) }
        return (host, port)
    }

    /// Binds the endpoint. Must run after ``PrometheusBackend/bootstrap()`` gave `prometheus`.
    /// Model versions and process gauges are refreshed at each scrape.
    static func start(address: String, prometheus: PrometheusCollectorRegistry,
                      models: ModelRegistry) async throws -> (server: MetricsHTTPServer, url: String) {
        let (host, port) = try parse(address)
        let modelMetrics = ModelMetrics()
        let processMetrics = ProcessMetrics()
        let server = MetricsHTTPServer(registry: prometheus) {
            modelMetrics.update(models.descriptors().map {
                ModelMetrics.Model(name: $0.name, version: $0.version, state: $0.state.rawValue)
            })
            processMetrics.sample()
        }
        let bound = try await server.start(host: host, port: port)
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return (server, "http://\(shownHost):\(bound)/metrics")
    }
}
