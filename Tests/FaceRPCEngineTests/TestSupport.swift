import FaceRPCEngine
import FaceRPCKernels
import Testing

func expectClose(_ actual: [Float], _ expected: [Float], relative: Float = 1e-4,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): count", sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    let scale = max(expected.map(abs).max() ?? 0, 1e-6)
    var worst: Float = 0
    for i in actual.indices { worst = max(worst, abs(actual[i] - expected[i])) }
    #expect(worst <= relative * scale, "\(what): max error \(worst), scale \(scale)", sourceLocation: sourceLocation)
}

/// A small graph using every `LayerOp`, with the fusable chains the importer
/// produces (conv → affine → relu, conv → affine → add → relu) and unfusable ones.
func everyOpGraph(seed: UInt64) -> Graph {
    var rng = SplitMix64(seed: seed)
    var nodes: [GraphNode] = []
    func node(_ name: String, _ op: LayerOp, _ inputs: String...) {
        nodes.append(GraphNode(name: name, op: op, inputs: inputs, outputs: [name]))
    }
    func conv(_ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, pad: Int = 0, groups: Int = 1,
              activation: Activation = .none) -> LayerOp {
        .conv2d(Conv2DSpec(inChannels: cin, outChannels: cout, kernelH: k, kernelW: k, strideH: stride, strideW: stride,
                           padTop: pad, padLeft: pad, padBottom: pad, padRight: pad, groups: groups,
                           weights: rng.floats(cout * cin / groups * k * k, in: -0.5..<0.5),
                           bias: rng.floats(cout, in: -0.1..<0.1), activation: activation))
    }
    node("c1", conv(3, 8, 3, pad: 1), "x")                                               // [8,12,11]
    node("a1", .affine(scale: rng.floats(8, in: 0.5..<1.5), shift: rng.floats(8)), "c1")
    node("r1", .relu, "a1")
    node("c2", conv(8, 8, 3, pad: 1), "r1")
    node("a2", .affine(scale: rng.floats(8, in: 0.5..<1.5), shift: rng.floats(8)), "c2")
    node("sum", .add, "a2", "r1")
    node("r2", .relu, "sum")
    node("mp", .maxPool(Pool2DSpec(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, ceilMode: true)), "r2")  // [8,6,5]
    node("lrn", .lrn(LRNSpec(size: 5, alpha: 1e-2, beta: 0.75, bias: 1)), "mp")
    node("pr", .prelu(slopes: rng.floats(8, in: 0..<0.5)), "lrn")
    node("ap", .averagePool(Pool2DSpec(kernelH: 2, kernelW: 2, strideH: 1, strideW: 1, padTop: 1, padLeft: 1,
                                       padBottom: 1, padRight: 1, countIncludePad: true)), "pr")               // [8,7,6]
    node("pd", .pad(top: 1, left: 0, bottom: 0, right: 1, channelsAfter: 4, value: 0), "ap")               // [12,8,7]
    node("dw", conv(12, 12, 3, stride: 2, pad: 1, groups: 12), "pd")                                        // [12,4,4]
    node("c3", conv(12, 6, 1, activation: .relu), "dw")                                                     // [6,4,4]
    node("tr", .transpose(perm: [1, 2, 0]), "c3")
    node("tr2", .transpose(perm: [2, 0, 1]), "tr")
    node("gap", .globalAveragePool, "tr2")
    node("fl", .flatten, "gap")
    node("dbl", .add, "fl", "fl")
    node("fc1", .fullyConnected(FullyConnectedSpec(inFeatures: 6, outFeatures: 10, weights: rng.floats(60), bias: rng.floats(10))), "dbl")
    node("r3", .relu, "fc1")
    node("drop", .dropout(p: 0.5), "r3")
    node("rs", .reshape([2, -1]), "drop")
    node("fc2", .fullyConnected(FullyConnectedSpec(inFeatures: 10, outFeatures: 7, weights: rng.floats(70), bias: rng.floats(7))), "rs")
    node("sm", .softmax, "fc2")
    return Graph(inputName: "x", inputShape: [3, 12, 11], nodes: nodes, outputName: "sm")
}

/// A scaled-down ResNet like the pretrained age net: conv 7x7/2 → affine → ReLU →
/// max pool, residual blocks of 3x3 convs, average-pool + channel-pad shortcuts,
/// global average pool, FC, softmax. Random weights.
func resNetGraph(size: Int, widths: [Int], classes: Int, seed: UInt64) -> Graph {
    var rng = SplitMix64(seed: seed)
    var nodes: [GraphNode] = []
    var counter = 0
    func node(_ op: LayerOp, _ inputs: String...) -> String {
        counter += 1
        let name = "n\(counter)"
        nodes.append(GraphNode(name: name, op: op, inputs: inputs, outputs: [name]))
        return name
    }
    func conv(_ x: String, _ cin: Int, _ cout: Int, _ k: Int, stride: Int, pad: Int) -> String {
        let std = (2 / Float(cin * k * k)).squareRoot()
        let c = node(.conv2d(Conv2DSpec(inChannels: cin, outChannels: cout, kernelH: k, kernelW: k, strideH: stride, strideW: stride,
                                        padTop: pad, padLeft: pad, padBottom: pad, padRight: pad,
                                        weights: (0..<(cout * cin * k * k)).map { _ in rng.nextNormal(standardDeviation: std) },
                                        bias: rng.floats(cout, in: -0.1..<0.1))), x)
        return node(.affine(scale: rng.floats(cout, in: 0.8..<1.2), shift: rng.floats(cout, in: -0.1..<0.1)), c)
    }
    var x = node(.relu, conv("input", 3, widths[0], 7, stride: 2, pad: 0))
    x = node(.maxPool(Pool2DSpec(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2)), x)
    var c = widths[0]
    var s = ((size - 7) / 2 + 1 - 3) / 2 + 1
    for (i, w) in widths.enumerated() {
        if i > 0 {
            // Downsampling block: 3x3/2 valid conv; shortcut = 2x2 average pool padded with zero channels.
            let h = node(.relu, conv(x, c, w, 3, stride: 2, pad: 0))
            var b = conv(h, w, w, 3, stride: 1, pad: 1)
            // As in the pretrained age net: an even input leaves the conv branch one pixel short.
            let sConv = (s - 3) / 2 + 1, sPool = s / 2
            if sPool > sConv {
                b = node(.pad(top: 0, left: 0, bottom: sPool - sConv, right: sPool - sConv, channelsAfter: 0, value: 0), b)
            }
            s = sPool
            let pooled = node(.averagePool(Pool2DSpec(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)), x)
            let padded = node(.pad(top: 0, left: 0, bottom: 0, right: 0, channelsAfter: w - c, value: 0), pooled)
            x = node(.relu, node(.add, padded, b))
            c = w
        }
        let h = node(.relu, conv(x, c, c, 3, stride: 1, pad: 1))
        let b = conv(h, c, c, 3, stride: 1, pad: 1)
        x = node(.relu, node(.add, b, x))
    }
    let g = node(.flatten, node(.globalAveragePool, x))
    let fc = node(.fullyConnected(FullyConnectedSpec(inFeatures: c, outFeatures: classes, weights: rng.floats(c * classes, in: -0.1..<0.1),
                                                     bias: rng.floats(classes, in: -0.1..<0.1))), g)
    let out = node(.softmax, fc)
    return Graph(inputName: "input", inputShape: [3, size, size], nodes: nodes, outputName: out)
}
