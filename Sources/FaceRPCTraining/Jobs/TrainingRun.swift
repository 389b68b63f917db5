import FaceRPCCore
import FaceRPCEngine
import Foundation
import Logging
import Synchronization

/// Registers a trained network with whatever serves models; the server plugs
/// in its model registry (training knows nothing of it).
public protocol TrainedModelPublisher: Sendable {
    /// Stores `graph` as a new version of `name` and, if `promote`, swaps it in
    /// for serving without dropping calls in flight.
    /// - Returns: the new version's name.
    func publish(name: String, task: TrainingTask, graph: Graph, promote: Bool) throws -> String
}

/// What a run needs of a trainer; ``LeviHassnerTrainer`` is the real one,
/// tests plug in scripted ones (a loss that turns NaN on cue, say).
public protocol StepTrainer: AnyObject {
    var step: Int { get }
    func trainStep(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int) -> StepResult
    func predict(images: UnsafePointer<Float>, batch: Int) -> [Float]
    func inferenceGraph() -> Graph
    func state() -> [NamedTensor]
    func restore(_ tensors: [NamedTensor], step: Int) throws
}

extension LeviHassnerTrainer: StepTrainer {}

/// Builds the trainer for a job.
public typealias TrainerFactory = @Sendable (TrainingJobSpec) -> any StepTrainer

/// The Levi-Hassner trainer for `spec`'s task, hyper-parameters, seed and threads.
public let leviHassnerTrainerFactory: TrainerFactory = { spec in
    LeviHassnerTrainer(classes: spec.task.classes, hyperparameters: spec.hyperparameters, seed: spec.seed,
                       threads: spec.threads, maxBatch: spec.batchSize)
}

/// One point of the training curves (`curve.jsonl`, one JSON object per line).
public struct CurvePoint: Codable, Sendable, Equatable {
    public var step: Int
    public var epoch: Int
    public var loss: Float
    public var lossAverage: Float
    public var trainAccuracy: Float
    /// nil where no validation ran at this step.
    public var valAccuracy: Float?
    public var learningRate: Float
}

/// What `report.json` holds once a job has finished its evaluation.
public struct TrainingReport: Codable, Sendable, Equatable {
    public var progress: TrainingProgress
    public var task: TrainingTask
    public var evaluation: Evaluation
    public var curve: [CurvePoint]
}

/// How a run ended, when it did not finish.
enum RunInterruption: Sendable {
    /// Cancel: checkpoint, then the job is cancelled.
    case cancel
    /// The server is stopping: checkpoint, and the job stays `running` on disk
    /// so that the next start resumes it.
    case shutdown
}

/// The state a run shares with the job manager.
final class RunControl: Sendable {
    private let interruption = Mutex<RunInterruption?>(nil)

    func request(_ reason: RunInterruption) {
        interruption.withLock { current in
            // Cancel wins over shutdown: the caller asked for an end.
            if current == nil || reason == .cancel { current = reason }
        }
    }

    var requested: RunInterruption? { interruption.withLock { $0 } }
}

/// Executes one job on the calling thread, from its latest valid checkpoint
/// (or from scratch) to its end, publishing progress through `publish`.
struct TrainingRun {
    /// Named limits of a run.
    enum Limits {
        /// Validation examples scored at each checkpoint (the final evaluation uses them all).
        static let checkpointValidationExamples = 256
        /// Curve points a report carries; longer curves are thinned evenly.
        static let maxReportCurvePoints = 2000
    }

    let jobID: String
    let spec: TrainingJobSpec
    let directory: String
    let dataRoot: DataRoot
    let publisher: (any TrainedModelPublisher)?
    let control: RunControl
    let makeTrainer: TrainerFactory
    let logger: Logger
    /// Called with every change; must not block.
    let publish: @Sendable (TrainingProgress) -> Void

    var checkpoints: CheckpointStore { CheckpointStore(directory: directory + "/checkpoints", keep: spec.checkpointsKept) }

    /// Runs to the end. Returns the final progress (state set); never throws:
    /// every failure becomes a failed job with its message.
    func run(initial: TrainingProgress) -> TrainingProgress {
        var progress = initial
        progress.state = .running
        progress.error = ""
        publish(progress)
        do {
            return try execute(&progress)
        } catch {
            progress.state = .failed
            progress.error = "\(error)"
            progress.etaSeconds = 0
            logger.error("training job failed", metadata: ["job": "\(jobID)", "error": "\(error)"])
            publish(progress)
            return progress
        }
    }

    private func execute(_ progress: inout TrainingProgress) throws -> TrainingProgress {
        let loaded = try Dataset.load(spec.data, root: dataRoot, task: spec.task)
        var training = loaded.examples
        var validation: [LabeledExample] = []
        if let validationData = spec.validationData {
            validation = try Dataset.load(validationData, root: dataRoot, task: spec.task).examples
        } else if spec.validationFraction > 0 {
            (training, validation) = Dataset.split(training, validationFraction: spec.validationFraction, seed: spec.seed)
        }
        guard !training.isEmpty else { throw TrainingJobError.invalidArgument("the dataset has no training examples for task \(spec.task.rawValue)") }
        logger.info("training data", metadata: [
            "job": "\(jobID)", "layout": "\(loaded.layout)", "train": "\(training.count)", "validation": "\(validation.count)",
            "skipped": "\(loaded.skipped)",
        ])

        let trainer = makeTrainer(spec)
        var averages = RunningAverages()
        var nextBatch = 0
        var trainingSeconds = 0.0
        let curve = CurveLog(path: directory + "/curve.jsonl")
        defer { curve.close() }
        let (latest, skipped) = checkpoints.latestValidReportingSkipped()
        for error in skipped {
            logger.warning("checkpoint skipped", metadata: ["job": "\(jobID)", "error": "\(error)"])
        }
        if let (checkpoint, path) = latest {
            try trainer.restore(checkpoint.tensors, step: checkpoint.header.step)
            nextBatch = checkpoint.header.nextBatch
            averages = RunningAverages(loss: checkpoint.header.lossAverage, accuracy: checkpoint.header.trainAccuracyAverage,
                                       count: checkpoint.header.step)
            trainingSeconds = checkpoint.header.trainingSeconds
            progress.valAccuracy = checkpoint.header.valAccuracy
            progress.checkpoint = relative(path)
            curve.truncate(after: checkpoint.header.step)
            logger.info("training job resumed", metadata: ["job": "\(jobID)", "step": "\(checkpoint.header.step)", "checkpoint": "\(path)"])
        }

        let pipeline = try BatchPipeline(examples: training, batchSize: spec.batchSize, normalization: .leviHassner,
                                         mode: .training, seed: spec.seed, startBatch: nextBatch, root: dataRoot)
        defer { pipeline.close() }
        let total = spec.steps ?? (spec.epochs ?? 1) * pipeline.batchesPerEpoch
        progress.totalSteps = total
        progress.step = trainer.step
        progress.epoch = nextBatch / max(1, pipeline.batchesPerEpoch)
        progress.learningRate = spec.hyperparameters.learningRate(atStep: trainer.step)
        publish(progress)

        // A seeded random sample: the file order (sorted names, often by age) would bias it.
        let checkpointSample = SeededShuffle.permutation(count: validation.count, seed: SeededShuffle.mix(spec.seed, 0x76616c))
            .prefix(Limits.checkpointValidationExamples).map { validation[$0] }
        var rate = RateEstimator()

        func writeCheckpoint(_ progress: inout TrainingProgress) throws {
            let header = CheckpointHeader(jobID: jobID, step: trainer.step, epoch: progress.epoch, nextBatch: nextBatch,
                                          lossAverage: averages.loss, trainAccuracyAverage: averages.accuracy,
                                          valAccuracy: progress.valAccuracy, trainingSeconds: trainingSeconds)
            let path = try checkpoints.save(Checkpoint(header: header, tensors: trainer.state()))
            progress.checkpoint = relative(path)
            logger.info("checkpoint written", metadata: ["job": "\(jobID)", "step": "\(trainer.step)", "path": "\(path)"])
        }

        while trainer.step < total {
            if let interruption = control.requested {
                try writeCheckpoint(&progress)
                progress.etaSeconds = 0
                progress.examplesPerSecond = 0
                if interruption == .cancel { progress.state = .cancelled }
                publish(progress)
                return progress
            }
            let started = ContinuousClock.now
            guard let batch = try pipeline.next() else { break }
            let result = batch.images.withUnsafeBufferPointer { images in
                batch.labels.withUnsafeBufferPointer { labels in
                    trainer.trainStep(images: images.baseAddress!, labels: labels.baseAddress!, batch: batch.count)
                }
            }
            let seconds = (ContinuousClock.now - started).inSeconds
            nextBatch += 1
            trainingSeconds += seconds
            guard result.loss.isFinite else {
                throw TrainingDivergence(loss: result.loss, step: trainer.step)
            }
            averages.add(loss: result.loss, accuracy: Float(result.correct) / Float(batch.count))
            rate.add(examples: batch.count, seconds: seconds)
            progress.step = trainer.step
            progress.epoch = batch.epoch
            progress.loss = result.loss
            progress.lossAverage = averages.loss
            progress.trainAccuracy = averages.accuracy
            progress.learningRate = result.learningRate
            progress.examplesPerSecond = Float(rate.examplesPerSecond)
            progress.etaSeconds = Float(Double((total - trainer.step) * spec.batchSize) / max(rate.examplesPerSecond, 1e-9))
            var point = CurvePoint(step: trainer.step, epoch: batch.epoch, loss: result.loss, lossAverage: averages.loss,
                                   trainAccuracy: averages.accuracy, valAccuracy: nil, learningRate: result.learningRate)
            if trainer.step % spec.checkpointEvery == 0 || trainer.step == total {
                if !checkpointSample.isEmpty {
                    progress.valAccuracy = Float(try evaluate(trainer, checkpointSample).accuracy)
                    point.valAccuracy = progress.valAccuracy
                }
                try writeCheckpoint(&progress)
            }
            curve.append(point)
            publish(progress)
        }

        // The end: the full evaluation, then registration.
        let evaluation = try evaluate(trainer, validation.isEmpty ? Array(training.prefix(Limits.checkpointValidationExamples)) : validation)
        progress.valAccuracy = Float(evaluation.accuracy)
        progress.etaSeconds = 0
        if let publisher {
            progress.version = try publisher.publish(name: spec.modelName, task: spec.task, graph: trainer.inferenceGraph(),
                                                     promote: spec.promote)
        }
        progress.state = .succeeded
        let report = TrainingReport(progress: progress, task: spec.task, evaluation: evaluation,
                                    curve: CurveLog.thin(curve.read(), to: Limits.maxReportCurvePoints))
        try JobFiles.writeJSON(report, to: directory + "/report.json")
        logger.info("training job succeeded", metadata: [
            "job": "\(jobID)", "accuracy": "\(evaluation.accuracy)", "version": "\(progress.version)",
        ])
        publish(progress)
        return progress
    }

    /// Scores `examples` with dropout off (centre crops, no flips).
    private func evaluate(_ trainer: any StepTrainer, _ examples: [LabeledExample]) throws -> Evaluation {
        let pipeline = try BatchPipeline(examples: examples, batchSize: spec.batchSize, normalization: .leviHassner,
                                         mode: .evaluation, seed: spec.seed, root: dataRoot)
        defer { pipeline.close() }
        var truth: [Int] = []
        var predicted: [Int] = []
        let k = spec.task.classes
        while let batch = try pipeline.next() {
            let probabilities = batch.images.withUnsafeBufferPointer { trainer.predict(images: $0.baseAddress!, batch: batch.count) }
            for i in 0..<batch.count {
                let row = probabilities[(i * k)..<((i + 1) * k)]
                predicted.append(row.indices.max { row[$0] < row[$1] }! - i * k)
                truth.append(Int(batch.labels[i]))
            }
        }
        let labels = spec.task == .age ? Dataset.ageBucketLabels : Dataset.genderLabels
        return Evaluation(labels: labels, truth: truth, predicted: predicted)
    }

    private func relative(_ path: String) -> String {
        let root = JobFiles.stateRoot(ofJobDirectory: directory)
        return path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
    }
}

/// The seed trainer's abort: "Model diverged with loss = NaN".
struct TrainingDivergence: Error, CustomStringConvertible {
    let loss: Float
    let step: Int
    var description: String { "model diverged with loss = \(loss.isNaN ? "NaN" : "\(loss)") at step \(step)" }
}

/// Bias-corrected exponential moving averages of loss and batch accuracy.
struct RunningAverages {
    static let decay: Float = 0.95
    private var lossSum: Float = 0
    private var accuracySum: Float = 0
    private var weight: Float = 0

    init() {}

    /// Restores averages saved in a checkpoint as if `count` steps had produced them.
    init(loss: Float, accuracy: Float, count: Int) {
        weight = 1 - pow(Self.decay, Float(min(count, 1000)))
        lossSum = loss * weight
        accuracySum = accuracy * weight
    }

    mutating func add(loss: Float, accuracy: Float) {
        lossSum = Self.decay * lossSum + (1 - Self.decay) * loss
        accuracySum = Self.decay * accuracySum + (1 - Self.decay) * accuracy
        weight = Self.decay * weight + (1 - Self.decay)
    }

    var loss: Float { weight > 0 ? lossSum / weight : 0 }
    var accuracy: Float { weight > 0 ? accuracySum / weight : 0 }
}

/// Examples per second over the recent steps (a sliding window), so the ETA
/// follows the machine's current speed rather than the whole run's.
struct RateEstimator {
    static let window = 20
    private var samples: [(examples: Int, seconds: Double)] = []

    mutating func add(examples: Int, seconds: Double) {
        samples.append((examples, seconds))
        if samples.count > Self.window { samples.removeFirst() }
    }

    var examplesPerSecond: Double {
        let seconds = samples.reduce(0) { $0 + $1.seconds }
        return seconds > 0 ? Double(samples.reduce(0) { $0 + $1.examples }) / seconds : 0
    }
}

/// `curve.jsonl`: appended each step through one open handle, truncated back
/// to the checkpoint on resume.
final class CurveLog {
    let path: String
    private var handle: FileHandle?

    init(path: String) { self.path = path }

    func append(_ point: CurvePoint) {
        guard var line = try? JSONEncoder().encode(point) else { return }
        line.append(0x0a)
        if handle == nil {
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            handle = FileHandle(forWritingAtPath: path)
            _ = try? handle?.seekToEnd()
        }
        try? handle?.write(contentsOf: line)
    }

    func close() {
        try? handle?.close()
        handle = nil
    }

    func read() -> [CurvePoint] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        // A line torn by a crash mid-append is dropped, not fatal.
        return data.split(separator: 0x0a).compactMap { try? decoder.decode(CurvePoint.self, from: Data($0)) }
    }

    /// Drops the points after `step` (written after the checkpoint a resumed run starts from).
    func truncate(after step: Int) {
        close()
        let kept = read().filter { $0.step <= step }
        var data = Data()
        let encoder = JSONEncoder()
        for point in kept {
            if let line = try? encoder.encode(point) { data.append(line); data.append(0x0a) }
        }
        try? AtomicFile.write(Array(data), to: path)
    }

    /// At most `limit` points, evenly spaced, always keeping the validation points and the last one.
    static func thin(_ points: [CurvePoint], to limit: Int) -> [CurvePoint] {
        guard points.count > limit, limit > 1 else { return points }
        let stride = Double(points.count - 1) / Double(limit - 1)
        var keep = Set((0..<limit).map { Int((Double($0) * stride).rounded()) })
        for (i, p) in points.enumerated() where p.valAccuracy != nil { keep.insert(i) }
        return keep.sorted().map { points[$0] }
    }
}
