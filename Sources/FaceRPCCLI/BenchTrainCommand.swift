import ArgumentParser
import FaceRPCEngine
import FaceRPCKernels
import FaceRPCTraining
import Foundation

/// `facerpc bench-train`: training throughput of the Levi-Hassner trainer on random data.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-train",
        abstract: "Measure Levi-Hassner training throughput (forward, backward, update) on random images.",
        discussion: "Runs --warmup steps, then times --steps steps. --profile adds seconds per layer and phase."
    )

    @Option(help: "Images per step.") var batch: Int = 32
    @Option(help: "Kernel threads.") var threads: Int = 2
    @Option(help: "Timed steps.") var steps: Int = 5
    @Option(help: "Untimed steps first.") var warmup: Int = 1
    @Option(help: "Classes (8 age buckets, 2 genders).") var classes: Int = 8
    @Option(help: "Optimizer: momentum, adadelta or adam.") var optimizer: String = "momentum"
    @Flag(help: "Report time per layer and phase.") var profile = false
    @Flag(help: "Print one JSON line.") var json = false

    func validate() throws {
        guard batch >= 1, batch <= LeviHassnerTrainer.Limits.maxBatch else {
            throw ValidationError("--batch must be in 1...\(LeviHassnerTrainer.Limits.maxBatch)")
        }
        guard threads >= 1, threads <= LeviHassnerTrainer.Limits.maxThreads else {
            throw ValidationError("--threads must be in 1...\(LeviHassnerTrainer.Limits.maxThreads)")
        }
        guard steps >= 1, steps <= 10_000, warmup >= 0, warmup <= 10_000 else { throw ValidationError("--steps in 1...10000, --warmup in 0...10000") }
        guard classes >= 2, classes <= LeviHassnerTrainer.Limits.maxClasses else { throw ValidationError("--classes out of range") }
        guard OptimizerKind(rawValue: optimizer) != nil else { throw ValidationError("--optimizer must be momentum, adadelta or adam") }
    }

    func run() throws {
        var h = Hyperparameters()
        h.optimizer = OptimizerKind(rawValue: optimizer)!
        let trainer = LeviHassnerTrainer(classes: classes, hyperparameters: h, seed: 1, threads: threads, maxBatch: batch)
        var rng = SplitMix64(seed: 42)
        let images = rng.floats(batch * 3 * LeviHassner.inputSize * LeviHassner.inputSize)
        let labels = (0..<batch).map { _ in Int32(rng.next() % UInt64(classes)) }
        for _ in 0..<warmup { _ = trainer.trainStep(images: images, labels: labels, batch: batch) }
        trainer.profiling = profile
        let clock = ContinuousClock()
        var last = StepResult(loss: 0, crossEntropy: 0, correct: 0, gradientNorm: 0, learningRate: 0)
        let elapsed = clock.measure {
            for _ in 0..<steps { last = trainer.trainStep(images: images, labels: labels, batch: batch) }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let perSecond = Double(batch * steps) / seconds
        if json {
            var object: [String: Any] = ["batch": batch, "threads": threads, "steps": steps, "seconds": seconds,
                                         "images_per_second": perSecond, "loss": Double(last.loss)]
            if profile {
                object["profile_ms_per_step"] = Dictionary(uniqueKeysWithValues: trainer.profile.map { ($0.phase, 1000 * $0.seconds / Double(steps)) })
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "batch %d, %d threads: %.2f images/s (%.1f ms per step)", batch, threads, perSecond,
                         1000 * seconds / Double(steps)))
            for (phase, s) in trainer.profile {
                print(String(format: "  %-24@ %8.2f ms/step  %5.1f%%", phase as NSString, 1000 * s / Double(steps), 100 * s / seconds))
            }
        }
    }
}
