import ArgumentParser
import FaceRPCClient
import FaceRPCCore
import FaceRPCProtos
import Foundation
import Synchronization

/// `facerpc load`: a bounded, closed-loop load test of a running server.
///
/// `--conns` connections each keep one call in flight for `--seconds`: a
/// Predict (of `--image`, with probability `--predict-share`) or a Health
/// check. Every answer that is not OK counts as an error, by code. With
/// `--pid` it samples the server's resident memory once a second, so a leak
/// shows as growth after the warm-up. Exit status 1 when any call failed or
/// memory grew more than `--max-rss-growth`.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load-test a server: N connections, a mix of Predict and Health, for a bounded time.",
        discussion: "Prints one JSON object: calls, calls_per_second, per-method p50/p99 latency in ms, errors by code and RSS samples."
    )

    /// Named limits: the tool is bounded by construction.
    enum Limits {
        static let maxConnections = 10_000
        static let maxSeconds = 300.0
        static let maxImageBytes = 4 * 1024 * 1024 - 1024
    }

    @OptionGroup var address: AddressOptions
    @Option(help: "Concurrent connections (1...10000), one call in flight on each.") var conns = 1000
    @Option(help: "Seconds of measured load (at most 300), after the warm-up.") var seconds = 60.0
    @Option(help: "Seconds of warm-up, not measured.") var warmup = 5.0
    @Option(help: "JPEG sent by the Predict calls.") var image: String?
    @Option(help: "Fraction of calls that are Predict (the rest are Health), 0...1.") var predictShare = 0.2
    @Flag(help: "Send Predict images as face crops (no detection).") var faceCrop = false
    @Option(help: "Server process id whose resident memory to sample.") var pid: Int32?
    @Option(help: "Largest allowed RSS growth, median of the last 10 samples over the first 10 (after the warm-up), in percent.") var maxRssGrowth = 10.0
    @Option(help: "Per-call deadline in seconds.") var callTimeout = 60.0

    func validate() throws {
        guard (1...Limits.maxConnections).contains(conns) else { throw ValidationError("--conns must be in 1...\(Limits.maxConnections)") }
        guard seconds > 0, seconds <= Limits.maxSeconds else { throw ValidationError("--seconds must be in (0, \(Int(Limits.maxSeconds))]") }
        guard warmup >= 0, warmup <= Limits.maxSeconds else { throw ValidationError("--warmup must be in [0, \(Int(Limits.maxSeconds))]") }
        guard (0...1).contains(predictShare) else { throw ValidationError("--predict-share must be in 0...1") }
        if predictShare > 0 && image == nil { throw ValidationError("--image is required when --predict-share > 0") }
    }

    /// What every connection's loop records.
    final class Tally: Sendable {
        struct State {
            var measuring = false
            var latencies: [String: [Double]] = [:]
            var errors: [String: Int] = [:]
            var firstErrors: [String] = []
        }
        let state = Mutex(State())

        func record(_ method: String, milliseconds: Double, error: RPCError?) {
            state.withLock { s in
                if let error {
                    // Errors count during the warm-up too: none is expected at any time.
                    s.errors[error.code.description, default: 0] += 1
                    if s.firstErrors.count < 5 { s.firstErrors.append("\(method): \(error.code) \(error.message)") }
                } else if s.measuring {
                    s.latencies[method, default: []].append(milliseconds)
                }
            }
        }
    }

    func run() async throws {
        var predictPayload: [UInt8] = []
        if let image {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: image))
            guard bytes.count <= Limits.maxImageBytes else { throw ValidationError("\(image) is larger than \(Limits.maxImageBytes) bytes") }
            var request = PredictRequest()
            request.image = .jpeg(Array(bytes))
            var options = PredictOptions()
            options.faceCrop = faceCrop
            request.options = options
            predictPayload = request.serializedBytes()
        }
        let healthPayload = HealthCheckRequest().serializedBytes()
        let tally = Tally()
        let stop = StopFlag()
        let timeout = Duration.milliseconds(Int64(callTimeout * 1000))

        // Connect everyone first, a few hundred at a time, so the measured window is steady state.
        var connections: [FaceRPCConnection] = []
        connections.reserveCapacity(conns)
        for start in stride(from: 0, to: conns, by: 200) {
            let batch = try await withThrowingTaskGroup(of: FaceRPCConnection.self) { group in
                for _ in start..<min(conns, start + 200) { group.addTask { try await address.connect(timeout: .seconds(30)) } }
                var made: [FaceRPCConnection] = []
                for try await c in group { made.append(c) }
                return made
            }
            connections += batch
        }

        var rss: [Int] = []
        let share = predictShare
        let predictBytes = predictPayload
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, connection) in connections.enumerated() {
                group.addTask {
                    var rng = SystemRandomNumberGenerator()
                    var n = index
                    while !stop.isSet {
                        n += 1
                        let isPredict = Double.random(in: 0..<1, using: &rng) < share
                        let method = isPredict ? Methods.predict : Methods.healthCheck
                        let t0 = ContinuousClock.now
                        var failure: RPCError?
                        do {
                            _ = try await connection.unary(method: method, request: isPredict ? predictBytes : healthPayload, timeout: timeout)
                        } catch {
                            failure = (error as? RPCError) ?? RPCError(code: .unknown, message: "\(error)")
                        }
                        tally.record(isPredict ? "predict" : "health", milliseconds: (ContinuousClock.now - t0).inSeconds * 1000, error: failure)
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(Int64(warmup * 1000)))
            tally.state.withLock { $0.measuring = true }
            let measuredFrom = ContinuousClock.now
            while ContinuousClock.now - measuredFrom < .milliseconds(Int64(seconds * 1000)) {
                if let pid { rss.append(Self.residentBytes(pid: pid)) }
                try await Task.sleep(for: .seconds(1))
            }
            tally.state.withLock { $0.measuring = false }
            stop.set()
            try await group.waitForAll()
        }
        for connection in connections { await connection.close() }

        let s = tally.state.withLock { $0 }
        let measured = seconds
        var methods: [String: Any] = [:]
        var total = 0
        for (method, values) in s.latencies {
            let sorted = values.sorted()
            total += sorted.count
            func q(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))] }
            methods[method] = ["calls": sorted.count, "p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": sorted.last ?? 0]
        }
        let errorCount = s.errors.values.reduce(0, +)
        // Medians of the first and the last ten samples: single samples swing with the allocator's free lists.
        func median(_ values: ArraySlice<Int>) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : Double(sorted[sorted.count / 2])
        }
        let early = median(rss.prefix(10)), late = median(rss.suffix(10))
        let growth = early > 0 ? (late - early) / early * 100 : 0
        let report: [String: Any] = [
            "endpoint": "\(try address.endpoint())", "connections": conns, "seconds": measured,
            "elapsed_seconds": (ContinuousClock.now - started).inSeconds,
            "calls": total, "calls_per_second": Double(total) / measured, "methods": methods,
            "errors": s.errors, "first_errors": s.firstErrors,
            "rss_mb": rss.map { Double($0) / 1_048_576 }, "rss_growth_percent": growth,
            "rss_first10_median_mb": early / 1_048_576, "rss_last10_median_mb": late / 1_048_576,
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
        if errorCount > 0 || (pid != nil && growth > maxRssGrowth) { throw ExitCode(1) }
    }

    /// Tells every connection's loop to finish its call in flight and stop.
    final class StopFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        var isSet: Bool { flag.load(ordering: .relaxed) }
        func set() { flag.store(true, ordering: .relaxed) }
    }

    /// VmRSS of a process, in bytes (0 when unreadable).
    static func residentBytes(pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
            return kb * 1024
        }
        return 0
    }
}
