@testable import FaceRPCEngine
import FaceRPCKernels
import Testing

@Suite("Network executor")
struct NetworkTests {
    @Test("a graph using every op matches the scalar reference run", arguments: [1, 2])
    func everyOp(threads: Int) throws {
        let graph = everyOpGraph(seed: 1)
        let net = try Network(graph: graph, threads: threads)
        #expect(net.inputShape == [3, 12, 11])
        #expect(net.outputShape == [7])
        var rng = SplitMix64(seed: 2)
        for batch in [1, 3] {
            let x = rng.floats(batch * 3 * 12 * 11)
            let got = try net.run(x, batch: batch)
            let want = try Reference.run(graph: graph, input: x, batch: batch)
            expectClose(got, want, relative: 1e-4, "batch \(batch) threads \(threads)")
        }
    }

    @Test("an age-net-shaped ResNet matches the scalar reference run")
    func resNet() throws {
        let graph = resNetGraph(size: 35, widths: [8, 16], classes: 5, seed: 3)
        let net = try Network(graph: graph, threads: 2)
        var rng = SplitMix64(seed: 4)
        let x = rng.floats(2 * 3 * 35 * 35)
        expectClose(try net.run(x, batch: 2), try Reference.run(graph: graph, input: x, batch: 2), "resnet")
    }

    @Test("fusion folds affine, residual add and ReLU into the convolutions")
    func fusion() throws {
        let net = try Network(graph: everyOpGraph(seed: 1))
        let names = net.plan.steps.map(\.name)
        // c1+a1+r1 is one step, c2+a2+sum+r2 is one step reading a residual.
        #expect(!names.contains("a1") && !names.contains("r1") && !names.contains("a2") && !names.contains("sum"))
        let c2 = try #require(net.plan.steps.first { $0.name == "c2" })
        #expect(c2.inputs.count == 2)
        // flatten / reshape / dropout are aliases, not steps; fc1 absorbed r3.
        #expect(!names.contains("fl") && !names.contains("rs") && !names.contains("drop") && !names.contains("r3"))
        // Liveness lets the chain share a few slots instead of one per tensor.
        #expect(net.plan.storageSizes.count < net.plan.steps.count)
    }

    @Test("running a batch equals running each sample alone")
    func batchIndependence() throws {
        let graph = resNetGraph(size: 29, widths: [8, 12], classes: 4, seed: 5)
        let net = try Network(graph: graph, threads: 2)
        let per = 3 * 29 * 29
        var rng = SplitMix64(seed: 6)
        let x = rng.floats(3 * per)
        let together = try net.run(x, batch: 3)
        var alone: [Float] = []
        for n in 0..<3 { alone += try net.run(Array(x[(n * per)..<((n + 1) * per)]), batch: 1) }
        expectClose(together, alone, relative: 1e-6, "batch 3 vs 3 x batch 1")
    }

    @Test("small batches on several threads run on private buffers and match the reused layout")
    func privateLayout() throws {
        let graph = everyOpGraph(seed: 11)
        let net = try Network(graph: graph, threads: 2)
        // One buffer per step output, where the reused layout has fewer.
        #expect(net.plan.privateStorageSizes.count == net.plan.steps.count)
        #expect(net.plan.privateStorageSizes.count > net.plan.storageSizes.count)
        var rng = SplitMix64(seed: 12)
        // Batch 2 on 2 threads (private) against 1 thread (reused); batch 5 on 2 threads is past the limit.
        for batch in [2, ExecutionPlan.privateLayoutMaxBatch + 1] {
            let x = rng.floats(batch * 3 * 12 * 11)
            expectClose(try net.run(x, batch: batch), try net.run(x, batch: batch, threads: 1), relative: 1e-6, "batch \(batch)")
        }
    }

    @Test("a batch split across threads equals the single-threaded run")
    func batchSplit() throws {
        let graph = everyOpGraph(seed: 9)
        let one = try Network(graph: graph, threads: 1)
        let three = try Network(graph: graph, threads: 3)
        var rng = SplitMix64(seed: 10)
        // 25 samples over 3 threads: slices of 8, 8 and 9, each run start to end.
        let x = rng.floats(25 * 3 * 12 * 11)
        expectClose(try three.run(x, batch: 25), try one.run(x, batch: 25), relative: 1e-6, "split batch")
        expectClose(try one.run(x, batch: 25, threads: 2), try one.run(x, batch: 25), relative: 1e-6, "threads override")
    }

    @Test("concurrent runs give identical results")
    func concurrency() async throws {
        let graph = everyOpGraph(seed: 7)
        let net = try Network(graph: graph, threads: 2)
        var rng = SplitMix64(seed: 8)
        let x = rng.floats(2 * 3 * 12 * 11)
        let expected = try net.run(x, batch: 2)
        try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0..<8 { group.addTask { try net.run(x, batch: 2) } }
            for try await r in group { #expect(r == expected) }
        }
    }

    @Test("Levi-Hassner graph: shapes, FLOPs and parameter count")
    func leviHassner() throws {
        let g = LeviHassner.graph(classes: 8, seed: 1)
        let net = try Network(graph: g)
        #expect(net.inputShape == [3, 227, 227])
        #expect(net.outputShape == [8])
        let macs = 96 * 56 * 56 * 3 * 49 + 256 * 27 * 27 * 96 * 25 + 384 * 13 * 13 * 256 * 9
            + 384 * 6 * 6 * 512 + 512 * 512 + 512 * 8
        #expect(net.flopsPerSample == 2 * Double(macs))
        let params = 96 * 3 * 49 + 96 + 256 * 96 * 25 + 256 + 384 * 256 * 9 + 384
            + 13824 * 512 + 512 + 512 * 512 + 512 + 512 * 8 + 8
        #expect(net.parameterCount == params)
        // Seeded: the same seed gives the same weights, another seed does not.
        #expect(g == LeviHassner.graph(classes: 8, seed: 1))
        guard case .conv2d(let c1) = g.nodes[0].op, case .conv2d(let c2) = g.nodes[4].op else {
            Issue.record("unexpected layer order"); return
        }
        #expect(c1.bias.allSatisfy { $0 == 0 } && c2.bias.allSatisfy { $0 == 1 })
        let std = (c2.weights.map { Double($0 * $0) }.reduce(0, +) / Double(c2.weights.count)).squareRoot()
        #expect(abs(std - 0.01) < 0.001)
    }

    @Test("bad shapes and inputs throw errors naming the problem")
    func errors() throws {
        var g = everyOpGraph(seed: 1)
        // Wrong channel count on a convolution.
        var bad = g
        if case .conv2d(var s) = bad.nodes[3].op { s.inChannels = 5; bad.nodes[3].op = .conv2d(s) }
        #expect { try Network(graph: bad) } throws: { ($0 as? EngineError)?.message.contains("'c2'") == true }
        // Weight count mismatch.
        bad = g
        if case .fullyConnected(var s) = bad.nodes[19].op { s.weights.removeLast(); bad.nodes[19].op = .fullyConnected(s) }
        #expect { try Network(graph: bad) } throws: { ($0 as? EngineError)?.message.contains("'fc1'") == true }
        // An input read before it is written.
        bad = g
        bad.nodes[2].inputs = ["nowhere"]
        #expect { try Network(graph: bad) } throws: { ($0 as? EngineError)?.message.contains("nowhere") == true }
        // Undefined output, non-positive input shape.
        bad = g; bad.outputName = "missing"
        #expect(throws: EngineError.self) { try Network(graph: bad) }
        bad = g; bad.inputShape = [3, 0, 11]
        #expect(throws: EngineError.self) { try Network(graph: bad) }
        // Absurd sizes are refused before any arithmetic can overflow.
        bad = g
        if case .conv2d(var s) = bad.nodes[0].op { s.kernelH = Int.max; bad.nodes[0].op = .conv2d(s) }
        #expect { try Network(graph: bad) } throws: { ($0 as? EngineError)?.message.contains("'c1'") == true }
        bad = g
        bad.nodes[11].op = .pad(top: Int.max, left: 0, bottom: 0, right: 0, channelsAfter: 0, value: 0)
        #expect(throws: EngineError.self) { try Network(graph: bad) }
        // Pooling window larger than the input.
        g.inputShape = [3, 2, 2]
        #expect(throws: EngineError.self) { try Network(graph: g) }
        // Run-time errors: wrong input length, bad batch.
        let net = try Network(graph: everyOpGraph(seed: 1))
        #expect(throws: EngineError.self) { try net.run([1, 2, 3], batch: 1) }
        #expect(throws: EngineError.self) { try net.run([], batch: 0) }
        #expect(throws: EngineError.self) { try Reference.run(graph: everyOpGraph(seed: 1), input: [1], batch: 1) }
    }
}
