import FaceRPCCore
import FaceRPCEngine
import FaceRPCPredict
import FaceRPCRegistry
import Foundation
import Synchronization
import Testing

/// A model that sums each sample's inputs and adds an offset, and records the
/// batch sizes it was run with.
final class SummingModel: InferenceModel {
    let inputShape = [2]
    let outputShape = [1]
    let parameterCount = 0
    let offset: Float
    let batches = Mutex<[Int]>([])
    let delay: Double

    init(offset: Float, delay: Double = 0) { self.offset = offset; self.delay = delay }

    func run(_ input: [Float], batch: Int) throws -> [Float] {
        batches.withLock { $0.append(batch) }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        return (0..<batch).map { input[2 * $0] + input[2 * $0 + 1] + offset }
    }
}

func serving(_ model: SummingModel, version: String) -> ServingModel {
    let manifest = ModelManifest(name: "sum", task: .gender, architecture: "test", version: version, format: .frpc,
                                 weights: "w.frpc", sha256: String(repeating: "0", count: 64),
                                 input: .init(width: 1, height: 1, channels: 3, color: .rgb, mean: [0, 0, 0], scale: 1))
    return ServingModel(descriptor: ModelDescriptor(manifest: manifest, state: .serving), model: model,
                        preprocessing: Preprocessing(manifest: manifest))
}

@Suite struct DynamicBatcherTests {
    @Test func concurrentCallsShareBatchesAndGetTheirOwnRows() async throws {
        let model = SummingModel(offset: 0.5, delay: 0.01)
        let current = serving(model, version: "1")
        var configuration = DynamicBatcher.Configuration()
        configuration.maxBatch = 16
        configuration.maxDelay = .milliseconds(20)
        let batcher = DynamicBatcher(modelName: "sum", configuration: configuration) { current }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for call in 0..<40 {
                group.addTask {
                    let faces = call % 3 + 1
                    let input = (0..<faces).flatMap { face in [Float(call), Float(face)] }
                    let output = try await batcher.run(input, count: faces)
                    let expected: [Float] = (0..<faces).map { face in Float(call) + Float(face) + 0.5 }
                    #expect(output.values == expected)
                    #expect(output.version == "1")
                }
            }
            try await group.waitForAll()
        }
        let sizes = model.batches.withLock { $0 }
        let expectedTotal = (0..<40).map { $0 % 3 + 1 }.reduce(0, +)
        #expect(sizes.reduce(0, +) == expectedTotal)
        #expect(sizes.max()! > 3, "no batching happened: \(sizes)")
        #expect(sizes.allSatisfy { $0 <= 16 })
    }

    /// With `waitOnlyForAnnounced`, a batch waits for announced calls only.
    func announcing(maxDelay: Duration) -> (DynamicBatcher, SummingModel) {
        let model = SummingModel(offset: 0)
        let current = serving(model, version: "1")
        var configuration = DynamicBatcher.Configuration()
        configuration.maxDelay = maxDelay
        configuration.waitOnlyForAnnounced = true
        return (DynamicBatcher(modelName: "sum", configuration: configuration) { current }, model)
    }

    @Test func aLoneCallDoesNotWaitWhenNothingIsAnnounced() async throws {
        let (batcher, _) = announcing(maxDelay: .seconds(5))
        let output = try await batcher.run([1, 2], count: 1)
        #expect(output.values == [3])
        #expect(output.queueSeconds < 1, "waited \(output.queueSeconds) s with nothing announced")
    }

    @Test func anAnnouncedCallJoinsTheBatchThatWaitedForIt() async throws {
        let (batcher, model) = announcing(maxDelay: .seconds(5))
        batcher.announce(); batcher.announce()
        async let first = batcher.run([1, 1], count: 1, announced: true)
        try await Task.sleep(for: .milliseconds(50))
        let second = try await batcher.run([2, 2], count: 1, announced: true)
        #expect(try await first.values == [2])
        #expect(second.values == [4])
        #expect(model.batches.withLock { $0 } == [2], "both calls in one batch")
        #expect(second.queueSeconds < 1)
    }

    @Test func aWithdrawnAnnouncementReleasesTheWaitingBatch() async throws {
        let (batcher, _) = announcing(maxDelay: .seconds(5))
        batcher.announce(); batcher.announce()
        async let first = batcher.run([1, 1], count: 1, announced: true)
        try await Task.sleep(for: .milliseconds(50))
        batcher.withdraw()   // the second call found no face
        let output = try await first
        #expect(output.values == [2])
        #expect(output.queueSeconds < 1, "waited \(output.queueSeconds) s after the only other call withdrew")
    }

    @Test func aHotSwapTakesEffectAtTheNextBatch() async throws {
        let versions = VersionBox(serving(SummingModel(offset: 0), version: "1"))
        let batcher = DynamicBatcher(modelName: "sum") { versions.value.withLock { $0 } }
        #expect(try await batcher.run([1, 2], count: 1).values == [3])
        versions.value.withLock { $0 = serving(SummingModel(offset: 100), version: "2") }
        let after = try await batcher.run([1, 2], count: 1)
        #expect(after.values == [103])
        #expect(after.version == "2")
    }

    @Test func overloadIsRefusedNotQueued() async throws {
        var configuration = DynamicBatcher.Configuration()
        configuration.maxQueuedSamples = 4
        configuration.maxBatch = 1
        let model = SummingModel(offset: 0, delay: 0.2)
        let current = serving(model, version: "1")
        let batcher = DynamicBatcher(modelName: "sum", configuration: configuration) { current }
        let codes = CodeLog()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    do throws(RPCError) { _ = try await batcher.run([0, 0], count: 1) } catch { codes.log.withLock { $0.append(error.code) } }
                }
            }
        }
        let refused = codes.log.withLock { $0 }
        #expect(!refused.isEmpty)
        #expect(refused.allSatisfy { $0 == .resourceExhausted })
    }

    @Test func noServingModelIsUnavailable() async {
        let batcher = DynamicBatcher(modelName: "missing") { nil }
        do {
            _ = try await batcher.run([0, 0], count: 1)
            Issue.record("expected UNAVAILABLE")
        } catch {
            #expect(error.code == .unavailable)
        }
    }
}

final class CodeLog: Sendable { let log = Mutex<[StatusCode]>([]) }
final class VersionBox: Sendable {
    let value: Mutex<ServingModel>
    init(_ model: ServingModel) { value = Mutex(model) }
}
