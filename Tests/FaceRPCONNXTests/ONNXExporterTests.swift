import FaceRPCEngine
import FaceRPCTestSupport
import Foundation
import Testing
@testable import FaceRPCONNX

// MARK: - Graphs

/// Small graphs for the exporter tests, with weights from a seeded generator.
enum ExportTestGraphs {
    static func conv(_ rng: inout SeededGenerator, _ inC: Int, _ outC: Int, _ kh: Int, _ kw: Int,
                     stride: (Int, Int) = (1, 1), pads: (Int, Int, Int, Int) = (0, 0, 0, 0),
                     dilation: (Int, Int) = (1, 1), groups: Int = 1, relu: Bool = false) -> LayerOp {
        .conv2d(Conv2DSpec(inChannels: inC, outChannels: outC, kernelH: kh, kernelW: kw,
                           strideH: stride.0, strideW: stride.1,
                           padTop: pads.0, padLeft: pads.1, padBottom: pads.2, padRight: pads.3,
                           dilationH: dilation.0, dilationW: dilation.1, groups: groups,
                           weights: rng.floats(outC * inC / groups * kh * kw, in: -0.5...0.5),
                           bias: rng.floats(outC), activation: relu ? .relu : .none))
    }

    static func fc(_ rng: inout SeededGenerator, _ inF: Int, _ outF: Int, relu: Bool = false) -> LayerOp {
        .fullyConnected(FullyConnectedSpec(inFeatures: inF, outFeatures: outF, weights: rng.floats(inF * outF, in: -0.3...0.3),
                                           bias: rng.floats(outF), activation: relu ? .relu : .none))
    }

    static func pool(_ k: (Int, Int), _ s: (Int, Int), _ p: (Int, Int, Int, Int), ceil: Bool, includePad: Bool = false) -> Pool2DSpec {
        Pool2DSpec(kernelH: k.0, kernelW: k.1, strideH: s.0, strideW: s.1, padTop: p.0, padLeft: p.1, padBottom: p.2, padRight: p.3,
                   ceilMode: ceil, countIncludePad: includePad)
    }

    /// A chain through every ``LayerOp`` on a `[3, 9, 10]` input, ending in a softmax over 10 classes.
    /// Shapes: conv (asymmetric pads, dilation, ReLU) [4,10,7]; grouped strided conv [6,5,7]; affine;
    /// prelu; LRN [6,5,7]; pad with 2 trailing channels [8,8,8]; ceil-mode max pool [8,5,4];
    /// ceil-mode average pool counting the padding [8,3,2]; that plus its transpose ([8,2,3], same element count);
    /// ReLU; a fully-connected layer on the unflattened tensor; a global-average / reshape /
    /// flatten / fully-connected branch; add; dropout; affine and prelu on a flat tensor; softmax.
    static func everyOp(seed: UInt64) -> Graph {
        var rng = SeededGenerator(seed: seed)
        var nodes: [GraphNode] = []
        func add(_ name: String, _ op: LayerOp, _ inputs: String...) {
            nodes.append(GraphNode(name: name, op: op, inputs: inputs, outputs: [name]))
        }
        add("c1", conv(&rng, 3, 4, 3, 3, pads: (1, 0, 2, 1), dilation: (1, 2), relu: true), "x")
        add("c2", conv(&rng, 4, 6, 2, 3, stride: (2, 1), pads: (0, 1, 1, 1), groups: 2), "c1")
        add("a1", .affine(scale: rng.floats(6, in: 0.5...2), shift: rng.floats(6)), "c2")
        add("p1", .prelu(slopes: rng.floats(6, in: 0...0.5)), "a1")
        add("n1", .lrn(LRNSpec(size: 3, alpha: 0.9, beta: 0.6, bias: 1.5)), "p1")
        add("pd", .pad(top: 1, left: 0, bottom: 2, right: 1, channelsAfter: 2, value: 0.25), "n1")
        add("mp", .maxPool(pool((3, 3), (2, 2), (1, 1, 1, 0), ceil: true)), "pd")
        // Ceil mode hangs a last window over the bottom edge. (A window that would start in the
        // padding is dropped by onnxruntime and the engine but counted by onnx's shape inference
        // before opset 22, which then refuses the Add below; operatorVariantsMatch covers that case.)
        add("ap", .averagePool(pool((2, 2), (2, 2), (0, 0, 0, 0), ceil: true, includePad: true)), "mp")
        add("tr", .transpose(perm: [0, 2, 1]), "ap")
        add("sum", .add, "ap", "tr")
        add("r", .relu, "sum")
        add("fc1", fc(&rng, 48, 10, relu: true), "r")
        add("gap", .globalAveragePool, "r")
        add("rs", .reshape([2, -1]), "gap")
        add("fl", .flatten, "rs")
        add("fc2", fc(&rng, 8, 10), "fl")
        add("join", .add, "fc1", "fc2")
        add("drop", .dropout(p: 0.25), "join")
        add("a2", .affine(scale: rng.floats(10, in: 0.5...2), shift: rng.floats(10)), "drop")
        add("p2", .prelu(slopes: [0.2]), "a2")
        add("prob", .softmax, "p2")
        return Graph(inputName: "x", inputShape: [3, 9, 10], nodes: nodes, outputName: "prob")
    }

    /// Many one-op branches off a `[5, 7, 8]` input, for the operator edge cases: every
    /// branch's result is a tensor named in `branches`, compared on its own.
    static func variants(seed: UInt64) -> (graph: Graph, branches: [String]) {
        var rng = SeededGenerator(seed: seed)
        var nodes: [GraphNode] = []
        var branches: [String] = []
        func add(_ name: String, _ op: LayerOp, _ inputs: String..., branch: Bool = true) {
            nodes.append(GraphNode(name: name, op: op, inputs: inputs, outputs: [name]))
            if branch { branches.append(name) }
        }
        // Pooling: plain, padded, ceil mode (with and without a dropped last window), both average divisors.
        let pools: [Pool2DSpec] = [
            pool((3, 3), (2, 2), (0, 0, 0, 0), ceil: false),
            pool((3, 3), (2, 2), (0, 0, 0, 0), ceil: true),
            pool((3, 3), (2, 2), (1, 1, 1, 1), ceil: true),
            pool((2, 2), (2, 2), (0, 0, 1, 1), ceil: true),      // W 8: the 5th window would start in the padding
            pool((2, 3), (3, 2), (1, 0, 0, 2), ceil: true),
            pool((3, 3), (1, 1), (2, 2, 2, 2), ceil: false),     // corner windows mostly padding
            pool((4, 3), (3, 3), (0, 2, 3, 1), ceil: true),
        ]
        for (i, p) in pools.enumerated() {
            add("max\(i)", .maxPool(p), "x")
            add("avg\(i)", .averagePool(p), "x")
            var q = p
            q.countIncludePad = true
            add("avgpad\(i)", .averagePool(q), "x")
        }
        // LRN: sizes up to beyond C (onnxruntime takes odd sizes only; see lrnEvenSizesMatch).
        for size in [1, 3, 5, 7, 11] {
            add("lrn\(size)", .lrn(LRNSpec(size: size, alpha: 0.7, beta: 0.75, bias: 1)), "x")
        }
        add("lrn_b", .lrn(LRNSpec(size: 3, alpha: 2.5, beta: 1.3, bias: 0.5)), "x")
        add("lrn_lh", .lrn(LRNSpec(size: 5, alpha: 1e-4, beta: 0.75, bias: 1)), "x")
        // Levi-Hassner's constants on activations of its magnitude (hundreds), where the sum term dominates.
        add("big", .affine(scale: [150], shift: [0]), "x", branch: false)
        add("lrn_lh_big", .lrn(LRNSpec(size: 5, alpha: 1e-4, beta: 0.75, bias: 1)), "big")
        // Pad: spatial only, trailing channels only, both; and channels of a flat tensor.
        add("pad0", .pad(top: 1, left: 2, bottom: 0, right: 3, channelsAfter: 0, value: 0), "x")
        add("pad1", .pad(top: 0, left: 0, bottom: 0, right: 0, channelsAfter: 3, value: 1.5), "x")
        add("pad2", .pad(top: 2, left: 1, bottom: 3, right: 0, channelsAfter: 2, value: -0.75), "x")
        add("flat", .flatten, "x", branch: false)
        add("padflat", .pad(top: 0, left: 0, bottom: 0, right: 0, channelsAfter: 4, value: 2), "flat")
        // Convolutions: the direct, Winograd (3x3 stride 1), depthwise, dilated and 1x1 paths.
        add("conv3x3", conv(&rng, 5, 8, 3, 3, pads: (1, 1, 1, 1), relu: true), "x")
        add("convdw", conv(&rng, 5, 5, 3, 3, stride: (2, 2), pads: (1, 0, 1, 2), groups: 5), "x")
        add("convdil", conv(&rng, 5, 6, 3, 2, stride: (1, 3), pads: (2, 1, 0, 2), dilation: (2, 3)), "x")
        add("conv1x1", conv(&rng, 5, 16, 1, 1), "x")
        add("convwide", conv(&rng, 5, 40, 5, 5, pads: (2, 2, 2, 2), relu: true), "x")
        add("fc", fc(&rng, 280, 20, relu: true), "x")
        add("gap", .globalAveragePool, "x")
        add("softmax", .softmax, "x")
        add("tr", .transpose(perm: [2, 0, 1]), "x")
        add("rs", .reshape([7, 5, -1]), "x")
        add("prelu1", .prelu(slopes: [0.3]), "x")
        add("affine1", .affine(scale: [1.5], shift: [-0.5]), "x")
        add("relu", .relu, "x")
        for (i, perm) in [[1, 0, 2], [2, 1, 0], [1, 2, 0]].enumerated() {
            add("tr\(i)", .transpose(perm: perm), "x")
        }
        // Chains the executor fuses: convolution + affine + residual add + ReLU, on the
        // im2col path (5 input channels) and on the Winograd path (3x3 stride 1, 40 input
        // channels); add + ReLU; padding (non-zero value) before a convolution.
        add("fa_conv", conv(&rng, 5, 5, 3, 3, pads: (1, 1, 1, 1)), "x")
        add("fa_aff", .affine(scale: rng.floats(5, in: 0.5...1.5), shift: rng.floats(5)), "fa_conv")
        add("fa_add", .add, "fa_aff", "x")
        add("fa_relu", .relu, "fa_add")
        add("wb_conv", conv(&rng, 40, 16, 3, 3, pads: (1, 1, 1, 1)), "convwide")
        add("wb_aff", .affine(scale: rng.floats(16, in: 0.5...1.5), shift: rng.floats(16)), "wb_conv")
        add("wb_add", .add, "conv1x1", "wb_aff")
        add("wb_relu", .relu, "wb_add")
        add("ar_add", .add, "relu", "prelu1")
        add("ar_relu", .relu, "ar_add")
        add("pc_pad", .pad(top: 1, left: 2, bottom: 1, right: 0, channelsAfter: 0, value: 0.5), "x")
        add("pc_conv", conv(&rng, 5, 4, 3, 3), "pc_pad")
        add("pc_padc", .pad(top: 0, left: 0, bottom: 0, right: 0, channelsAfter: 3, value: -1), "x")
        add("pc_conv1x1", conv(&rng, 8, 4, 1, 1, relu: true), "pc_padc")
        add("rm_pool", .maxPool(pool((3, 3), (2, 2), (1, 1, 1, 1), ceil: true)), "relu")
        return (Graph(inputName: "x", inputShape: [5, 7, 8], nodes: nodes, outputName: branches[0]), branches)
    }

    /// `graph` computing `output` instead, with only the nodes it needs.
    static func pruned(_ graph: Graph, output: String) -> Graph {
        var needed: Set<String> = [output]
        var kept: [GraphNode] = []
        for node in graph.nodes.reversed() where node.outputs.contains(where: needed.contains) {
            kept.append(node)
            needed.formUnion(node.inputs)
        }
        return Graph(inputName: graph.inputName, inputShape: graph.inputShape, nodes: kept.reversed(), outputName: output)
    }

    /// `graph` without its final softmax: the logits.
    static func withoutSoftmax(_ graph: Graph) -> Graph {
        guard let last = graph.nodes.last, case .softmax = last.op, last.outputs == [graph.outputName] else { return graph }
        return Graph(inputName: graph.inputName, inputShape: graph.inputShape, nodes: graph.nodes.dropLast(),
                     outputName: last.inputs[0])
    }
}

// MARK: - Python

/// The python that has onnx and onnxruntime: `.venv/bin/python` in the
/// package root when present, else `python3` on `$PATH`.
enum ExportReference {
    static let python: String = {
        let venv = TestSupport.repoRoot + "/.venv/bin/python"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }()

    static let script = TestSupport.repoRoot + "/scripts/lh_reference.py"

    static let available: Bool = (try? run(["-c", "import numpy, onnx, onnxruntime"])) != nil

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        try runPython(arguments, interpreter: python)
    }

    /// Writes `model` and `input`, checks the model with the onnx checker
    /// (`check` arguments appended), runs it with onnxruntime and returns the
    /// graph output plus each of `tensors`, by name.
    static func outputs(model: [UInt8], input: [Float], shape: [Int], tensors: [String] = [],
                        check: [String] = [], runtime: String = "onnxruntime") throws -> [String: (shape: [Int], data: [Float])] {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(model).write(to: URL(fileURLWithPath: dir + "/model.onnx"))
        try NPY.write(path: dir + "/in.npy", shape: shape, data: input)
        try run([script, "check", dir + "/model.onnx"] + check)
        try run([script, "run", dir + "/model.onnx", dir + "/in.npy", dir + "/out"] + ["--runtime", runtime]
                + (tensors.isEmpty ? [] : ["--tensors"] + tensors))
        var result: [String: (shape: [Int], data: [Float])] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: dir + "/out") where file.hasSuffix(".npy") {
            result[String(file.dropLast(4))] = try NPY.read(path: dir + "/out/" + file)
        }
        return result
    }
}

func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }

/// The Levi-Hassner convolutional trunk (input to pool3) on one random batch,
/// computed once by `Network` and by `Reference.run` and shared by the test cases.
struct LeviHassnerTrunk: Sendable {
    static let cut = "pool3"
    static let batch = 2
    let graph: Graph
    let input: [Float]
    let network: [Float]
    let reference: [Float]

    static let shared: Result<LeviHassnerTrunk, any Error> = Result {
        let graph = ExportTestGraphs.pruned(LeviHassner.graph(classes: 2, seed: 1), output: cut)
        var rng = SeededGenerator(seed: 21)
        // Mean-subtracted pixel values, as the network is fed: large enough for LRN to matter.
        let input = rng.floats(batch * graph.inputShape.reduce(1, *), in: -128...128)
        return LeviHassnerTrunk(graph: graph, input: input,
                                network: try Network(graph: graph, threads: 2).run(input, batch: batch),
                                reference: try Reference.run(graph: graph, input: input, batch: batch))
    }

    /// The nodes after the cut, reading the cut tensor as their input.
    static func head(of graph: Graph) -> Graph {
        let index = graph.nodes.firstIndex { $0.outputs == [cut] }!
        return Graph(inputName: cut, inputShape: [384, 6, 6], nodes: Array(graph.nodes[(index + 1)...]), outputName: graph.outputName)
    }
}

// MARK: - Export without a runtime

@Suite("ONNX export")
struct ONNXExporterTests {
    @Test func roundTripThroughTheImporterComputesTheSameFunction() throws {
        let graph = ExportTestGraphs.everyOp(seed: 3)
        let imported = try ONNXImporter.importGraph(bytes: try ONNXExporter.export(graph))
        #expect(imported.inputName == graph.inputName)
        #expect(imported.inputShape == graph.inputShape)
        #expect(imported.outputName == graph.outputName)
        let batch = 3
        var rng = SeededGenerator(seed: 4)
        let input = rng.floats(batch * 270, in: -2...2)
        let expected = try Reference.run(graph: graph, input: input, batch: batch)
        let actual = try Reference.run(graph: imported, input: input, batch: batch)
        #expect(actual.count == batch * 10)
        // Folding the affine into the convolution rounds differently, by a few ULP.
        #expect(maxAbsDifference(actual, expected) <= 1e-6, "max abs difference \(maxAbsDifference(actual, expected))")
        // The logits too, where the softmax cannot hide a difference.
        let logits = ExportTestGraphs.withoutSoftmax(graph)
        let importedLogits = try ONNXImporter.importGraph(bytes: try ONNXExporter.export(logits))
        let a = try Reference.run(graph: importedLogits, input: input, batch: batch)
        let e = try Reference.run(graph: logits, input: input, batch: batch)
        #expect(maxAbsDifference(a, e) <= 1e-5 * max(1, maxAbs(e)), "max abs difference \(maxAbsDifference(a, e))")
    }

    @Test(arguments: [11, 12, 13, 17, 18, 21, 24])
    func everyOpsetRoundTrips(_ opset: Int) throws {
        let graph = ExportTestGraphs.everyOp(seed: 5)
        let model = try ONNXDecoder.decode(try ONNXExporter.export(graph, opset: opset))
        #expect(model.opsets == ["": Int64(opset)])
        #expect(model.irVersion == ONNXExporter.irVersion(opset: opset))
        #expect(model.irVersion >= 6)
        let dropout = try #require(model.graph.nodes.first { $0.opType == "Dropout" })
        // The ratio moved from an attribute to an input in opset 12.
        #expect(opset >= 12 ? dropout.inputs.count == 2 : dropout.attributes["ratio"] != nil)
        let imported = try ONNXImporter.importGraph(bytes: try ONNXExporter.export(graph, opset: opset))
        var rng = SeededGenerator(seed: 6)
        let input = rng.floats(270, in: -2...2)
        let e = try Reference.run(graph: graph, input: input, batch: 1)
        #expect(maxAbsDifference(try Reference.run(graph: imported, input: input, batch: 1), e) <= 1e-6)
    }

    /// Levi-Hassner comes back with the same layers and bit-identical weights; the
    /// importer's only change is fusing each ReLU into the layer before it.
    @Test func leviHassnerRoundTripsExactly() throws {
        let graph = LeviHassner.graph(classes: 8, seed: 1)
        let start = ContinuousClock.now
        let bytes = try ONNXExporter.export(graph)
        print("Levi-Hassner (8 classes) exported: \(bytes.count) bytes in \(ContinuousClock.now - start)")
        let imported = try ONNXImporter.importGraph(bytes: bytes)
        var expected: [LayerOp] = []
        for node in graph.nodes {
            switch (expected.last, node.op) {
            case (.conv2d(var c)?, .relu):
                c.activation = .relu
                expected[expected.count - 1] = .conv2d(c)
            case (.fullyConnected(var f)?, .relu):
                f.activation = .relu
                expected[expected.count - 1] = .fullyConnected(f)
            default:
                expected.append(node.op)
            }
        }
        #expect(imported.nodes.map(\.op) == expected)
        #expect(imported.inputShape == [3, 227, 227])
        #expect(imported.outputName == "prob")
        // Weights dominate: 4 bytes each plus a small framing overhead.
        let parameters = graph.nodes.reduce(0) { n, node in
            switch node.op {
            case .conv2d(let c): n + c.weights.count + c.bias.count
            case .fullyConnected(let f): n + f.weights.count + f.bias.count
            default: n
            }
        }
        #expect(bytes.count > 4 * parameters && bytes.count < 4 * parameters + 4096)
    }

    @Test func exportIsDeterministic() throws {
        let graph = ExportTestGraphs.everyOp(seed: 7)
        #expect(try ONNXExporter.export(graph) == ONNXExporter.export(graph))
    }

    @Test func modelDeclaresASymbolicBatchAndPerChannelConstants() throws {
        let model = try ONNXDecoder.decode(try ONNXExporter.export(ExportTestGraphs.everyOp(seed: 8)))
        let g = model.graph
        #expect(model.producer == "facerpc")
        #expect(g.inputs.count == 1 && g.outputs.count == 1)
        #expect(g.inputs[0].dims == [.param("N"), .value(3), .value(9), .value(10)])
        #expect(g.inputs[0].elemType == .float)
        #expect(g.outputs[0].dims == [.param("N"), .value(10)])
        let dims = Dictionary(uniqueKeysWithValues: g.initializers.map { ($0.name, $0.dims) })
        #expect(dims["a1.scale"] == [6, 1, 1] && dims["a1.shift"] == [6, 1, 1])
        #expect(dims["p1.slope"] == [6, 1, 1])
        #expect(dims["a2.scale"] == [10], "a per-channel constant of a flat tensor is [C]")
        #expect(dims["p2.slope"] == [1])
        #expect(dims["c2.weight"] == [6, 2, 2, 3])
        #expect(dims["fc1.weight"] == [10, 48])
        #expect(dims["pd.value"] == [])
        let pads = try #require(g.initializers.first { $0.name == "pd.pads" })
        guard case .integer(let p) = pads.values else { Issue.record("pads are not integers"); return }
        #expect(p == [0, 0, 1, 0, 0, 2, 2, 1])
        let ops = g.nodes.map(\.opType)
        #expect(ops.filter { $0 == "Relu" }.count == 3)  // c1's fused activation, fc1's, and r
        #expect(ops.contains("Flatten") && ops.contains("Reshape"))
        let lrn = try #require(g.nodes.first { $0.opType == "LRN" })
        if case .float(let alpha) = lrn.attributes["alpha"] { #expect(alpha == 0.9) } else { Issue.record("LRN alpha missing") }
        // Every tensor a node reads is the input, an initializer or an earlier output.
        var defined = Set(g.initializers.map(\.name) + [g.inputs[0].name])
        for node in g.nodes {
            #expect(node.inputs.allSatisfy(defined.contains), "\(node.name) reads an undefined tensor")
            for o in node.outputs { #expect(defined.insert(o).inserted, "\(o) is defined twice") }
        }
    }

    @Test func refusesInconsistentGraphs() throws {
        let good = ExportTestGraphs.everyOp(seed: 9)
        func message(_ graph: Graph, opset: Int = 13) -> String? {
            do { _ = try ONNXExporter.export(graph, opset: opset); return nil }
            catch let e as ONNXExportError { return e.description }
            catch { return "unexpected \(error)" }
        }
        #expect(message(good, opset: 10)?.contains("opset 10") == true)
        var g = good
        if case .conv2d(var c) = g.nodes[1].op { c.weights.removeLast(); g.nodes[1].op = .conv2d(c) }
        #expect(message(g)?.contains("node 'c2' (conv2d)") == true)
        g = good
        g.nodes.swapAt(0, 1)
        #expect(message(g)?.contains("input 'c1' is not produced") == true)
        g = good
        g.outputName = "nothing"
        #expect(message(g)?.contains("'nothing' is not produced") == true)
        g = good
        g.nodes[3].outputs = ["c1"]
        #expect(message(g)?.contains("produced twice") == true)
        g = good
        g.nodes[17].op = .dropout(p: 1)
        #expect(message(g)?.contains("ratio 1.0") == true)
        g = good
        g.nodes[4].op = .lrn(LRNSpec(size: 0, alpha: 1, beta: 1, bias: 1))
        #expect(message(g)?.contains("LRN size 0") == true)
        g = good
        g.nodes[8].op = .transpose(perm: [0, 0, 1])
        #expect(message(g)?.contains("permutation") == true)
    }
}

// MARK: - Against onnxruntime

/// The exported graph run by onnxruntime, against the engine's scalar
/// reference (`Reference.run`) and its optimised executor (`Network`): an
/// independent check of the engine's operator semantics.
@Suite("Export parity with onnxruntime", .enabled(if: ExportReference.available,
        "python (.venv/bin/python or python3) with numpy, onnx and onnxruntime is not available"))
struct ONNXExportParityTests {
    static let tolerance: Float = 1e-4

    @Test(arguments: [11, 13, 18, 24])
    func everyOpMatches(_ opset: Int) throws {
        let graph = ExportTestGraphs.everyOp(seed: 10)
        let logits = ExportTestGraphs.withoutSoftmax(graph)
        let batch = 3
        var rng = SeededGenerator(seed: 12)
        let input = rng.floats(batch * 270, in: -2...2)
        let ort = try ExportReference.outputs(model: try ONNXExporter.export(graph, opset: opset), input: input,
                                              shape: [batch] + graph.inputShape, tensors: [logits.outputName])
        let prob = try #require(ort["prob"]), ortLogits = try #require(ort[logits.outputName])
        #expect(prob.shape == [batch, 10])
        let reference = try Reference.run(graph: graph, input: input, batch: batch)
        let network = try Network(graph: graph, threads: 2).run(input, batch: batch)
        #expect(maxAbsDifference(reference, prob.data) <= Self.tolerance)
        #expect(maxAbsDifference(network, prob.data) <= Self.tolerance)
        let scale = max(1, maxAbs(ortLogits.data))
        let refLogits = try Reference.run(graph: logits, input: input, batch: batch)
        let netLogits = try Network(graph: logits, threads: 2).run(input, batch: batch)
        #expect(maxAbsDifference(refLogits, ortLogits.data) <= 1e-5 * scale, "reference \(maxAbsDifference(refLogits, ortLogits.data))")
        #expect(maxAbsDifference(netLogits, ortLogits.data) <= 1e-5 * scale, "network \(maxAbsDifference(netLogits, ortLogits.data))")
    }

    /// Each edge case of pooling (ceil mode, padding divisors), LRN (sizes), pad
    /// (channels), convolution paths and the shape ops, one branch at a time.
    @Test func operatorVariantsMatch() throws {
        let (graph, branches) = ExportTestGraphs.variants(seed: 13)
        let batch = 2
        var rng = SeededGenerator(seed: 14)
        let input = rng.floats(batch * 280, in: -2...2)
        let ort = try ExportReference.outputs(model: try ONNXExporter.export(graph), input: input,
                                              shape: [batch] + graph.inputShape, tensors: branches)
        var failures: [String] = []
        for name in branches {
            guard let expected = ort[name] else { failures.append("\(name): onnxruntime gave no output"); continue }
            let branch = ExportTestGraphs.pruned(graph, output: name)
            let network = try Network(graph: branch, threads: 2)
            guard expected.shape == [batch] + network.outputShape else {
                failures.append("\(name): onnxruntime shape \(expected.shape), engine [\(batch)] + \(network.outputShape)")
                continue
            }
            let tolerance = Self.tolerance * max(1, maxAbs(expected.data))
            let reference = try Reference.run(graph: branch, input: input, batch: batch)
            let fast = try network.run(input, batch: batch)
            for (what, got) in [("Reference.run", reference), ("Network", fast)] {
                let d = maxAbsDifference(got, expected.data)
                if d > tolerance {
                    let i = zip(got, expected.data).enumerated().max { abs($0.1.0 - $0.1.1) < abs($1.1.0 - $1.1.1) }!.offset
                    failures.append("\(name) (\(branch.nodes.last!.op)): \(what) max abs difference \(d) at flat index \(i): expected \(expected.data[i]), got \(got[i])")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(branches.count > 40)
    }

    /// A real network through import and export: onnxruntime gives the same
    /// output for the exported graph (folded convolutions, residual adds, channel
    /// padding, average pooling) as for the original file.
    @Test(.enabled(if: TestSupport.modelsAvailable, "pretrained models not installed: run scripts/fetch-models.sh"),
          arguments: ["age", "gender"])
    func pretrainedModelSurvivesImportAndExport(_ name: String) throws {
        let path = TestSupport.modelPath(name)
        let graph = try ONNXImporter.importGraph(contentsOf: path)
        let exported = try ONNXExporter.export(graph)
        let batch = 2
        var rng = SeededGenerator(seed: 16)
        let input = rng.floats(batch * graph.inputShape.reduce(1, *), in: -1...1)
        let shape = [batch] + graph.inputShape
        let original = try ExportReference.outputs(model: try ONNXImporter.readFile(path, limit: ONNXImportLimits.maxFileBytes),
                                                   input: input, shape: shape)
        let ours = try ExportReference.outputs(model: exported, input: input, shape: shape)
        let e = try #require(original.values.first), a = try #require(ours[graph.outputName])
        #expect(original.count == 1 && a.shape == e.shape)
        #expect(maxAbsDifference(a.data, e.data) <= Self.tolerance, "max abs difference \(maxAbsDifference(a.data, e.data))")
    }

    /// LRN of even size, which onnxruntime refuses: the window then reaches one
    /// channel further up than down (ONNX: floor((size-1)/2) below, ceil above).
    /// Checked against the onnx package's reference evaluator, size 3 as a control.
    @Test func lrnEvenSizesMatchTheONNXReference() throws {
        var nodes: [GraphNode] = []
        let sizes = [2, 3, 4, 6]
        for size in sizes {
            nodes.append(GraphNode(name: "lrn\(size)", op: .lrn(LRNSpec(size: size, alpha: 0.8, beta: 0.75, bias: 1.25)),
                                   inputs: ["x"], outputs: ["lrn\(size)"]))
        }
        let graph = Graph(inputName: "x", inputShape: [5, 3, 4], nodes: nodes, outputName: "lrn2")
        var rng = SeededGenerator(seed: 15)
        let input = rng.floats(2 * 60, in: -2...2)
        let expected = try ExportReference.outputs(model: try ONNXExporter.export(graph), input: input, shape: [2, 5, 3, 4],
                                                   tensors: sizes.map { "lrn\($0)" }, runtime: "reference")
        for size in sizes {
            let branch = ExportTestGraphs.pruned(graph, output: "lrn\(size)")
            let e = try #require(expected["lrn\(size)"]).data
            let reference = try Reference.run(graph: branch, input: input, batch: 2)
            let network = try Network(graph: branch, threads: 2).run(input, batch: 2)
            #expect(maxAbsDifference(reference, e) <= 1e-5, "size \(size): Reference.run \(maxAbsDifference(reference, e))")
            #expect(maxAbsDifference(network, e) <= 1e-5, "size \(size): Network \(maxAbsDifference(network, e))")
        }
    }

    /// Levi-Hassner at 227x227, batch 2: onnxruntime on the exported model against
    /// `Network` and `Reference.run`, for the probabilities and for the logits
    /// (a softmax near uniform would hide errors), layer by layer on failure.
    ///
    /// `Network` runs the whole graph for the probabilities. For the logits, and for
    /// `Reference.run` (about a minute per batch in a debug build), the graph is cut
    /// after pool3: the convolutional trunk is the same for every class count (fc8
    /// is drawn last from the seed), so it runs once (``LeviHassnerTrunk``) and only
    /// the fully-connected head runs per case.
    @Test(arguments: [8, 2])
    func leviHassnerMatches(_ classes: Int) throws {
        let trunk = try LeviHassnerTrunk.shared.get()
        let graph = LeviHassner.graph(classes: classes, seed: 1)
        #expect(ExportTestGraphs.pruned(graph, output: LeviHassnerTrunk.cut).nodes == trunk.graph.nodes,
                "the trunk depends on the class count")
        let logits = ExportTestGraphs.withoutSoftmax(graph)
        #expect(logits.outputName == "fc8")
        let batch = LeviHassnerTrunk.batch, input = trunk.input
        let shape = [batch] + graph.inputShape
        let check = ["--levi-hassner", "\(classes)"]
        let ortProb = try #require(try ExportReference.outputs(model: try ONNXExporter.export(graph), input: input,
                                                                shape: shape, check: check)["prob"])
        let layers = ["conv1", "pool1", "norm1", "conv2", "pool2", "norm2", "conv3", "pool3", "fc6", "fc7"]
        let ortLogitRun = try ExportReference.outputs(model: try ONNXExporter.export(logits), input: input, shape: shape,
                                                      tensors: layers, check: check)
        let ortLogits = try #require(ortLogitRun["fc8"])
        #expect(ortProb.shape == [batch, classes] && ortLogits.shape == [batch, classes])

        let network = try Network(graph: graph, threads: 2).run(input, batch: batch)
        let head = LeviHassnerTrunk.head(of: graph), logitHead = LeviHassnerTrunk.head(of: logits)
        let networkLogits = try Network(graph: logitHead, threads: 2).run(trunk.network, batch: batch)
        let referenceLogits = try Reference.run(graph: logitHead, input: trunk.reference, batch: batch)
        let referenceProb = try Reference.run(graph: head, input: trunk.reference, batch: batch)

        let logitScale = max(1, maxAbs(ortLogits.data))
        let logitTolerance = 1e-5 * logitScale
        let results = [
            ("Network probabilities", maxAbsDifference(network, ortProb.data), Self.tolerance),
            ("Reference probabilities", maxAbsDifference(referenceProb, ortProb.data), Self.tolerance),
            ("Network logits", maxAbsDifference(networkLogits, ortLogits.data), logitTolerance),
            ("Reference logits", maxAbsDifference(referenceLogits, ortLogits.data), logitTolerance),
        ]
        print("Levi-Hassner \(classes) classes: max |logit| \(logitScale), spread \(logitSpread(ortLogits.data, classes)); "
              + results.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        for (what, d, tolerance) in results {
            #expect(d <= tolerance, "\(what): max abs difference \(d) > \(tolerance)")
        }
        if let ortTrunk = ortLogitRun[LeviHassnerTrunk.cut] {
            let scale = max(1, maxAbs(ortTrunk.data))
            #expect(maxAbsDifference(trunk.network, ortTrunk.data) <= 1e-5 * scale, "Network pool3")
            #expect(maxAbsDifference(trunk.reference, ortTrunk.data) <= 1e-5 * scale, "Reference pool3")
        }
        if results.contains(where: { $0.1 > $0.2 }) {
            // Which layer the engine first departs at.
            for layer in layers {
                guard let expected = ortLogitRun[layer] else { continue }
                let got = try Network(graph: ExportTestGraphs.pruned(graph, output: layer), threads: 2).run(input, batch: batch)
                print("  \(layer): max abs difference \(maxAbsDifference(got, expected.data)), max |value| \(maxAbs(expected.data))")
            }
        }
    }

    /// Largest minus smallest logit of the first sample: the softmax hides differences when it is small.
    private func logitSpread(_ logits: [Float], _ classes: Int) -> Float {
        let row = logits.prefix(classes)
        return row.max()! - row.min()!
    }
}
