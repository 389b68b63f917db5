import FaceRPCEngine
import Testing
@testable import FaceRPCONNX

/// A model that fails to import, and words its error must contain.
struct RefusedModel: CustomTestStringConvertible, Sendable {
    var label: String
    var bytes: [UInt8]
    var expected: [String]
    var testDescription: String { label }
}

private let w2x3: TestTensor = .float("w", [2, 3, 3, 3], [Float](repeating: 0.1, count: 54))

/// One node between input `x` [N, 3, 8, 8] and output `y`.
private func oneNode(_ node: TestNode, _ initializers: [TestTensor] = [], opset: Int64 = 18) -> [UInt8] {
    makeONNXModel(nodes: [node], initializers: initializers,
                  input: ("x", [nil, 3, 8, 8]), output: ("y", [nil]), opset: opset)
}

private let refusedModels: [RefusedModel] = [
    RefusedModel(label: "unsupported operator",
                 bytes: oneNode(TestNode("Sigmoid", "mystery", ["x"], ["y"])),
                 expected: ["Sigmoid node 'mystery'", "not supported"]),
    RefusedModel(label: "operator from another domain",
                 bytes: { var n = TestNode("Relu", "custom", ["x"], ["y"]); n.domain = "com.example"; return oneNode(n) }(),
                 expected: ["Relu node 'custom'", "domain 'com.example'"]),
    RefusedModel(label: "auto_pad SAME_UPPER",
                 bytes: oneNode(TestNode("Conv", "c1", ["x", "w"], ["y"], [.string("auto_pad", "SAME_UPPER")]), [w2x3]),
                 expected: ["Conv node 'c1'", "auto_pad 'SAME_UPPER'"]),
    RefusedModel(label: "double weights",
                 bytes: oneNode(TestNode("Conv", "c2", ["x", "w"], ["y"]),
                                [TestTensor(name: "w", dims: [2, 3, 3, 3], dataType: 11, rawBytes: [UInt8](repeating: 0, count: 54 * 8))]),
                 expected: ["Conv node 'c2'", "DOUBLE", "only FLOAT"]),
    RefusedModel(label: "weights computed at run time",
                 bytes: makeONNXModel(nodes: [TestNode("Relu", "r", ["x"], ["w"]), TestNode("Conv", "c3", ["x", "w"], ["y"])],
                                      input: ("x", [nil, 3, 8, 8]), output: ("y", [nil])),
                 expected: ["Conv node 'c3'", "computed at run time"]),
    RefusedModel(label: "3-D convolution weights",
                 bytes: oneNode(TestNode("Conv", "c4", ["x", "w"], ["y"]), [.float("w", [1, 3, 1, 1, 1], [1, 1, 1])]),
                 expected: ["Conv node 'c4'", "only 2-D convolution"]),
    RefusedModel(label: "Gemm transA",
                 bytes: makeONNXModel(nodes: [TestNode("Flatten", "fl", ["x"], ["f"]),
                                              TestNode("Gemm", "fc", ["f", "b"], ["y"], [.int("transA", 1)])],
                                      initializers: [.float("b", [192, 2], [Float](repeating: 0, count: 384))],
                                      input: ("x", [nil, 3, 8, 8]), output: ("y", [nil, 2])),
                 expected: ["Gemm node 'fc'", "transA"]),
    RefusedModel(label: "Gemm on a 4-D tensor",
                 bytes: oneNode(TestNode("Gemm", "fc2", ["x", "b"], ["y"]), [.float("b", [8, 2], [Float](repeating: 0, count: 16))]),
                 expected: ["Gemm node 'fc2'", "flatten first"]),
    RefusedModel(label: "Softmax over channels",
                 bytes: oneNode(TestNode("Softmax", "sm", ["x"], ["y"], [.int("axis", 1)])),
                 expected: ["Softmax node 'sm'", "axis 1"]),
    RefusedModel(label: "unknown attribute",
                 bytes: oneNode(TestNode("Relu", "r", ["x"], ["y"], [.int("foo", 1)])),
                 expected: ["Relu node 'r'", "attribute 'foo'"]),
    RefusedModel(label: "attribute of the wrong type",
                 bytes: oneNode(TestNode("MaxPool", "mp", ["x"], ["y"], [.float("kernel_shape", 2)])),
                 expected: ["MaxPool node 'mp'", "kernel_shape", "list of integers"]),
    RefusedModel(label: "MaxPool dilations",
                 bytes: oneNode(TestNode("MaxPool", "mp2", ["x"], ["y"], [.ints("kernel_shape", [2, 2]), .ints("dilations", [2, 2])])),
                 expected: ["MaxPool node 'mp2'", "dilations"]),
    RefusedModel(label: "MaxPool indices output in use",
                 bytes: makeONNXModel(nodes: [TestNode("MaxPool", "mp3", ["x"], ["p", "idx"], [.ints("kernel_shape", [2, 2])]),
                                              TestNode("Relu", "r", ["idx"], ["y"])],
                                      input: ("x", [nil, 3, 8, 8]), output: ("y", [nil])),
                 expected: ["MaxPool node 'mp3'", "output 'idx'"]),
    RefusedModel(label: "product of two computed tensors",
                 bytes: makeONNXModel(nodes: [TestNode("Relu", "r", ["x"], ["a"]), TestNode("Mul", "m", ["a", "x"], ["y"])],
                                      input: ("x", [nil, 3, 8, 8]), output: ("y", [nil])),
                 expected: ["Mul node 'm'", "two computed tensors"]),
    RefusedModel(label: "broadcasting Add",
                 bytes: makeONNXModel(nodes: [TestNode("GlobalAveragePool", "g", ["x"], ["a"]), TestNode("Add", "add", ["a", "x"], ["y"])],
                                      input: ("x", [nil, 3, 8, 8]), output: ("y", [nil])),
                 expected: ["Add node 'add'", "broadcasting"]),
    RefusedModel(label: "constant that is not per-channel",
                 bytes: oneNode(TestNode("Mul", "m2", ["x", "c"], ["y"]), [.float("c", [8, 8], [Float](repeating: 1, count: 64))]),
                 expected: ["Mul node 'm2'", "not a per-channel constant"]),
    RefusedModel(label: "reflect padding",
                 bytes: oneNode(TestNode("Pad", "p", ["x", "pads"], ["y"], [.string("mode", "reflect")]),
                                [.int64("pads", [8], [0, 0, 1, 1, 0, 0, 1, 1])]),
                 expected: ["Pad node 'p'", "mode 'reflect'"]),
    RefusedModel(label: "padding leading channels",
                 bytes: oneNode(TestNode("Pad", "p2", ["x", "pads"], ["y"]), [.int64("pads", [8], [0, 2, 0, 0, 0, 0, 0, 0])]),
                 expected: ["Pad node 'p2'", "leading channels"]),
    RefusedModel(label: "cropping with negative pads",
                 bytes: oneNode(TestNode("Pad", "p3", ["x", "pads"], ["y"]), [.int64("pads", [8], [0, 0, -1, 0, 0, 0, 0, 0])]),
                 expected: ["Pad node 'p3'", "no cropping"]),
    RefusedModel(label: "float pads",
                 bytes: oneNode(TestNode("Pad", "p4", ["x", "pads"], ["y"]), [.float("pads", [8], [Float](repeating: 0, count: 8))]),
                 expected: ["Pad node 'p4'", "integer tensor"]),
    RefusedModel(label: "Transpose moving the batch axis",
                 bytes: oneNode(TestNode("Transpose", "t", ["x"], ["y"], [.ints("perm", [1, 0, 2, 3])])),
                 expected: ["Transpose node 't'", "perm"]),
    RefusedModel(label: "Reshape with a fixed batch",
                 bytes: oneNode(TestNode("Reshape", "rs", ["x", "s"], ["y"]), [.int64("s", [2], [1, 192])]),
                 expected: ["Reshape node 'rs'", "batch axis"]),
    RefusedModel(label: "Reshape to an enormous shape",
                 bytes: oneNode(TestNode("Reshape", "rs2", ["x", "s"], ["y"]), [.int64("s", [4], [0, 1 << 28, 1 << 28, 1 << 28])]),
                 expected: ["Reshape node 'rs2'", "more than 268435456 elements"]),
    RefusedModel(label: "Flatten over the batch axis",
                 bytes: oneNode(TestNode("Flatten", "fl", ["x"], ["y"], [.int("axis", 0)])),
                 expected: ["Flatten node 'fl'", "axis 0"]),
    RefusedModel(label: "BatchNormalization in training mode",
                 bytes: oneNode(TestNode("BatchNormalization", "bn", ["x", "s", "s", "s", "s"], ["y"], [.int("training_mode", 1)]),
                                [.float("s", [3], [1, 1, 1])]),
                 expected: ["BatchNormalization node 'bn'", "training_mode"]),
    RefusedModel(label: "nodes out of order",
                 bytes: makeONNXModel(nodes: [TestNode("Relu", "r2", ["h"], ["y"]), TestNode("Relu", "r1", ["x"], ["h"])],
                                      input: ("x", [nil, 3, 8, 8]), output: ("y", [nil])),
                 expected: ["Relu node 'r2'", "not produced before"]),
    RefusedModel(label: "tensor produced twice",
                 bytes: makeONNXModel(nodes: [TestNode("Relu", "r1", ["x"], ["y"]), TestNode("Relu", "r2", ["x"], ["y"])],
                                      input: ("x", [nil, 3, 8, 8]), output: ("y", [nil])),
                 expected: ["Relu node 'r2'", "produced twice"]),
    RefusedModel(label: "unnamed node",
                 bytes: oneNode(TestNode("Erf", "", ["x"], ["y"])),
                 expected: ["Erf node #Erf_0", "not supported"]),
    RefusedModel(label: "declared output shape that differs",
                 bytes: makeONNXModel(nodes: [TestNode("Relu", "r", ["x"], ["y"])],
                                      input: ("x", [nil, 3, 8, 8]), output: ("y", [nil, 3, 8, 9])),
                 expected: ["graph output 'y' is declared [N, 3, 8, 9] but the graph computes [N] + [3, 8, 8]"]),
    RefusedModel(label: "output nobody produces",
                 bytes: makeONNXModel(nodes: [TestNode("Relu", "r", ["x"], ["z"])],
                                      input: ("x", [nil, 3, 8, 8]), output: ("y", [nil])),
                 expected: ["graph output 'y'", "not produced"]),
    RefusedModel(label: "old opset",
                 bytes: oneNode(TestNode("Relu", "r", ["x"], ["y"]), opset: 5),
                 expected: ["opset 5"]),
    RefusedModel(label: "raw data shorter than the dims",
                 bytes: oneNode(TestNode("Conv", "c", ["x", "w"], ["y"]),
                                [TestTensor(name: "w", dims: [2, 3, 3, 3], dataType: 1, rawBytes: [UInt8](repeating: 0, count: 215))]),
                 expected: ["initializer 'w'", "215 bytes of raw data, expected 216"]),
    RefusedModel(label: "float_data count that differs from the dims",
                 bytes: oneNode(TestNode("Conv", "c", ["x", "w"], ["y"]), [.float("w", [2, 3, 3, 3], [1, 2, 3], encoding: .typed)]),
                 expected: ["initializer 'w'", "3 float_data values, expected 54"]),
    RefusedModel(label: "initializer without data",
                 bytes: oneNode(TestNode("Conv", "c", ["x", "w"], ["y"]), [TestTensor(name: "w", dims: [2, 3, 3, 3], dataType: 1)]),
                 expected: ["initializer 'w'", "no data"]),
    RefusedModel(label: "negative dimension",
                 bytes: oneNode(TestNode("Relu", "r", ["x"], ["y"]), [.float("w", [-1], [])]),
                 expected: ["initializer 'w'", "dimension -1"]),
    RefusedModel(label: "element count over the limit",
                 bytes: oneNode(TestNode("Relu", "r", ["x"], ["y"]), [.float("w", [1 << 20, 1 << 20], [])]),
                 expected: ["initializer 'w'", "more than 268435456 elements"]),
    RefusedModel(label: "external data",
                 bytes: oneNode(TestNode("Relu", "r", ["x"], ["y"]),
                                [TestTensor(name: "w", dims: [1], floats: [1], external: true)]),
                 expected: ["initializer 'w'", "external file"]),
    RefusedModel(label: "two graph inputs",
                 bytes: makeONNXModel(nodes: [TestNode("Relu", "r", ["x"], ["y"])],
                                      input: ("x", [nil, 3, 8, 8]), output: ("y", [nil]), extraInputs: ["x2"]),
                 expected: ["exactly one input", "x2"]),
]

@Suite("Models the importer refuses")
struct ONNXImportErrorTests {
    @Test(arguments: refusedModels)
    func refusedWithAClearError(_ model: RefusedModel) {
        let error = #expect(throws: ONNXImportError.self) { try ONNXImporter.importGraph(bytes: model.bytes) }
        for part in model.expected {
            #expect(error?.message.contains(part) == true, "\(error?.message ?? "no error") should mention \(part)")
        }
    }

    @Test func emptyBytesAreRefused() {
        let error = #expect(throws: ONNXImportError.self) { try ONNXImporter.importGraph(bytes: []) }
        #expect(error?.message.contains("empty") == true)
    }

    @Test func garbageIsRefused() {
        let error = #expect(throws: ONNXImportError.self) {
            try ONNXImporter.importGraph(bytes: [UInt8](repeating: 0xFF, count: 64))
        }
        #expect(error?.message.contains("not a valid ONNX protobuf") == true)
        // A valid protobuf that is not a model: no graph.
        let noGraph = #expect(throws: ONNXImportError.self) { try ONNXImporter.importGraph(bytes: [0x08, 0x07]) }
        #expect(noGraph?.message.contains("no graph") == true)
    }

    @Test func everyTruncationOfASmallModelIsRefusedOrImports() {
        let bytes = TestModels.residual()
        var refused = 0
        for length in 1..<bytes.count {
            do {
                _ = try ONNXImporter.importGraph(bytes: Array(bytes.prefix(length)))
            } catch is ONNXImportError {
                refused += 1
            } catch {
                Issue.record("unexpected error type: \(error)")
            }
        }
        // Any prefix loses the opset import (written last), so none may import.
        #expect(refused == bytes.count - 1)
    }

    @Test func tooManyNodesAreRefused() {
        var nodes = [TestNode("Relu", "r0", ["x"], ["t0"])]
        for i in 1...ONNXImportLimits.maxNodes { nodes.append(TestNode("Relu", "r\(i)", ["t\(i - 1)"], ["t\(i)"])) }
        let bytes = makeONNXModel(nodes: nodes, input: ("x", [nil, 1]), output: ("t\(ONNXImportLimits.maxNodes)", [nil, 1]))
        let error = #expect(throws: ONNXImportError.self) { try ONNXImporter.importGraph(bytes: bytes) }
        #expect(error?.message.contains("over the limit of \(ONNXImportLimits.maxNodes)") == true)
    }
}
