import FaceRPCEngine
import Testing
@testable import FaceRPCONNX

/// The optimised engine (``Network``: Winograd, transposed small-output tiles,
/// vector pooling) on the pretrained nets against onnxruntime on the original
/// file. Batches and threads are picked so that every convolution path runs:
/// batch 1 (3x3 and 6x6 outputs on 9-pixel tiles, 14x14 and the gender net's
/// layers on Winograd F(4x4)), 4 (36-pixel 3x3 layers; F(4x4) on the 6x6 to
/// 14x14 ones), and 17 on 2 threads (per-thread sample slices, standard tiles,
/// F(4x4) down to the 3x3 layers).
@Suite("Engine parity with onnxruntime", .enabled(if: TestSupport.onnxruntimeAvailable && TestSupport.modelsAvailable,
        "needs python3 with numpy and onnxruntime and the installed models"))
struct EngineParityTests {
    static let tolerance: Float = 1e-4

    @Test(arguments: ["age", "gender"])
    func pretrainedNetworkMatches(_ name: String) throws {
        let path = TestSupport.modelPath(name)
        let graph = try ONNXImporter.importGraph(contentsOf: path)
        var rng = SeededGenerator(seed: 23)
        for (batch, threads) in [(1, 1), (1, 2), (4, 2), (17, 2)] {
            let input = rng.floats(batch * graph.inputShape.reduce(1, *), in: -0.5...0.5)
            let expected = try TestSupport.reference(modelPath: path, input: input, shape: [batch] + graph.inputShape)
            let network = try Network(graph: graph, threads: threads)
            let actual = try network.run(input, batch: batch)
            #expect(actual.count == expected.data.count)
            let error = maxAbsDifference(actual, expected.data)
            #expect(error <= Self.tolerance, "\(name) batch \(batch) threads \(threads): max abs error \(error)")
        }
    }
}
