import FaceRPCEngine
import FaceRPCKernels
@testable import FaceRPCTraining
import Testing

/// `batch` seeded images, uniform in [-1, 1) (about the range of normalised pixels).
func randomImages(_ batch: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return rng.floats(batch * 3 * LeviHassner.inputSize * LeviHassner.inputSize)
}

func hyperparameters(_ change: (inout Hyperparameters) -> Void) -> Hyperparameters {
    var h = Hyperparameters()
    change(&h)
    return h
}

@Suite("Levi-Hassner trainer")
struct LeviHassnerTrainerTests {
    @Test("initial weights are LeviHassner.graph's, and inferenceGraph() round-trips them")
    func initialWeights() throws {
        let trainer = LeviHassnerTrainer(classes: 2, hyperparameters: Hyperparameters(), seed: 77, threads: 2, maxBatch: 2)
        let want = LeviHassner.graph(classes: 2, seed: 77)
        #expect(trainer.inferenceGraph() == want)
        let names = trainer.state().map(\.name)
        #expect(names.contains("conv1.weight") && names.contains("fc8.bias") && names.contains("conv2.weight/momentum"))
        #expect(names.contains(LeviHassnerTrainer.seedName))
    }

    /// Whole-network check of the backward pass: for each parameter tensor, the derivative of
    /// the mean cross-entropy along the tensor's own gradient and along a randomly reweighted
    /// copy of it (so every coordinate's share counts, and a wrong relative size or sign shows),
    /// against central differences of the full forward pass with dropout off. The forward runs
    /// in Float, which rules out one-coordinate differences (a single weight moves the loss by
    /// less than its rounding); whole-tensor directions move it by far more.
    @Test("backward matches central differences of the whole network's loss (2 samples, dropout off)")
    func wholeNetworkGradient() {
        let classes = 8, batch = 2
        let trainer = LeviHassnerTrainer(classes: classes, hyperparameters: hyperparameters { $0.dropout = 0 },
                                         seed: 5, threads: 2, maxBatch: batch)
        let images = randomImages(batch, seed: 6)
        let labels: [Int32] = [3, 6]
        _ = trainer.computeGradients(images: images, labels: labels, batch: batch)
        let grads = trainer.grads[0..<trainer.grads.count]
        var rng = SplitMix64(seed: 7)
        for t in trainer.tensors {
            let g = Array(grads[t.range])
            let w = trainer.params.pointer + t.offset
            let original = Array(UnsafeBufferPointer(start: w, count: t.count))
            let reweighted = g.map { $0 * rng.nextFloat(in: 0..<2) }
            for (label, direction) in [("gradient", g), ("reweighted gradient", reweighted)] {
                let norm = direction.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                #expect(norm > 0, "\(t.name): zero gradient")
                let expected = zip(g, direction).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } / norm
                // Small enough that few ReLU or pooling decisions flip, large enough to beat Float rounding.
                let h = 2e-3
                func shifted(_ s: Double) -> Double {
                    for i in 0..<t.count { w[i] = Float(Double(original[i]) + s * Double(direction[i]) / norm) }
                    defer { for i in 0..<t.count { w[i] = original[i] } }
                    return trainer.crossEntropy(images: images, labels: labels, batch: batch)
                }
                let numeric = (shifted(h) - shifted(-h)) / (2 * h)
                #expect(abs(numeric - expected) <= 0.025 * abs(expected), "\(t.name) along the \(label): numeric \(numeric), analytic \(expected)")
            }
        }
    }

    @Test("state() and restore() continue bit for bit, for every optimizer", arguments: OptimizerKind.allCases)
    func stateRoundTrip(_ kind: OptimizerKind) throws {
        let batch = 2
        let h = hyperparameters { $0.optimizer = kind; $0.learningRate = kind == .adadelta ? 1 : 0.01 }
        let a = LeviHassnerTrainer(classes: 2, hyperparameters: h, seed: 1, threads: 2, maxBatch: batch)
        let images = randomImages(batch, seed: 2), labels: [Int32] = [0, 1]
        _ = a.trainStep(images: images, labels: labels, batch: batch)
        let saved = a.state()
        // A different seed and thread count: everything must come from the checkpoint.
        let b = LeviHassnerTrainer(classes: 2, hyperparameters: h, seed: 99, threads: 1, maxBatch: batch)
        try b.restore(saved, step: a.step)
        #expect(b.step == 1 && b.state() == saved)
        let ra = a.trainStep(images: images, labels: labels, batch: batch)
        let rb = b.trainStep(images: images, labels: labels, batch: batch)
        #expect(ra.loss == rb.loss && ra.crossEntropy == rb.crossEntropy && ra.gradientNorm == rb.gradientNorm)
        #expect(ra.correct == rb.correct && ra.learningRate == rb.learningRate)
        #expect(a.state() == b.state(), "states differ after the next step")
    }

    @Test("restore() rejects missing, extra, duplicated and misshapen tensors and leaves the trainer unchanged")
    func restoreMismatch() throws {
        let trainer = LeviHassnerTrainer(classes: 2, hyperparameters: Hyperparameters(), seed: 3, threads: 1, maxBatch: 1)
        let good = trainer.state()
        var missing = good; missing.removeFirst()
        var extra = good; extra.append(NamedTensor(name: "conv9.weight", shape: [1], values: [0]))
        var duplicated = good; duplicated.append(good[0])
        var misshapen = good; misshapen[1].shape = [misshapen[1].values.count + 1]
        var badSeed = good; badSeed[badSeed.count - 1].values[0] = 0.5
        var changed = good; changed[0].values[0] += 1
        // The other optimizer's slots do not fit a momentum trainer either.
        let adam = LeviHassnerTrainer(classes: 2, hyperparameters: hyperparameters { $0.optimizer = .adam }, seed: 3, threads: 1, maxBatch: 1)
        for bad in [missing, extra, duplicated, misshapen, badSeed, adam.state()] {
            #expect(throws: TrainingError.self) { try trainer.restore(bad + [], step: 5) }
            #expect(trainer.state() == good && trainer.step == 0)
        }
        #expect(throws: TrainingError.self) { try trainer.restore(changed, step: -1) }
        try trainer.restore(changed, step: 7)
        #expect(trainer.state() == changed && trainer.step == 7)
    }

    @Test("inferenceGraph() on the engine gives trainer.predict's probabilities")
    func inferenceGraphMatchesPredict() throws {
        let batch = 3
        let trainer = LeviHassnerTrainer(classes: 8, hyperparameters: hyperparameters { $0.learningRate = 0.05 },
                                         seed: 11, threads: 2, maxBatch: batch)
        let images = randomImages(batch, seed: 12)
        // Move the weights away from the initial ones first.
        for _ in 0..<2 { _ = trainer.trainStep(images: images, labels: [1, 5, 7], batch: batch) }
        let predicted = images.withUnsafeBufferPointer { trainer.predict(images: $0.baseAddress!, batch: batch) }
        let network = try Network(graph: trainer.inferenceGraph(), threads: 2)
        let engine = try network.run(images, batch: batch)
        #expect(predicted.count == engine.count)
        let worst = zip(predicted, engine).map { abs($0 - $1) }.max() ?? 1
        #expect(worst <= 1e-4, "largest probability difference \(worst)")
        for n in 0..<batch {
            let row = predicted[(n * 8)..<((n + 1) * 8)]
            #expect(abs(row.reduce(0, +) - 1) < 1e-5)
        }
    }

    @Test("weight decay, clipping and the learning rate enter the step as specified")
    func stepBookkeeping() {
        let batch = 2
        let h = hyperparameters { $0.learningRate = 0.1; $0.lrDecaySteps = 1; $0.lrDecayRate = 0.5; $0.clipNorm = 1e-3 }
        let trainer = LeviHassnerTrainer(classes: 2, hyperparameters: h, seed: 21, threads: 2, maxBatch: batch)
        let images = randomImages(batch, seed: 22), labels: [Int32] = [1, 0]
        var expectedDecay = 0.0
        for t in trainer.tensors where t.decayed {
            for v in trainer.params[t.range] { expectedDecay += 0.5 * Double(v) * Double(v) }
        }
        expectedDecay *= Double(h.weightDecayScale * h.weightDecay)
        let before = trainer.params[0..<trainer.params.count]
        let r0 = trainer.trainStep(images: images, labels: labels, batch: batch)
        #expect(abs(Double(r0.loss - r0.crossEntropy) - expectedDecay) <= 1e-4 * expectedDecay)
        #expect(r0.learningRate == 0.1 && r0.gradientNorm > h.clipNorm)
        // Momentum's first step is w -= lr·g, and clipping limits ‖g‖ to clipNorm: ‖Δw‖ = lr·clipNorm.
        let after = trainer.params[0..<trainer.params.count]
        let moved = zip(before, after).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        #expect(abs(moved - 0.1 * 1e-3) <= 2e-3 * 0.1 * 1e-3, "moved \(moved)")
        let r1 = trainer.trainStep(images: images, labels: labels, batch: batch)
        #expect(r1.learningRate == 0.05 && trainer.step == 2)
    }

    /// Adam, because plain momentum at the seed rate needs far more than a test's steps to leave
    /// the plateau of the small initial weights.
    @Test("a few dozen steps on two constant-colour classes drive the loss down")
    func learns() {
        let batch = 4, classes = 2
        let trainer = LeviHassnerTrainer(classes: classes, hyperparameters: hyperparameters { $0.optimizer = .adam; $0.learningRate = 1e-3 },
                                         seed: 31, threads: 2, maxBatch: batch)
        let plane = LeviHassner.inputSize * LeviHassner.inputSize
        var rng = SplitMix64(seed: 32)
        let colours: [[Float]] = [[0.4, -0.1, -0.3], [-0.3, 0.1, 0.4]]
        func makeBatch() -> (images: [Float], labels: [Int32]) {
            var images: [Float] = [], labels: [Int32] = []
            for n in 0..<batch {
                let label = (n + Int(rng.next() % 2)) % classes
                labels.append(Int32(label))
                for c in 0..<3 { images += (0..<plane).map { _ in colours[label][c] + rng.nextFloat(in: -0.05..<0.05) } }
            }
            return (images, labels)
        }
        var losses: [Float] = []
        for _ in 0..<30 {
            let (images, labels) = makeBatch()
            losses.append(trainer.trainStep(images: images, labels: labels, batch: batch).crossEntropy)
        }
        let first = losses.prefix(3).reduce(0, +) / 3, last = losses.suffix(5).reduce(0, +) / 5
        #expect(first > 0.5, "initial loss \(first)")
        #expect(last < 0.05, "losses \(losses)")
        let (images, labels) = makeBatch()
        let p = trainer.predict(images: images, batch: batch)
        for n in 0..<batch { #expect(p[n * classes + Int(labels[n])] > 0.8) }
    }
}
