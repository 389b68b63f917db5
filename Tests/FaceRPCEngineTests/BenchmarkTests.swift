@testable import FaceRPCEngine
import FaceRPCKernels
import Testing

/// A VGG-like net shaped as the pretrained gender net (32x32 input).
func genderLikeGraph(seed: UInt64) -> Graph {
    var rng = SplitMix64(seed: seed)
    var nodes: [GraphNode] = []
    var last = "input"
    func add(_ name: String, _ op: LayerOp) {
        nodes.append(GraphNode(name: name, op: op, inputs: [last], outputs: [name])); last = name
    }
    var cin = 3
    for (i, cout) in [32, 32, 64, 64].enumerated() {
        add("conv\(i)", .conv2d(Conv2DSpec(inChannels: cin, outChannels: cout, kernelH: 3, kernelW: 3,
                                           padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
                                           weights: rng.floats(cout * cin * 9, in: -0.1..<0.1), bias: rng.floats(cout))))
        add("relu\(i)", .relu)
        if i % 2 == 1 { add("pool\(i)", .averagePool(Pool2DSpec(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2))) }
        cin = cout
    }
    add("flatten", .flatten)
    add("fc1", .fullyConnected(FullyConnectedSpec(inFeatures: 4096, outFeatures: 16, weights: rng.floats(4096 * 16, in: -0.02..<0.02), bias: rng.floats(16))))
    add("relu", .relu)
    add("fc2", .fullyConnected(FullyConnectedSpec(inFeatures: 16, outFeatures: 2, weights: rng.floats(32), bias: rng.floats(2))))
    add("prob", .softmax)
    return Graph(inputName: "input", inputShape: [3, 32, 32], nodes: nodes, outputName: last)
}

/// Throughput figures for the report; skipped unless `FACERPC_BENCH=1`
/// (run with `swift test -c release -Xswiftc -target-cpu -Xswiftc native --filter Benchmarks`).
@Suite("Benchmarks", .enabled(if: benchEnabled))
struct Benchmarks {
    @Test("throughput of age-like, gender-like and Levi-Hassner graphs")
    func throughput() throws {
        let seconds = Double(env("FACERPC_BENCH_SECONDS") ?? "") ?? 2
        let threads = Int(env("FACERPC_BENCH_THREADS") ?? "") ?? 2
        let graphs: [(String, Graph)] = [
            ("age-like 64x64", resNetGraph(size: 64, widths: [64, 128, 256], classes: 81, seed: 1)),
            ("gender-like 32x32", genderLikeGraph(seed: 2)),
            ("levi-hassner 227x227", LeviHassner.graph(classes: 8, seed: 3)),
        ]
        for (name, graph) in graphs {
            let net = try Network(graph: graph, threads: threads)
            for batch in [1, 32] {
                let r = benchmark(network: net, batch: batch, seconds: seconds)
                print("BENCH \(name) batch \(batch) threads \(threads): \(Int(r.images_per_second)) img/s, \(String(format1: r.gflops)) GFLOP/s (\(String(format1: net.flopsPerSample / 1e6)) MFLOP/img)")
                #expect(r.images_per_second > 0)
            }
        }
    }

    @Test("GEMM variants on age-net-sized convolutions")
    func convLayers() {
        let threads = Int(env("FACERPC_BENCH_THREADS") ?? "") ?? 2
        let layers: [(String, ConvGeometry)] = [
            ("64x14x14 3x3", ConvGeometry(inChannels: 64, outChannels: 64, inH: 14, inW: 14, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            ("128x7x7 3x3", ConvGeometry(inChannels: 128, outChannels: 128, inH: 7, inW: 7, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            ("128x6x6 3x3", ConvGeometry(inChannels: 128, outChannels: 128, inH: 6, inW: 6, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            ("256x3x3 3x3", ConvGeometry(inChannels: 256, outChannels: 256, inH: 3, inW: 3, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            // The gender net's and Levi-Hassner's conv3.
            ("32x32x32 3x3", ConvGeometry(inChannels: 32, outChannels: 32, inH: 32, inW: 32, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            ("32x16x16 3x3 to 64", ConvGeometry(inChannels: 32, outChannels: 64, inH: 16, inW: 16, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            ("64x16x16 3x3", ConvGeometry(inChannels: 64, outChannels: 64, inH: 16, inW: 16, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            ("256x13x13 3x3 to 384", ConvGeometry(inChannels: 256, outChannels: 384, inH: 13, inW: 13, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            // F(4x4) needs 1.23x fewer multiplies than F(2x2) here, 1.36x on 13x13 and 14x14.
            ("64x10x10 3x3", ConvGeometry(inChannels: 64, outChannels: 64, inH: 10, inW: 10, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            ("128x10x10 3x3", ConvGeometry(inChannels: 128, outChannels: 128, inH: 10, inW: 10, kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            ("3x64x64 7x7/2", ConvGeometry(inChannels: 3, outChannels: 64, inH: 64, inW: 64, kernelH: 7, kernelW: 7, strideH: 2, strideW: 2)),
        ]
        var rng = SplitMix64(seed: 1)
        // FACERPC_BENCH_LAYERS (comma-separated substrings) keeps only the layers it names.
        let wantedLayers = env("FACERPC_BENCH_LAYERS").map { $0.split(separator: ",").map(String.init) }
        for (name, g) in layers where wantedLayers.map({ $0.contains { name.contains($0) } }) ?? true {
            for batch in [1, 32] {
                let w = rng.floats(g.outChannels * g.groupK), b = rng.floats(g.outChannels)
                let x = rng.floats(batch * g.inChannels * g.inH * g.inW)
                var y = [Float](repeating: 0, count: batch * g.outChannels * g.outH * g.outW)
                // Every micro-kernel through im2col, plus the transposed product and Winograd.
                var runs: [(String, Int, (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void)] = []
                for v in KernelRegistry.gemmVariants {
                    let conv = PackedConvolution(geometry: g, weights: w, bias: b, variant: v)
                    runs.append(("im2col \(v.name)", threads * conv.scratchPerThread, { conv.run(input: x, output: $0, batch: batch, residual: nil, relu: true, scratch: $1, threads: threads, path: .standard) }))
                }
                let conv = PackedConvolution(geometry: g, weights: w, bias: b)
                runs.append(("im2col transposed f32_gemm_4x64_simd16", threads * conv.scratchPerThread + batch * conv.scratchPerSample, { conv.run(input: x, output: $0, batch: batch, residual: nil, relu: true, scratch: $1, threads: threads, path: .transposed) }))
                if PackedWinogradConvolution.supports(g) {
                    let wino = PackedWinogradConvolution(geometry: g, weights: w, bias: b)
                    runs.append(("winograd f32_gemm_8x32_simd16", threads * wino.scratchPerThread + batch * wino.scratchPerSample, { wino.run(input: x, output: $0, batch: batch, residual: nil, relu: true, scratch: $1, threads: threads) }))
                    for v in KernelRegistry.gemmC16Variants {
                        let wino4 = PackedWinogradF4Convolution(geometry: g, weights: w, bias: b, variant: v)
                        runs.append(("winograd F(4x4) \(v.name)", threads * wino4.scratchPerThread + batch * wino4.scratchPerSample, { wino4.run(input: x, output: $0, batch: batch, residual: nil, relu: true, scratch: $1, threads: threads) }))
                    }
                }
                // FACERPC_BENCH_RUNS (comma-separated substrings) keeps only the runs it names.
                let wanted = env("FACERPC_BENCH_RUNS").map { $0.split(separator: ",").map(String.init) }
                for (label, scratchCount, body) in runs where wanted.map({ $0.contains { label.contains($0) } }) ?? true {
                    var scratch = [Float](repeating: 0, count: scratchCount)
                    let clock = ContinuousClock()
                    var count = 0
                    let start = clock.now
                    while clock.now - start < .milliseconds(300) {
                        scratch.withUnsafeMutableBufferPointer { s in y.withUnsafeMutableBufferPointer { body($0.baseAddress!, s.baseAddress!) } }
                        count += 1
                    }
                    let d = clock.now - start
                    let secs = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
                    // Reported against the direct multiply count, so Winograd shows its saving.
                    let gflops = 2 * Double(g.macsPerSample * batch * count) / secs / 1e9
                    print("CONV \(name) batch \(batch) threads \(threads) \(label): \(String(format1: gflops)) GFLOP/s")
                    #expect(gflops > 0)
                }
            }
        }
    }
}

let benchEnabled = env("FACERPC_BENCH") == "1"

func env(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}

extension String {
    init(format1 v: Double) { self = String(Double(Int(v * 10)) / 10) }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Median and fastest seconds per step of the age-like graph, for choosing kernels per layer; skipped
/// unless `FACERPC_BENCH=1` (`FACERPC_BENCH_THREADS`, default 1; `FACERPC_BENCH_BATCHES`, default 1,32).
@Suite("Step profile", .enabled(if: benchEnabled))
struct StepProfile {
    @Test("seconds per step of the age-like graph")
    func ageLike() throws {
        let threads = Int(env("FACERPC_BENCH_THREADS") ?? "") ?? 1
        let batches = (env("FACERPC_BENCH_BATCHES") ?? "1,32").split(separator: ",").compactMap { Int($0) }
        let net = try Network(graph: resNetGraph(size: 64, widths: [64, 128, 256], classes: 81, seed: 1), threads: threads)
        for batch in batches {
            let runs = max(9, 400 / batch)
            let steps = net.profileSteps(batch: batch, threads: threads, runs: runs)
            let total = steps.reduce(0) { $0 + $1.seconds }, fastest = steps.reduce(0) { $0 + $1.fastest }
            for s in steps {
                print("STEP batch \(batch) threads \(threads) \(s.name) \(s.kind): \(String(format1: 1e6 * s.seconds / Double(batch))) us/img (fastest \(String(format1: 1e6 * s.fastest / Double(batch))))")
            }
            print("STEP batch \(batch) threads \(threads) total: \(String(format1: 1e6 * total / Double(batch))) us/img (fastest \(String(format1: 1e6 * fastest / Double(batch))))")
            #expect(total > 0)
        }
    }
}
