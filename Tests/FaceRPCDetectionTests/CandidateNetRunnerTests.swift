import FaceRPCEngine
import FaceRPCKernels
import Foundation
import Testing
@testable import FaceRPCDetection

/// R- and O-net with 16 candidates per vector against the same graphs on the
/// generic engine.
@Suite struct CandidateNetRunnerTests {
    /// Batch sizes: one candidate, a partial block, exactly one block, one
    /// over, and several blocks split over two threads.
    static let counts = [1, 5, 16, 17, 40]

    @Test(.enabled(if: MTCNNFixtures.haveModels), arguments: [1, 2])
    func lanesMatchTheGraphOnTheEngine(threads: Int) throws {
        let detector = try FaceDetector(modelsDirectory: try #require(MTCNNFixtures.modelsDirectory), threads: threads)
        var rng = FaceRPCKernels.SplitMix64(seed: 43)
        for (stage, nets) in zip(["R-net", "O-net"], detector.candidateNetsForTesting) {
            let runner = try #require(nets.runner, "\(stage) should be recognised")
            let imageElements = nets.network.inputShape.reduce(1, *)
            for count in Self.counts {
                let batch = rng.floats(count * imageElements)
                let expected = try nets.network.run(batch, batch: count)
                let got = runner.run(batch, count: count, threads: threads)
                #expect(got.count == expected.count, "\(stage) x\(count)")
                guard got.count == expected.count else { continue }
                let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-4, "\(stage) x\(count), \(threads) threads: max abs difference \(worst)")
            }
        }
    }

    /// Which layers take Winograd, and that it agrees with the direct path.
    @Test(.enabled(if: MTCNNFixtures.haveModels))
    func winogradTakesTheWide3x3LayersAndAgreesWithDirect() throws {
        let detector = try FaceDetector(modelsDirectory: try #require(MTCNNFixtures.modelsDirectory), threads: 1)
        var rng = FaceRPCKernels.SplitMix64(seed: 53)
        // R-net: conv 3->28, 28->48 (3x3), 48->64 (2x2); O-net: 3->32, 32->64, 64->64 (3x3), 64->128 (2x2).
        let expected = [[false, true, false], [false, true, true, false]]
        for ((stage, nets), winogradLayers) in zip(zip(["R-net", "O-net"], detector.candidateNetsForTesting), expected) {
            let runner = try #require(CandidateNetRunner(graph: nets.network.graph))
            let direct = try #require(CandidateNetRunner(graph: nets.network.graph, winograd: false))
            #expect(runner.stages.map { $0.winograd != nil } == winogradLayers, "\(stage)")
            #expect(direct.stages.allSatisfy { $0.winograd == nil }, "\(stage)")
            let count = 21
            let batch = rng.floats(count * nets.network.inputShape.reduce(1, *))
            let a = runner.run(batch, count: count, threads: 1), b = direct.run(batch, count: count, threads: 1)
            let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
            #expect(a.count == b.count && worst <= 1e-4, "\(stage): max abs difference \(worst)")
        }
    }

    @Test(.enabled(if: MTCNNFixtures.haveModels))
    func detectorSendsFullBlocksToLanesAndTheFewLeftToTheEngine() throws {
        let detector = try FaceDetector(modelsDirectory: try #require(MTCNNFixtures.modelsDirectory), threads: 2)
        var rng = FaceRPCKernels.SplitMix64(seed: 47)
        let minimum = FaceDetector.minimumLanesPerBlock
        // Leftovers under, at and over the minimum, alone and after whole blocks.
        let counts = [1, minimum - 1, minimum, 16 + minimum - 1, 16 + minimum, 32, 40]
        for (stage, nets) in zip(["R-net", "O-net"], detector.candidateNetsForTesting) {
            let imageElements = nets.network.inputShape.reduce(1, *)
            for count in counts {
                let batch = rng.floats(count * imageElements)
                let expected = try nets.network.run(batch, batch: count)
                let got = try detector.runCandidates(batch, count: count, runner: nets.runner, network: nets.network)
                #expect(got.count == expected.count, "\(stage) x\(count)")
                guard got.count == expected.count else { continue }
                let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-4, "\(stage) x\(count): max abs difference \(worst)")
            }
        }
    }

    @Test func otherGraphsAreNotTaken() {
        // A lone convolution without the PReLU and fully-connected tail.
        let conv = Conv2DSpec(inChannels: 3, outChannels: 4, kernelH: 3, kernelW: 3,
                              weights: [Float](repeating: 0.1, count: 108), bias: [0, 0, 0, 0])
        let graph = Graph(inputName: "x", inputShape: [3, 8, 8],
                          nodes: [GraphNode(name: "c", op: .conv2d(conv), inputs: ["x"], outputs: ["y"])], outputName: "y")
        #expect(CandidateNetRunner(graph: graph) == nil)
    }
}
