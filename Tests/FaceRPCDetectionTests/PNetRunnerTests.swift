import FaceRPCKernels
import Foundation
import Testing
@testable import FaceRPCDetection

/// The fused P-net pass against the same graph on the generic engine.
@Suite struct PNetRunnerTests {
    /// Level sizes: the 12x12 minimum (one output cell), odd and even sides
    /// (the ceil-mode pool's last column and row), widths that leave every
    /// kind of leftover lane, and levels taller than one band.
    static let levels: [(width: Int, height: Int)] = [
        (12, 12), (13, 17), (14, 12), (31, 64), (100, 57), (250, 40), (47, 101),
    ]

    @Test(.enabled(if: MTCNNFixtures.haveModels))
    func fusedPassMatchesTheGraphOnTheEngine() throws {
        let detector = try FaceDetector(modelsDirectory: try #require(MTCNNFixtures.modelsDirectory), threads: 1)
        let runner = try #require(detector.pnetRunnerForTesting, "the converted P-net should be recognised")
        var rng = FaceRPCKernels.SplitMix64(seed: 41)
        for (width, height) in Self.levels {
            // Normalised pixels lie in about -1...1.
            let level = PlanarImage(width: width, height: height, values: rng.floats(3 * width * height))
            let expected = try detector.runPNetOnNetwork(level, threads: 1)

            let stride = PNetRunner.rowStride(width: width)
            var strided = [Float](repeating: 0, count: 3 * height * stride)
            for r in 0..<(3 * height) {
                for x in 0..<width { strided[r * stride + x] = level.values[r * width + x] }
            }
            let got = strided.withUnsafeBufferPointer {
                runner.run(level: $0.baseAddress!, width: width, height: height, rowStride: stride)
            }
            #expect(got.width == expected.width && got.height == expected.height, "\(width)x\(height)")
            #expect(got.values.count == expected.values.count, "\(width)x\(height)")
            guard got.values.count == expected.values.count else { continue }
            let worst = zip(got.values, expected.values).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4, "\(width)x\(height): max abs difference \(worst)")
        }
    }

    @Test func outputSizeFollowsTheGraphArithmetic() {
        // conv 3x3 (-2), pool 2x2 ceil ((n + 1) / 2), two more 3x3 convs (-4).
        for side in 12...40 {
            let expected = ((side - 2) + 1) / 2 - 4
            #expect(PNetRunner.outputSize(width: side, height: side + 1).width == expected)
            #expect(PNetRunner.outputSize(width: side - 1, height: side).height == expected)
        }
        #expect(PNetRunner.outputSize(width: 10, height: 40).width < 1)
        #expect(PNetRunner.outputSize(width: 11, height: 40).width == 1)
    }

    @Test func strideLeavesRoomForTheLastVector() {
        for width in 1...80 {
            let stride = PNetRunner.rowStride(width: width)
            // conv1 reads up to roundUp(width - 2, 16) + 2 floats of a row.
            #expect(stride >= (max(width - 2, 0) + 15) / 16 * 16 + 2)
        }
    }
}
