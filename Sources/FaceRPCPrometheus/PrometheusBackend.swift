import CoreMetrics
import FaceRPCMetrics
import Prometheus

/// The Prometheus backend for facerpc's swift-metrics instruments.
public enum PrometheusBackend {
    /// A factory writing into `registry`, with the histogram buckets of
    /// ``MetricCatalog`` (durations in seconds, batch sizes in chips) instead
    /// of swift-prometheus's millisecond-scale defaults.
    public static func makeFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        for family in MetricCatalog.all where family.kind == .histogram {
            factory.durationHistogramBuckets[family.name] = family.buckets.map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }
            factory.valueHistogramBuckets[family.name] = family.buckets
        }
        return factory
    }

    /// Makes a registry and bootstraps `MetricsSystem` with it. Once per
    /// process (swift-metrics refuses a second bootstrap); call it before any
    /// instrument is created, since instruments bind to the factory of the moment.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(makeFactory(registry: registry))
        return registry
    }

    /// The registry's text exposition (format 0.0.4) with a `# HELP` line for
    /// every family facerpc documents (swift-metrics has no way to carry help text).
    public static func exposition(_ registry: PrometheusCollectorRegistry) -> [UInt8] {
        let raw = registry.emitToBuffer()
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + 4096)
        let typePrefix = Array("# TYPE ".utf8)
        var lineStart = 0
        while lineStart < raw.count {
            var lineEnd = lineStart
            while lineEnd < raw.count, raw[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let line = raw[lineStart..<lineEnd]
            if line.starts(with: typePrefix) {
                let rest = line.dropFirst(typePrefix.count)
                let name = String(decoding: rest.prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)
                if let family = MetricCatalog.family(named: name) {
                    out.append(contentsOf: "# HELP \(name) \(escapeHelp(family.help))\n".utf8)
                }
            }
            out.append(contentsOf: line)
            out.append(UInt8(ascii: "\n"))
            lineStart = lineEnd + 1
        }
        return out
    }

    /// Backslash and newline are the only characters HELP text must escape.
    static func escapeHelp(_ text: String) -> String {
        text.replacingAll("\\", with: "\\\\").replacingAll("\n", with: "\\n")
    }
}

private extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
