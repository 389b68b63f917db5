import ArgumentParser
import FaceRPCEngine
import FaceRPCONNX
import FaceRPCRegistry
import Foundation
import Logging

/// Loads one model from a models folder, outside any server.
private func loadNetwork(name: String, models: String, threads: Int) throws -> (ServingModel, Network) {
    var logger = Logger(label: "facerpc.registry")
    logger.logLevel = .error
    let registry = ModelRegistry.engine(modelsDirectory: models, threads: threads, logger: logger)
    registry.loadAll()
    guard let descriptor = registry.descriptor(named: name) else {
        throw ValidationError("no model named '\(name)' in \(models) (have: \(registry.descriptors().map(\.name).joined(separator: ", ")))")
    }
    guard let serving = registry.servingModel(named: name), let network = serving.model as? Network else {
        throw ValidationError("model '\(name)' is not available: \(descriptor.error ?? descriptor.state.rawValue)")
    }
    return (serving, network)
}

/// `facerpc run-model`: one network on one tensor, no server.
struct RunModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-model",
        abstract: "Run one network on a float32 NCHW .npy tensor and write its output as .npy.",
        discussion: "The input is already preprocessed ((byte - mean) * scale). Its first axis is the batch; the rest must match the model's input shape."
    )

    @Option(help: "Model name, e.g. age, gender.") var model: String
    @Option(help: "Input .npy (float32, C order, shape [N, C, H, W]).") var input: String
    @Option(help: "Output .npy to write (float32, [N, classes]).") var output: String
    @Option(help: "Models folder.") var models: String = "models"
    @Option(help: "Threads.") var threads: Int = 1

    func run() throws {
        let (_, network) = try loadNetwork(name: model, models: models, threads: threads)
        let tensor = try NPY.read(path: input)
        guard tensor.shape.count == network.inputShape.count + 1, Array(tensor.shape.dropFirst()) == network.inputShape else {
            throw ValidationError("input shape \(tensor.shape) does not match [N] + \(network.inputShape)")
        }
        let batch = tensor.shape[0]
        let result = try network.run(tensor.data, batch: batch)
        try NPY.write(path: output, shape: [batch] + network.outputShape, data: result)
    }
}

/// `facerpc bench-model`: throughput of one network.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-model",
        abstract: "Measure a network's throughput on random input.",
        discussion: "Levi-Hassner models that are not trained yet are measured with their seeded initial weights."
    )

    @Option(help: "Model name, e.g. age, gender, lh-age, lh-gender.") var model: String
    @Option(help: "Images per run.") var batch: Int = 1
    @Option(help: "Threads.") var threads: Int = 1
    @Option(help: "Seconds to measure.") var seconds: Double = 3
    @Option(help: "Models folder.") var models: String = "models"
    @Flag(help: "Print one JSON line.") var json = false
    @Flag(help: "Also print each step's median and fastest microseconds per image (steps timed one by one, before the throughput run; to standard error with --json).") var profile = false

    func validate() throws {
        guard batch >= 1, batch <= 4096 else { throw ValidationError("--batch must be in 1...4096") }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be in 1...256") }
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
    }

    func run() throws {
        let network = try benchNetwork(name: model, models: models, threads: threads)
        if profile {
            let runs = max(9, Int(seconds * 100))
            for step in network.profileSteps(batch: batch, threads: threads, runs: runs) {
                let line = String(format: "step %@ %@: %.1f us/img (fastest %.1f)\n", step.name, step.kind,
                                  1e6 * step.seconds / Double(batch), 1e6 * step.fastest / Double(batch))
                // --json keeps standard output to its one line.
                if json { FileHandle.standardError.write(Data(line.utf8)) } else { print(line, terminator: "") }
            }
        }
        let result = benchmark(network: network, batch: batch, seconds: seconds)
        if json {
            let object: [String: Any] = ["model": model, "batch": batch, "threads": threads,
                                         "images_per_second": result.images_per_second, "gflops": result.gflops]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%@: batch %d, %d threads: %.1f images/s, %.1f GFLOP/s (%.2f ms per batch)",
                         model, batch, threads, result.images_per_second, result.gflops,
                         1000 * Double(batch) / result.images_per_second))
        }
    }
}

/// The network to measure: an installed model, or a fresh Levi-Hassner one.
func benchNetwork(name: String, models: String, threads: Int) throws -> Network {
    if let graph = LeviHassner.untrainedGraph(named: name) {
        if let (_, network) = try? loadNetwork(name: name, models: models, threads: threads) { return network }
        return try Network(graph: graph, threads: threads)
    }
    return try loadNetwork(name: name, models: models, threads: threads).1
}

extension LeviHassner {
    /// `lh-age` (8 buckets) or `lh-gender` (2), with the seed initialisation; nil for other names.
    static func untrainedGraph(named name: String) -> Graph? {
        switch name {
        case "lh-age": return graph(classes: 8, seed: 1)
        case "lh-gender": return graph(classes: 2, seed: 1)
        default: return nil
        }
    }
}

/// `facerpc export-onnx`: a network as an ONNX file (for comparing with other runtimes).
struct ExportONNXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-onnx",
        abstract: "Write a model's network as ONNX (untrained Levi-Hassner models use their seeded initial weights)."
    )

    @Option(help: "Model name, e.g. lh-age, age.") var model: String
    @Option(help: "ONNX file to write.") var output: String
    @Option(help: "Models folder.") var models: String = "models"
    @Option(help: "ONNX opset.") var opset: Int = 13

    func run() throws {
        let network = try benchNetwork(name: model, models: models, threads: 1)
        let bytes = try ONNXExporter.export(network.graph, opset: opset)
        try Data(bytes).write(to: URL(fileURLWithPath: output), options: .atomic)
    }
}
