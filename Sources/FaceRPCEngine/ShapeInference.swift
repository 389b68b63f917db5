import FaceRPCKernels

extension TensorShape {
    /// Number of elements; 0 for an empty shape list.
    var elementCount: Int { isEmpty ? 0 : reduce(1, *) }
}

/// Per-op output shapes and the validity checks the executor relies on.
enum ShapeInference {
    static func convGeometry(_ s: Conv2DSpec, input: TensorShape) -> ConvGeometry {
        ConvGeometry(inChannels: s.inChannels, outChannels: s.outChannels, inH: input[1], inW: input[2],
                     kernelH: s.kernelH, kernelW: s.kernelW, strideH: s.strideH, strideW: s.strideW,
                     padTop: s.padTop, padLeft: s.padLeft, padBottom: s.padBottom, padRight: s.padRight,
                     dilationH: s.dilationH, dilationW: s.dilationW, groups: s.groups)
    }

    static func poolGeometry(_ s: Pool2DSpec, input: TensorShape) -> PoolGeometry {
        PoolGeometry(channels: input[0], inH: input[1], inW: input[2], kernelH: s.kernelH, kernelW: s.kernelW,
                     strideH: s.strideH, strideW: s.strideW, padTop: s.padTop, padLeft: s.padLeft,
                     padBottom: s.padBottom, padRight: s.padRight, ceilMode: s.ceilMode,
                     countIncludePad: s.countIncludePad)
    }

    /// Checks that a shape is usable at all.
    static func checkShape(_ shape: TensorShape, _ what: String) throws {
        guard !shape.isEmpty, shape.count <= EngineLimits.maxRank else {
            throw EngineError("\(what): rank \(shape.count) is outside 1...\(EngineLimits.maxRank)")
        }
        var total = 1
        for d in shape {
            guard d > 0 else { throw EngineError("\(what): dimension \(d) in \(shape) is not positive") }
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, p <= EngineLimits.maxTensorElements else {
                throw EngineError("\(what): shape \(shape) exceeds \(EngineLimits.maxTensorElements) elements")
            }
            total = p
        }
    }

    /// The output shape of `node` given its input shapes; throws naming the node.
    static func infer(_ node: GraphNode, inputs: [TensorShape]) throws -> TensorShape {
        func fail(_ why: String) -> EngineError { EngineError("node '\(node.name)': \(why)") }
        let expectedInputs: Int
        if case .add = node.op { expectedInputs = 2 } else { expectedInputs = 1 }
        guard inputs.count == expectedInputs else {
            throw fail("expects \(expectedInputs) input(s), has \(inputs.count)")
        }
        guard node.outputs.count == 1 else { throw fail("expects 1 output, has \(node.outputs.count)") }
        let x = inputs[0]
        func inRange(_ values: Int...) -> Bool { values.allSatisfy { $0 >= 0 && $0 <= EngineLimits.maxDimension } }
        let out: TensorShape
        switch node.op {
        case .conv2d(let s):
            guard inRange(s.inChannels, s.outChannels, s.kernelH, s.kernelW, s.strideH, s.strideW, s.padTop, s.padLeft,
                          s.padBottom, s.padRight, s.dilationH, s.dilationW, s.groups) else {
                throw fail("convolution parameters outside 0...\(EngineLimits.maxDimension)")
            }
            guard x.count == 3 else { throw fail("convolution needs a [C,H,W] input, got \(x)") }
            guard x[0] == s.inChannels else { throw fail("input has \(x[0]) channels, convolution expects \(s.inChannels)") }
            let g = convGeometry(s, input: x)
            guard g.isValid else { throw fail("invalid convolution geometry \(g) for input \(x)") }
            let (wc, o1) = s.outChannels.multipliedReportingOverflow(by: g.groupK)
            guard !o1, s.weights.count == wc else {
                throw fail("weights have \(s.weights.count) values, expected \(s.outChannels) x \(g.groupK)")
            }
            guard s.bias.count == s.outChannels else { throw fail("bias has \(s.bias.count) values, expected \(s.outChannels)") }
            out = [s.outChannels, g.outH, g.outW]
        case .fullyConnected(let s):
            guard inRange(s.outFeatures) else {
                throw fail("\(s.outFeatures) output features, outside 0...\(EngineLimits.maxDimension)")
            }
            guard x.elementCount == s.inFeatures else {
                throw fail("input \(x) has \(x.elementCount) features, layer expects \(s.inFeatures)")
            }
            guard s.inFeatures > 0, s.outFeatures > 0 else { throw fail("feature counts must be positive") }
            let (wc, o1) = s.inFeatures.multipliedReportingOverflow(by: s.outFeatures)
            guard !o1, s.weights.count == wc else {
                throw fail("weights have \(s.weights.count) values, expected \(s.outFeatures) x \(s.inFeatures)")
            }
            guard s.bias.count == s.outFeatures else { throw fail("bias has \(s.bias.count) values, expected \(s.outFeatures)") }
            out = [s.outFeatures]
        case .maxPool(let s), .averagePool(let s):
            guard inRange(s.kernelH, s.kernelW, s.strideH, s.strideW, s.padTop, s.padLeft, s.padBottom, s.padRight) else {
                throw fail("pooling parameters outside 0...\(EngineLimits.maxDimension)")
            }
            guard x.count == 3 else { throw fail("pooling needs a [C,H,W] input, got \(x)") }
            let g = poolGeometry(s, input: x)
            guard g.isValid else { throw fail("invalid pooling geometry \(s) for input \(x)") }
            out = [x[0], g.outH, g.outW]
        case .globalAveragePool:
            guard x.count == 3 else { throw fail("global average pooling needs a [C,H,W] input, got \(x)") }
            out = [x[0], 1, 1]
        case .lrn(let s):
            guard s.size > 0, s.size <= EngineLimits.maxDimension, s.alpha.isFinite, s.beta.isFinite, s.bias.isFinite else {
                throw fail("LRN parameters are invalid")
            }
            guard s.size > 0, s.size <= x[0] * 2 + 1 else { throw fail("LRN size \(s.size) is invalid") }
            out = x
        case .relu, .dropout, .softmax:
            out = x
        case .prelu(let slopes):
            guard slopes.count == x[0] || slopes.count == 1 else {
                throw fail("\(slopes.count) slopes for \(x[0]) channels")
            }
            out = x
        case .affine(let scale, let shift):
            guard scale.count == shift.count, scale.count == x[0] || scale.count == 1 else {
                throw fail("affine has \(scale.count) scales and \(shift.count) shifts for \(x[0]) channels")
            }
            out = x
        case .add:
            guard inputs[1].elementCount == x.elementCount else {
                throw fail("add of mismatched shapes \(x) and \(inputs[1])")
            }
            out = x
        case .pad(let top, let left, let bottom, let right, let channelsAfter, _):
            guard inRange(top, left, bottom, right, channelsAfter) else {
                throw fail("padding outside 0...\(EngineLimits.maxDimension)")
            }
            if x.count == 3 {
                out = [x[0] + channelsAfter, x[1] + top + bottom, x[2] + left + right]
            } else if x.count == 1 && top == 0 && left == 0 && bottom == 0 && right == 0 {
                out = [x[0] + channelsAfter]
            } else {
                throw fail("padding needs a [C,H,W] input, got \(x)")
            }
        case .flatten:
            out = [x.elementCount]
        case .reshape(let target):
            var shape = target
            let unknown = shape.indices.filter { shape[$0] == -1 }
            guard unknown.count <= 1 else { throw fail("reshape \(target) has more than one -1") }
            if let u = unknown.first {
                let known = shape.enumerated().filter { $0.offset != u }.map(\.element).reduce(1, *)
                guard known > 0, x.elementCount % known == 0 else { throw fail("cannot reshape \(x) to \(target)") }
                shape[u] = x.elementCount / known
            }
            try checkShape(shape, "node '\(node.name)'")
            guard shape.elementCount == x.elementCount else { throw fail("cannot reshape \(x) to \(target)") }
            out = shape
        case .transpose(let perm):
            guard perm.count == x.count, Set(perm) == Set(0..<x.count) else {
                throw fail("transpose permutation \(perm) does not fit rank \(x.count)")
            }
            out = perm.map { x[$0] }
        }
        try checkShape(out, "node '\(node.name)'")
        return out
    }
}
