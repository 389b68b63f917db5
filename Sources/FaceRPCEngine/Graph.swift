/// The static description of a network: what the ONNX importer produces, what
/// the Levi-Hassner builder produces, and what ``Network`` plans and runs.
///
/// Tensors are float32, NCHW. Shapes below exclude the batch dimension, which
/// is chosen per run (any N >= 1). Weights live inside the ops, so a `Graph`
/// is self-contained and can be serialised to the native weight format.

/// Per-sample shape of a tensor: `[C, H, W]` for images, `[K]` after flatten.
public typealias TensorShape = [Int]

/// A fused activation applied in the epilogue of conv / fully-connected ops.
public enum Activation: Sendable, Equatable {
    case none
    case relu
}

/// 2-D convolution, cross-correlation as in ONNX `Conv`.
public struct Conv2DSpec: Sendable, Equatable {
    public var inChannels: Int
    public var outChannels: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int = 1
    public var strideW: Int = 1
    /// Zero padding in pixels: top, left, bottom, right.
    public var padTop: Int = 0
    public var padLeft: Int = 0
    public var padBottom: Int = 0
    public var padRight: Int = 0
    public var dilationH: Int = 1
    public var dilationW: Int = 1
    /// `inChannels` and `outChannels` are both divisible by `groups`;
    /// depthwise is `groups == inChannels`.
    public var groups: Int = 1
    /// Layout `[outChannels][inChannels / groups][kernelH][kernelW]` (ONNX OIHW).
    public var weights: [Float]
    /// `outChannels` values (zeros when the model has no bias).
    public var bias: [Float]
    public var activation: Activation = .none

    public init(inChannels: Int, outChannels: Int, kernelH: Int, kernelW: Int,
                strideH: Int = 1, strideW: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1,
                weights: [Float], bias: [Float], activation: Activation = .none) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.dilationH = dilationH; self.dilationW = dilationW; self.groups = groups
        self.weights = weights; self.bias = bias; self.activation = activation
    }
}

/// `y = x · Wᵀ + b` on a flattened input, as ONNX `Gemm` with transB = 1.
public struct FullyConnectedSpec: Sendable, Equatable {
    public var inFeatures: Int
    public var outFeatures: Int
    /// Layout `[outFeatures][inFeatures]`.
    public var weights: [Float]
    /// `outFeatures` values.
    public var bias: [Float]
    public var activation: Activation = .none

    public init(inFeatures: Int, outFeatures: Int, weights: [Float], bias: [Float], activation: Activation = .none) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        self.weights = weights; self.bias = bias; self.activation = activation
    }
}

/// Max or average pooling over H and W.
public struct Pool2DSpec: Sendable, Equatable {
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padTop: Int = 0
    public var padLeft: Int = 0
    public var padBottom: Int = 0
    public var padRight: Int = 0
    /// ONNX `ceil_mode`: the output size rounds up, so the last window may hang over.
    public var ceilMode: Bool = false
    /// ONNX `count_include_pad` for average pooling.
    public var countIncludePad: Bool = false

    public init(kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                ceilMode: Bool = false, countIncludePad: Bool = false) {
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.ceilMode = ceilMode; self.countIncludePad = countIncludePad
    }
}

/// Local response normalisation across channels (ONNX `LRN`):
/// `y = x / (bias + alpha / size * Σ x²)^beta` over `size` neighbouring channels.
public struct LRNSpec: Sendable, Equatable {
    public var size: Int
    public var alpha: Float
    public var beta: Float
    public var bias: Float

    public init(size: Int, alpha: Float, beta: Float, bias: Float) {
        self.size = size; self.alpha = alpha; self.beta = beta; self.bias = bias
    }
}

/// One operation of a graph.
public enum LayerOp: Sendable, Equatable {
    case conv2d(Conv2DSpec)
    case fullyConnected(FullyConnectedSpec)
    case maxPool(Pool2DSpec)
    case averagePool(Pool2DSpec)
    case globalAveragePool
    case lrn(LRNSpec)
    case relu
    /// Per-channel slopes (`C` values) for negative inputs.
    case prelu(slopes: [Float])
    /// Per-channel `y = x * scale[c] + shift[c]` (a folded batch norm, or an
    /// unfolded ONNX Mul/Add pair).
    case affine(scale: [Float], shift: [Float])
    /// Elementwise sum of two inputs of the same shape.
    case add
    /// Constant padding of H and W: top, left, bottom, right, plus trailing
    /// channels (`channelsAfter`), with `value`.
    case pad(top: Int, left: Int, bottom: Int, right: Int, channelsAfter: Int, value: Float)
    /// Flattens everything after the batch dimension into one axis.
    case flatten
    /// Reshapes to a per-sample shape with the same element count.
    case reshape(TensorShape)
    /// Permutes the per-sample axes (`perm` indexes per-sample axes, 0-based).
    case transpose(perm: [Int])
    /// Softmax over the last axis.
    case softmax
    /// Identity at inference; drops with probability `p` while training.
    case dropout(p: Float)
}

/// A node reads named tensors and writes named tensors.
public struct GraphNode: Sendable, Equatable {
    public var name: String
    public var op: LayerOp
    public var inputs: [String]
    public var outputs: [String]

    public init(name: String, op: LayerOp, inputs: [String], outputs: [String]) {
        self.name = name; self.op = op; self.inputs = inputs; self.outputs = outputs
    }
}

/// A network as a list of nodes in execution (topological) order.
public struct Graph: Sendable, Equatable {
    public var inputName: String
    /// Per-sample input shape, e.g. `[3, 64, 64]`.
    public var inputShape: TensorShape
    public var nodes: [GraphNode]
    public var outputName: String

    public init(inputName: String, inputShape: TensorShape, nodes: [GraphNode], outputName: String) {
        self.inputName = inputName; self.inputShape = inputShape; self.nodes = nodes; self.outputName = outputName
    }
}
