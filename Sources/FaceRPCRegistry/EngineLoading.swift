import FaceRPCEngine
import FaceRPCONNX

/// The engine's `Network` is what the registry serves.
extension Network: InferenceModel {
    public func run(_ input: [Float], batch: Int) throws -> [Float] {
        try run(input, batch: batch, threads: nil)
    }
}

/// Compiles graphs into engine networks with a fixed thread count.
public struct EngineCompiler: ModelCompiler {
    public let threads: Int

    public init(threads: Int) { self.threads = max(1, threads) }

    public func compile(_ graph: Graph) throws -> any InferenceModel {
        try Network(graph: graph, threads: threads)
    }
}

/// Reads `.onnx` weights files through the ONNX importer.
public struct ONNXGraphReader: GraphReader {
    public init() {}

    public func readGraph(path: String) throws -> Graph {
        try ONNXImporter.importGraph(contentsOf: path)
    }
}

extension ModelRegistry {
    /// A registry serving `modelsDirectory` on the engine, reading ONNX and `.frpc` weights.
    public static func engine(modelsDirectory: String?, threads: Int, logger: Logger) -> ModelRegistry {
        ModelRegistry(modelsDirectory: modelsDirectory, compiler: EngineCompiler(threads: threads),
                      readers: [WeightFormat.onnx.rawValue: ONNXGraphReader()], logger: logger)
    }
}

import Logging

extension ModelRegistry {
    /// Reloads every installed model (SIGHUP). Each reload is independent: a
    /// model whose files are now broken keeps serving its previous version.
    public func reloadAll(logger: Logger) {
        for descriptor in descriptors() where descriptor.format != nil {
            do {
                let fresh = try reload(name: descriptor.name)
                logger.info("reloaded", metadata: ["model": "\(fresh.name)", "version": "\(fresh.version)"])
            } catch {
                logger.error("reload failed; previous version still serving", metadata: ["model": "\(descriptor.name)", "error": "\(error)"])
            }
        }
    }
}
