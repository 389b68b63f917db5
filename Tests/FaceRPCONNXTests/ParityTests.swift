import FaceRPCEngine
import FaceRPCTestSupport
import Foundation
import Testing
@testable import FaceRPCONNX

/// The imported (and folded) graph, run by ``ScalarInterpreter``, against
/// onnxruntime on the original file: max abs error <= 1e-4.
@Suite("Parity with onnxruntime", .enabled(if: TestSupport.onnxruntimeAvailable,
        "python3 with numpy and onnxruntime is not available"))
struct ParityTests {
    static let tolerance: Float = 1e-4

    struct SmallModel: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var testDescription: String { name }
    }

    @Test(arguments: [
        SmallModel(name: "all operators", bytes: TestModels.allOperators()),
        SmallModel(name: "residual block", bytes: TestModels.residual()),
        SmallModel(name: "ceil-mode pooling", bytes: TestModels.ceilPooling()),
    ])
    func smallModelMatches(_ model: SmallModel) throws {
        let graph = try ONNXImporter.importGraph(bytes: model.bytes)
        let batch = 3
        var rng = SeededGenerator(seed: 11)
        let input = rng.floats(batch * graph.inputShape.reduce(1, *), in: -2...2)
        let expected = try TestSupport.reference(model: model.bytes, input: input, shape: [batch] + graph.inputShape)
        let actual = try ScalarInterpreter(graph: graph).run(input, batch: batch)
        #expect(expected.shape == [batch] + actual.shape)
        #expect(maxAbsDifference(actual.data, expected.data) <= Self.tolerance)
    }

    @Test(.enabled(if: TestSupport.modelsAvailable, "pretrained models not installed: run scripts/fetch-models.sh"),
          arguments: ["age", "gender"])
    func pretrainedModelMatchesOnRandomInput(_ name: String) throws {
        let graph = try ONNXImporter.importGraph(contentsOf: TestSupport.modelPath(name))
        let batch = 2
        var rng = SeededGenerator(seed: 5)
        let input = rng.floats(batch * graph.inputShape.reduce(1, *), in: -0.5...0.5)
        let expected = try TestSupport.reference(modelPath: TestSupport.modelPath(name), input: input, shape: [batch] + graph.inputShape)
        let actual = try ScalarInterpreter(graph: graph).run(input, batch: batch)
        #expect(expected.shape == [batch] + actual.shape)
        let error = maxAbsDifference(actual.data, expected.data)
        #expect(error <= Self.tolerance, "max abs error \(error)")
    }

    /// Face chips from UTKFace photos, resized and normalised as model.json says.
    @Test(.enabled(if: TestSupport.modelsAvailable && TestSupport.pillowAvailable
                   && FileManager.default.fileExists(atPath: TestSupport.sharedDir + "/data/utkface/labels_eval.csv"),
                   "needs the installed models, Pillow and ../shared/data/utkface"),
          arguments: ["age", "gender"])
    func pretrainedModelMatchesOnFaceChips(_ name: String) throws {
        let graph = try ONNXImporter.importGraph(contentsOf: TestSupport.modelPath(name))
        let utk = TestSupport.sharedDir + "/data/utkface"
        let csv = try String(contentsOfFile: utk + "/labels_eval.csv", encoding: .utf8)
        let images = csv.split(whereSeparator: \.isNewline).dropFirst().prefix(3).map { utk + "/" + $0.split(separator: ",")[0] }
        #expect(images.count == 3)
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (i, image) in images.enumerated() {
            let chip = "\(dir)/chip\(i).npy"
            try runPython([TestSupport.referenceScript, "chip", image, chip, "--size", "\(graph.inputShape[2])",
                                    "--model-json", "\(TestSupport.modelsDir)/\(name)/model.json"])
            let input = try NPY.read(path: chip)
            #expect(input.shape == [1] + graph.inputShape)
            let expected = try TestSupport.reference(modelPath: TestSupport.modelPath(name), input: input.data, shape: input.shape)
            let actual = try ScalarInterpreter(graph: graph).run(input.data, batch: 1)
            let error = maxAbsDifference(actual.data, expected.data)
            #expect(error <= Self.tolerance, "\(image): max abs error \(error)")
        }
    }
}
