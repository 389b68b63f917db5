import FaceRPCEngine

/// What the registry serves: a loaded, immutable, thread-safe network.
///
/// The registry never mutates a model after ``ModelCompiler/compile(_:)``
/// returns it; many requests call ``run(_:batch:)`` at once.
public protocol InferenceModel: Sendable {
    /// Per-sample input shape, e.g. `[3, 64, 64]` (C, H, W).
    var inputShape: [Int] { get }
    /// Per-sample output shape, e.g. `[81]`.
    var outputShape: [Int] { get }
    /// Number of learned weights (for ListModels).
    var parameterCount: Int { get }
    /// Runs `batch` samples laid out back to back as float32 NCHW and returns
    /// `batch` outputs back to back. Thread-safe.
    func run(_ input: [Float], batch: Int) throws -> [Float]
}

/// Turns a graph into a runnable model (the server plugs in the engine's `Network`).
public protocol ModelCompiler: Sendable {
    /// - Throws: when the graph uses an op or shape the executor cannot run;
    ///   the registry records the message as the model's load error.
    func compile(_ graph: Graph) throws -> any InferenceModel
}

/// Reads a weights file of one ``WeightFormat`` into a ``Graph``.
///
/// The registry verifies the file's SHA-256 before calling the reader, so a
/// reader sees the bytes the manifest vouches for (unless the file is replaced
/// in between, which the atomic-rename rule in docs/MODELS.md prevents).
public protocol GraphReader: Sendable {
    func readGraph(path: String) throws -> Graph
}
