// Test support shared by the metrics suites: reading Prometheus text expositions.

/// One sample line of the Prometheus text format: `name{k="v",...} value`.
public struct Sample: Equatable, Sendable {
    public var name: String
    public var labels: [String: String]
    public var value: Double
}

/// Parses the sample lines of a text exposition (comments skipped). Enough
/// of the format for the label values facerpc produces (no escaped quotes).
public func parseExposition(_ text: String) -> [Sample] {
    var samples: [Sample] = []
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        let series = line[..<space]
        var labels: [String: String] = [:]
        var name = String(series)
        if let open = series.firstIndex(of: "{"), series.hasSuffix("}") {
            name = String(series[..<open])
            let inner = series[series.index(after: open)..<series.index(before: series.endIndex)]
            var rest = Substring(inner)
            while let equals = rest.firstIndex(of: "=") {
                let key = String(rest[..<equals]).trimmingLeadingComma()
                let afterQuote = rest.index(equals, offsetBy: 2)
                guard let close = rest[afterQuote...].firstIndex(of: "\"") else { break }
                labels[key] = String(rest[afterQuote..<close])
                rest = rest[rest.index(after: close)...]
            }
        }
        samples.append(Sample(name: name, labels: labels, value: value))
    }
    return samples
}

extension [Sample] {
    /// The value of the one sample with this name whose labels include `labels`.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matches = filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
        return matches.count == 1 ? matches[0].value : nil
    }

    public func count(named name: String) -> Int { filter { $0.name == name }.count }
}

private extension String {
    func trimmingLeadingComma() -> String {
        var result = Substring(self)
        while result.first == "," || result.first == " " { result = result.dropFirst() }
        return String(result)
    }
}
