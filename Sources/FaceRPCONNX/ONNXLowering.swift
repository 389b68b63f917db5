import FaceRPCEngine

/// Lowers the nodes of a decoded ONNX graph, in order, to engine ``GraphNode``s,
/// tracking the per-sample shape of every computed tensor so that each
/// operator's inputs, weights and attributes can be checked before use.
struct ONNXLowering {
    let model: ONNXModel
    /// The default-domain opset version; operator defaults depend on it.
    let opset: Int64
    let inputName: String
    let inputShape: TensorShape
    let outputInfo: ONNXValueInfo

    /// Initializers and `Constant` outputs, by name.
    private(set) var constants: [String: ONNXTensor] = [:]
    /// Per-sample shapes of computed tensors (and the graph input), by name.
    private(set) var shapes: [String: TensorShape] = [:]
    /// Names that stand for another tensor (`Identity`, no-op `Flatten`...).
    private var aliases: [String: String] = [:]
    /// Every name some node reads, plus the graph output.
    private let consumed: Set<String>
    private(set) var nodes: [GraphNode] = []

    init(model: ONNXModel) throws {
        self.model = model
        let graph = model.graph
        guard let opset = model.opsets[""] ?? model.opsets["ai.onnx"] else {
            throw ONNXImportError(message: "the model imports no opset of the default ONNX domain")
        }
        guard ONNXImportLimits.opsetVersions.contains(opset) else {
            throw ONNXImportError(message: "opset \(opset) is not supported (supported: \(ONNXImportLimits.opsetVersions.lowerBound)...\(ONNXImportLimits.opsetVersions.upperBound))")
        }
        self.opset = opset

        var constants: [String: ONNXTensor] = [:]
        for t in graph.initializers {
            guard !t.name.isEmpty else { throw ONNXImportError(message: "an initializer has no name") }
            guard constants[t.name] == nil else { throw ONNXImportError(message: "initializer '\(t.name)' is defined twice") }
            constants[t.name] = t
        }
        self.constants = constants

        // Before IR version 4 initializers were also listed as graph inputs.
        let inputs = graph.inputs.filter { constants[$0.name] == nil }
        guard inputs.count == 1 else {
            throw ONNXImportError(message: "the graph must have exactly one input tensor, it has \(inputs.count) (\(inputs.map(\.name)))")
        }
        let input = inputs[0]
        guard !input.name.isEmpty else { throw ONNXImportError(message: "the graph input has no name") }
        guard let elemType = input.elemType else {
            throw ONNXImportError(message: "graph input '\(input.name)' has no tensor type")
        }
        guard elemType == .float else {
            throw ONNXImportError(message: "graph input '\(input.name)' is \(elemType); only FLOAT is supported")
        }
        guard let dims = input.dims, dims.count >= 2 else {
            throw ONNXImportError(message: "graph input '\(input.name)' must have a known shape [N, ...] with a batch axis first")
        }
        var shape: TensorShape = []
        var count = 1
        for d in dims.dropFirst() {
            guard case .value(let v) = d, v >= 1, v <= Int64(ONNXImportLimits.maxTensorElements) else {
                throw ONNXImportError(message: "graph input '\(input.name)' has shape \(Self.format(dims)); every axis after the batch axis must be a fixed positive size")
            }
            shape.append(Int(v))
            count *= Int(v)
            guard count <= ONNXImportLimits.maxTensorElements else {
                throw ONNXImportError(message: "graph input '\(input.name)' has more than \(ONNXImportLimits.maxTensorElements) elements per sample")
            }
        }
        if case .value(let batch) = dims[0], batch < 1 {
            throw ONNXImportError(message: "graph input '\(input.name)' has batch size \(batch)")
        }
        self.inputName = input.name
        self.inputShape = shape
        self.shapes[input.name] = shape

        guard graph.outputs.count == 1, !graph.outputs[0].name.isEmpty else {
            throw ONNXImportError(message: "the graph must have exactly one named output, it has \(graph.outputs.count)")
        }
        self.outputInfo = graph.outputs[0]
        var consumed = Set(graph.nodes.flatMap(\.inputs))
        consumed.insert(outputInfo.name)
        self.consumed = consumed
    }

    mutating func lowerAll() throws {
        for (index, node) in model.graph.nodes.enumerated() {
            try lower(ONNXNodeContext(node: node, index: index))
        }
    }

    /// Resolves the graph output, checks its declared shape, folds, and
    /// returns the finished graph.
    func finish() throws -> Graph {
        let output = resolve(outputInfo.name)
        guard constants[output] == nil else {
            throw ONNXImportError(message: "graph output '\(outputInfo.name)' is a constant")
        }
        guard let shape = shapes[output] else {
            throw ONNXImportError(message: "graph output '\(outputInfo.name)' is not produced by any node")
        }
        guard output != inputName else {
            throw ONNXImportError(message: "graph output '\(outputInfo.name)' is the input: the graph computes nothing")
        }
        if let elemType = outputInfo.elemType, elemType != .float {
            throw ONNXImportError(message: "graph output '\(outputInfo.name)' is declared \(elemType); only FLOAT is supported")
        }
        if let dims = outputInfo.dims {
            let declared = dims.dropFirst()
            let matches = dims.count == shape.count + 1 && zip(declared, shape).allSatisfy { d, s in
                if case .value(let v) = d { return v == Int64(s) }
                return true
            }
            guard matches else {
                throw ONNXImportError(message: "graph output '\(outputInfo.name)' is declared \(Self.format(dims)) but the graph computes [N] + \(shape)")
            }
        }
        var nodes = GraphFolding.fold(nodes, outputName: output, shapes: shapes)
        // When the output is another name for a computed tensor (a trailing Identity,
        // say), that tensor takes the declared name, so callers see the model's own.
        let declared = outputInfo.name
        if output != declared {
            for i in nodes.indices {
                nodes[i].inputs = nodes[i].inputs.map { $0 == output ? declared : $0 }
                nodes[i].outputs = nodes[i].outputs.map { $0 == output ? declared : $0 }
            }
        }
        return Graph(inputName: inputName, inputShape: inputShape, nodes: nodes, outputName: declared)
    }

    static func format(_ dims: [ONNXValueInfo.Dim]) -> String {
        "[" + dims.map(\.description).joined(separator: ", ") + "]"
    }

    // MARK: - Tensors

    private func resolve(_ name: String) -> String { aliases[name] ?? name }

    /// The computed tensor at input `i`, with its per-sample shape.
    func runtimeInput(_ ctx: ONNXNodeContext, _ i: Int) throws -> (name: String, shape: TensorShape) {
        guard i < ctx.node.inputs.count, !ctx.node.inputs[i].isEmpty else {
            throw ctx.error("input \(i) is missing")
        }
        let name = resolve(ctx.node.inputs[i])
        if constants[name] != nil {
            throw ctx.error("input \(i) ('\(name)') is a constant; only a computed tensor is supported there")
        }
        guard let shape = shapes[name] else {
            throw ctx.error("input '\(name)' is not produced before this node (nodes must be in topological order)")
        }
        return (name, shape)
    }

    /// The constant at input `i`, or nil when that optional input is omitted.
    func constantInput(_ ctx: ONNXNodeContext, _ i: Int, _ what: String) throws -> ONNXTensor? {
        guard i < ctx.node.inputs.count, !ctx.node.inputs[i].isEmpty else { return nil }
        let name = resolve(ctx.node.inputs[i])
        guard let t = constants[name] else {
            if shapes[name] != nil {
                throw ctx.error("\(what) ('\(name)') is computed at run time; only a constant initializer is supported")
            }
            throw ctx.error("\(what) ('\(name)') is not defined before this node")
        }
        return t
    }

    func requiredConstant(_ ctx: ONNXNodeContext, _ i: Int, _ what: String) throws -> ONNXTensor {
        guard let t = try constantInput(ctx, i, what) else { throw ctx.error("\(what) (input \(i)) is missing") }
        return t
    }

    func isConstant(_ ctx: ONNXNodeContext, _ i: Int) -> Bool {
        i < ctx.node.inputs.count && constants[resolve(ctx.node.inputs[i])] != nil
    }

    func floats(_ ctx: ONNXNodeContext, _ t: ONNXTensor, _ what: String) throws -> [Float] {
        guard case .float(let v) = t.values else {
            throw ctx.error("\(what) '\(t.name)' is \(t.dataType); only FLOAT is supported")
        }
        return v
    }

    func integers(_ ctx: ONNXNodeContext, _ t: ONNXTensor, _ what: String) throws -> [Int64] {
        guard case .integer(let v) = t.values else {
            throw ctx.error("\(what) '\(t.name)' is \(t.dataType); an integer tensor is expected")
        }
        return v
    }

    /// A constant as `C` per-channel values for an input of per-sample shape
    /// `shape` (`C = shape[0]`), following ONNX broadcasting: the constant may be
    /// a scalar or have size `C` on the channel axis and 1 everywhere else.
    func perChannel(_ ctx: ONNXNodeContext, _ t: ONNXTensor, shape: TensorShape, _ what: String) throws -> [Float] {
        let v = try floats(ctx, t, what)
        let rank = shape.count + 1
        guard t.dims.count <= rank else {
            throw ctx.error("\(what) '\(t.name)' has shape \(t.dims), which would broadcast the input [N] + \(shape) to a higher rank")
        }
        let dims = Array(repeating: 1, count: rank - t.dims.count) + t.dims
        let channels = shape[0]
        guard dims[0] == 1, dims.dropFirst(2).allSatisfy({ $0 == 1 }), dims[1] == 1 || dims[1] == channels else {
            throw ctx.error("\(what) '\(t.name)' with shape \(t.dims) is not a per-channel constant for the input [N] + \(shape)")
        }
        return dims[1] == channels ? v : Array(repeating: v[0], count: channels)
    }

    // MARK: - Outputs

    /// The node's first output; any further outputs must be unused.
    func singleOutput(_ ctx: ONNXNodeContext) throws -> String {
        guard let first = ctx.node.outputs.first, !first.isEmpty else {
            throw ctx.error("the node has no output")
        }
        for extra in ctx.node.outputs.dropFirst() where !extra.isEmpty && consumed.contains(extra) {
            throw ctx.error("output '\(extra)' is used, but only the first output is supported")
        }
        return first
    }

    private func checkNew(_ ctx: ONNXNodeContext, _ name: String) throws {
        guard shapes[name] == nil, constants[name] == nil, aliases[name] == nil else {
            throw ctx.error("tensor '\(name)' is produced twice")
        }
    }

    mutating func emit(_ ctx: ONNXNodeContext, _ op: LayerOp, inputs: [String], shape: TensorShape) throws {
        let output = try singleOutput(ctx)
        try checkNew(ctx, output)
        var count = 1
        for d in shape {
            guard d >= 1, d <= ONNXImportLimits.maxTensorElements else {
                throw ctx.error("the output would have shape [N] + \(shape)")
            }
            count *= d
            guard count <= ONNXImportLimits.maxTensorElements else {
                throw ctx.error("the output would have more than \(ONNXImportLimits.maxTensorElements) elements per sample")
            }
        }
        nodes.append(GraphNode(name: ctx.graphName, op: op, inputs: inputs, outputs: [output]))
        shapes[output] = shape
    }

    /// Makes the node's output another name for `target` (no engine node).
    mutating func alias(_ ctx: ONNXNodeContext, to target: String) throws {
        let output = try singleOutput(ctx)
        try checkNew(ctx, output)
        aliases[output] = target
    }

    mutating func defineConstant(_ ctx: ONNXNodeContext, _ t: ONNXTensor) throws {
        let output = try singleOutput(ctx)
        try checkNew(ctx, output)
        var t = t
        t.name = output
        constants[output] = t
    }

    // MARK: - Dispatch

    private mutating func lower(_ ctx: ONNXNodeContext) throws {
        guard ctx.node.domain.isEmpty || ctx.node.domain == "ai.onnx" else {
            throw ctx.error("operators of domain '\(ctx.node.domain)' are not supported")
        }
        switch ctx.node.opType {
        case "Conv": try lowerConv(ctx)
        case "Gemm": try lowerGemm(ctx)
        case "MatMul": try lowerMatMul(ctx)
        case "MaxPool", "AveragePool": try lowerPool(ctx)
        case "GlobalAveragePool": try lowerGlobalAveragePool(ctx)
        case "Mul", "Add", "Sub": try lowerBinary(ctx)
        case "Relu": try lowerRelu(ctx)
        case "PRelu", "LeakyRelu": try lowerPRelu(ctx)
        case "BatchNormalization": try lowerBatchNorm(ctx)
        case "LRN": try lowerLRN(ctx)
        case "Pad": try lowerPad(ctx)
        case "Flatten": try lowerFlatten(ctx)
        case "Reshape": try lowerReshape(ctx)
        case "Transpose": try lowerTranspose(ctx)
        case "Softmax": try lowerSoftmax(ctx)
        case "Dropout": try lowerDropout(ctx)
        case "Identity": try lowerIdentity(ctx)
        case "Constant": try lowerConstant(ctx)
        default: throw ctx.error("operator '\(ctx.node.opType)' is not supported")
        }
    }
}
