/// Small models built in Swift for the importer's tests; weights are seeded random.
enum TestModels {
    /// Every supported operator that the pretrained nets do not use, in one chain:
    /// Conv (asymmetric pads, dilation) -> BatchNormalization -> PRelu -> MaxPool
    /// (ceil_mode) -> LRN -> AveragePool (count_include_pad) -> MaxPool (ceil_mode)
    /// -> grouped Conv -> Transpose -> Reshape (shape from a
    /// Constant) -> Dropout -> Gemm (transB, alpha, beta) -> Relu -> MatMul -> Sub -> Softmax -> Identity.
    static func allOperators(seed: UInt64 = 1) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        let nodes = [
            TestNode("Conv", "conv1", ["x", "w1", "b1"], ["c1"], [
                .ints("kernel_shape", [3, 3]), .ints("pads", [1, 0, 1, 2]), .ints("dilations", [2, 1])]),
            TestNode("BatchNormalization", "bn1", ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["n1"], [.float("epsilon", 1e-3)]),
            TestNode("PRelu", "prelu1", ["n1", "slope"], ["p1"]),
            TestNode("MaxPool", "pool1", ["p1"], ["mp1"], [
                .ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .ints("pads", [0, 0, 1, 1]), .int("ceil_mode", 1)]),
            TestNode("LRN", "lrn1", ["mp1"], ["l1"], [.int("size", 3), .float("alpha", 0.1), .float("beta", 0.75), .float("bias", 2)]),
            TestNode("AveragePool", "apool", ["l1"], ["ap"], [
                .ints("kernel_shape", [2, 2]), .ints("pads", [1, 1, 0, 0]), .int("count_include_pad", 1)]),
            TestNode("MaxPool", "pool2", ["ap"], ["mp2"], [
                .ints("kernel_shape", [2, 2]), .ints("strides", [2, 2]), .int("ceil_mode", 1)]),
            TestNode("Conv", "conv2", ["mp2", "w2"], ["c2"], [.int("group", 2)]),
            TestNode("Transpose", "tr", ["c2"], ["t"], [.ints("perm", [0, 1, 3, 2])]),
            TestNode("Constant", "shape_const", [], ["shape"], [.tensor("value", .int64("", [2], [0, -1]))]),
            TestNode("Reshape", "rs", ["t", "shape"], ["r"]),
            TestNode("Dropout", "drop", ["r", "ratio"], ["d"]),
            TestNode("Gemm", "fc1", ["d", "fc1_w", "fc1_b"], ["f1"], [.int("transB", 1), .float("alpha", 0.5), .float("beta", 2)]),
            TestNode("Relu", "relu1", ["f1"], ["rl"]),
            TestNode("MatMul", "mm", ["rl", "mm_w"], ["mm_out"]),
            TestNode("Sub", "sub", ["mm_out", "sub_c"], ["s"]),
            TestNode("Softmax", "sm", ["s"], ["sm"], [.int("axis", -1)]),
            TestNode("Identity", "id", ["sm"], ["y"]),
        ]
        let initializers: [TestTensor] = [
            .float("w1", [4, 3, 3, 3], rng.floats(108)),
            .float("b1", [4], rng.floats(4), encoding: .typed),
            .float("bn_scale", [4], rng.floats(4, in: 0.5...2)),
            .float("bn_bias", [4], rng.floats(4)),
            .float("bn_mean", [4], rng.floats(4)),
            .float("bn_var", [4], rng.floats(4, in: 0.1...2)),
            .float("slope", [4, 1, 1], rng.floats(4, in: 0...0.5)),
            .float("w2", [6, 2, 1, 2], rng.floats(24)),
            .float("ratio", [], [0.3]),
            .float("fc1_w", [5, 24], rng.floats(120)),
            .float("fc1_b", [1, 5], rng.floats(5)),
            .float("mm_w", [5, 3], rng.floats(15), encoding: .typed),
            .float("sub_c", [3], rng.floats(3)),
        ]
        return makeONNXModel(nodes: nodes, initializers: initializers,
                             input: ("x", [nil, 3, 10, 9]), output: ("y", [nil, 3]))
    }

    /// Ceil-mode pooling where a last window would start in the trailing padding.
    /// ONNX Runtime drops that window (so does the importer); the onnx package's
    /// shape inference keeps it, so the output shape is left undeclared.
    static func ceilPooling() -> [UInt8] {
        makeONNXModel(
            nodes: [
                TestNode("MaxPool", "mp", ["x"], ["m"], [
                    .ints("kernel_shape", [2, 2]), .ints("strides", [2, 2]), .ints("pads", [0, 0, 1, 1]), .int("ceil_mode", 1)]),
                TestNode("AveragePool", "ap", ["m"], ["y"], [
                    .ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .ints("pads", [1, 1, 1, 1]),
                    .int("ceil_mode", 1), .int("count_include_pad", 1)]),
            ],
            input: ("x", [nil, 2, 4, 5]), output: ("y", [nil, 2, 2, 2]), outputShapeKnown: false)
    }

    /// A residual block in the style of the pretrained age net: conv + affine
    /// (Mul, Add) + Relu, a strided branch padded at the bottom/right, a pooled
    /// shortcut padded with trailing channels (Pad with `axes`), a residual Add,
    /// Relu and LeakyRelu, then a scalar Mul, Flatten, Gemm (transB = 0) and Softmax.
    static func residual(seed: UInt64 = 2) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        let nodes = [
            TestNode("Conv", "c1", ["x", "w1", "b1"], ["c1"], [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1])]),
            TestNode("Mul", "m1", ["c1", "s1"], ["m1"]),
            TestNode("Add", "a1", ["m1", "t1"], ["a1"]),
            TestNode("Relu", "r1", ["a1"], ["r1"]),
            TestNode("Conv", "c2", ["r1", "w2", "b2"], ["c2"], [.ints("strides", [2, 2])]),
            TestNode("Mul", "m2", ["s2", "c2"], ["m2"]),
            TestNode("Add", "a2", ["m2", "t2"], ["a2"]),
            TestNode("Pad", "padR", ["a2", "padR_pads"], ["pr"], [.string("mode", "constant")]),
            TestNode("AveragePool", "ap", ["r1"], ["ap"], [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])]),
            TestNode("Pad", "padL", ["ap", "padL_pads", "padL_value", "padL_axes"], ["pl"]),
            TestNode("Add", "res", ["pl", "pr"], ["res"]),
            TestNode("Relu", "r2", ["res"], ["r2"]),
            TestNode("LeakyRelu", "leaky", ["r2"], ["lr"], [.float("alpha", 0.125)]),
            TestNode("Mul", "half", ["lr", "half"], ["h"]),
            TestNode("Flatten", "fl", ["h"], ["f"], [.int("axis", 1)]),
            TestNode("Gemm", "fc", ["f", "fc_w", "fc_b"], ["logits"]),
            TestNode("Softmax", "sm", ["logits"], ["y"], [.int("axis", 1)]),
        ]
        let initializers: [TestTensor] = [
            .float("w1", [4, 4, 3, 3], rng.floats(144)),
            .float("b1", [4], rng.floats(4)),
            .float("s1", [1, 4, 1, 1], rng.floats(4, in: 0.5...1.5)),
            .float("t1", [1, 4, 1, 1], rng.floats(4)),
            .float("w2", [8, 4, 3, 3], rng.floats(288)),
            .float("b2", [8], rng.floats(8)),
            .float("s2", [8, 1, 1], rng.floats(8, in: 0.5...1.5)),
            .float("t2", [1, 8, 1, 1], rng.floats(8)),
            .int64("padR_pads", [8], [0, 0, 0, 0, 0, 0, 1, 1]),
            .int64("padL_pads", [2], [0, 4]),
            .float("padL_value", [], [0.25]),
            .int64("padL_axes", [1], [1]),
            .float("half", [1], [0.5]),
            .float("fc_w", [72, 3], rng.floats(216)),
            .float("fc_b", [3], rng.floats(3)),
        ]
        return makeONNXModel(nodes: nodes, initializers: initializers,
                             input: ("x", [nil, 4, 6, 6]), output: ("y", [nil, 3]))
    }
}
