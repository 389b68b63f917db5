import FaceRPCEngine

/// Why a ``Graph`` could not be written as ONNX: an inconsistent graph (a
/// shape or weight count that does not fit, a tensor used before it is
/// produced) or something ONNX cannot express the way the engine computes it.
/// When a node is at fault the message names it.
public struct ONNXExportError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { "ONNX export failed: \(message)" }
}

/// Writes an engine ``Graph`` as an ONNX model, so that an independent
/// runtime (onnxruntime) can check the engine, and a graph built in Swift
/// (``LeviHassner``) can be saved in the common format.
///
/// The model has one float32 input named ``Graph/inputName`` of shape
/// `[N] + inputShape` with a symbolic batch `N`, and one output named
/// ``Graph/outputName``. Weights become FLOAT initializers with little-endian
/// `raw_data`. Each ``LayerOp`` maps to standard default-domain operators:
///
/// | LayerOp | ONNX |
/// |---|---|
/// | `conv2d` | `Conv` (weights OIHW, bias, `pads` top, left, bottom, right), then `Relu` for `.relu` |
/// | `fullyConnected` | `Flatten` when the input is not flat, `Gemm` with `transB` = 1, then `Relu` for `.relu` |
/// | `maxPool`, `averagePool` | `MaxPool`, `AveragePool` with `pads`, `ceil_mode`, `count_include_pad` |
/// | `globalAveragePool` | `GlobalAveragePool` |
/// | `lrn` | `LRN` with the same `size`, `alpha`, `beta`, `bias` (``LRNSpec`` uses ONNX's `alpha / size` convention) |
/// | `relu`, `prelu` | `Relu`, `PRelu` (slopes `[C, 1, 1]`) |
/// | `affine` | `Mul` then `Add` with `[C, 1, 1]` constants |
/// | `add` | `Add` (the second input reshaped first when only the element counts agree) |
/// | `pad` | `Pad`, mode constant, pads and value as initializers (trailing channels on the channel axis) |
/// | `flatten`, `reshape`, `transpose` | `Flatten` (axis 1), `Reshape` (`[0, ...]`), `Transpose` (batch axis kept first) |
/// | `softmax` | `Softmax` over axis -1 |
/// | `dropout` | `Dropout` with its ratio (an identity at inference) |
///
/// Per-channel constants get the rank of the tensor they apply to (`[C]` on a
/// flat tensor). The graph is validated while it is written: every shape and
/// weight count is checked, so a graph the engine would refuse is refused here.
///
/// Two limits of other ONNX tools, not of the file: onnxruntime runs `LRN`
/// with odd sizes only, and for a ceil-mode pool whose last window would start
/// in the bottom or right padding (dropped by the engine and by onnxruntime's
/// kernels), the onnx package's shape inference before opset 22 counts that
/// window, so onnxruntime may refuse a model in which a later node depends on
/// that size. Exporting with opset 22 or later avoids the latter.
public enum ONNXExporter {
    /// The default-domain opsets ``export(_:opset:)`` can write; 11 is the
    /// first with `Pad` taking its pads as an input.
    public static let opsetVersions: ClosedRange<Int> = 11...24

    /// Serialises `graph` as an ONNX `ModelProto`.
    ///
    /// - Parameter opset: the default-domain opset to declare, in ``opsetVersions``;
    ///   the IR version is the one that opset was released with.
    /// - Returns: the bytes of a `.onnx` file, at most ``ONNXImportLimits/maxFileBytes``.
    /// - Throws: ``ONNXExportError`` naming the node when the graph is inconsistent
    ///   or uses something ONNX cannot express exactly.
    public static func export(_ graph: Graph, opset: Int = 13) throws -> [UInt8] {
        try ONNXEncoder.encode(model(graph, opset: opset))
    }

    /// The ``ONNXModel`` that ``export(_:opset:)`` encodes.
    static func model(_ graph: Graph, opset: Int) throws -> ONNXModel {
        guard opsetVersions.contains(opset) else {
            throw ONNXExportError(message: "opset \(opset) is not supported (supported: \(opsetVersions.lowerBound)...\(opsetVersions.upperBound))")
        }
        var writer = try ONNXGraphWriter(graph: graph, opset: opset)
        for (index, node) in graph.nodes.enumerated() {
            try writer.write(node, index: index)
        }
        return ONNXModel(irVersion: irVersion(opset: opset), producer: "facerpc",
                         opsets: ["": Int64(opset)], graph: try writer.finish())
    }

    /// The IR version released with each opset (onnx/docs/Versioning.md):
    /// runtimes refuse an IR version newer than they know, so declare the oldest that fits.
    static func irVersion(opset: Int) -> Int64 {
        switch opset {
        case ...11: 6
        case 12...14: 7
        case 15...18: 8
        case 19...20: 9
        case 21...22: 10
        default: 11
        }
    }
}

/// Builds the ONNX nodes and initializers of one graph, tracking the
/// per-sample shape of every tensor to validate each node and to give
/// per-channel constants the right rank.
private struct ONNXGraphWriter {
    let graph: Graph
    let opset: Int
    private var nodes: [ONNXNode] = []
    private var initializers: [ONNXTensor] = []
    /// Per-sample shapes of the tensors produced so far, the graph input included.
    private var shapes: [String: TensorShape]
    /// Every tensor name in the ONNX graph: the engine's, plus the ones made up here.
    private var tensorNames: Set<String>
    private var nodeNames: Set<String> = []

    init(graph: Graph, opset: Int) throws {
        self.graph = graph
        self.opset = opset
        guard !graph.inputName.isEmpty, !graph.outputName.isEmpty else {
            throw ONNXExportError(message: "the graph input and output need names")
        }
        guard !graph.inputShape.isEmpty, graph.inputShape.allSatisfy({ $0 > 0 }) else {
            throw ONNXExportError(message: "graph input '\(graph.inputName)' has shape \(graph.inputShape); positive dimensions are needed")
        }
        shapes = [graph.inputName: graph.inputShape]
        tensorNames = Set([graph.inputName] + graph.nodes.flatMap(\.outputs))
    }

    func finish() throws -> ONNXGraphProto {
        guard graph.outputName != graph.inputName else {
            throw ONNXExportError(message: "graph output '\(graph.outputName)' is the input: the graph computes nothing")
        }
        guard let outShape = shapes[graph.outputName] else {
            throw ONNXExportError(message: "graph output '\(graph.outputName)' is not produced by any node")
        }
        func info(_ name: String, _ shape: TensorShape) -> ONNXValueInfo {
            ONNXValueInfo(name: name, elemType: .float, dims: [.param("N")] + shape.map { .value(Int64($0)) })
        }
        return ONNXGraphProto(name: "facerpc", nodes: nodes, initializers: initializers,
                              inputs: [info(graph.inputName, graph.inputShape)],
                              outputs: [info(graph.outputName, outShape)])
    }

    // MARK: - Names and constants

    /// `base`, or `base_1`, `base_2`... when it is taken.
    private static func unique(_ base: String, in used: inout Set<String>) -> String {
        var name = base
        var i = 1
        while used.contains(name) {
            name = "\(base)_\(i)"
            i += 1
        }
        used.insert(name)
        return name
    }

    private mutating func freshTensor(_ base: String) -> String { Self.unique(base, in: &tensorNames) }

    private mutating func floatConstant(_ base: String, dims: [Int], _ values: [Float]) -> String {
        let name = freshTensor(base)
        initializers.append(ONNXTensor(name: name, dims: dims, dataType: .float, values: .float(values)))
        return name
    }

    private mutating func int64Constant(_ base: String, _ values: [Int]) -> String {
        let name = freshTensor(base)
        initializers.append(ONNXTensor(name: name, dims: [values.count], dataType: .int64,
                                       values: .integer(values.map { Int64($0) })))
        return name
    }

    /// A per-channel constant for a tensor of per-sample shape `shape`:
    /// `[C, 1, ...]` with the tensor's rank (so it broadcasts over the batch and
    /// spatial axes only), or `[1]` for a single value.
    private mutating func perChannel(_ base: String, _ values: [Float], shape: TensorShape) -> String {
        let dims = values.count == 1 ? [1] : [values.count] + Array(repeating: 1, count: shape.count - 1)
        return floatConstant(base, dims: dims, values)
    }

    private mutating func add(_ opType: String, name: String, inputs: [String], output: String,
                              _ attributes: [String: ONNXAttribute] = [:]) {
        let nodeName = Self.unique(name, in: &nodeNames)
        nodes.append(ONNXNode(name: nodeName, opType: opType, domain: "", inputs: inputs, outputs: [output], attributes: attributes))
    }

    /// `op` producing `output`, followed by a `Relu` when `relu` is set.
    private mutating func addWithActivation(_ opType: String, name: String, inputs: [String], output: String,
                                            relu: Bool, _ attributes: [String: ONNXAttribute]) {
        if relu {
            let pre = freshTensor("\(output)_pre_relu")
            add(opType, name: name, inputs: inputs, output: pre, attributes)
            add("Relu", name: "\(name)_relu", inputs: [pre], output: output)
        } else {
            add(opType, name: name, inputs: inputs, output: output, attributes)
        }
    }

    private static func ints(_ values: [Int]) -> ONNXAttribute { .ints(values.map { Int64($0) }) }

    // MARK: - Nodes

    mutating func write(_ node: GraphNode, index: Int) throws {
        let label = node.name.isEmpty ? "node #\(index)" : "node '\(node.name)'"
        func fail(_ why: String) -> ONNXExportError { ONNXExportError(message: "\(label) (\(Self.opName(node.op))): \(why)") }

        let expectedInputs: Int
        if case .add = node.op { expectedInputs = 2 } else { expectedInputs = 1 }
        guard node.inputs.count == expectedInputs else { throw fail("expects \(expectedInputs) input(s), has \(node.inputs.count)") }
        guard node.outputs.count == 1, !node.outputs[0].isEmpty else { throw fail("expects 1 named output, has \(node.outputs)") }
        let inShapes = try node.inputs.map { name in
            guard let s = shapes[name] else { throw fail("input '\(name)' is not produced before this node") }
            return s
        }
        let output = node.outputs[0]
        guard shapes[output] == nil else { throw fail("tensor '\(output)' is produced twice") }
        let name = node.name.isEmpty ? "\(Self.opName(node.op))_\(index)" : node.name
        let x = node.inputs[0], s = inShapes[0]
        let count = s.reduce(1, *)
        func image() throws -> (c: Int, h: Int, w: Int) {
            guard s.count == 3 else { throw fail("needs a [C, H, W] input, got \(s)") }
            return (s[0], s[1], s[2])
        }

        let outShape: TensorShape
        switch node.op {
        case .conv2d(let c):
            let (ch, h, w) = try image()
            guard ch == c.inChannels else { throw fail("input has \(ch) channels, the convolution expects \(c.inChannels)") }
            guard c.groups >= 1, c.inChannels % c.groups == 0, c.outChannels >= 1, c.outChannels % c.groups == 0,
                  c.kernelH >= 1, c.kernelW >= 1, c.strideH >= 1, c.strideW >= 1, c.dilationH >= 1, c.dilationW >= 1,
                  [c.padTop, c.padLeft, c.padBottom, c.padRight].allSatisfy({ $0 >= 0 })
            else { throw fail("invalid convolution geometry") }
            let perOut = c.inChannels / c.groups * c.kernelH * c.kernelW
            guard c.weights.count == c.outChannels * perOut, c.bias.count == c.outChannels else {
                throw fail("\(c.weights.count) weights and \(c.bias.count) biases, expected \(c.outChannels * perOut) and \(c.outChannels)")
            }
            let spanH = c.dilationH * (c.kernelH - 1) + 1, spanW = c.dilationW * (c.kernelW - 1) + 1
            let ph = h + c.padTop + c.padBottom, pw = w + c.padLeft + c.padRight
            guard ph >= spanH, pw >= spanW else { throw fail("the kernel is larger than the padded input \(ph)x\(pw)") }
            outShape = [c.outChannels, (ph - spanH) / c.strideH + 1, (pw - spanW) / c.strideW + 1]
            let wName = floatConstant("\(name).weight", dims: [c.outChannels, c.inChannels / c.groups, c.kernelH, c.kernelW], c.weights)
            let bName = floatConstant("\(name).bias", dims: [c.outChannels], c.bias)
            addWithActivation("Conv", name: name, inputs: [x, wName, bName], output: output, relu: c.activation == .relu, [
                "kernel_shape": Self.ints([c.kernelH, c.kernelW]),
                "strides": Self.ints([c.strideH, c.strideW]),
                "pads": Self.ints([c.padTop, c.padLeft, c.padBottom, c.padRight]),
                "dilations": Self.ints([c.dilationH, c.dilationW]),
                "group": .int(Int64(c.groups)),
            ])

        case .fullyConnected(let f):
            guard f.inFeatures >= 1, f.outFeatures >= 1, count == f.inFeatures else {
                throw fail("input \(s) has \(count) features, the layer expects \(f.inFeatures)")
            }
            guard f.weights.count == f.inFeatures * f.outFeatures, f.bias.count == f.outFeatures else {
                throw fail("\(f.weights.count) weights and \(f.bias.count) biases, expected \(f.inFeatures * f.outFeatures) and \(f.outFeatures)")
            }
            outShape = [f.outFeatures]
            var a = x
            if s.count != 1 {
                // Gemm takes [N, K]; the engine reads any input as its flattened features.
                a = freshTensor("\(name)_flat")
                add("Flatten", name: "\(name)_flatten", inputs: [x], output: a, ["axis": .int(1)])
            }
            let wName = floatConstant("\(name).weight", dims: [f.outFeatures, f.inFeatures], f.weights)
            let bName = floatConstant("\(name).bias", dims: [f.outFeatures], f.bias)
            addWithActivation("Gemm", name: name, inputs: [a, wName, bName], output: output, relu: f.activation == .relu,
                              ["transB": .int(1), "alpha": .float(1), "beta": .float(1)])

        case .maxPool(let p), .averagePool(let p):
            let (ch, h, w) = try image()
            guard p.kernelH >= 1, p.kernelW >= 1, p.strideH >= 1, p.strideW >= 1,
                  (0..<p.kernelH).contains(p.padTop), (0..<p.kernelH).contains(p.padBottom),
                  (0..<p.kernelW).contains(p.padLeft), (0..<p.kernelW).contains(p.padRight),
                  let oh = ONNXLowering.poolOutputSize(h, kernel: p.kernelH, stride: p.strideH, padBefore: p.padTop,
                                                       padAfter: p.padBottom, ceil: p.ceilMode),
                  let ow = ONNXLowering.poolOutputSize(w, kernel: p.kernelW, stride: p.strideW, padBefore: p.padLeft,
                                                       padAfter: p.padRight, ceil: p.ceilMode),
                  oh >= 1, ow >= 1
            else { throw fail("invalid pooling geometry \(p) for input \(s)") }
            outShape = [ch, oh, ow]
            var attributes: [String: ONNXAttribute] = [
                "kernel_shape": Self.ints([p.kernelH, p.kernelW]),
                "strides": Self.ints([p.strideH, p.strideW]),
                "pads": Self.ints([p.padTop, p.padLeft, p.padBottom, p.padRight]),
                "ceil_mode": .int(p.ceilMode ? 1 : 0),
            ]
            let isMax: Bool
            if case .maxPool = node.op { isMax = true } else { isMax = false }
            if !isMax { attributes["count_include_pad"] = .int(p.countIncludePad ? 1 : 0) }
            add(isMax ? "MaxPool" : "AveragePool", name: name, inputs: [x], output: output, attributes)

        case .globalAveragePool:
            let (ch, _, _) = try image()
            outShape = [ch, 1, 1]
            add("GlobalAveragePool", name: name, inputs: [x], output: output)

        case .lrn(let l):
            let (ch, _, _) = try image()
            guard l.size >= 1, l.size <= 2 * ch + 1 else { throw fail("LRN size \(l.size) is invalid for \(ch) channels") }
            outShape = s
            // LRNSpec is defined with ONNX's formula (alpha divided by size), so the values carry over unchanged.
            add("LRN", name: name, inputs: [x], output: output, [
                "size": .int(Int64(l.size)), "alpha": .float(l.alpha), "beta": .float(l.beta), "bias": .float(l.bias),
            ])

        case .relu:
            outShape = s
            add("Relu", name: name, inputs: [x], output: output)

        case .prelu(let slopes):
            guard slopes.count == s[0] || slopes.count == 1 else { throw fail("\(slopes.count) slopes for \(s[0]) channels") }
            outShape = s
            add("PRelu", name: name, inputs: [x, perChannel("\(name).slope", slopes, shape: s)], output: output)

        case .affine(let scale, let shift):
            guard scale.count == shift.count, scale.count == s[0] || scale.count == 1 else {
                throw fail("\(scale.count) scales and \(shift.count) shifts for \(s[0]) channels")
            }
            outShape = s
            let scaled = freshTensor("\(output)_scaled")
            add("Mul", name: "\(name)_mul", inputs: [x, perChannel("\(name).scale", scale, shape: s)], output: scaled)
            add("Add", name: name, inputs: [scaled, perChannel("\(name).shift", shift, shape: s)], output: output)

        case .add:
            guard inShapes[1].reduce(1, *) == count else { throw fail("adds \(s) and \(inShapes[1])") }
            outShape = s
            var b = node.inputs[1]
            if inShapes[1] != s {
                // The engine adds element by element in memory order; ONNX would broadcast.
                b = freshTensor("\(b)_as_\(output)")
                add("Reshape", name: "\(name)_reshape", inputs: [node.inputs[1], int64Constant("\(name).shape", [0] + s)], output: b)
            }
            add("Add", name: name, inputs: [x, b], output: output)

        case .pad(let top, let left, let bottom, let right, let channelsAfter, let value):
            guard [top, left, bottom, right, channelsAfter].allSatisfy({ $0 >= 0 }) else { throw fail("negative padding") }
            let pads: [Int]
            if s.count == 3 {
                outShape = [s[0] + channelsAfter, s[1] + top + bottom, s[2] + left + right]
                pads = [0, 0, top, left, 0, channelsAfter, bottom, right]
            } else if s.count == 1, top == 0, left == 0, bottom == 0, right == 0 {
                outShape = [s[0] + channelsAfter]
                pads = [0, 0, 0, channelsAfter]
            } else {
                throw fail("padding needs a [C, H, W] input, got \(s)")
            }
            add("Pad", name: name, inputs: [x, int64Constant("\(name).pads", pads), floatConstant("\(name).value", dims: [], [value])],
                output: output, ["mode": .string(Array("constant".utf8))])

        case .flatten:
            outShape = [count]
            add("Flatten", name: name, inputs: [x], output: output, ["axis": .int(1)])

        case .reshape(let target):
            var shape = target
            let unknown = shape.indices.filter { shape[$0] == -1 }
            guard unknown.count <= 1, shape.allSatisfy({ $0 >= 1 || $0 == -1 }) else { throw fail("invalid target shape \(target)") }
            if let u = unknown.first {
                let known = shape.enumerated().filter { $0.offset != u }.reduce(1) { $0 * $1.element }
                guard count % known == 0 else { throw fail("cannot reshape \(s) to \(target)") }
                shape[u] = count / known
            }
            guard shape.reduce(1, *) == count else { throw fail("cannot reshape \(s) to \(target)") }
            outShape = shape
            // 0 keeps the batch axis; the rest is written resolved, without -1.
            add("Reshape", name: name, inputs: [x, int64Constant("\(name).shape", [0] + shape)], output: output)

        case .transpose(let perm):
            guard perm.count == s.count, Set(perm) == Set(0..<s.count) else { throw fail("permutation \(perm) does not fit \(s)") }
            outShape = perm.map { s[$0] }
            add("Transpose", name: name, inputs: [x], output: output, ["perm": Self.ints([0] + perm.map { $0 + 1 })])

        case .softmax:
            outShape = s
            // Axis -1 is the last axis in every opset: before 13 the input is
            // coerced to 2-D at that axis, which is the same rows.
            add("Softmax", name: name, inputs: [x], output: output, ["axis": .int(-1)])

        case .dropout(let p):
            guard p >= 0, p < 1 else { throw fail("ratio \(p) is outside [0, 1)") }
            outShape = s
            if opset >= 12 {
                add("Dropout", name: name, inputs: [x, floatConstant("\(name).ratio", dims: [], [p])], output: output)
            } else {
                add("Dropout", name: name, inputs: [x], output: output, ["ratio": .float(p)])
            }
        }
        shapes[output] = outShape
    }

    private static func opName(_ op: LayerOp) -> String {
        switch op {
        case .conv2d: "conv2d"
        case .fullyConnected: "fullyConnected"
        case .maxPool: "maxPool"
        case .averagePool: "averagePool"
        case .globalAveragePool: "globalAveragePool"
        case .lrn: "lrn"
        case .relu: "relu"
        case .prelu: "prelu"
        case .affine: "affine"
        case .add: "add"
        case .pad: "pad"
        case .flatten: "flatten"
        case .reshape: "reshape"
        case .transpose: "transpose"
        case .softmax: "softmax"
        case .dropout: "dropout"
        }
    }
}
