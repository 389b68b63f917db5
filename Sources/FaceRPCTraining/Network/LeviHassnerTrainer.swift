import FaceRPCEngine
import FaceRPCKernels

/// What one ``LeviHassnerTrainer/trainStep(images:labels:batch:)`` did.
public struct StepResult: Sendable {
    /// Mean cross-entropy plus `weightDecayScale * weightDecay * 0.5 * Σw²` (conv and fc weights).
    public var loss: Float
    /// Mean cross-entropy over the batch.
    public var crossEntropy: Float
    /// Samples whose (first) argmax equals the label, with dropout on.
    public var correct: Int
    /// Global norm of all gradients (weight decay included), before clipping.
    public var gradientNorm: Float
    /// The learning rate the update used.
    public var learningRate: Float

    public init(loss: Float, crossEntropy: Float, correct: Int, gradientNorm: Float, learningRate: Float) {
        self.loss = loss; self.crossEntropy = crossEntropy; self.correct = correct
        self.gradientNorm = gradientNorm; self.learningRate = learningRate
    }
}

/// Trains the Levi-Hassner network (``LeviHassner``) on the CPU with the SIMD kernels.
///
/// Forward: convolutions through ``PackedConvolution`` (weights repacked each step, a
/// small cost next to a batch), pooling and LRN through the inference kernels, FC
/// through the FC kernel; every activation the backward pass needs is kept in
/// buffers sized for `maxBatch`. Backward: the kernels of `FaceRPCKernels/Backward`
/// (im2col GEMMs for the convolutions, the training GEMM for FC). Then weight decay,
/// global-norm clipping and the optimizer update over one flat parameter vector.
///
/// Results do not depend on `threads`: every kernel splits work so that each value
/// is computed in the same order by whichever thread does it.
///
/// `@unchecked Sendable`: used by one job thread at a time (the caller's contract);
/// worker threads only touch its buffers inside `parallelFor` calls it makes.
public final class LeviHassnerTrainer: @unchecked Sendable {
    /// Bounds checked before allocating.
    public enum Limits {
        public static let maxBatch = 1024
        public static let maxThreads = 64
        public static let maxClasses = 1000
    }

    public let classes: Int
    public let hyperparameters: Hyperparameters
    /// Optimizer steps taken so far.
    public private(set) var step = 0
    let threads: Int
    let maxBatch: Int

    /// One parameter tensor inside the flat vector.
    struct Tensor {
        let name: String
        let shape: [Int]
        let offset: Int
        var count: Int { shape.reduce(1, *) }
        var range: Range<Int> { offset..<(offset + count) }
        /// Conv and FC weights get L2 decay; biases do not.
        let decayed: Bool
    }

    let tensors: [Tensor]
    let params: FloatBuffer
    let grads: FloatBuffer
    let optimizer: Optimizer
    /// Dropout masks of step `s` come from `SplitMix64(seed: dropoutSeed ^ mix(s))`, so a restored
    /// trainer draws the same masks.
    private(set) var dropoutSeed: UInt64

    static let imageSize = LeviHassner.inputSize
    static let hidden = 512
    let convs: [ConvGeometry]
    let pools: [PoolGeometry]
    let lrn = LRNSpec(size: 5, alpha: 1e-4, beta: 0.75, bias: 1)
    let flat: Int
    /// The graph with every weight array emptied; ``inferenceGraph()`` fills them.
    let template: Graph

    // Activations, `maxBatch` samples each.
    let a1, p1, n1, a2, p2, n2, a3, p3: FloatBuffer
    let h6, m6, d6, h7, m7, d7, logits, probabilities: FloatBuffer
    // Gradients: two ping-pong buffers for the image layers, two for the FC ones.
    let gradA, gradB, gradF1, gradF2, gradLogits: FloatBuffer
    let scratch: FloatBuffer

    /// Weights initialised exactly as `LeviHassner.graph(classes:seed:)` does (they are taken from it).
    ///
    /// - Precondition: `2 <= classes <= Limits.maxClasses`, `1 <= maxBatch <= Limits.maxBatch`;
    ///   `threads` is clamped to `1...Limits.maxThreads`.
    public init(classes: Int, hyperparameters: Hyperparameters, seed: UInt64, threads: Int, maxBatch: Int) {
        precondition(classes >= 2 && classes <= Limits.maxClasses, "classes \(classes) outside 2...\(Limits.maxClasses)")
        precondition(maxBatch >= 1 && maxBatch <= Limits.maxBatch, "maxBatch \(maxBatch) outside 1...\(Limits.maxBatch)")
        self.classes = classes
        self.hyperparameters = hyperparameters
        self.threads = min(max(threads, 1), Limits.maxThreads)
        self.maxBatch = maxBatch
        var mixer = SplitMix64(seed: seed ^ 0x5EED_D80F_0000_0001)
        dropoutSeed = mixer.next()

        let graph = LeviHassner.graph(classes: classes, seed: seed)
        var tensors: [Tensor] = []
        var initial: [Float] = []
        var convs: [ConvGeometry] = [], pools: [PoolGeometry] = []
        var shape: [Int] = graph.inputShape
        var flat = 0
        var nodes: [GraphNode] = []
        func add(_ name: String, _ shape: [Int], _ values: [Float], decayed: Bool) {
            tensors.append(Tensor(name: name, shape: shape, offset: initial.count, decayed: decayed))
            initial += values
            // 16-aligned offsets keep every tensor's vectors aligned in the flat buffers.
            initial += [Float](repeating: 0, count: (16 - initial.count % 16) % 16)
        }
        for node in graph.nodes {
            var stripped = node
            switch node.op {
            case .conv2d(var s):
                let g = ConvGeometry(inChannels: s.inChannels, outChannels: s.outChannels, inH: shape[1], inW: shape[2],
                                     kernelH: s.kernelH, kernelW: s.kernelW, strideH: s.strideH, strideW: s.strideW,
                                     padTop: s.padTop, padLeft: s.padLeft, padBottom: s.padBottom, padRight: s.padRight)
                convs.append(g)
                add(node.name + ".weight", [s.outChannels, s.inChannels, s.kernelH, s.kernelW], s.weights, decayed: true)
                add(node.name + ".bias", [s.outChannels], s.bias, decayed: false)
                shape = [s.outChannels, g.outH, g.outW]
                s.weights = []; s.bias = []
                stripped.op = .conv2d(s)
            case .maxPool(let s):
                let g = PoolGeometry(channels: shape[0], inH: shape[1], inW: shape[2], kernelH: s.kernelH, kernelW: s.kernelW,
                                     strideH: s.strideH, strideW: s.strideW, padTop: s.padTop, padLeft: s.padLeft,
                                     padBottom: s.padBottom, padRight: s.padRight, ceilMode: s.ceilMode)
                pools.append(g)
                shape = [shape[0], g.outH, g.outW]
            case .flatten:
                flat = shape.reduce(1, *)
                shape = [flat]
            case .fullyConnected(var s):
                add(node.name + ".weight", [s.outFeatures, s.inFeatures], s.weights, decayed: true)
                add(node.name + ".bias", [s.outFeatures], s.bias, decayed: false)
                shape = [s.outFeatures]
                s.weights = []; s.bias = []
                stripped.op = .fullyConnected(s)
            default:
                break
            }
            nodes.append(stripped)
        }
        precondition(convs.count == 3 && pools.count == 3 && tensors.count == 12, "unexpected Levi-Hassner graph")
        template = Graph(inputName: graph.inputName, inputShape: graph.inputShape, nodes: nodes, outputName: graph.outputName)
        self.tensors = tensors
        self.convs = convs
        self.pools = pools
        self.flat = flat
        let params = FloatBuffer(count: initial.count)
        initial.withUnsafeBufferPointer { params.pointer.update(from: $0.baseAddress!, count: initial.count) }
        self.params = params
        grads = FloatBuffer(count: initial.count)
        optimizer = Optimizer(kind: hyperparameters.optimizer, count: initial.count)

        func buffer(_ perSample: Int) -> FloatBuffer { FloatBuffer(count: perSample * maxBatch) }
        func size(_ g: ConvGeometry) -> Int { g.outChannels * g.outH * g.outW }
        func size(_ g: PoolGeometry) -> Int { g.channels * g.outH * g.outW }
        a1 = buffer(size(convs[0])); p1 = buffer(size(pools[0])); n1 = buffer(size(pools[0]))
        a2 = buffer(size(convs[1])); p2 = buffer(size(pools[1])); n2 = buffer(size(pools[1]))
        a3 = buffer(size(convs[2])); p3 = buffer(size(pools[2]))
        let hidden = Self.hidden
        h6 = buffer(hidden); m6 = buffer(hidden); d6 = buffer(hidden)
        h7 = buffer(hidden); m7 = buffer(hidden); d7 = buffer(hidden)
        logits = buffer(classes); probabilities = buffer(classes)
        let largest = max(size(convs[0]), size(convs[1]), size(convs[2]))
        gradA = buffer(largest); gradB = buffer(largest)
        gradF1 = buffer(max(hidden, flat)); gradF2 = buffer(hidden); gradLogits = buffer(classes)

        // One scratch area, as large as the hungriest kernel needs.
        let t = self.threads
        var need = 0
        for g in convs {
            let packed = PackedConvolution(geometry: g, weights: [Float](repeating: 0, count: g.outChannels * g.groupK),
                                           bias: [Float](repeating: 0, count: g.outChannels))
            need = max(need, t * packed.scratchPerThread + maxBatch * packed.scratchPerSample + 64)
            need = max(need, ConvolutionBackward.scratchCount(geometry: g, threads: t))
        }
        for g in pools {
            let spatial = g.outH * g.outW
            need = max(need, t * spatial, t * NormalizationBackward.lrnScratchPerThread(channels: g.channels, spatial: spatial))
        }
        for (inF, outF) in [(flat, hidden), (hidden, hidden), (hidden, classes)] {
            need = max(need, FullyConnectedBackward.scratchCount(batch: maxBatch, inFeatures: inF, outFeatures: outF, threads: t))
        }
        scratch = FloatBuffer(count: need)
    }

    // MARK: Public API

    /// Forward + backward + optimizer update on `batch` samples. images: `[batch][3][227][227]` floats,
    /// already normalised; labels: `batch` values in `0..<classes`. Dropout on.
    /// - Precondition: `1 <= batch <= maxBatch`, every label in range.
    public func trainStep(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int) -> StepResult {
        precondition(batch >= 1 && batch <= maxBatch, "batch \(batch) outside 1...\(maxBatch)")
        for i in 0..<batch { precondition(labels[i] >= 0 && Int(labels[i]) < classes, "label \(labels[i]) outside 0..<\(classes)") }
        let (crossEntropy, correct) = computeGradients(images: images, labels: labels, batch: batch)
        let h = hyperparameters
        let decay = h.weightDecayScale * h.weightDecay
        var halfSquares = 0.0
        var norm: Float = 0
        let lr = h.learningRate(atStep: step)
        timed("update") {
            halfSquares = GradientProcessing.addWeightDecay(weights: params.pointer, grads: grads.pointer,
                                                            decayed: tensors.filter(\.decayed).map(\.range), scale: decay)
            norm = GradientProcessing.clip(grads: grads.pointer, count: grads.count, clipNorm: h.clipNorm)
            optimizer.apply(weights: params.pointer, grads: grads.pointer, lr: lr, stepsBefore: step, hyperparameters: h,
                            threads: threads)
        }
        step += 1
        let loss = Float(Double(crossEntropy) + Double(decay) * halfSquares)
        return StepResult(loss: loss, crossEntropy: crossEntropy, correct: correct, gradientNorm: norm, learningRate: lr)
    }

    /// Class probabilities `[batch][classes]`, dropout off (inference). Same preconditions.
    public func predict(images: UnsafePointer<Float>, batch: Int) -> [Float] {
        precondition(batch >= 1 && batch <= maxBatch, "batch \(batch) outside 1...\(maxBatch)")
        forward(images, batch: batch, dropout: false)
        FaceRPCKernels.Normalization.f32_softmax(logits.pointer, probabilities.pointer, rows: batch, length: classes)
        return probabilities[0..<(batch * classes)]
    }

    /// The inference graph with the current weights: ``LeviHassner/graph(classes:seed:)``'s nodes
    /// and names (dropout nodes kept: the engine runs them as identity).
    public func inferenceGraph() -> Graph {
        var graph = template
        var next = 0
        for i in graph.nodes.indices {
            switch graph.nodes[i].op {
            case .conv2d(var s):
                s.weights = params[tensors[next].range]; s.bias = params[tensors[next + 1].range]
                graph.nodes[i].op = .conv2d(s)
                next += 2
            case .fullyConnected(var s):
                s.weights = params[tensors[next].range]; s.bias = params[tensors[next + 1].range]
                graph.nodes[i].op = .fullyConnected(s)
                next += 2
            default:
                break
            }
        }
        return graph
    }

    /// Parameters (`<layer>.weight`, `<layer>.bias`), optimizer slots (`<parameter>/<slot>`) and the
    /// dropout RNG seed (`rng/dropout_seed`, four 16-bit pieces): everything to continue bit for bit.
    public func state() -> [NamedTensor] {
        var out = tensors.map { NamedTensor(name: $0.name, shape: $0.shape, values: params[$0.range]) }
        for (slot, suffix) in zip(optimizer.slots, Optimizer.slotNames(optimizer.kind)) {
            for t in tensors { out.append(NamedTensor(name: t.name + "/" + suffix, shape: t.shape, values: slot[t.range])) }
        }
        out.append(NamedTensor(name: Self.seedName, shape: [4], values: (0..<4).map { Float((dropoutSeed >> (16 * UInt64($0))) & 0xFFFF) }))
        return out
    }

    /// Restores ``state()`` output and the step counter. Throws ``TrainingError/checkpointMismatch(_:)``
    /// on a missing, extra or duplicated name, a wrong shape or value count, a malformed seed or a
    /// negative step; nothing is changed then.
    public func restore(_ tensors: [NamedTensor], step: Int) throws {
        guard step >= 0 else { throw TrainingError.checkpointMismatch("negative step \(step)") }
        var expected: [String: (shape: [Int], destination: UnsafeMutablePointer<Float>?)] = [:]
        for t in self.tensors { expected[t.name] = (t.shape, params.pointer + t.offset) }
        for (slot, suffix) in zip(optimizer.slots, Optimizer.slotNames(optimizer.kind)) {
            for t in self.tensors { expected[t.name + "/" + suffix] = (t.shape, slot.pointer + t.offset) }
        }
        expected[Self.seedName] = ([4], nil)
        var seen = Set<String>()
        var seed: UInt64 = 0
        for t in tensors {
            guard let want = expected[t.name] else { throw TrainingError.checkpointMismatch("unexpected tensor '\(t.name)'") }
            guard seen.insert(t.name).inserted else { throw TrainingError.checkpointMismatch("tensor '\(t.name)' appears twice") }
            guard t.shape == want.shape, t.values.count == want.shape.reduce(1, *) else {
                throw TrainingError.checkpointMismatch("tensor '\(t.name)' has shape \(t.shape) and \(t.values.count) values, expected \(want.shape)")
            }
            if want.destination == nil {
                for (i, v) in t.values.enumerated() {
                    guard v >= 0, v <= 65535, v == v.rounded() else {
                        throw TrainingError.checkpointMismatch("'\(t.name)' holds \(v), not a 16-bit piece")
                    }
                    seed |= UInt64(v) << (16 * UInt64(i))
                }
            }
        }
        if let missing = expected.keys.sorted().first(where: { !seen.contains($0) }) {
            throw TrainingError.checkpointMismatch("missing tensor '\(missing)'")
        }
        for t in tensors {
            if let d = expected[t.name]?.destination {
                t.values.withUnsafeBufferPointer { d.update(from: $0.baseAddress!, count: $0.count) }
            }
        }
        dropoutSeed = seed
        self.step = step
    }

    static let seedName = "rng/dropout_seed"

    /// When true, every phase of ``trainStep(images:labels:batch:)`` and ``predict(images:batch:)``
    /// (each layer's forward and backward, the loss, the update) adds its wall time to ``profile``.
    public var profiling = false
    /// Seconds per phase since profiling was turned on (or ``resetProfile()``), in first-run order.
    public private(set) var profile: [(phase: String, seconds: Double)] = []
    private var profileIndex: [String: Int] = [:]

    /// Clears ``profile``.
    public func resetProfile() { profile = []; profileIndex = [:] }

    @inline(__always)
    private func timed(_ phase: String, _ body: () -> Void) {
        guard profiling else { body(); return }
        let start = ContinuousClock.now
        body()
        let d = ContinuousClock.now - start
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        if let i = profileIndex[phase] { profile[i].seconds += seconds } else {
            profileIndex[phase] = profile.count
            profile.append((phase, seconds))
        }
    }

    /// Forward (dropout on when `hyperparameters.dropout > 0`), loss and backward: the mean
    /// cross-entropy's gradients land in `grads` (no decay, clipping or update yet).
    func computeGradients(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int) -> (crossEntropy: Float, correct: Int) {
        forward(images, batch: batch, dropout: true)
        var loss: Float = 0, correct = 0
        timed("loss") {
            (loss, correct) = LossBackward.f32_softmax_cross_entropy_backward(
                logits: logits.pointer, labels: labels, batch: batch, classes: classes,
                probabilities: probabilities.pointer, logitsGrad: gradLogits.pointer)
        }
        backward(images, batch: batch)
        return (loss, correct)
    }

    /// The mean cross-entropy of a forward pass with dropout off, in Double from the logits
    /// (finite differences in tests need more than a Float loss's resolution).
    func crossEntropy(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int) -> Double {
        forward(images, batch: batch, dropout: false)
        return Reference.softmaxCrossEntropy(logits[0..<(batch * classes)], labels: Array(UnsafeBufferPointer(start: labels, count: batch)),
                                             classes: classes).loss
    }

    // MARK: Forward and backward

    private func tensor(_ i: Int) -> UnsafeMutablePointer<Float> { params.pointer + tensors[i].offset }
    private func gradient(_ i: Int) -> UnsafeMutablePointer<Float> { grads.pointer + tensors[i].offset }

    /// Conv + ReLU through the inference convolution, weights packed from the flat vector.
    private func convolution(_ layer: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let g = convs[layer]
        let w = tensors[2 * layer], b = tensors[2 * layer + 1]
        let packed = PackedConvolution(geometry: g, weights: params[w.range], bias: params[b.range])
        packed.run(input: input, output: output, batch: batch, residual: nil, relu: true, scratch: scratch.pointer,
                   threads: threads, path: .standard)
    }

    /// `y = x · Wᵀ + b` (ReLU optional) with the inference FC kernel, features split across threads.
    private func fullyConnected(_ layer: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                batch: Int, inF: Int, outF: Int, relu: Bool) {
        let kernel = KernelRegistry.defaultFullyConnected.run
        let w = UnsafePointer(tensor(2 * layer)), b = UnsafePointer(tensor(2 * layer + 1))
        let blocks = (outF + 3) / 4
        let tasks = max(1, min(threads, blocks))
        parallelFor(tasks) { t in
            let r = sliceRange(t, of: tasks, count: blocks)
            kernel(input, batch, inF, outF, (r.lowerBound * 4)..<min(r.upperBound * 4, outF), w, b, output, relu)
        }
    }

    private func forward(_ images: UnsafePointer<Float>, batch: Int, dropout: Bool) {
        let t = threads
        timed("conv1.forward") { convolution(0, input: images, output: a1.pointer, batch: batch) }
        timed("pool1.forward") { Pooling.f32_maxpool_simd16(a1.pointer, p1.pointer, batch: batch, geometry: pools[0], threads: t) }
        timed("norm1.forward") { localResponse(p1.pointer, n1.pointer, pools[0], batch: batch) }
        timed("conv2.forward") { convolution(1, input: n1.pointer, output: a2.pointer, batch: batch) }
        timed("pool2.forward") { Pooling.f32_maxpool_simd16(a2.pointer, p2.pointer, batch: batch, geometry: pools[1], threads: t) }
        timed("norm2.forward") { localResponse(p2.pointer, n2.pointer, pools[1], batch: batch) }
        timed("conv3.forward") { convolution(2, input: n2.pointer, output: a3.pointer, batch: batch) }
        timed("pool3.forward") { Pooling.f32_maxpool_simd16(a3.pointer, p3.pointer, batch: batch, geometry: pools[2], threads: t) }
        let hidden = Self.hidden
        let p = hyperparameters.dropout
        let drop = dropout && p > 0
        timed("fc.forward") {
            if drop {
                var rng = SplitMix64(seed: dropoutSeed ^ (UInt64(step) &* 0x9E37_79B9_7F4A_7C15))
                f32_dropout_mask(batch * hidden, p: p, rng: &rng, into: m6.pointer)
                f32_dropout_mask(batch * hidden, p: p, rng: &rng, into: m7.pointer)
            }
            fullyConnected(3, input: p3.pointer, output: h6.pointer, batch: batch, inF: flat, outF: hidden, relu: true)
            if drop { f32_vmul_simd16(batch * hidden, h6.pointer, m6.pointer, d6.pointer) }
            let x7 = drop ? d6.pointer : h6.pointer
            fullyConnected(4, input: x7, output: h7.pointer, batch: batch, inF: hidden, outF: hidden, relu: true)
            if drop { f32_vmul_simd16(batch * hidden, h7.pointer, m7.pointer, d7.pointer) }
            let x8 = drop ? d7.pointer : h7.pointer
            fullyConnected(5, input: x8, output: logits.pointer, batch: batch, inF: hidden, outF: classes, relu: false)
        }
    }

    private func localResponse(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: PoolGeometry, batch: Int) {
        FaceRPCKernels.Normalization.f32_lrn_simd16(x, y, batch: batch, channels: g.channels, spatial: g.outH * g.outW, size: lrn.size,
                                     alpha: lrn.alpha, beta: lrn.beta, bias: lrn.bias, scratch: scratch.pointer, threads: threads)
    }

    private func lrnBackward(input: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                             _ g: PoolGeometry, batch: Int) {
        NormalizationBackward.f32_lrn_backward_simd16(input: input, outputGrad: outputGrad, batch: batch, channels: g.channels,
                                                      spatial: g.outH * g.outW, size: lrn.size, alpha: lrn.alpha, beta: lrn.beta,
                                                      bias: lrn.bias, inputGrad: dx, scratch: scratch.pointer, threads: threads)
    }

    /// The gradients of the mean cross-entropy (from `gradLogits`) into `grads`; the dropout masks
    /// are the forward pass's.
    private func backward(_ images: UnsafePointer<Float>, batch: Int) {
        let t = threads, hidden = Self.hidden, s = scratch.pointer
        let drop = hyperparameters.dropout > 0
        timed("fc.backward") {
            // FC8 → FC7 → FC6.
            FullyConnectedBackward.f32_fc_backward_simd16(
                input: drop ? d7.pointer : h7.pointer, outputGrad: gradLogits.pointer, weights: tensor(10), batch: batch,
                inFeatures: hidden, outFeatures: classes, inputGrad: gradF2.pointer, weightGrad: gradient(10), biasGrad: gradient(11),
                scratch: s, threads: t)
            if drop { f32_vmul_simd16(batch * hidden, gradF2.pointer, m7.pointer, gradF2.pointer) }
            f32_relu_backward_simd16(batch * hidden, h7.pointer, gradF2.pointer, gradF2.pointer)
            FullyConnectedBackward.f32_fc_backward_simd16(
                input: drop ? d6.pointer : h6.pointer, outputGrad: gradF2.pointer, weights: tensor(8), batch: batch,
                inFeatures: hidden, outFeatures: hidden, inputGrad: gradF1.pointer, weightGrad: gradient(8), biasGrad: gradient(9),
                scratch: s, threads: t)
            if drop { f32_vmul_simd16(batch * hidden, gradF1.pointer, m6.pointer, gradF1.pointer) }
            f32_relu_backward_simd16(batch * hidden, h6.pointer, gradF1.pointer, gradF1.pointer)
            // FC6's input gradient is pool3's output gradient.
            FullyConnectedBackward.f32_fc_backward_simd16(
                input: p3.pointer, outputGrad: gradF1.pointer, weights: tensor(6), batch: batch,
                inFeatures: flat, outFeatures: hidden, inputGrad: gradA.pointer, weightGrad: gradient(6), biasGrad: gradient(7),
                scratch: s, threads: t)
        }
        // Block 3: pool3 → ReLU → conv3.
        timed("pool3.backward") {
            PoolingBackward.f32_maxpool_backward_simd16(input: a3.pointer, output: p3.pointer, outputGrad: gradA.pointer, batch: batch,
                                                        geometry: pools[2], inputGrad: gradB.pointer, threads: t)
        }
        convBackward(2, input: n2.pointer, activation: a3.pointer, outputGrad: gradB.pointer, inputGrad: gradA.pointer, batch: batch)
        // Block 2: LRN2 → pool2 → ReLU → conv2.
        timed("norm2.backward") { lrnBackward(input: p2.pointer, outputGrad: gradA.pointer, into: gradB.pointer, pools[1], batch: batch) }
        timed("pool2.backward") {
            PoolingBackward.f32_maxpool_backward_simd16(input: a2.pointer, output: p2.pointer, outputGrad: gradB.pointer, batch: batch,
                                                        geometry: pools[1], inputGrad: gradA.pointer, threads: t)
        }
        convBackward(1, input: n1.pointer, activation: a2.pointer, outputGrad: gradA.pointer, inputGrad: gradB.pointer, batch: batch)
        // Block 1: LRN1 → pool1 → ReLU → conv1 (no input gradient: the images).
        timed("norm1.backward") { lrnBackward(input: p1.pointer, outputGrad: gradB.pointer, into: gradA.pointer, pools[0], batch: batch) }
        timed("pool1.backward") {
            PoolingBackward.f32_maxpool_backward_simd16(input: a1.pointer, output: p1.pointer, outputGrad: gradA.pointer, batch: batch,
                                                        geometry: pools[0], inputGrad: gradB.pointer, threads: t)
        }
        convBackward(0, input: images, activation: a1.pointer, outputGrad: gradB.pointer, inputGrad: nil, batch: batch)
    }

    /// ReLU's derivative applied in place to `outputGrad`, then the conv's weight, bias and
    /// (optionally) input gradients.
    private func convBackward(_ layer: Int, input: UnsafePointer<Float>, activation: UnsafePointer<Float>,
                              outputGrad: UnsafeMutablePointer<Float>, inputGrad: UnsafeMutablePointer<Float>?, batch: Int) {
        let g = convs[layer]
        let name = "conv\(layer + 1)"
        timed(name + ".backward.weights") {
            f32_relu_backward_simd16(batch * g.outChannels * g.outH * g.outW, activation, outputGrad, outputGrad)
            ConvolutionBackward.f32_conv_backward_weights_simd16(
                input: input, outputGrad: outputGrad, batch: batch, geometry: g, weightGrad: gradient(2 * layer),
                biasGrad: gradient(2 * layer + 1), scratch: scratch.pointer, threads: threads)
        }
        if let inputGrad {
            timed(name + ".backward.data") {
                ConvolutionBackward.f32_conv_backward_data_simd16(
                    outputGrad: outputGrad, weights: tensor(2 * layer), batch: batch, geometry: g, inputGrad: inputGrad,
                    scratch: scratch.pointer, threads: threads)
            }
        }
    }
}
