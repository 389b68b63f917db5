import FaceRPCKernels

/// One kernel call of the executor, after fusion.
enum StepKind: Sendable {
    /// Convolution with folded affine, optional residual (step input 1) and ReLU.
    case conv(PackedConvolution, relu: Bool)
    /// A strided convolution with few input channels (a first layer) run directly
    /// on phase-split rows, with folded affine and optional ReLU; no residual.
    case stridedDirectConv(PackedStridedDirectConvolution, relu: Bool)
    /// A 3x3 stride-1 convolution packed three ways (four when its padding and
    /// map suit ``PackedBlockConvolution``); each run picks the cheapest for its
    /// batch (see ``ExecutionPlan/convPath(_:batch:)``).
    case convOrWinograd(PackedConvolution, PackedWinogradConvolution, PackedWinogradF4Convolution,
                        PackedBlockConvolution?, relu: Bool)
    case fullyConnected(weights: [Float], bias: [Float], inFeatures: Int, outFeatures: Int, relu: Bool)
    case maxPool(PoolGeometry)
    case averagePool(PoolGeometry)
    case globalAveragePool(channels: Int, spatial: Int)
    case lrn(LRNSpec, channels: Int, spatial: Int)
    case relu
    case prelu(slopes: [Float], channels: Int, inner: Int)
    case affine(scale: [Float], shift: [Float], channels: Int, inner: Int)
    case add(relu: Bool)
    /// An add whose operands arrive through zero pads at the bottom, right and in
    /// trailing channels (one also through a non-overlapping average pool): both
    /// read unpadded, in one pass split by channels (``f32_extended_add``).
    case extendedAdd(ExtendedOperand, ExtendedOperand, channels: Int, height: Int, width: Int, relu: Bool)
    case pad(channels: Int, height: Int, width: Int, top: Int, left: Int, bottom: Int, right: Int,
             channelsAfter: Int, value: Float)
    case transpose(shape: [Int], perm: [Int])
    case softmax(length: Int)
}

struct Step: Sendable {
    var name: String
    var kind: StepKind
    /// Value ids read.
    var inputs: [Int]
    /// Value id written.
    var output: Int
}

/// Static plan: fused steps, per-sample value sizes and the buffer each value lives in.
struct ExecutionPlan: Sendable {
    var steps: [Step] = []
    /// Per-sample element count of each storage slot (scaled by the batch at run time).
    var storageSizes: [Int] = []
    /// Storage slot of each value; -1 for the graph input (the caller's buffer).
    var storageOf: [Int] = []
    /// The same with no slot shared: one per step output (see ``privateLayoutMaxBatch``).
    var privateStorageSizes: [Int] = []
    var privateStorageOf: [Int] = []

    /// Up to this batch, runs on several threads give every value its own
    /// buffer instead of reusing buffers by liveness. A reused buffer is written
    /// by one layer's split of the threads after another layer, split
    /// differently, left its lines in the other core's cache; each such line
    /// costs a transfer before the write, several hundred nanoseconds when the
    /// host puts the two vCPUs on different L3 caches. With private buffers each
    /// layer writes lines that the same threads wrote in the previous run. The
    /// age net at batch 1 on 2 threads: 5-15% faster in those periods (paired
    /// runs), equal otherwise; its values take 0.6 MB a sample instead of 0.3.
    static let privateLayoutMaxBatch = 4
    /// Per-sample element count of each value.
    var valueElements: [Int] = []
    var inputValue = 0
    var outputValue = 0
    var inputShape: TensorShape = []
    var outputShape: TensorShape = []
    /// Scratch floats one thread needs (conv panels, LRN sums).
    var scratchFixedPerThread = 0
    /// Scratch floats per sample of batch, shared by the threads (Winograd's padded input).
    var scratchPerSample = 0
    var flopsPerSample = 0.0
    var parameterCount = 0

    /// The kernels a 3x3 stride-1 convolution can run on.
    enum ConvPath: Sendable, Equatable {
        case im2col
        /// Winograd F(2x2, 3x3).
        case winograd2
        /// Winograd F(4x4, 3x3).
        case winograd4
        /// Direct 3x3 output blocks that skip the taps reading padding
        /// (``PackedBlockConvolution``).
        case blocks
    }

    /// The path with the fewest multiplies for this batch, counted after rounding
    /// up to whole GEMM panels: 9 per output pixel for im2col, 16 per 2x2 tile for
    /// F(2x2), 36 per 4x4 tile for F(4x4), and for the block path only the taps
    /// that read the input, `(3H - 2)(3W - 2)` per sample. F(2x2)'s tiles are
    /// columns of the standard product (a panel of at most 16 runs at half speed
    /// on the one-vector kernel); F(4x4)'s are rows of its c16 kernel's panels.
    /// im2col pays about a quarter extra for unfolding and goes transposed on
    /// small outputs. Layers with fewer than 8 input channels stay off Winograd:
    /// each Winograd GEMM reduces over the input channels only, too short to
    /// amortise its tiles.
    ///
    /// F(4x4) must beat the better of the other two by ``winograd4Margin`` and
    /// fill at least one row panel: its transformed weights are 36 per channel
    /// pair (2.25 times F(2x2)'s, 4 times im2col's), and with fewer tiles than a
    /// panel's rows each weight streamed from L3 or memory feeds too few
    /// multiplies (the age net at batch 4 ran 35% slower with its 3x3 layers on
    /// F(4x4) at 4 tiles a run, and at batch 1 about 15% slower with its 7x7
    /// layers on it at 4 tiles).
    ///
    /// The block path (when the geometry allows it) must be strictly cheaper than
    /// the winner of those: 3x3 maps up to batch 7 and 6x6 maps at batch 1 (the
    /// age net's 256-channel 3x3 layers at batch 1: 49 against the transposed
    /// im2col's 135 per sample).
    static func convPath(_ conv: PackedConvolution, batch: Int) -> ConvPath {
        let g = conv.geometry
        let blocks = PackedBlockConvolution.supports(g) ? Double(batch * PackedBlockConvolution.validTaps(g)) : .infinity
        if g.inChannels < 8 { return blocks < Double(9 * batch * g.outH * g.outW) ? .blocks : .im2col }
        let nr = conv.variant.nr
        let tiles = batch * ((g.outH + 1) / 2) * ((g.outW + 1) / 2)
        let pixels = batch * g.outH * g.outW
        let winograd2 = Double(tiles <= 16 ? 16 * 16 * 2 : 16 * ((tiles + nr - 1) / nr * nr))
        let gemmColumns = conv.prefersTransposed(columns: pixels) ? (pixels + 3) / 4 * 4
            : (pixels <= 16 ? 32 : (pixels + nr - 1) / nr * nr)
        let gemm = 1.25 * Double(9 * gemmColumns)
        var best: (path: ConvPath, cost: Double) = winograd2 < gemm ? (.winograd2, winograd2) : (.im2col, gemm)
        let mr4 = KernelRegistry.defaultGemmC16.mr
        let tiles4 = batch * ((g.outH + 3) / 4) * ((g.outW + 3) / 4)
        if tiles4 >= mr4 {
            let winograd4 = winograd4Margin * Double(36 * ((tiles4 + mr4 - 1) / mr4 * mr4))
            if winograd4 < best.cost { best = (.winograd4, winograd4) }
        }
        return blocks < best.cost ? .blocks : best.path
    }

    /// How much cheaper in multiplies F(4x4) must be (see ``convPath(_:batch:)``).
    /// Measured per layer at batch 32 (one thread), F(4x4) ran at 0.77 to 1.06
    /// times F(2x2)'s speed per multiply: equal counts (6x6 maps) gave 1.06x,
    /// 1.23x fewer (10x10) 1.02x to 1.23x, 1.36x fewer (13x13, 14x14) 1.05x to
    /// 1.33x, 1.78x fewer (3x3, 7x7, 16x16, 32x32) 1.40x to 1.62x.
    static let winograd4Margin = 1.1

    init(graph: Graph, gemm: GemmVariant) throws {
        try ShapeInference.checkShape(graph.inputShape, "graph input '\(graph.inputName)'")
        inputShape = graph.inputShape

        // Producers and consumers by tensor name.
        var producer: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for name in node.inputs { consumers[name, default: []].append(i) }
            for name in node.outputs {
                guard producer[name] == nil, name != graph.inputName else {
                    throw EngineError("node '\(node.name)': tensor '\(name)' is written twice")
                }
                producer[name] = i
            }
        }
        guard graph.outputName == graph.inputName || producer[graph.outputName] != nil else {
            throw EngineError("graph output '\(graph.outputName)' is not produced by any node")
        }

        // Shapes, in node order (which must be topological).
        var shapes: [String: TensorShape] = [graph.inputName: graph.inputShape]
        for node in graph.nodes {
            let ins = try node.inputs.map { name -> TensorShape in
                guard let s = shapes[name] else {
                    throw EngineError("node '\(node.name)': input '\(name)' is not defined before it")
                }
                return s
            }
            let out = try ShapeInference.infer(node, inputs: ins)
            shapes[node.outputs[0]] = out
            switch node.op {
            case .conv2d(let s):
                let g = ShapeInference.convGeometry(s, input: ins[0])
                flopsPerSample += 2 * Double(g.macsPerSample)
                parameterCount += s.weights.count + s.bias.count
            case .fullyConnected(let s):
                flopsPerSample += 2 * Double(s.inFeatures) * Double(s.outFeatures)
                parameterCount += s.weights.count + s.bias.count
            case .prelu(let slopes): parameterCount += slopes.count
            case .affine(let scale, let shift): parameterCount += scale.count + shift.count
            default: break
            }
        }
        outputShape = shapes[graph.outputName]!

        // Values: one per tensor name; aliases (flatten, reshape, dropout) share their source's root.
        var valueId: [String: Int] = [graph.inputName: 0]
        var root: [Int] = [0]
        var valueSize: [Int] = [graph.inputShape.elementCount]
        func value(_ name: String) -> Int { valueId[name]! }
        func newValue(_ name: String, aliasOf: Int? = nil) -> Int {
            let id = root.count
            valueId[name] = id
            root.append(aliasOf.map { root[$0] } ?? id)
            valueSize.append(shapes[name]!.elementCount)
            return id
        }

        func soleConsumer(_ name: String) -> Int? {
            guard name != graph.outputName, let c = consumers[name], c.count == 1 else { return nil }
            return c[0]
        }

        var fused = Set<Int>()
        // Adds fed through zero pads placed at the top-left (and an average pool
        // with non-overlapping windows before such a pad), as in a downsampling
        // residual block: the pads and the pool fold into one extended add that
        // reads the tensors before them. Saves their copies and passes (each was
        // a step of its own, the pads on one thread).
        var extendedAdds: [Int: (sources: [String], operands: [ExtendedOperand])] = [:]
        for (i, node) in graph.nodes.enumerated() {
            guard case .add = node.op, node.inputs.count == 2, node.inputs[0] != node.inputs[1],
                  let outShape = shapes[node.outputs[0]], outShape.count == 3 else { continue }
            var sources: [String] = [], operands: [ExtendedOperand] = [], absorbed: [Int] = []
            for name in node.inputs {
                var source = name, pool = 1
                if let p = producer[source], soleConsumer(source) == i,
                   case .pad(let top, let left, _, _, _, let value) = graph.nodes[p].op, top == 0, left == 0, value == 0 {
                    absorbed.append(p)
                    source = graph.nodes[p].inputs[0]
                    if let q = producer[source], soleConsumer(source) == p, case .averagePool(let s) = graph.nodes[q].op,
                       s.kernelH == s.kernelW, s.strideH == s.kernelH, s.strideW == s.kernelW, !s.ceilMode,
                       s.padTop == 0, s.padLeft == 0, s.padBottom == 0, s.padRight == 0 {
                        absorbed.append(q)
                        pool = s.kernelH
                        source = graph.nodes[q].inputs[0]
                    }
                }
                guard let shape = shapes[source], shape.count == 3 else { break }
                let operand = ExtendedOperand(channels: shape[0], height: shape[1], width: shape[2], pool: pool)
                guard operand.channels <= outShape[0], operand.placedHeight <= outShape[1],
                      operand.placedWidth <= outShape[2] else { break }
                sources.append(source)
                operands.append(operand)
            }
            guard sources.count == 2, !absorbed.isEmpty else { continue }
            extendedAdds[i] = (sources, operands)
            fused.formUnion(absorbed)
        }
        for (i, node) in graph.nodes.enumerated() where !fused.contains(i) {
            let x = shapes[node.inputs[0]]!
            switch node.op {
            case .conv2d(var s):
                var out = node.outputs[0]
                var residual: String? = nil
                var relu = s.activation == .relu
                // Fold a following affine, residual add and ReLU into the convolution's epilogue.
                while !relu, let next = soleConsumer(out) {
                    let nn = graph.nodes[next]
                    if residual == nil, case .affine(let scale, let shift) = nn.op {
                        for co in 0..<s.outChannels {
                            let sc = scale.count == 1 ? scale[0] : scale[co]
                            let sh = shift.count == 1 ? shift[0] : shift[co]
                            let k = s.weights.count / s.outChannels
                            for j in 0..<k { s.weights[co * k + j] *= sc }
                            s.bias[co] = s.bias[co] * sc + sh
                        }
                    } else if residual == nil, case .add = nn.op, extendedAdds[next] == nil {
                        let other = nn.inputs[0] == out ? nn.inputs[1] : nn.inputs[0]
                        // The residual must exist before the convolution runs.
                        let ready = other == graph.inputName || (producer[other].map { $0 < i } ?? false)
                        guard other != out, ready else { break }
                        residual = other
                    } else if case .relu = nn.op {
                        relu = true
                    } else {
                        break
                    }
                    fused.insert(next)
                    out = nn.outputs[0]
                }
                let g = ShapeInference.convGeometry(s, input: x)
                var ins = [value(node.inputs[0])]
                if let residual { ins.append(value(residual)) }
                let kind: StepKind
                if residual == nil && g.strideW > 1 && PackedStridedDirectConvolution.supports(g) {
                    // im2col would unfold each input value about kernelH * kernelW / stride² times.
                    let direct = PackedStridedDirectConvolution(geometry: g, weights: s.weights, bias: s.bias)
                    scratchFixedPerThread = max(scratchFixedPerThread, direct.scratchPerThread)
                    steps.append(Step(name: node.name, kind: .stridedDirectConv(direct, relu: relu), inputs: ins,
                                      output: newValue(out)))
                    continue
                }
                let packed = PackedConvolution(geometry: g, weights: s.weights, bias: s.bias, variant: gemm)
                scratchFixedPerThread = max(scratchFixedPerThread, packed.scratchPerThread)
                // The padded copy is for the transposed path, which small outputs take (if
                // one sample's output is too large for it, so is every batch's).
                if packed.prefersTransposed(columns: g.outH * g.outW) {
                    scratchPerSample = max(scratchPerSample, packed.scratchPerSample)
                }
                if PackedWinogradConvolution.supports(g) {
                    let wino = PackedWinogradConvolution(geometry: g, weights: s.weights, bias: s.bias, variant: gemm)
                    let wino4 = PackedWinogradF4Convolution(geometry: g, weights: s.weights, bias: s.bias)
                    let blocks = PackedBlockConvolution.supports(g)
                        ? PackedBlockConvolution(geometry: g, weights: s.weights, bias: s.bias) : nil
                    scratchFixedPerThread = max(scratchFixedPerThread, wino.scratchPerThread, wino4.scratchPerThread,
                                                blocks?.scratchPerThread ?? 0)
                    scratchPerSample = max(scratchPerSample, wino.scratchPerSample, wino4.scratchPerSample)
                    kind = .convOrWinograd(packed, wino, wino4, blocks, relu: relu)
                } else {
                    kind = .conv(packed, relu: relu)
                }
                steps.append(Step(name: node.name, kind: kind, inputs: ins, output: newValue(out)))
            case .fullyConnected(let s):
                var out = node.outputs[0]
                var relu = s.activation == .relu
                if !relu, let next = soleConsumer(out), case .relu = graph.nodes[next].op {
                    relu = true; fused.insert(next); out = graph.nodes[next].outputs[0]
                }
                steps.append(Step(name: node.name, kind: .fullyConnected(weights: s.weights, bias: s.bias,
                                                                          inFeatures: s.inFeatures, outFeatures: s.outFeatures, relu: relu),
                                  inputs: [value(node.inputs[0])], output: newValue(out)))
            case .add:
                var out = node.outputs[0]
                var relu = false
                if let next = soleConsumer(out), case .relu = graph.nodes[next].op {
                    relu = true; fused.insert(next); out = graph.nodes[next].outputs[0]
                }
                if let extended = extendedAdds[i] {
                    let o = shapes[node.outputs[0]]!
                    steps.append(Step(name: node.name,
                                      kind: .extendedAdd(extended.operands[0], extended.operands[1],
                                                         channels: o[0], height: o[1], width: o[2], relu: relu),
                                      inputs: extended.sources.map(value), output: newValue(out)))
                } else {
                    steps.append(Step(name: node.name, kind: .add(relu: relu),
                                      inputs: node.inputs.map(value), output: newValue(out)))
                }
            case .flatten, .reshape, .dropout:
                _ = newValue(node.outputs[0], aliasOf: value(node.inputs[0]))
            default:
                let kind: StepKind
                let inner = x.count > 1 ? x.dropFirst().reduce(1, *) : 1
                switch node.op {
                case .maxPool(let s): kind = .maxPool(ShapeInference.poolGeometry(s, input: x))
                case .averagePool(let s): kind = .averagePool(ShapeInference.poolGeometry(s, input: x))
                case .globalAveragePool: kind = .globalAveragePool(channels: x[0], spatial: x[1] * x[2])
                case .lrn(let s):
                    kind = .lrn(s, channels: x[0], spatial: inner)
                    scratchFixedPerThread = max(scratchFixedPerThread, inner)
                case .relu: kind = .relu
                case .prelu(let slopes):
                    kind = .prelu(slopes: slopes.count == 1 ? Array(repeating: slopes[0], count: x[0]) : slopes,
                                  channels: x[0], inner: inner)
                case .affine(let scale, let shift):
                    kind = .affine(scale: scale.count == 1 ? Array(repeating: scale[0], count: x[0]) : scale,
                                   shift: shift.count == 1 ? Array(repeating: shift[0], count: x[0]) : shift,
                                   channels: x[0], inner: inner)
                case .pad(let top, let left, let bottom, let right, let channelsAfter, let v):
                    kind = x.count == 3
                        ? .pad(channels: x[0], height: x[1], width: x[2], top: top, left: left, bottom: bottom, right: right,
                               channelsAfter: channelsAfter, value: v)
                        : .pad(channels: x[0], height: 1, width: 1, top: 0, left: 0, bottom: 0, right: 0,
                               channelsAfter: channelsAfter, value: v)
                case .transpose(let perm): kind = .transpose(shape: x, perm: perm)
                case .softmax: kind = .softmax(length: x.last!)
                default: fatalError("unreachable: handled above")
                }
                steps.append(Step(name: node.name, kind: kind, inputs: [value(node.inputs[0])],
                                  output: newValue(node.outputs[0])))
            }
        }
        inputValue = 0
        outputValue = value(graph.outputName)

        // Liveness: the last step reading each root; the output lives to the end.
        var lastUse = [Int](repeating: -1, count: root.count)
        for (s, step) in steps.enumerated() {
            for v in step.inputs { lastUse[root[v]] = max(lastUse[root[v]], s) }
        }
        lastUse[root[outputValue]] = Int.max
        // Greedy slot assignment: reuse the best-fitting free slot, else grow or add one.
        var slotOfRoot = [Int](repeating: -1, count: root.count)
        var free: [Int] = []
        for (s, step) in steps.enumerated() {
            let r = root[step.output]
            let need = valueSize[r]
            let fitting = free.filter { storageSizes[$0] >= need }.min { storageSizes[$0] < storageSizes[$1] }
            let slot: Int
            if let f = fitting ?? free.max(by: { storageSizes[$0] < storageSizes[$1] }) {
                slot = f
                free.removeAll { $0 == f }
                storageSizes[f] = max(storageSizes[f], need)
            } else {
                slot = storageSizes.count
                storageSizes.append(need)
            }
            slotOfRoot[r] = slot
            // Release what this step read for the last time, and an output nobody reads.
            for v in Set(step.inputs.map { root[$0] } + [r]) where v != 0 && lastUse[v] <= s {
                if let sl = Optional(slotOfRoot[v]), sl >= 0, !free.contains(sl) { free.append(sl) }
            }
        }
        storageOf = root.map { $0 == 0 ? -1 : slotOfRoot[$0] }
        var privateSlot = [Int](repeating: -1, count: root.count)
        for step in steps where privateSlot[root[step.output]] < 0 {
            privateSlot[root[step.output]] = privateStorageSizes.count
            privateStorageSizes.append(valueSize[root[step.output]])
        }
        privateStorageOf = root.map { $0 == 0 ? -1 : privateSlot[$0] }
        valueElements = valueSize
    }
}
