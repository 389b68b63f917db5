import FaceRPCCore
import FaceRPCEngine
import Foundation
import Logging
import Synchronization
import Testing
@testable import FaceRPCTraining

/// A trainer whose losses are scripted, so job mechanics (divergence, cancel,
/// checkpoints, resume) are tested in milliseconds and deterministically.
final class ScriptedTrainer: StepTrainer, @unchecked Sendable {
    let classes: Int
    private(set) var step = 0
    /// Loss at each step (1-based); defaults to a falling curve.
    let loss: @Sendable (Int) -> Float
    /// A stand-in parameter that changes every step, so checkpoints carry real state.
    private var weight: [Float] = [0, 0, 0]
    /// Sleep per step, to give cancels and kills a window.
    let stepDelay: Duration

    init(classes: Int, stepDelay: Duration = .zero, loss: @escaping @Sendable (Int) -> Float = { 1 / Float($0) }) {
        self.classes = classes; self.loss = loss; self.stepDelay = stepDelay
    }

    func trainStep(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int) -> StepResult {
        if stepDelay > .zero { Thread.sleep(forTimeInterval: stepDelay.inSeconds) }
        step += 1
        weight = weight.map { $0 + 1 }
        return StepResult(loss: loss(step), crossEntropy: loss(step), correct: batch / 2, gradientNorm: 1, learningRate: 0.01)
    }

    func predict(images: UnsafePointer<Float>, batch: Int) -> [Float] {
        // Always class 0 with certainty.
        (0..<batch).flatMap { _ in [1] + [Float](repeating: 0, count: classes - 1) }
    }

    func inferenceGraph() -> Graph { LeviHassner.graph(classes: classes, seed: 1) }

    func state() -> [NamedTensor] { [NamedTensor(name: "w", shape: [3], values: weight)] }

    func restore(_ tensors: [NamedTensor], step: Int) throws {
        guard let w = tensors.first(where: { $0.name == "w" }), w.values.count == 3 else {
            throw TrainingJobError.invalidArgument("checkpoint lacks w")
        }
        weight = w.values
        self.step = step
    }

    var stateValue: Float { weight[0] }
}

/// Records what the job publishes instead of registering it.
final class RecordingPublisher: TrainedModelPublisher, Sendable {
    let published = Mutex<[(name: String, promote: Bool)]>([])
    func publish(name: String, task: TrainingTask, graph: Graph, promote: Bool) throws -> String {
        published.withLock { $0.append((name, promote)); return String($0.count) }
    }
}

@Suite("Training job manager", .serialized)
struct TrainingJobManagerTests {
    /// A data root with `count` tiny JPEGs, half female and half male, listed in data.csv.
    static func dataset(_ count: Int = 12) throws -> TempTree {
        let tree = try TempTree()
        var csv = "path,age,gender\n"
        for i in 0..<count {
            try tree.write("img/\(i).jpg", DataTestSupport.smallJPEG(UInt8(20 * (i % 10))))
            csv += "img/\(i).jpg,\(20 + i),\(i % 2 == 0 ? "female" : "male")\n"
        }
        try tree.write("data.csv", text: csv)
        return tree
    }

    static func manager(_ tree: TempTree, state: String, publisher: RecordingPublisher? = nil,
                        trainer: @escaping TrainerFactory) throws -> TrainingJobManager {
        try TrainingJobManager(stateDirectory: state, dataRoot: try tree.root(), publisher: publisher,
                               logger: Logger(label: "test"), makeTrainer: trainer)
    }

    /// Collects every update until the stream ends.
    static func finish(_ manager: TrainingJobManager, _ id: String) async throws -> [TrainingProgress] {
        var updates: [TrainingProgress] = []
        for await p in try manager.watch(jobID: id) { updates.append(p) }
        return updates
    }

    @Test("a NaN loss fails the job with the seed's message and the step")
    func divergence() async throws {
        let tree = try Self.dataset()
        let state = tree.abs("state")
        let manager = try Self.manager(tree, state: state) { spec in
            ScriptedTrainer(classes: spec.task.classes) { $0 == 3 ? .nan : 1 }
        }
        let started = try manager.start(TrainingJobSpec(task: .gender, data: "data.csv", steps: 10, batchSize: 2, checkpointEvery: 5))
        let final = try #require(try await Self.finish(manager, started.jobID).last)
        #expect(final.state == .failed)
        #expect(final.error == "model diverged with loss = NaN at step 3")
        // Infinity too.
        let inf = try Self.manager(tree, state: state + "2") { spec in ScriptedTrainer(classes: spec.task.classes) { $0 == 2 ? .infinity : 1 } }
        let second = try inf.start(TrainingJobSpec(task: .gender, data: "data.csv", steps: 10, batchSize: 2))
        let end = try #require(try await Self.finish(inf, second.jobID).last)
        #expect(end.error == "model diverged with loss = inf at step 2")
    }

    @Test("a job runs to the end: checkpoints every N and at the end, keeps K, evaluates, publishes")
    func fullRun() async throws {
        let tree = try Self.dataset()
        let state = tree.abs("state")
        let publisher = RecordingPublisher()
        let manager = try Self.manager(tree, state: state, publisher: publisher) { spec in ScriptedTrainer(classes: spec.task.classes) }
        var spec = TrainingJobSpec(task: .age, data: "data.csv", validationFraction: 0.25, steps: 9, batchSize: 3,
                                   checkpointEvery: 2, checkpointsKept: 2, modelName: "lh-age-t", promote: true)
        spec.seed = 5
        let started = try manager.start(spec)
        let updates = try await Self.finish(manager, started.jobID)
        let final = try #require(updates.last)
        #expect(final.state == .succeeded && final.step == 9 && final.totalSteps == 9 && final.version == "1")
        #expect(publisher.published.withLock { $0.map(\.name) } == ["lh-age-t"])
        #expect(publisher.published.withLock { $0.first?.promote } == true)
        // 9 training examples of 12, batch 3: 3 batches an epoch, so step 9 is in epoch 2.
        #expect(final.epoch == 2)
        let store = CheckpointStore(directory: state + "/jobs/\(started.jobID)/checkpoints")
        #expect(store.steps().map(\.step) == [8, 9])
        #expect(final.checkpoint == "jobs/\(started.jobID)/checkpoints/step-000000009.ckpt")
        // The loss average follows the scripted 1/step curve, bias-corrected: below the first loss.
        #expect(final.lossAverage < 1 && final.loss == Float(1) / 9)
        let report = try manager.report(jobID: started.jobID)
        #expect(report.evaluation.examples == 3 && report.evaluation.labels.count == 8)
        #expect(report.curve.map(\.step) == Array(1...9))
        #expect(report.curve.filter { $0.valAccuracy != nil }.map(\.step) == [2, 4, 6, 8, 9])
        // The scripted trainer always answers bucket 0: accuracy is the share of bucket-0 truths (none here).
        #expect(report.evaluation.accuracy == 0)
    }

    @Test("cancel stops at the next step with a checkpoint; status and report say so")
    func cancel() async throws {
        let tree = try Self.dataset()
        let manager = try Self.manager(tree, state: tree.abs("state")) { spec in
            ScriptedTrainer(classes: spec.task.classes, stepDelay: .milliseconds(20))
        }
        let started = try manager.start(TrainingJobSpec(task: .gender, data: "data.csv", steps: 100_000, batchSize: 2))
        #expect(throws: TrainingJobError.busy(runningJob: started.jobID)) {
            _ = try manager.start(TrainingJobSpec(task: .gender, data: "data.csv", steps: 10, batchSize: 2))
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(throws: TrainingJobError.notFinished(started.jobID)) { _ = try manager.report(jobID: started.jobID) }
        _ = try manager.cancel(jobID: started.jobID)
        let final = try #require(try await Self.finish(manager, started.jobID).last)
        #expect(final.state == .cancelled && final.step > 0 && final.step < 100_000)
        #expect(final.checkpoint.hasSuffix(CheckpointStore.fileName(step: final.step)))
        // One job at a time, not one job ever: the next starts.
        let next = try manager.start(TrainingJobSpec(task: .gender, data: "data.csv", steps: 2, batchSize: 2))
        #expect(try await Self.finish(manager, next.jobID).last?.state == .succeeded)
        #expect(try manager.status(jobID: "").jobID == next.jobID)
    }

    @Test("a new manager on the same state directory resumes an interrupted job from its newest valid checkpoint")
    func resumeSkipsTornCheckpoint() async throws {
        let tree = try Self.dataset()
        let state = tree.abs("state")
        let first = try Self.manager(tree, state: state) { spec in ScriptedTrainer(classes: spec.task.classes, stepDelay: .milliseconds(5)) }
        let started = try first.start(TrainingJobSpec(task: .gender, data: "data.csv", steps: 40, batchSize: 2, checkpointEvery: 4))
        for await p in try first.watch(jobID: started.jobID) where p.step >= 13 { break }
        first.shutdown()  // as SIGTERM: checkpoint at the current step, job left running on disk
        let interrupted = try first.status(jobID: started.jobID)
        #expect(interrupted.state == .running)
        let store = CheckpointStore(directory: state + "/jobs/\(started.jobID)/checkpoints")
        let newest = try #require(store.steps().last)
        #expect(newest.step == interrupted.step)
        // Tear the newest checkpoint: the resume must fall back to the one before.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: newest.path))
        try bytes.prefix(bytes.count - 7).write(to: URL(fileURLWithPath: newest.path))
        let fallback = store.steps().dropLast().last!.step

        let resumedAt = Mutex<Int?>(nil)
        let second = try Self.manager(tree, state: state) { spec in
            ScriptedTrainer(classes: spec.task.classes) { step in
                resumedAt.withLock { if $0 == nil { $0 = step - 1 } }
                return 1
            }
        }
        #expect(try second.status(jobID: started.jobID).state == .running)
        second.resumeInterrupted()
        let final = try #require(try await Self.finish(second, started.jobID).last)
        #expect(final.state == .succeeded && final.step == 40)
        #expect(resumedAt.withLock { $0 } == fallback, "resumed after step \(String(describing: resumedAt.withLock { $0 }))")
        let curve = try second.report(jobID: started.jobID).curve.map(\.step)
        #expect(curve == Array(1...40), "the curve is cut back to the checkpoint, then continues")
    }

    @Test("paths outside the data root are refused at Start, before any job exists")
    func confinement() throws {
        let tree = try Self.dataset()
        let manager = try Self.manager(tree, state: tree.abs("state")) { spec in ScriptedTrainer(classes: spec.task.classes) }
        for bad in ["../x.csv", "/etc/passwd", "img/../../x.csv"] {
            #expect(throws: TrainingDataError.self, "\(bad)") {
                _ = try manager.start(TrainingJobSpec(task: .gender, data: bad, steps: 1, batchSize: 1))
            }
        }
        #expect(manager.list().isEmpty)
    }
}

/// Whether this process may mount a tmpfs (root on Linux): the full-disk test needs a small real file system.
private let canMountTmpfs: Bool = {
    #if os(Linux)
    guard geteuid() == 0 else { return false }
    let probe = NSTemporaryDirectory() + "facerpc-tmpfs-probe-\(getpid())"
    try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: probe) }
    guard mount("tmpfs", probe, "tmpfs", 0, "size=64k") == 0 else { return false }
    umount(probe)
    return true
    #else
    return false
    #endif
}()

/// A trainer whose state is `bytes` of floats, so checkpoint sizes can be chosen.
final class HeavyTrainer: StepTrainer, @unchecked Sendable {
    private(set) var step = 0
    let floats: Int
    init(bytes: Int) { floats = bytes / 4 }
    func trainStep(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int) -> StepResult {
        step += 1
        return StepResult(loss: 0.5, crossEntropy: 0.5, correct: 0, gradientNorm: 1, learningRate: 0.01)
    }
    func predict(images: UnsafePointer<Float>, batch: Int) -> [Float] { [Float](repeating: 0.5, count: batch * 2) }
    func inferenceGraph() -> Graph { LeviHassner.graph(classes: 2, seed: 1) }
    func state() -> [NamedTensor] { [NamedTensor(name: "w", shape: [floats], values: [Float](repeating: Float(step), count: floats))] }
    func restore(_ tensors: [NamedTensor], step: Int) throws { self.step = step }
}

@Suite("Training on a full disk", .serialized, .enabled(if: canMountTmpfs, "needs root to mount a small tmpfs"))
struct TrainingFullDiskTests {
    @Test("a checkpoint that does not fit fails the job cleanly and leaves the previous checkpoint intact")
    func fullDisk() async throws {
        let tree = try TrainingJobManagerTests.dataset()
        let state = tree.abs("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        // 128 KiB: room for one 80 KB checkpoint and the job's small files, not for the second checkpoint's temporary file.
        #expect(mount("tmpfs", state, "tmpfs", 0, "size=128k") == 0)
        defer { umount(state) }
        let manager = try TrainingJobManagerTests.manager(tree, state: state) { _ in HeavyTrainer(bytes: 80_000) }
        let started = try manager.start(TrainingJobSpec(task: .gender, data: "data.csv", steps: 10, batchSize: 2,
                                                        checkpointEvery: 2, checkpointsKept: 3))
        let final = try #require(try await TrainingJobManagerTests.finish(manager, started.jobID).last)
        #expect(final.state == .failed)
        #expect(final.error.contains("No space left on device"), "\(final.error)")
        let store = CheckpointStore(directory: state + "/jobs/\(started.jobID)/checkpoints")
        let kept = store.steps()
        #expect(kept.map(\.step) == [2])
        let survivor = try CheckpointFile.read(path: try #require(kept.first).path)
        #expect(survivor.header.step == 2 && survivor.tensors.first?.values.first == 2)
        // No temporary file is left behind to eat the space.
        let names = try FileManager.default.contentsOfDirectory(atPath: store.directory)
        #expect(names == [CheckpointStore.fileName(step: 2)], "\(names)")
    }
}
