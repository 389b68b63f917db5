// Re-export only the scalar reference namespace, so `Reference.run(graph:...)`
// is usable by clients of the engine without importing the kernels module.
@_exported import enum FaceRPCKernels.Reference
import FaceRPCKernels

extension Reference {
    /// Executes `graph` node by node with the scalar reference kernels, no fusion,
    /// no buffer reuse: the ground truth for ``Network`` and for importers.
    ///
    /// - Returns: `batch * outputShape.product` floats.
    public static func run(graph: Graph, input: [Float], batch: Int) throws -> [Float] {
        try ShapeInference.checkShape(graph.inputShape, "graph input '\(graph.inputName)'")
        guard batch >= 1, input.count == batch * graph.inputShape.elementCount else {
            throw EngineError("input has \(input.count) floats, expected batch \(batch) x \(graph.inputShape)")
        }
        var tensors: [String: (shape: TensorShape, data: [Float])] = [graph.inputName: (graph.inputShape, input)]
        for node in graph.nodes {
            let ins = try node.inputs.map { name in
                guard let t = tensors[name] else { throw EngineError("node '\(node.name)': input '\(name)' is not defined before it") }
                return t
            }
            let outShape = try ShapeInference.infer(node, inputs: ins.map(\.shape))
            let x = ins[0].data, s = ins[0].shape
            let inner = s.count > 1 ? s.dropFirst().reduce(1, *) : 1
            var y: [Float]
            switch node.op {
            case .conv2d(let c):
                y = Reference.conv2d(x, batch: batch, geometry: ShapeInference.convGeometry(c, input: s),
                                     weights: c.weights, bias: c.bias, relu: c.activation == .relu)
            case .fullyConnected(let f):
                y = Reference.fullyConnected(x, batch: batch, inFeatures: f.inFeatures, outFeatures: f.outFeatures,
                                             weights: f.weights, bias: f.bias, relu: f.activation == .relu)
            case .maxPool(let p):
                y = Reference.maxPool(x, batch: batch, geometry: ShapeInference.poolGeometry(p, input: s))
            case .averagePool(let p):
                y = Reference.averagePool(x, batch: batch, geometry: ShapeInference.poolGeometry(p, input: s))
            case .globalAveragePool:
                y = Reference.globalAveragePool(x, planes: batch * s[0], spatial: inner)
            case .lrn(let l):
                y = Reference.lrn(x, batch: batch, channels: s[0], spatial: inner, size: l.size, alpha: l.alpha, beta: l.beta, bias: l.bias)
            case .relu:
                y = Reference.relu(x)
            case .prelu(let slopes):
                y = Reference.prelu(x, channels: s[0], inner: inner,
                                    slopes: slopes.count == 1 ? Array(repeating: slopes[0], count: s[0]) : slopes)
            case .affine(let scale, let shift):
                y = Reference.affine(x, channels: s[0], inner: inner,
                                     scale: scale.count == 1 ? Array(repeating: scale[0], count: s[0]) : scale,
                                     shift: shift.count == 1 ? Array(repeating: shift[0], count: s[0]) : shift)
            case .add:
                y = Reference.add(x, ins[1].data)
            case .pad(let top, let left, let bottom, let right, let channelsAfter, let value):
                y = s.count == 3
                    ? Reference.pad(x, batch: batch, channels: s[0], height: s[1], width: s[2], top: top, left: left,
                                    bottom: bottom, right: right, channelsAfter: channelsAfter, value: value)
                    : Reference.pad(x, batch: batch, channels: s[0], height: 1, width: 1, top: 0, left: 0, bottom: 0,
                                    right: 0, channelsAfter: channelsAfter, value: value)
            case .flatten, .reshape, .dropout:
                y = x
            case .transpose(let perm):
                y = Reference.transpose(x, batch: batch, shape: s, perm: perm)
            case .softmax:
                y = Reference.softmax(x, length: s.last!)
            }
            tensors[node.outputs[0]] = (outShape, y)
        }
        guard let out = tensors[graph.outputName] else {
            throw EngineError("graph output '\(graph.outputName)' is not produced by any node")
        }
        return out.data
    }
}
