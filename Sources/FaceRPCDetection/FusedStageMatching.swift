import FaceRPCEngine
import FaceRPCKernels

// What the fused detector stages (``PNetRunner``, ``CandidateNetRunner``)
// check before they take a converted MTCNN graph over from ``Network``: they
// run a fixed chain of layers, so any other graph stays on the engine.

extension Graph {
    /// Whether the nodes form one chain: each reads only the previous node's
    /// single output (the first reads the graph input) and the last writes the
    /// graph output.
    var isStraightChain: Bool {
        for (i, node) in nodes.enumerated() {
            let expected = i == 0 ? inputName : nodes[i - 1].outputs.first
            guard node.inputs.count == 1, node.inputs.first == expected, node.outputs.count == 1 else { return false }
        }
        return nodes.last?.outputs.first == outputName
    }
}

extension Conv2DSpec {
    /// Stride 1, unpadded, undilated, one group and no fused activation: the
    /// convolutions ``f32_dconv_prelu_16x16_simd16`` computes.
    var isDirectConvolution: Bool {
        strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
            && dilationH == 1 && dilationW == 1 && groups == 1 && activation == .none
    }
}

extension PackedDirectConvolution {
    /// Packs `conv` (see ``Conv2DSpec/isDirectConvolution``) with the PReLU
    /// after it, or none.
    init(_ conv: Conv2DSpec, slopes: [Float]?) {
        self.init(inChannels: conv.inChannels, outChannels: conv.outChannels, kernelH: conv.kernelH,
                  kernelW: conv.kernelW, weights: conv.weights, bias: conv.bias, slopes: slopes)
    }
}
