import FaceRPCEngine
import Foundation
@testable import FaceRPCRegistry

/// Deterministic pseudo-random floats so that round trips compare real data.
func floats(_ count: Int, seed: UInt32) -> [Float] {
    var state = seed &* 2_654_435_761 &+ 1
    return (0..<count).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return Float(Int32(bitPattern: state >> 8) - (1 << 23)) / Float(1 << 23)
    }
}

/// A graph that uses every `LayerOp` case with non-default fields.
func graphWithEveryOp() -> Graph {
    let conv = Conv2DSpec(inChannels: 4, outChannels: 6, kernelH: 3, kernelW: 2, strideH: 2, strideW: 1,
                          padTop: 1, padLeft: 0, padBottom: 2, padRight: 1, dilationH: 1, dilationW: 2, groups: 2,
                          weights: floats(6 * 2 * 3 * 2, seed: 1), bias: floats(6, seed: 2), activation: .relu)
    let maxPool = Pool2DSpec(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 0,
                             padRight: 1, ceilMode: true, countIncludePad: false)
    let avgPool = Pool2DSpec(kernelH: 2, kernelW: 2, strideH: 1, strideW: 1, ceilMode: false, countIncludePad: true)
    let fc = FullyConnectedSpec(inFeatures: 12, outFeatures: 5, weights: floats(60, seed: 3), bias: floats(5, seed: 4),
                                activation: .none)
    let nodes: [GraphNode] = [
        GraphNode(name: "conv1", op: .conv2d(conv), inputs: ["data"], outputs: ["c1"]),
        GraphNode(name: "pool1", op: .maxPool(maxPool), inputs: ["c1"], outputs: ["p1"]),
        GraphNode(name: "pool2", op: .averagePool(avgPool), inputs: ["p1"], outputs: ["p2"]),
        GraphNode(name: "norm", op: .lrn(LRNSpec(size: 5, alpha: 1e-4, beta: 0.75, bias: 2)), inputs: ["p2"], outputs: ["n"]),
        GraphNode(name: "relu", op: .relu, inputs: ["n"], outputs: ["r"]),
        GraphNode(name: "prelu", op: .prelu(slopes: floats(6, seed: 5)), inputs: ["r"], outputs: ["pr"]),
        GraphNode(name: "bn", op: .affine(scale: floats(6, seed: 6), shift: floats(6, seed: 7)), inputs: ["pr"], outputs: ["bn"]),
        GraphNode(name: "sum", op: .add, inputs: ["bn", "pr"], outputs: ["s"]),
        GraphNode(name: "pad", op: .pad(top: 0, left: 1, bottom: 1, right: 0, channelsAfter: 2, value: -0.5),
                  inputs: ["s"], outputs: ["pd"]),
        GraphNode(name: "transpose", op: .transpose(perm: [0, 2, 1]), inputs: ["pd"], outputs: ["t"]),
        GraphNode(name: "gap", op: .globalAveragePool, inputs: ["t"], outputs: ["g"]),
        GraphNode(name: "reshape", op: .reshape([3, 4, -1]), inputs: ["g"], outputs: ["rs"]),
        GraphNode(name: "flatten", op: .flatten, inputs: ["rs"], outputs: ["f"]),
        GraphNode(name: "drop", op: .dropout(p: 0.5), inputs: ["f"], outputs: ["d"]),
        GraphNode(name: "fc", op: .fullyConnected(fc), inputs: ["d"], outputs: ["logits"]),
        GraphNode(name: "prob", op: .softmax, inputs: ["logits"], outputs: ["prob"]),
    ]
    return Graph(inputName: "data", inputShape: [4, 9, 8], nodes: nodes, outputName: "prob")
}

/// A tiny classifier `[c, h, w] -> [classes]` whose affine shift carries
/// `marker`, so a test can tell versions apart by running them.
func markedGraph(marker: Float, classes: Int = 2, input: [Int] = [3, 4, 4]) -> Graph {
    let features = input.reduce(1, *)
    return Graph(inputName: "x", inputShape: input, nodes: [
        GraphNode(name: "flat", op: .flatten, inputs: ["x"], outputs: ["f"]),
        GraphNode(name: "fc", op: .fullyConnected(FullyConnectedSpec(
            inFeatures: features, outFeatures: classes, weights: floats(features * classes, seed: 9),
            bias: [Float](repeating: 0, count: classes))), inputs: ["f"], outputs: ["l"]),
        GraphNode(name: "mark", op: .affine(scale: [Float](repeating: 1, count: classes),
                                            shift: [Float](repeating: marker, count: classes)),
                  inputs: ["l"], outputs: ["y"]),
    ], outputName: "y")
}

/// Stands in for the engine's `Network`: outputs the graph's marker for
/// every value, after checking the input size like a real executor would.
final class FakeModel: InferenceModel {
    let inputShape: [Int]
    let outputShape: [Int]
    let parameterCount: Int
    let marker: Float

    init(inputShape: [Int], outputShape: [Int], parameterCount: Int, marker: Float) {
        self.inputShape = inputShape; self.outputShape = outputShape
        self.parameterCount = parameterCount; self.marker = marker
    }

    struct BadInput: Error {}

    func run(_ input: [Float], batch: Int) throws -> [Float] {
        guard batch >= 1, input.count == batch * inputShape.reduce(1, *) else { throw BadInput() }
        return [Float](repeating: marker, count: batch * outputShape.reduce(1, *))
    }
}

struct UnsupportedOp: Error, CustomStringConvertible {
    let name: String
    var description: String { "unsupported op in node '\(name)'" }
}

/// Compiles `markedGraph`-shaped graphs into `FakeModel`s; refuses any node
/// named "unsupported", as the real executor refuses ops it cannot run.
struct FakeCompiler: ModelCompiler {
    func compile(_ graph: Graph) throws -> any InferenceModel {
        var outputs = [0]
        var parameters = 0
        var marker: Float = .nan
        for node in graph.nodes {
            if node.name == "unsupported" { throw UnsupportedOp(name: node.name) }
            switch node.op {
            case .fullyConnected(let fc):
                outputs = [fc.outFeatures]
                parameters += fc.weights.count + fc.bias.count
            case .affine(let scale, let shift):
                marker = shift.first ?? .nan
                parameters += scale.count + shift.count
            default:
                break
            }
        }
        return FakeModel(inputShape: graph.inputShape, outputShape: outputs, parameterCount: parameters, marker: marker)
    }
}

/// A temporary directory removed when the value is deinitialised.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "facerpc-registry-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

func genderManifest(name: String, version: String, weights: String, sha256: String,
                    format: WeightFormat = .frpc) -> ModelManifest {
    ModelManifest(name: name, task: .gender, architecture: "test-net", version: version, format: format,
                  weights: weights, sha256: sha256,
                  input: .init(width: 4, height: 4, channels: 3, color: .rgb, mean: [122.78, 117.0, 104.3], scale: 1.0 / 256),
                  labels: ["female", "male"], chipPadding: 0.2, source: "unit test", license: "CC0-1.0")
}

/// Writes `MODELS_DIR/<name>/` with a `.frpc` of `graph` and a matching model.json.
@discardableResult
func installModel(in directory: String, name: String, version: String, graph: Graph,
                  weights: String = "weights.frpc", sha256 override: String? = nil) throws -> ModelManifest {
    let folder = directory + "/" + name
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try WeightFile.write(graph, to: folder + "/" + weights)
    let sha = try override ?? ModelRegistry.sha256(ofFile: folder + "/" + weights)
    let manifest = genderManifest(name: name, version: version, weights: weights, sha256: sha)
    try manifest.encoded().write(to: URL(fileURLWithPath: folder + "/model.json"))
    return manifest
}
