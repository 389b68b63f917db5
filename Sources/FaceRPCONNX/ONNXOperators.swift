import FaceRPCEngine

/// The lowering of each supported ONNX operator. Every function checks the
/// attributes and constant inputs it reads and refuses values it cannot
/// represent exactly; docs/ONNX.md lists what each accepts.
extension ONNXLowering {
    private static let attributeRange: ClosedRange<Int64> = 0...Int64(ONNXImportLimits.maxAttributeValue)
    private static let positiveRange: ClosedRange<Int64> = 1...Int64(ONNXImportLimits.maxAttributeValue)

    /// Reads `[C, H, W]` or refuses: the spatial operators are 2-D only.
    private func image(_ ctx: ONNXNodeContext, _ shape: TensorShape) throws -> (c: Int, h: Int, w: Int) {
        guard shape.count == 3 else {
            throw ctx.error("only [N, C, H, W] inputs are supported; the input is [N] + \(shape)")
        }
        return (shape[0], shape[1], shape[2])
    }

    /// Padding from `pads` (`[top, left, bottom, right]`) and `auto_pad`.
    private func spatialPads(_ ctx: ONNXNodeContext) throws -> [Int] {
        let pads = try ctx.ints("pads", count: 4, in: Self.attributeRange, default: [0, 0, 0, 0])!
        let autoPad = try ctx.string("auto_pad", default: "NOTSET")
        switch autoPad {
        case "NOTSET":
            return pads
        case "VALID":
            guard pads.allSatisfy({ $0 == 0 }) else {
                throw ctx.error("auto_pad 'VALID' with non-zero pads \(pads) is contradictory")
            }
            return pads
        default:
            throw ctx.error("auto_pad '\(autoPad)' is not supported (only NOTSET and VALID; give explicit pads)")
        }
    }

    // MARK: Conv

    mutating func lowerConv(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])
        let x = try runtimeInput(ctx, 0)
        let (c, h, w) = try image(ctx, x.shape)
        let wt = try requiredConstant(ctx, 1, "weights")
        let weights = try floats(ctx, wt, "weights")
        guard wt.dims.count == 4 else {
            throw ctx.error("weights '\(wt.name)' have shape \(wt.dims); only 2-D convolution ([O, I/group, kH, kW]) is supported")
        }
        let (outC, inPerGroup, kh, kw) = (wt.dims[0], wt.dims[1], wt.dims[2], wt.dims[3])
        let groups = try ctx.int("group", default: 1, in: Self.positiveRange)
        guard outC >= 1, kh >= 1, kw >= 1, c % groups == 0, outC % groups == 0, inPerGroup == c / groups else {
            throw ctx.error("weights '\(wt.name)' \(wt.dims) with group \(groups) do not fit an input of \(c) channels")
        }
        if let ks = try ctx.ints("kernel_shape", count: 2, in: Self.positiveRange, default: nil), ks != [kh, kw] {
            throw ctx.error("kernel_shape \(ks) does not match the weights' \([kh, kw])")
        }
        let strides = try ctx.ints("strides", count: 2, in: Self.positiveRange, default: [1, 1])!
        let dilations = try ctx.ints("dilations", count: 2, in: Self.positiveRange, default: [1, 1])!
        let pads = try spatialPads(ctx)
        var bias = [Float](repeating: 0, count: outC)
        if let bt = try constantInput(ctx, 2, "bias") {
            bias = try floats(ctx, bt, "bias")
            guard bt.dims == [outC] else {
                throw ctx.error("bias '\(bt.name)' has shape \(bt.dims), expected [\(outC)]")
            }
        }
        let spanH = dilations[0] * (kh - 1) + 1, spanW = dilations[1] * (kw - 1) + 1
        let paddedH = h + pads[0] + pads[2], paddedW = w + pads[1] + pads[3]
        guard paddedH >= spanH, paddedW >= spanW else {
            throw ctx.error("the kernel (\(spanH)x\(spanW) with dilation) is larger than the padded input \(paddedH)x\(paddedW)")
        }
        let spec = Conv2DSpec(
            inChannels: c, outChannels: outC, kernelH: kh, kernelW: kw,
            strideH: strides[0], strideW: strides[1],
            padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
            dilationH: dilations[0], dilationW: dilations[1], groups: groups,
            weights: weights, bias: bias)
        let outShape = [outC, (paddedH - spanH) / strides[0] + 1, (paddedW - spanW) / strides[1] + 1]
        try emit(ctx, .conv2d(spec), inputs: [x.name], shape: outShape)
    }

    // MARK: Gemm / MatMul

    mutating func lowerGemm(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes(["alpha", "beta", "transA", "transB"])
        guard try ctx.int("transA", default: 0) == 0 else {
            throw ctx.error("transA = 1 is not supported")
        }
        let transB = try ctx.int("transB", default: 0, in: 0...1)
        let alpha = try ctx.float("alpha", default: 1), beta = try ctx.float("beta", default: 1)
        let a = try runtimeInput(ctx, 0)
        guard a.shape.count == 1 else {
            throw ctx.error("input A must be [N, K] (flatten first); it is [N] + \(a.shape)")
        }
        let k = a.shape[0]
        let bt = try requiredConstant(ctx, 1, "B")
        let b = try floats(ctx, bt, "B")
        guard bt.dims.count == 2 else { throw ctx.error("B '\(bt.name)' has shape \(bt.dims); a matrix is expected") }
        let m = transB == 1 ? bt.dims[0] : bt.dims[1]
        guard (transB == 1 ? bt.dims[1] : bt.dims[0]) == k, m >= 1 else {
            throw ctx.error("B '\(bt.name)' \(bt.dims) (transB = \(transB)) does not fit an input of \(k) features")
        }
        var weights = transB == 1 ? b : Self.transposed(b, rows: k, cols: m)
        if alpha != 1 { weights = weights.map { $0 * alpha } }
        var bias = [Float](repeating: 0, count: m)
        if let ct = try constantInput(ctx, 2, "C") {
            let cv = try floats(ctx, ct, "C")
            let vectorShapes: [[Int]] = [[m], [1, m]]
            let scalarShapes: [[Int]] = [[], [1], [1, 1]]
            if vectorShapes.contains(ct.dims) {
                bias = cv
            } else if scalarShapes.contains(ct.dims) {
                bias = Array(repeating: cv[0], count: m)
            } else {
                throw ctx.error("C '\(ct.name)' has shape \(ct.dims); only [\(m)], [1, \(m)] or a scalar is supported")
            }
            if beta != 1 { bias = bias.map { $0 * beta } }
        }
        let spec = FullyConnectedSpec(inFeatures: k, outFeatures: m, weights: weights, bias: bias)
        try emit(ctx, .fullyConnected(spec), inputs: [a.name], shape: [m])
    }

    mutating func lowerMatMul(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes([])
        let a = try runtimeInput(ctx, 0)
        guard a.shape.count == 1 else {
            throw ctx.error("only [N, K] x constant [K, M] is supported; A is [N] + \(a.shape)")
        }
        let bt = try requiredConstant(ctx, 1, "B")
        let b = try floats(ctx, bt, "B")
        guard bt.dims.count == 2, bt.dims[0] == a.shape[0], bt.dims[1] >= 1 else {
            throw ctx.error("B '\(bt.name)' has shape \(bt.dims); [\(a.shape[0]), M] is expected")
        }
        let (k, m) = (bt.dims[0], bt.dims[1])
        let spec = FullyConnectedSpec(inFeatures: k, outFeatures: m,
                                      weights: Self.transposed(b, rows: k, cols: m),
                                      bias: Array(repeating: 0, count: m))
        try emit(ctx, .fullyConnected(spec), inputs: [a.name], shape: [m])
    }

    /// `[rows][cols]` to `[cols][rows]`.
    static func transposed(_ v: [Float], rows: Int, cols: Int) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        for r in 0..<rows {
            for c in 0..<cols { out[c * rows + r] = v[r * cols + c] }
        }
        return out
    }

    // MARK: Pooling

    mutating func lowerPool(_ ctx: ONNXNodeContext) throws {
        let isMax = ctx.node.opType == "MaxPool"
        try ctx.allowAttributes(isMax
            ? ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]
            : ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"])
        let x = try runtimeInput(ctx, 0)
        let (c, h, w) = try image(ctx, x.shape)
        guard let kernel = try ctx.ints("kernel_shape", count: 2, in: Self.positiveRange, default: nil) else {
            throw ctx.error("kernel_shape is missing")
        }
        let strides = try ctx.ints("strides", count: 2, in: Self.positiveRange, default: [1, 1])!
        if let d = try ctx.ints("dilations", count: 2, in: Self.positiveRange, default: nil), d != [1, 1] {
            throw ctx.error("dilations \(d) are not supported")
        }
        let pads = try spatialPads(ctx)
        guard pads[0] < kernel[0], pads[2] < kernel[0], pads[1] < kernel[1], pads[3] < kernel[1] else {
            throw ctx.error("pads \(pads) must be smaller than the kernel \(kernel)")
        }
        let ceilMode = try ctx.int("ceil_mode", default: 0, in: 0...1) == 1
        let countIncludePad = isMax ? false : try ctx.int("count_include_pad", default: 0, in: 0...1) == 1
        if isMax { _ = try ctx.int("storage_order", default: 0, in: 0...1) }  // Only affects the Indices output, refused below.
        let spec = Pool2DSpec(kernelH: kernel[0], kernelW: kernel[1], strideH: strides[0], strideW: strides[1],
                              padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
                              ceilMode: ceilMode, countIncludePad: countIncludePad)
        guard let oh = Self.poolOutputSize(h, kernel: kernel[0], stride: strides[0], padBefore: pads[0], padAfter: pads[2], ceil: ceilMode),
              let ow = Self.poolOutputSize(w, kernel: kernel[1], stride: strides[1], padBefore: pads[1], padAfter: pads[3], ceil: ceilMode)
        else {
            throw ctx.error("the kernel \(kernel) is larger than the padded input")
        }
        try emit(ctx, isMax ? .maxPool(spec) : .averagePool(spec), inputs: [x.name], shape: [c, oh, ow])
    }

    /// Output size of a pooling window along one axis, as ONNX Runtime computes
    /// it: with `ceil`, the size rounds up, but a last window that would start
    /// in the trailing padding is dropped. Nil when the kernel does not fit.
    static func poolOutputSize(_ size: Int, kernel: Int, stride: Int, padBefore: Int, padAfter: Int, ceil: Bool) -> Int? {
        let span = size + padBefore + padAfter - kernel
        guard span >= 0 else { return nil }
        var out = (ceil ? (span + stride - 1) / stride : span / stride) + 1
        if ceil && (out - 1) * stride >= size + padBefore { out -= 1 }
        return out
    }

    mutating func lowerGlobalAveragePool(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes([])
        let x = try runtimeInput(ctx, 0)
        let (c, _, _) = try image(ctx, x.shape)
        try emit(ctx, .globalAveragePool, inputs: [x.name], shape: [c, 1, 1])
    }

    // MARK: Elementwise

    mutating func lowerBinary(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes([])
        guard ctx.node.inputs.count == 2 else { throw ctx.error("two inputs are expected") }
        let op = ctx.node.opType
        let constant0 = isConstant(ctx, 0), constant1 = isConstant(ctx, 1)
        switch (constant0, constant1) {
        case (false, false):
            let a = try runtimeInput(ctx, 0), b = try runtimeInput(ctx, 1)
            guard op == "Add" else {
                throw ctx.error("\(op) of two computed tensors is not supported (only with a per-channel constant)")
            }
            guard a.shape == b.shape else {
                throw ctx.error("broadcasting [N] + \(a.shape) with [N] + \(b.shape) is not supported; both inputs must have the same shape")
            }
            try emit(ctx, .add, inputs: [a.name, b.name], shape: a.shape)
        case (true, true):
            throw ctx.error("both inputs are constants; constant folding is not supported")
        default:
            let xi = constant0 ? 1 : 0
            let x = try runtimeInput(ctx, xi)
            let t = try requiredConstant(ctx, 1 - xi, "constant")
            let v = try perChannel(ctx, t, shape: x.shape, "constant")
            let ones = [Float](repeating: 1, count: v.count), zeros = [Float](repeating: 0, count: v.count)
            let op: LayerOp
            switch ctx.node.opType {
            case "Mul": op = .affine(scale: v, shift: zeros)
            case "Add": op = .affine(scale: ones, shift: v)
            // x - c = x + (-c) and c - x = (-x) + c exactly: negation is exact.
            default: op = xi == 0 ? .affine(scale: ones, shift: v.map { -$0 }) : .affine(scale: ones.map { -$0 }, shift: v)
            }
            try emit(ctx, op, inputs: [x.name], shape: x.shape)
        }
    }

    mutating func lowerRelu(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes([])
        let x = try runtimeInput(ctx, 0)
        try emit(ctx, .relu, inputs: [x.name], shape: x.shape)
    }

    mutating func lowerPRelu(_ ctx: ONNXNodeContext) throws {
        let x = try runtimeInput(ctx, 0)
        let slopes: [Float]
        if ctx.node.opType == "LeakyRelu" {
            try ctx.allowAttributes(["alpha"])
            slopes = Array(repeating: try ctx.float("alpha", default: 0.01), count: x.shape[0])
        } else {
            try ctx.allowAttributes([])
            slopes = try perChannel(ctx, try requiredConstant(ctx, 1, "slope"), shape: x.shape, "slope")
        }
        try emit(ctx, .prelu(slopes: slopes), inputs: [x.name], shape: x.shape)
    }

    /// Inference-mode batch norm, folded to `y = x * s + t` with
    /// `s = gamma / sqrt(var + epsilon)`, `t = beta - mean * s` (computed in Double).
    mutating func lowerBatchNorm(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes(["epsilon", "momentum", "training_mode", "spatial", "is_test"])
        guard try ctx.int("training_mode", default: 0) == 0 else { throw ctx.error("training_mode = 1 is not supported") }
        guard try ctx.int("spatial", default: 1) == 1 else { throw ctx.error("spatial = 0 is not supported") }
        let epsilon = Double(try ctx.float("epsilon", default: 1e-5))
        let x = try runtimeInput(ctx, 0)
        let c = x.shape[0]
        var params: [[Float]] = []
        for (i, what) in ["scale", "B", "input_mean", "input_var"].enumerated() {
            let t = try requiredConstant(ctx, i + 1, what)
            guard t.dims == [c] else { throw ctx.error("\(what) '\(t.name)' has shape \(t.dims), expected [\(c)]") }
            params.append(try floats(ctx, t, what))
        }
        var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
        for i in 0..<c {
            let variance = Double(params[3][i]) + epsilon
            guard variance > 0 else { throw ctx.error("input_var + epsilon is not positive for channel \(i)") }
            let s = Double(params[0][i]) / variance.squareRoot()
            scale[i] = Float(s)
            shift[i] = Float(Double(params[1][i]) - Double(params[2][i]) * s)
        }
        try emit(ctx, .affine(scale: scale, shift: shift), inputs: [x.name], shape: x.shape)
    }

    mutating func lowerLRN(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes(["alpha", "beta", "bias", "size"])
        let x = try runtimeInput(ctx, 0)
        _ = try image(ctx, x.shape)
        guard try ctx.int("size") != nil else { throw ctx.error("attribute 'size' is missing") }
        let spec = LRNSpec(size: try ctx.int("size", default: 1, in: Self.positiveRange),
                           alpha: try ctx.float("alpha", default: 1e-4),
                           beta: try ctx.float("beta", default: 0.75),
                           bias: try ctx.float("bias", default: 1))
        try emit(ctx, .lrn(spec), inputs: [x.name], shape: x.shape)
    }

    // MARK: Pad

    /// Constant padding of H and W, plus trailing channels: ONNX `pads` is
    /// `[n_begin, c_begin, h_begin, w_begin, n_end, c_end, h_end, w_end]`.
    mutating func lowerPad(_ ctx: ONNXNodeContext) throws {
        let x = try runtimeInput(ctx, 0)
        let (c, h, w) = try image(ctx, x.shape)
        var pads: [Int64]
        var value: Float = 0
        if opset < 11 {
            try ctx.allowAttributes(["mode", "pads", "value"])
            guard let p = try ctx.ints("pads") else { throw ctx.error("attribute 'pads' is missing") }
            pads = p
            value = try ctx.float("value", default: 0)
        } else {
            try ctx.allowAttributes(["mode"])
            pads = try integers(ctx, try requiredConstant(ctx, 1, "pads"), "pads")
            if let vt = try constantInput(ctx, 2, "constant_value") {
                let v = try floats(ctx, vt, "constant_value")
                guard v.count == 1 else { throw ctx.error("constant_value must be a scalar") }
                value = v[0]
            }
            if let at = try constantInput(ctx, 3, "axes") {
                // Pads listed for some axes only: spread them over all four.
                let axes = try integers(ctx, at, "axes")
                guard pads.count == 2 * axes.count else {
                    throw ctx.error("pads has \(pads.count) values for \(axes.count) axes")
                }
                var full = [Int64](repeating: 0, count: 8)
                for (i, axis) in axes.enumerated() {
                    guard (-4...3).contains(axis) else { throw ctx.error("axis \(axis) is out of range") }
                    let a = Int(axis < 0 ? axis + 4 : axis)
                    full[a] = pads[i]
                    full[a + 4] = pads[i + axes.count]
                }
                pads = full
            }
        }
        let mode = try ctx.string("mode", default: "constant")
        guard mode == "constant" else { throw ctx.error("mode '\(mode)' is not supported (only constant)") }
        guard pads.count == 8 else { throw ctx.error("pads has \(pads.count) values, expected 8 for [N, C, H, W]") }
        guard pads.allSatisfy({ Self.attributeRange.contains($0) }) else {
            throw ctx.error("pads \(pads) are not supported (each must be in 0...\(ONNXImportLimits.maxAttributeValue); no cropping)")
        }
        guard pads[0] == 0, pads[4] == 0, pads[1] == 0 else {
            throw ctx.error("pads \(pads) pad the batch axis or leading channels, which is not supported")
        }
        let p = pads.map { Int($0) }
        try emit(ctx, .pad(top: p[2], left: p[3], bottom: p[6], right: p[7], channelsAfter: p[5], value: value),
                 inputs: [x.name], shape: [c + p[5], h + p[2] + p[6], w + p[3] + p[7]])
    }

    // MARK: Shape

    mutating func lowerFlatten(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes(["axis"])
        let x = try runtimeInput(ctx, 0)
        var axis = try ctx.int("axis", default: 1)
        if axis < 0 { axis += Int64(x.shape.count + 1) }
        guard axis == 1 else {
            throw ctx.error("axis \(try ctx.int("axis", default: 1)) is not supported (only 1: keep the batch axis)")
        }
        if x.shape.count == 1 {
            try alias(ctx, to: x.name)
        } else {
            try emit(ctx, .flatten, inputs: [x.name], shape: [x.shape.reduce(1, *)])
        }
    }

    mutating func lowerReshape(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes(["allowzero"])
        let x = try runtimeInput(ctx, 0)
        let target = try integers(ctx, try requiredConstant(ctx, 1, "shape"), "shape")
        let allowZero = try ctx.int("allowzero", default: 0) != 0
        guard target.count >= 2, target.count <= ONNXImportLimits.maxRank else {
            throw ctx.error("target shape \(target) must keep the batch axis and have rank <= \(ONNXImportLimits.maxRank)")
        }
        let count = x.shape.reduce(1, *)
        guard target[0] == 0 || target[0] == -1, !(allowZero && target.contains(0)) else {
            throw ctx.error("target shape \(target) does not keep the batch axis (its first value must be 0 or -1)")
        }
        var shape: [Int] = []
        var inferred: Int?
        for (i, d) in target.enumerated().dropFirst() {
            if d == 0 {
                guard i - 1 < x.shape.count else { throw ctx.error("target shape \(target) copies a missing axis") }
                shape.append(x.shape[i - 1])
            } else if d == -1 {
                guard inferred == nil, target[0] != -1 else { throw ctx.error("target shape \(target) has more than one -1") }
                inferred = shape.count
                shape.append(1)
            } else {
                guard d >= 1, d <= Int64(ONNXImportLimits.maxTensorElements) else {
                    throw ctx.error("target shape \(target) has an invalid size \(d)")
                }
                shape.append(Int(d))
            }
        }
        var known = 1
        for d in shape {
            known *= d  // Both factors are <= 2^28 here: no overflow.
            guard known <= ONNXImportLimits.maxTensorElements else {
                throw ctx.error("target shape \(target) has more than \(ONNXImportLimits.maxTensorElements) elements per sample")
            }
        }
        if let i = inferred {
            guard count % known == 0 else { throw ctx.error("cannot reshape [N] + \(x.shape) to \(target)") }
            shape[i] = count / known
        } else if target[0] == -1 {
            // [-1, ...]: the batch axis is inferred, which keeps it only when the sample sizes agree.
            guard known == count else { throw ctx.error("target shape \(target) does not keep the batch axis") }
        }
        guard shape.reduce(1, *) == count else {
            throw ctx.error("cannot reshape [N] + \(x.shape) to \(target) per sample")
        }
        if shape == x.shape {
            try alias(ctx, to: x.name)
        } else {
            try emit(ctx, .reshape(shape), inputs: [x.name], shape: shape)
        }
    }

    mutating func lowerTranspose(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes(["perm"])
        let x = try runtimeInput(ctx, 0)
        let rank = x.shape.count + 1
        guard let perm = try ctx.ints("perm") else {
            throw ctx.error("a Transpose without perm reverses the batch axis, which is not supported")
        }
        guard perm.count == rank, Set(perm) == Set((0..<Int64(rank))), perm[0] == 0 else {
            throw ctx.error("perm \(perm) is not supported (it must be a permutation of the \(rank) axes that keeps the batch axis first)")
        }
        let sample = perm.dropFirst().map { Int($0) - 1 }
        if sample == Array(0..<x.shape.count) {
            try alias(ctx, to: x.name)
        } else {
            try emit(ctx, .transpose(perm: sample), inputs: [x.name], shape: sample.map { x.shape[$0] })
        }
    }

    mutating func lowerSoftmax(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes(["axis"])
        let x = try runtimeInput(ctx, 0)
        let rank = Int64(x.shape.count + 1)
        // Opset 13 made the default the last axis; before it the default was 1,
        // over a 2-D coercion, which equals a last-axis softmax only at axis rank - 1.
        let raw = try ctx.int("axis", default: opset >= 13 ? -1 : 1)
        let axis = raw < 0 ? raw + rank : raw
        guard axis == rank - 1 else {
            throw ctx.error("softmax over axis \(raw) of a rank-\(rank) tensor is not supported (only the last axis)")
        }
        try emit(ctx, .softmax, inputs: [x.name], shape: x.shape)
    }

    // MARK: Identity-like

    mutating func lowerDropout(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes(opset < 12 ? ["ratio", "is_test"] : ["seed"])
        let x = try runtimeInput(ctx, 0)
        var ratio = opset < 12 ? try ctx.float("ratio", default: 0.5) : 0.5
        if opset >= 12 {
            if let rt = try constantInput(ctx, 1, "ratio") {
                let v = try floats(ctx, rt, "ratio")
                guard v.count == 1 else { throw ctx.error("ratio must be a scalar") }
                ratio = v[0]
            }
            if let tt = try constantInput(ctx, 2, "training_mode") {
                guard try integers(ctx, tt, "training_mode") == [0] else {
                    throw ctx.error("training_mode = true is not supported")
                }
            }
        }
        guard ratio >= 0, ratio < 1 else { throw ctx.error("ratio \(ratio) is outside [0, 1)") }
        try emit(ctx, .dropout(p: ratio), inputs: [x.name], shape: x.shape)
    }

    mutating func lowerIdentity(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes([])
        if isConstant(ctx, 0) {
            try defineConstant(ctx, try requiredConstant(ctx, 0, "input"))
        } else {
            try alias(ctx, to: try runtimeInput(ctx, 0).name)
        }
    }

    mutating func lowerConstant(_ ctx: ONNXNodeContext) throws {
        try ctx.allowAttributes(["value", "value_float", "value_floats", "value_int", "value_ints"])
        guard ctx.node.attributes.count == 1, let (name, attribute) = ctx.node.attributes.first else {
            throw ctx.error("exactly one value attribute is expected")
        }
        let tensor: ONNXTensor
        switch (name, attribute) {
        case ("value", .tensor(let t)): tensor = t
        case ("value_float", .float(let v)): tensor = ONNXTensor(name: "", dims: [], dataType: .float, values: .float([v]))
        case ("value_floats", .floats(let v)): tensor = ONNXTensor(name: "", dims: [v.count], dataType: .float, values: .float(v))
        case ("value_int", .int(let v)): tensor = ONNXTensor(name: "", dims: [], dataType: .int64, values: .integer([v]))
        case ("value_ints", .ints(let v)): tensor = ONNXTensor(name: "", dims: [v.count], dataType: .int64, values: .integer(v))
        default: throw ctx.error("attribute '\(name)' has the wrong type")
        }
        try defineConstant(ctx, tensor)
    }
}
