import FaceRPCEngine
import Testing
@testable import FaceRPCONNX

/// How many nodes of each kind a graph has, by `LayerOp` case name.
func opCounts(_ graph: Graph) -> [String: Int] {
    var counts: [String: Int] = [:]
    for node in graph.nodes {
        let name: String
        switch node.op {
        case .conv2d: name = "conv2d"
        case .fullyConnected: name = "fullyConnected"
        case .maxPool: name = "maxPool"
        case .averagePool: name = "averagePool"
        case .globalAveragePool: name = "globalAveragePool"
        case .lrn: name = "lrn"
        case .relu: name = "relu"
        case .prelu: name = "prelu"
        case .affine: name = "affine"
        case .add: name = "add"
        case .pad: name = "pad"
        case .flatten: name = "flatten"
        case .reshape: name = "reshape"
        case .transpose: name = "transpose"
        case .softmax: name = "softmax"
        case .dropout: name = "dropout"
        }
        counts[name, default: 0] += 1
    }
    return counts
}

@Suite("Importing the pretrained networks", .enabled(if: TestSupport.modelsAvailable,
        "pretrained models not installed: run scripts/fetch-models.sh (or set FACERPC_MODELS_DIR)"))
struct PretrainedImportTests {
    @Test func ageNetworkStructure() throws {
        let graph = try ONNXImporter.importGraph(contentsOf: TestSupport.modelPath("age"))
        #expect(graph.inputName == "images")
        #expect(graph.inputShape == [3, 64, 64])
        #expect(graph.outputName == "probabilities")
        // 11 Conv + 11 Mul/Add pairs + 11 Relu in the file: every Mul/Add pair folds into
        // its conv, and the 6 ReLUs that directly follow a conv become its activation.
        #expect(opCounts(graph) == [
            "conv2d": 11, "add": 5, "relu": 5, "pad": 3, "maxPool": 1, "averagePool": 2,
            "globalAveragePool": 1, "flatten": 1, "fullyConnected": 1, "softmax": 1,
        ])
        let convs = graph.nodes.compactMap { if case .conv2d(let c) = $0.op { c } else { nil } }
        #expect(convs.filter { $0.activation == .relu }.count == 6)
        #expect(convs.first?.kernelH == 7 && convs.first?.strideH == 2)
        let pads = graph.nodes.compactMap { node -> [Int]? in
            guard case .pad(let t, let l, let b, let r, let c, let v) = node.op, v == 0 else { return nil }
            return [t, l, b, r, c]
        }
        // The residual shortcuts gain trailing channels; the strided branch gains a bottom row and right column.
        #expect(pads == [[0, 0, 0, 0, 64], [0, 0, 1, 1, 0], [0, 0, 0, 0, 128]])
        let out = try ScalarInterpreter(graph: graph).run([Float](repeating: 0, count: 3 * 64 * 64), batch: 1)
        #expect(out.shape == [81])
        #expect(abs(out.data.reduce(0, +) - 1) < 1e-5)
    }

    @Test func genderNetworkStructure() throws {
        let graph = try ONNXImporter.importGraph(contentsOf: TestSupport.modelPath("gender"))
        #expect(graph.inputShape == [3, 32, 32])
        // Conv+affine+relu fold into 4 convs; both scalar Muls (0.5) fold into the
        // following Gemm; the Flatten of an already flat tensor disappears.
        #expect(opCounts(graph) == [
            "conv2d": 4, "averagePool": 2, "flatten": 1, "fullyConnected": 2, "softmax": 1,
        ])
        let fcs = graph.nodes.compactMap { if case .fullyConnected(let f) = $0.op { f } else { nil } }
        #expect(fcs.map(\.inFeatures) == [4096, 16])
        #expect(fcs.map(\.outFeatures) == [16, 2])
        #expect(fcs.map(\.activation) == [.relu, .none])
        let out = try ScalarInterpreter(graph: graph).run([Float](repeating: 0.1, count: 2 * 3 * 32 * 32), batch: 2)
        #expect(out.shape == [2])
        #expect(out.data.count == 4)
    }

    @Test func importingTwiceGivesEqualGraphs() throws {
        let bytes = try ONNXImporter.readFile(TestSupport.modelPath("gender"), limit: ONNXImportLimits.maxFileBytes)
        let fromBytes = try ONNXImporter.importGraph(bytes: bytes)
        let fromFile = try ONNXImporter.importGraph(contentsOf: TestSupport.modelPath("gender"))
        #expect(fromBytes == fromFile)
    }

    @Test func truncatedModelIsRefused() throws {
        let bytes = try ONNXImporter.readFile(TestSupport.modelPath("gender"), limit: ONNXImportLimits.maxFileBytes)
        for length in [1, 7, 100, bytes.count / 3, bytes.count / 2, bytes.count - 1] {
            #expect(throws: ONNXImportError.self, "truncated to \(length) bytes") {
                try ONNXImporter.importGraph(bytes: Array(bytes.prefix(length)))
            }
        }
    }

    /// Random byte damage must end in a graph or an ONNXImportError, never a crash.
    @Test func damagedModelNeverCrashes() throws {
        let bytes = try ONNXImporter.readFile(TestSupport.modelPath("gender"), limit: ONNXImportLimits.maxFileBytes)
        var rng = SeededGenerator(seed: 42)
        var refused = 0
        for _ in 0..<40 {
            var damaged = bytes
            // Damage the structure near the start, where the graph and node headers are.
            for _ in 0..<4 {
                let i = Int.random(in: 0..<min(4096, damaged.count), using: &rng)
                damaged[i] = UInt8.random(in: 0...255, using: &rng)
            }
            do {
                _ = try ONNXImporter.importGraph(bytes: damaged)
            } catch is ONNXImportError {
                refused += 1
            }
        }
        #expect(refused > 0)
    }
}

@Suite("Importing small models")
struct SmallModelImportTests {
    @Test func allOperatorsModelLowersEveryOperator() throws {
        let graph = try ONNXImporter.importGraph(bytes: TestModels.allOperators())
        #expect(graph.inputShape == [3, 10, 9])
        // BatchNormalization folds into conv1; Relu into fc1; the Sub (an affine) into
        // the MatMul's fully-connected layer; the Constant is no node.
        #expect(opCounts(graph) == [
            "conv2d": 2, "prelu": 1, "maxPool": 2, "lrn": 1, "averagePool": 1, "transpose": 1,
            "reshape": 1, "dropout": 1, "fullyConnected": 2, "softmax": 1,
        ])
        let pools = graph.nodes.compactMap { if case .maxPool(let p) = $0.op { p } else { nil } }
        let allCeil = pools.allSatisfy { $0.ceilMode }
        #expect(pools.count == 2 && allCeil)
        let ceil = try ONNXImporter.importGraph(bytes: TestModels.ceilPooling())
        let ceilOut = try ScalarInterpreter(graph: ceil).run([Float](repeating: 1, count: 40), batch: 1)
        #expect(ceilOut.shape == [2, 2, 2])
        // The trailing Identity disappears, and the softmax writes the declared output.
        #expect(graph.outputName == "y" && graph.nodes.last?.outputs == ["y"])
        let out = try ScalarInterpreter(graph: graph).run([Float](repeating: 0.5, count: 270), batch: 1)
        #expect(out.shape == [3])
    }

    @Test func residualModelFoldsAffinesAndKeepsPads() throws {
        let graph = try ONNXImporter.importGraph(bytes: TestModels.residual())
        #expect(opCounts(graph) == [
            "conv2d": 2, "pad": 2, "averagePool": 1, "add": 1, "relu": 1, "prelu": 1, "flatten": 1,
            "fullyConnected": 1, "softmax": 1,
        ])
        let pads = graph.nodes.compactMap { node -> String? in
            guard case .pad(let t, let l, let b, let r, let c, let v) = node.op else { return nil }
            return "\(node.name):\(t),\(l),\(b),\(r),\(c),\(v)"
        }
        #expect(pads == ["padR:0,0,1,1,0,0.0", "padL:0,0,0,0,4,0.25"])
    }

    @Test func typedAndRawEncodingsGiveTheSameGraph() throws {
        func model(_ encoding: TestTensor.Encoding) -> [UInt8] {
            makeONNXModel(
                nodes: [TestNode("Conv", "c", ["x", "w", "b"], ["y"])],
                initializers: [.float("w", [2, 1, 1, 1], [1.5, -2], encoding: encoding),
                               .float("b", [2], [0.25, 3], encoding: encoding)],
                input: ("x", [nil, 1, 2, 2]), output: ("y", [nil, 2, 2, 2]))
        }
        let raw = try ONNXImporter.importGraph(bytes: model(.raw))
        let typed = try ONNXImporter.importGraph(bytes: model(.typed))
        #expect(raw == typed)
        guard case .conv2d(let c) = raw.nodes[0].op else { Issue.record("not a conv"); return }
        #expect(c.weights == [1.5, -2] && c.bias == [0.25, 3])
    }

    @Test func convFollowedByAffineAndReluBecomesOneConv() throws {
        let bytes = makeONNXModel(
            nodes: [TestNode("Conv", "c", ["x", "w", "b"], ["c"]),
                    TestNode("Mul", "m", ["c", "s"], ["m"]),
                    TestNode("Add", "a", ["m", "t"], ["a"]),
                    TestNode("Relu", "r", ["a"], ["y"])],
            initializers: [.float("w", [2, 1, 1, 1], [1, -1]), .float("b", [2], [0.5, 0.25]),
                           .float("s", [1, 2, 1, 1], [2, 4]), .float("t", [1, 2, 1, 1], [1, -1])],
            input: ("x", [nil, 1, 3, 3]), output: ("y", [nil, 2, 3, 3]))
        let graph = try ONNXImporter.importGraph(bytes: bytes)
        #expect(graph.nodes.count == 1)
        guard case .conv2d(let c) = graph.nodes[0].op else { Issue.record("not a conv"); return }
        #expect(c.weights == [2, -4])          // w * s
        #expect(c.bias == [2, 0])              // b * s + t
        #expect(c.activation == .relu)
        #expect(graph.nodes[0].outputs == ["y"])
    }

    @Test func affineIsNotFoldedWhenTheConvOutputHasAnotherReader() throws {
        let bytes = makeONNXModel(
            nodes: [TestNode("Conv", "c", ["x", "w"], ["c"]),
                    TestNode("Mul", "m", ["c", "s"], ["m"]),
                    TestNode("Add", "res", ["m", "c"], ["y"])],
            initializers: [.float("w", [2, 2, 1, 1], [1, 0, 0, 1]), .float("s", [2, 1, 1], [2, 3])],
            input: ("x", [nil, 2, 2, 2]), output: ("y", [nil, 2, 2, 2]))
        let graph = try ONNXImporter.importGraph(bytes: bytes)
        #expect(opCounts(graph) == ["conv2d": 1, "affine": 1, "add": 1])
    }

    @Test func reluIsNotFoldedIntoAConvWithAnotherReader() throws {
        let bytes = makeONNXModel(
            nodes: [TestNode("Conv", "c", ["x", "w"], ["c"]),
                    TestNode("Relu", "r", ["c"], ["r"]),
                    TestNode("Add", "res", ["r", "c"], ["y"])],
            initializers: [.float("w", [1, 1, 1, 1], [1])],
            input: ("x", [nil, 1, 2, 2]), output: ("y", [nil, 1, 2, 2]))
        let graph = try ONNXImporter.importGraph(bytes: bytes)
        #expect(opCounts(graph) == ["conv2d": 1, "relu": 1, "add": 1])
    }

    @Test func importFromFileChecksTheFile() throws {
        let dir = try TestSupport.temporaryDirectory()
        let missing = #expect(throws: ONNXImportError.self) { try ONNXImporter.importGraph(contentsOf: dir + "/missing.onnx") }
        #expect(missing?.message.contains("cannot open") == true)
        let directory = #expect(throws: ONNXImportError.self) { try ONNXImporter.importGraph(contentsOf: dir) }
        #expect(directory?.message.contains("not a regular file") == true)
        let tooLarge = #expect(throws: ONNXImportError.self) { try ONNXImporter.readFile(TestSupport.referenceScript, limit: 16) }
        #expect(tooLarge?.message.contains("over the limit of 16") == true)
    }
}
