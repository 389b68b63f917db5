/// The kind of a series, as Prometheus names it in `# TYPE` lines.
public enum MetricKind: String, Sendable {
    case counter, gauge, histogram
}

/// One metric family facerpc exports: its name, kind, label names, help text
/// and, for histograms, the bucket upper bounds (seconds for durations).
public struct MetricFamilyDescription: Sendable {
    public let name: String
    public let kind: MetricKind
    public let labels: [String]
    public let help: String
    /// Histogram upper bounds, ascending; empty for counters and gauges.
    public let buckets: [Double]

    public init(_ name: String, _ kind: MetricKind, labels: [String] = [], buckets: [Double] = [], help: String) {
        self.name = name; self.kind = kind; self.labels = labels; self.buckets = buckets; self.help = help
    }
}

/// Every series name facerpc exports, in one place, so the instruments, the
/// exporter's `# HELP` lines, the docs (docs/OPERATIONS.md) and the tests
/// cannot drift apart.
///
/// The instruments use swift-metrics only: whichever backend the process
/// bootstraps (Prometheus for `facerpc serve --metrics-address`) receives them.
/// Label values that come from clients are bounded (see ``MetricLimits``).
public enum MetricCatalog {
    // MARK: Calls
    public static let rpcCalls = MetricFamilyDescription(
        "facerpc_rpc_calls_total", .counter, labels: ["method", "code"],
        help: "Finished calls by method path and gRPC status code name (unknown methods count as method=\"other\").")
    public static let rpcDuration = MetricFamilyDescription(
        "facerpc_rpc_duration_seconds", .histogram, labels: ["method"],
        buckets: [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        help: "Seconds from a call's request frame being read to its final status being written.")

    // MARK: Models
    public static let batchSize = MetricFamilyDescription(
        "facerpc_batch_size", .histogram, labels: ["model"],
        buckets: [1, 2, 4, 8, 16, 24, 32, 64, 128, 256],
        help: "Face chips in each network run the dynamic batcher formed.")
    public static let batchRunDuration = MetricFamilyDescription(
        "facerpc_batch_run_seconds", .histogram, labels: ["model"],
        buckets: [0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        help: "Seconds one batched network run took.")
    public static let batchQueueDepth = MetricFamilyDescription(
        "facerpc_batch_queue_depth", .gauge, labels: ["model"],
        help: "Face chips waiting for the model's next batch.")
    public static let modelInfo = MetricFamilyDescription(
        "facerpc_model_info", .gauge, labels: ["model", "version", "state"],
        help: "1 for each model with its loaded version and state (loading, serving, unavailable).")

    // MARK: Training
    public static let trainingStep = MetricFamilyDescription(
        "facerpc_training_step", .gauge, labels: ["job", "model"],
        help: "Optimizer steps a training job has completed.")
    public static let trainingTotalSteps = MetricFamilyDescription(
        "facerpc_training_total_steps", .gauge, labels: ["job", "model"],
        help: "Optimizer steps the training job will run in all.")
    public static let trainingProgress = MetricFamilyDescription(
        "facerpc_training_progress_ratio", .gauge, labels: ["job", "model"],
        help: "step / total_steps, from 0 to 1.")
    public static let trainingLoss = MetricFamilyDescription(
        "facerpc_training_loss", .gauge, labels: ["job", "model"],
        help: "The training job's latest loss.")
    public static let trainingThroughput = MetricFamilyDescription(
        "facerpc_training_examples_per_second", .gauge, labels: ["job", "model"],
        help: "Training examples processed per second, recently.")
    public static let trainingState = MetricFamilyDescription(
        "facerpc_training_state", .gauge, labels: ["job", "model", "state"],
        help: "1 for the job's current state, 0 for the others (queued, running, succeeded, failed, cancelled).")

    // MARK: Process
    public static let connectionsOpen = MetricFamilyDescription(
        "facerpc_connections_open", .gauge,
        help: "RPC connections open now, Unix and TCP.")
    public static let residentMemory = MetricFamilyDescription(
        "process_resident_memory_bytes", .gauge,
        help: "Resident set size in bytes (/proc/self/statm), read at each scrape.")
    public static let virtualMemory = MetricFamilyDescription(
        "process_virtual_memory_bytes", .gauge,
        help: "Virtual memory size in bytes (/proc/self/statm), read at each scrape.")
    public static let openFileDescriptors = MetricFamilyDescription(
        "process_open_fds", .gauge,
        help: "Open file descriptors (/proc/self/fd), read at each scrape.")

    /// Every family, in the order the docs list them.
    public static let all: [MetricFamilyDescription] = [
        rpcCalls, rpcDuration,
        batchSize, batchRunDuration, batchQueueDepth, modelInfo,
        trainingStep, trainingTotalSteps, trainingProgress, trainingLoss, trainingThroughput, trainingState,
        connectionsOpen, residentMemory, virtualMemory, openFileDescriptors,
    ]

    /// The family with this name, if facerpc exports one.
    public static func family(named name: String) -> MetricFamilyDescription? {
        all.first { $0.name == name }
    }
}

/// Bounds on what clients can put into label values, so a hostile or buggy
/// caller cannot grow the metrics without bound.
public enum MetricLimits {
    /// Longest label value kept; longer ones (job and model names) are cut.
    public static let maxLabelValueBytes = 128
    /// Method label used for every path the server does not serve.
    public static let otherMethod = "other"

    /// `value` cut to ``maxLabelValueBytes`` bytes on a character boundary.
    public static func boundedLabel(_ value: String) -> String {
        guard value.utf8.count > maxLabelValueBytes else { return value }
        var result = ""
        var bytes = 0
        for character in value {
            let size = character.utf8.count
            if bytes + size > maxLabelValueBytes { break }
            result.append(character)
            bytes += size
        }
        return result
    }
}
