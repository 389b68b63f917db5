import FaceRPCTestSupport
import CoreMetrics
import FaceRPCCore
import FaceRPCMetrics
import Foundation
import Prometheus
import Testing

/// The instruments, each on a private Prometheus registry (never the global
/// MetricsSystem), checked through the text exposition a scrape would see.
@Suite struct MetricsInstrumentsTests {
    private func registryAndFactory() -> (PrometheusCollectorRegistry, PrometheusMetricsFactory) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        for family in MetricCatalog.all where family.kind == .histogram {
            factory.durationHistogramBuckets[family.name] = family.buckets.map { .nanoseconds(Int64(($0 * 1e9).rounded())) }
            factory.valueHistogramBuckets[family.name] = family.buckets
        }
        return (registry, factory)
    }

    @Test func callsAreCountedByMethodAndCodeWithBoundedLabels() {
        let (registry, factory) = registryAndFactory()
        let metrics = RPCMetrics(methods: [Methods.healthCheck, Methods.listModels], factory: factory)
        for _ in 0..<7 { metrics.callFinished(method: Methods.healthCheck, code: .ok, nanoseconds: 20_000) }
        metrics.callFinished(method: Methods.healthCheck, code: .notFound, nanoseconds: 30_000)
        metrics.callFinished(method: Methods.listModels, code: .ok, nanoseconds: 2_000_000)
        // Client-chosen paths never become labels.
        metrics.callFinished(method: "/evil/\(UUID())", code: .unimplemented, nanoseconds: 1_000)
        metrics.callFinished(method: "/evil/\(UUID())", code: .unimplemented, nanoseconds: 1_000)
        metrics.connectionOpened(); metrics.connectionOpened(); metrics.connectionClosed()

        let samples = parseExposition(registry.emitToString())
        let calls = MetricCatalog.rpcCalls.name
        #expect(samples.value(calls, ["method": Methods.healthCheck, "code": "OK"]) == 7)
        #expect(samples.value(calls, ["method": Methods.healthCheck, "code": "NOT_FOUND"]) == 1)
        #expect(samples.value(calls, ["method": Methods.listModels, "code": "OK"]) == 1)
        #expect(samples.value(calls, ["method": "other", "code": "UNIMPLEMENTED"]) == 2)
        #expect(samples.count(named: calls) == 4)

        let duration = MetricCatalog.rpcDuration.name
        #expect(samples.value(duration + "_count", ["method": Methods.healthCheck]) == 8)
        let sum = samples.value(duration + "_sum", ["method": Methods.healthCheck]) ?? -1
        #expect(abs(sum - (7 * 20e-6 + 30e-6)) < 1e-9)
        // Buckets are in seconds: 20 µs and 30 µs both fall under le=0.00005, none under a smaller one.
        #expect(samples.value(duration + "_bucket", ["method": Methods.healthCheck, "le": "0.00005"]) == 8)
        #expect(samples.value(duration + "_bucket", ["method": Methods.listModels, "le": "0.001"]) == 0)
        #expect(samples.value(duration + "_bucket", ["method": Methods.listModels, "le": "0.0025"]) == 1)
        #expect(samples.value(duration + "_bucket", ["method": Methods.listModels, "le": "+Inf"]) == 1)
        #expect(samples.value(MetricCatalog.connectionsOpen.name) == 1)
    }

    /// Batched recording through a resolved series gives the same exposition
    /// as the same calls recorded one at a time.
    @Test func batchedRecordingEqualsOneByOne() {
        let (oneByOne, oneFactory) = registryAndFactory()
        let (batched, batchFactory) = registryAndFactory()
        let single = RPCMetrics(methods: [Methods.healthCheck], factory: oneFactory)
        let batch = RPCMetrics(methods: [Methods.healthCheck], factory: batchFactory)
        for (count, nanoseconds) in [(8, Int64(20_000)), (1, 3_000_000), (0, 5), (64, -7)] {
            for _ in 0..<count { single.callFinished(method: Methods.healthCheck, code: .ok, nanoseconds: nanoseconds) }
            batch.callsFinished(batch.series(method: Methods.healthCheck, code: .ok), count: count, nanoseconds: nanoseconds)
        }
        let series = batch.series(method: "/not/served", code: .unimplemented)
        batch.callsFinished(series, count: 2, nanoseconds: 1_000)
        for _ in 0..<2 { single.callFinished(method: "/not/served", code: .unimplemented, nanoseconds: 1_000) }

        let expected = parseExposition(oneByOne.emitToString())
        let got = parseExposition(batched.emitToString())
        #expect(got.count == expected.count)
        for sample in expected {
            #expect(got.value(sample.name, sample.labels) == sample.value, "\(sample.name) \(sample.labels)")
        }
        #expect(got.value(MetricCatalog.rpcCalls.name, ["method": Methods.healthCheck, "code": "OK"]) == 73)
        #expect(got.value(MetricCatalog.rpcCalls.name, ["method": "other", "code": "UNIMPLEMENTED"]) == 2)
    }

    @Test func batchSizesRunTimesAndQueueDepth() {
        let (registry, factory) = registryAndFactory()
        let metrics = BatchMetrics(model: "age", factory: factory)
        metrics.queueDepth(5)
        metrics.batchRan(size: 3, runNanoseconds: 4_000_000)
        metrics.batchRan(size: 32, runNanoseconds: 9_000_000)
        metrics.queueDepth(0)
        let samples = parseExposition(registry.emitToString())
        let size = MetricCatalog.batchSize.name
        #expect(samples.value(size + "_count", ["model": "age"]) == 2)
        #expect(samples.value(size + "_sum", ["model": "age"]) == 35)
        #expect(samples.value(size + "_bucket", ["model": "age", "le": "2.0"]) == 0)
        #expect(samples.value(size + "_bucket", ["model": "age", "le": "4.0"]) == 1)
        #expect(samples.value(size + "_bucket", ["model": "age", "le": "32.0"]) == 2)
        #expect(samples.value(MetricCatalog.batchRunDuration.name + "_count", ["model": "age"]) == 2)
        #expect(samples.value(MetricCatalog.batchQueueDepth.name, ["model": "age"]) == 0)
    }

    @Test func modelInfoFollowsVersionChanges() {
        let (registry, factory) = registryAndFactory()
        let metrics = ModelMetrics(factory: factory)
        metrics.update([.init(name: "age", version: "v1", state: "serving"), .init(name: "lh-age", version: "", state: "unavailable")])
        var samples = parseExposition(registry.emitToString())
        let info = MetricCatalog.modelInfo.name
        #expect(samples.value(info, ["model": "age", "version": "v1", "state": "serving"]) == 1)
        #expect(samples.value(info, ["model": "lh-age", "state": "unavailable"]) == 1)

        metrics.update([.init(name: "age", version: "v2", state: "serving")])
        samples = parseExposition(registry.emitToString())
        #expect(samples.value(info, ["model": "age", "version": "v2"]) == 1)
        #expect(samples.count(named: info) == 1, "the old version's and the removed model's series are gone")
    }

    @Test func trainingProgressGaugesAndRemoval() {
        let (registry, factory) = registryAndFactory()
        let metrics = TrainingMetrics(factory: factory)
        metrics.update(job: "job-1", model: "lh-age", step: 30, totalSteps: 120, loss: 1.25, examplesPerSecond: 410.5, state: .running)
        var samples = parseExposition(registry.emitToString())
        let job = ["job": "job-1", "model": "lh-age"]
        #expect(samples.value(MetricCatalog.trainingStep.name, job) == 30)
        #expect(samples.value(MetricCatalog.trainingTotalSteps.name, job) == 120)
        #expect(samples.value(MetricCatalog.trainingProgress.name, job) == 0.25)
        #expect(samples.value(MetricCatalog.trainingLoss.name, job) == 1.25)
        #expect(samples.value(MetricCatalog.trainingThroughput.name, job) == 410.5)
        for state in TrainingJobState.allCases {
            #expect(samples.value(MetricCatalog.trainingState.name, job.merging(["state": state.rawValue]) { $1 }) == (state == .running ? 1 : 0))
        }

        metrics.update(job: "job-1", model: "lh-age", step: 120, totalSteps: 120, loss: 0.5, examplesPerSecond: 0, state: .succeeded)
        samples = parseExposition(registry.emitToString())
        #expect(samples.value(MetricCatalog.trainingProgress.name, job) == 1)
        #expect(samples.value(MetricCatalog.trainingState.name, job.merging(["state": "succeeded"]) { $1 }) == 1)
        #expect(samples.value(MetricCatalog.trainingState.name, job.merging(["state": "running"]) { $1 }) == 0)

        // Unknown totals give a progress of 0, not a division by zero.
        metrics.update(job: "job-2", model: "lh-gender", step: 5, totalSteps: 0, loss: .nan, examplesPerSecond: 1, state: .queued)
        samples = parseExposition(registry.emitToString())
        #expect(samples.value(MetricCatalog.trainingProgress.name, ["job": "job-2"]) == 0)
        #expect(samples.value(MetricCatalog.trainingLoss.name, ["job": "job-2"])?.isNaN == true)

        metrics.remove(job: "job-1", model: "lh-age")
        samples = parseExposition(registry.emitToString())
        #expect(samples.filter { $0.labels["job"] == "job-1" }.isEmpty)
        #expect(samples.value(MetricCatalog.trainingStep.name, ["job": "job-2"]) == 5)
    }

    @Test func labelValuesFromClientsAreBounded() {
        let (registry, factory) = registryAndFactory()
        let long = String(repeating: "é", count: 200)   // 400 bytes
        TrainingMetrics(factory: factory).update(job: long, model: "m", step: 1, totalSteps: 2, loss: 0, examplesPerSecond: 0, state: .running)
        let samples = parseExposition(registry.emitToString())
        let job = samples.first { $0.name == MetricCatalog.trainingStep.name }?.labels["job"] ?? ""
        #expect(job.utf8.count <= MetricLimits.maxLabelValueBytes)
        #expect(job.utf8.count >= MetricLimits.maxLabelValueBytes - 1)
        #expect(long.hasPrefix(job))
    }

    @Test func processMemoryMatchesProcStatus() throws {
        let memory = try #require(ProcessMetrics.memory())
        // VmRSS in /proc/self/status is the same figure in kB; allow for pages touched in between.
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        let ratio = Double(memory.residentBytes) / Double(kilobytes * 1024)
        #expect(ratio > 0.8 && ratio < 1.25)
        #expect(memory.virtualBytes >= memory.residentBytes)

        let before = try #require(ProcessMetrics.openFileDescriptorCount())
        let fd = open("/proc/self/statm", O_RDONLY)
        defer { close(fd) }
        #expect(ProcessMetrics.openFileDescriptorCount() == before + 1)

        let (registry, factory) = registryAndFactory()
        ProcessMetrics(factory: factory).sample()
        let samples = parseExposition(registry.emitToString())
        #expect((samples.value(MetricCatalog.residentMemory.name) ?? 0) > 1_000_000)
        #expect((samples.value(MetricCatalog.openFileDescriptors.name) ?? 0) >= 3)
    }

    @Test func catalogNamesAreValidAndUnique() {
        let names = MetricCatalog.all.map(\.name)
        #expect(Set(names).count == names.count)
        for family in MetricCatalog.all {
            #expect(family.name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }, "\(family.name)")
            #expect(!family.help.isEmpty)
            if family.kind == .histogram {
                #expect(!family.buckets.isEmpty)
                #expect(zip(family.buckets, family.buckets.dropFirst()).allSatisfy { $0 < $1 })
            } else {
                #expect(family.buckets.isEmpty)
            }
        }
    }

    @Test func everySeriesIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/OPERATIONS.md"), encoding: .utf8)
        for family in MetricCatalog.all {
            #expect(doc.contains("`\(family.name)`"), "docs/OPERATIONS.md does not list \(family.name)")
        }
    }
}
