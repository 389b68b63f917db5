@testable import FaceRPCEngine
import FaceRPCKernels
import Testing

/// Which kernel a 3x3 stride-1 layer runs on: the per-batch cost model of
/// ``ExecutionPlan/convPath(_:batch:)``.
@Suite("Convolution path choice")
struct ConvPathTests {
    static func conv(_ cin: Int, _ cout: Int, _ size: Int) -> PackedConvolution {
        let g = ConvGeometry(inChannels: cin, outChannels: cout, inH: size, inW: size, kernelH: 3, kernelW: 3,
                             padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        var rng = SplitMix64(seed: 5)
        return PackedConvolution(geometry: g, weights: rng.floats(cout * cin * 9), bias: rng.floats(cout))
    }

    @Test("F(4x4) where it needs clearly fewer multiplies than F(2x2), F(2x2) where it does not")
    func choice() {
        // The age net's layers at batch 32: per sample 784 vs 576 multiplies (14x14),
        // 256 vs 144 (7x7), 64 vs 36 (3x3): F(4x4); 144 vs 144 (6x6): F(2x2) stays.
        #expect(ExecutionPlan.convPath(Self.conv(64, 64, 14), batch: 32) == .winograd4)
        #expect(ExecutionPlan.convPath(Self.conv(128, 128, 7), batch: 32) == .winograd4)
        #expect(ExecutionPlan.convPath(Self.conv(256, 256, 3), batch: 32) == .winograd4)
        #expect(ExecutionPlan.convPath(Self.conv(128, 128, 6), batch: 32) == .winograd2)
        // 5x5: 144 vs 144 as well; 10x10: 400 vs 324, more than the margin.
        #expect(ExecutionPlan.convPath(Self.conv(64, 64, 5), batch: 32) == .winograd2)
        #expect(ExecutionPlan.convPath(Self.conv(64, 64, 10), batch: 32) == .winograd4)
        // The gender net's 32x32 and 16x16 layers.
        #expect(ExecutionPlan.convPath(Self.conv(32, 32, 32), batch: 1) == .winograd4)
        #expect(ExecutionPlan.convPath(Self.conv(32, 64, 16), batch: 32) == .winograd4)
    }

    @Test("F(4x4) needs a whole row panel of tiles")
    func smallBatches() {
        // 7x7 at batch 1: 4 tiles, under one 8-tile panel: F(2x2) (16 tiles) stays;
        // at batch 2 the panel is full.
        #expect(ExecutionPlan.convPath(Self.conv(128, 128, 7), batch: 1) == .winograd2)
        #expect(ExecutionPlan.convPath(Self.conv(128, 128, 7), batch: 2) == .winograd4)
        // 3x3 maps at batch 4: 4 tiles, under a panel; the block path's 49
        // multiplies a sample beat the transposed im2col's 9 per pixel. At batch 8
        // F(4x4)'s 36 (with its margin) win.
        #expect(ExecutionPlan.convPath(Self.conv(256, 256, 3), batch: 4) == .blocks)
        #expect(ExecutionPlan.convPath(Self.conv(256, 256, 3), batch: 8) == .winograd4)
        // Too few input channels for any Winograd.
        #expect(ExecutionPlan.convPath(Self.conv(3, 32, 32), batch: 32) == .im2col)
    }

    @Test("the block path where padding is a large share of a small map's taps")
    func blocks() {
        // The age net at batch 1: 3x3 maps (49 of 81 taps read the input) and its
        // 6x6 map (256 of 324).
        #expect(ExecutionPlan.convPath(Self.conv(256, 256, 3), batch: 1) == .blocks)
        #expect(ExecutionPlan.convPath(Self.conv(128, 128, 6), batch: 1) == .blocks)
        // 6x6 at batch 2: F(4x4)'s 8 tiles fill a panel (36 x 8 x 1.1 = 317) and
        // beat the block path's 512.
        #expect(ExecutionPlan.convPath(Self.conv(128, 128, 6), batch: 2) == .winograd4)
        // Sides that are not multiples of 3 never take it.
        #expect(ExecutionPlan.convPath(Self.conv(128, 128, 7), batch: 1) == .winograd2)
        #expect(ExecutionPlan.convPath(Self.conv(3, 32, 32), batch: 1) == .im2col)
    }

    @Test("a ResNet whose 3x3 layers take F(4x4) matches the scalar reference run")
    func network() throws {
        let graph = resNetGraph(size: 64, widths: [16, 32], classes: 5, seed: 6)
        let net = try Network(graph: graph, threads: 2)
        var paths: [ExecutionPlan.ConvPath] = []
        for step in net.plan.steps {
            if case .convOrWinograd(let conv, _, _, _, _) = step.kind { paths.append(ExecutionPlan.convPath(conv, batch: 3)) }
        }
        #expect(paths.contains(.winograd4))
        var rng = SplitMix64(seed: 7)
        let x = rng.floats(3 * 3 * 64 * 64)
        expectClose(try net.run(x, batch: 3), try Reference.run(graph: graph, input: x, batch: 3), "resnet batch 3")
    }

    @Test("an age-like ResNet whose 6x6 and 3x3 layers take the block path at batch 1 matches the scalar reference run")
    func blockNetwork() throws {
        // 64x64 input: 14x14, then a 6x6 conv (padded back to 7x7) and 7x7 maps,
        // then three 3x3 convolutions: four on the block path.
        let graph = resNetGraph(size: 64, widths: [16, 32, 40], classes: 9, seed: 8)
        let net = try Network(graph: graph, threads: 2)
        var paths: [ExecutionPlan.ConvPath] = []
        for step in net.plan.steps {
            if case .convOrWinograd(let conv, _, _, _, _) = step.kind { paths.append(ExecutionPlan.convPath(conv, batch: 1)) }
        }
        #expect(paths.filter { $0 == .blocks }.count == 4)
        // Both downsampling shortcuts (average pool, zero channels, and the conv
        // branch padded from 6x6 to 7x7) are one extended add each.
        var extended = 0, padsAndPools = 0
        for step in net.plan.steps {
            switch step.kind {
            case .extendedAdd: extended += 1
            case .pad, .averagePool: padsAndPools += 1
            default: break
            }
        }
        #expect(extended == 2 && padsAndPools == 0)
        var rng = SplitMix64(seed: 9)
        for batch in [1, 2] {
            let x = rng.floats(batch * 3 * 64 * 64)
            expectClose(try net.run(x, batch: batch), try Reference.run(graph: graph, input: x, batch: batch), "age-like batch \(batch)")
        }
    }
}
