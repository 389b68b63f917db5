import FaceRPCKernels

/// The Levi & Hassner (2015) age / gender network.
///
/// Input `[3, 227, 227]`: conv 96 7x7/4 → ReLU → max pool 3/2 → LRN; conv 256 5x5
/// pad 2 → ReLU → max pool 3/2 → LRN; conv 384 3x3 pad 1 → ReLU → max pool 3/2;
/// FC 512 → ReLU → dropout; FC 512 → ReLU → dropout; FC `classes`; softmax.
public enum LeviHassner {
    public static let inputSize = 227

    /// A freshly initialised graph: conv weights N(0, 0.01), FC weights N(0, 0.005),
    /// conv1 and conv3 biases 0, the other biases 1; deterministic for a seed.
    public static func graph(classes: Int, seed: UInt64) -> Graph {
        var rng = SplitMix64(seed: seed)
        func normal(_ count: Int, _ std: Float) -> [Float] {
            (0..<count).map { _ in rng.nextNormal(standardDeviation: std) }
        }
        let lrn = LRNSpec(size: 5, alpha: 1e-4, beta: 0.75, bias: 1)
        let pool = Pool2DSpec(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2)
        var nodes: [GraphNode] = []
        func add(_ name: String, _ op: LayerOp, _ input: String) { nodes.append(GraphNode(name: name, op: op, inputs: [input], outputs: [name])) }

        add("conv1", .conv2d(Conv2DSpec(inChannels: 3, outChannels: 96, kernelH: 7, kernelW: 7, strideH: 4, strideW: 4,
                                        weights: normal(96 * 3 * 49, 0.01), bias: [Float](repeating: 0, count: 96))), "data")
        add("relu1", .relu, "conv1")
        add("pool1", .maxPool(pool), "relu1")
        add("norm1", .lrn(lrn), "pool1")
        add("conv2", .conv2d(Conv2DSpec(inChannels: 96, outChannels: 256, kernelH: 5, kernelW: 5,
                                        padTop: 2, padLeft: 2, padBottom: 2, padRight: 2,
                                        weights: normal(256 * 96 * 25, 0.01), bias: [Float](repeating: 1, count: 256))), "norm1")
        add("relu2", .relu, "conv2")
        add("pool2", .maxPool(pool), "relu2")
        add("norm2", .lrn(lrn), "pool2")
        add("conv3", .conv2d(Conv2DSpec(inChannels: 256, outChannels: 384, kernelH: 3, kernelW: 3,
                                        padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
                                        weights: normal(384 * 256 * 9, 0.01), bias: [Float](repeating: 0, count: 384))), "norm2")
        add("relu3", .relu, "conv3")
        add("pool3", .maxPool(pool), "relu3")
        add("flatten", .flatten, "pool3")
        let flat = 384 * 6 * 6
        add("fc6", .fullyConnected(FullyConnectedSpec(inFeatures: flat, outFeatures: 512, weights: normal(512 * flat, 0.005),
                                                      bias: [Float](repeating: 1, count: 512))), "flatten")
        add("relu6", .relu, "fc6")
        add("drop6", .dropout(p: 0.5), "relu6")
        add("fc7", .fullyConnected(FullyConnectedSpec(inFeatures: 512, outFeatures: 512, weights: normal(512 * 512, 0.005),
                                                      bias: [Float](repeating: 1, count: 512))), "drop6")
        add("relu7", .relu, "fc7")
        add("drop7", .dropout(p: 0.5), "relu7")
        add("fc8", .fullyConnected(FullyConnectedSpec(inFeatures: 512, outFeatures: classes, weights: normal(classes * 512, 0.005),
                                                      bias: [Float](repeating: 1, count: classes))), "drop7")
        add("prob", .softmax, "fc8")
        return Graph(inputName: "data", inputShape: [3, inputSize, inputSize], nodes: nodes, outputName: "prob")
    }
}
