import FaceRPCCore
import FaceRPCEngine
import FaceRPCONNX
import Foundation

/// `MODELS_DIR/mtcnn-<stage>/detector.json`, written by scripts/convert-mtcnn.py
/// (docs/DETECTION.md). Named detector.json so the model registry, which
/// loads every folder with a model.json as an age/gender model, skips it.
struct MTCNNManifest: Decodable, Sendable {
    struct Input: Decodable, Sendable {
        var width: Int
        var height: Int
        var channels: Int
        var color: String
        var mean: [Float]
        var scale: Float
    }

    var schema: Int
    var name: String
    var stage: String
    var format: String
    var weights: String
    var sha256: String
    var input: Input
    var outputChannels: Int

    enum CodingKeys: String, CodingKey {
        case schema, name, stage, format, weights, sha256, input
        case outputChannels = "output_channels"
    }
}

/// The three MTCNN stages.
enum MTCNNStage: String, CaseIterable, Sendable {
    case pnet, rnet, onet

    /// Input side in pixels (P-net's nominal one; it is fully convolutional).
    var inputSize: Int {
        switch self {
        case .pnet: 12
        case .rnet: 24
        case .onet: 48
        }
    }

    /// Box regression (4), landmarks (O-net: 10), face logits (2).
    var outputChannels: Int { self == .onet ? 16 : 6 }
}

/// One loaded stage: its graph (P-net's is re-planned per pyramid level) and
/// the normalisation its manifest declares.
struct MTCNNNet: Sendable {
    var stage: MTCNNStage
    var graph: Graph
    var mean: Float
    var scale: Float

    /// Largest detector.json accepted; the real ones are about 1 KiB.
    static let maxManifestBytes = 64 * 1024
    /// Largest network file accepted; the real ones are 27 KB to 1.6 MB.
    static let maxWeightsBytes = 64 << 20

    static func load(stage: MTCNNStage, modelsDirectory: String) throws -> MTCNNNet {
        let folder = modelsDirectory + "/mtcnn-" + stage.rawValue
        let manifestPath = folder + "/detector.json"
        let manifest: MTCNNManifest
        do {
            let url = URL(fileURLWithPath: manifestPath)
            let size = try FileManager.default.attributesOfItem(atPath: manifestPath)[.size] as? Int ?? 0
            guard size <= maxManifestBytes else {
                throw FaceDetectorError("\(manifestPath) is \(size) bytes, over the limit of \(maxManifestBytes)")
            }
            manifest = try JSONDecoder().decode(MTCNNManifest.self, from: Data(contentsOf: url))
        } catch let error as FaceDetectorError {
            throw error
        } catch {
            throw FaceDetectorError("cannot read \(manifestPath): \(error)")
        }
        func check(_ ok: Bool, _ why: @autoclosure () -> String) throws {
            if !ok { throw FaceDetectorError("\(manifestPath): \(why())") }
        }
        try check(manifest.schema == 1, "schema \(manifest.schema) is not supported (only 1)")
        try check(manifest.stage == stage.rawValue, "stage is '\(manifest.stage)', expected '\(stage.rawValue)'")
        try check(manifest.format == "onnx", "format is '\(manifest.format)', only 'onnx' is supported")
        try check(!manifest.weights.isEmpty && !manifest.weights.contains("/") && manifest.weights != ".."
                  && manifest.weights != ".", "weights must be a plain file name in the folder")
        let input = manifest.input
        try check(input.width == stage.inputSize && input.height == stage.inputSize && input.channels == 3,
                  "input is \(input.width)x\(input.height)x\(input.channels), expected \(stage.inputSize)x\(stage.inputSize)x3")
        try check(input.color == "RGB", "color is '\(input.color)', expected 'RGB'")
        try check(input.mean.count == 3 && input.mean.allSatisfy { $0 == input.mean[0] && $0.isFinite },
                  "mean must be 3 equal finite values")
        try check(input.scale.isFinite && input.scale > 0, "scale must be positive")
        try check(manifest.outputChannels == stage.outputChannels,
                  "output_channels is \(manifest.outputChannels), expected \(stage.outputChannels)")

        let weightsPath = folder + "/" + manifest.weights
        let bytes: [UInt8]
        do {
            let size = try FileManager.default.attributesOfItem(atPath: weightsPath)[.size] as? Int ?? 0
            guard size <= maxWeightsBytes else {
                throw FaceDetectorError("\(weightsPath) is \(size) bytes, over the limit of \(maxWeightsBytes)")
            }
            bytes = try Array(Data(contentsOf: URL(fileURLWithPath: weightsPath), options: .mappedIfSafe))
        } catch let error as FaceDetectorError {
            throw error
        } catch {
            throw FaceDetectorError("cannot read \(weightsPath): \(error)")
        }
        let digest = SHA256.hex(SHA256.hash(bytes))
        try check(digest == manifest.sha256.lowercased(),
                  "\(manifest.weights) has SHA-256 \(digest), the manifest records \(manifest.sha256)")
        let graph: Graph
        do {
            graph = try ONNXImporter.importGraph(bytes: bytes)
        } catch {
            throw FaceDetectorError("\(weightsPath): \(error)")
        }
        let side = stage.inputSize
        try check(graph.inputShape == [3, side, side],
                  "the network takes \(graph.inputShape), expected [3, \(side), \(side)]")
        // Plan once here so a wrong graph fails at load, not on the first request.
        let planned = try Network(graph: graph)
        let expectedOutput = stage == .pnet ? [stage.outputChannels, 1, 1] : [stage.outputChannels]
        try check(planned.outputShape == expectedOutput,
                  "the network produces \(planned.outputShape), expected \(expectedOutput)")
        return MTCNNNet(stage: stage, graph: graph, mean: input.mean[0], scale: input.scale)
    }
}
