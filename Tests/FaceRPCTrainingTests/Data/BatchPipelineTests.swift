import Foundation
import Testing
import FaceRPCImage
@testable import FaceRPCTraining

/// Crafted images in a temporary root, shared by the pipeline tests.
private final class Fixture: @unchecked Sendable {
    let tree: TempTree
    let root: DataRoot
    /// 7 distinct 40 × 30 JPEGs (the resize path), labels 0...6.
    let examples: [LabeledExample]

    init() throws {
        tree = try TempTree()
        root = try tree.root()
        var examples: [LabeledExample] = []
        for i in 0..<7 {
            let image = DataTestSupport.image(width: 40, height: 30) { x, y in
                (UInt8(20 * i + x), UInt8(5 * y + i), UInt8((x * y + 31 * i) & 255))
            }
            let path = try tree.write("imgs/\(i).jpg", try DataTestSupport.jpeg(image))
            examples.append(LabeledExample(path: path, label: Int32(i)))
        }
        self.examples = examples
    }
}

/// What a test needs from a batch, without the Sendable-heavy pipeline.
private struct Taken: Sendable, Equatable {
    var images: [Float], labels: [Int32], count: Int, epoch: Int, index: Int, exampleIndices: [Int], crops: [CropParameters]
    init(_ b: TrainingBatch) {
        images = b.images; labels = b.labels; count = b.count; epoch = b.epoch; index = b.index
        exampleIndices = b.exampleIndices; crops = b.crops
    }
}

private func take(_ examples: [LabeledExample], batchSize: Int, mode: BatchPipeline.Mode = .training, seed: UInt64 = 42,
                  start: Int = 0, workers: Int = 2, prefetch: Int = 3, count: Int,
                  normalization: Normalization = .leviHassner) async throws -> [Taken] {
    try await offPool {
        let pipeline = try BatchPipeline(examples: examples, batchSize: batchSize, normalization: normalization, mode: mode,
                                         seed: seed, startBatch: start, workers: workers, prefetch: prefetch)
        defer { pipeline.close() }
        var out: [Taken] = []
        for _ in 0..<count {
            guard let batch = try pipeline.next() else { break }
            out.append(Taken(batch))
        }
        return out
    }
}

/// Threads of this process (Linux), or nil elsewhere.
private func threadCount() -> Int? {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task"))?.count
}

@Suite("Batch pipeline")
struct BatchPipelineTests {
    @Test("the same seed gives the same batches with 1 and 3 workers; another seed differs")
    func determinism() async throws {
        let fixture = try Fixture()
        let one = try await take(fixture.examples, batchSize: 3, workers: 1, prefetch: 1, count: 7)
        let three = try await take(fixture.examples, batchSize: 3, workers: 3, prefetch: 5, count: 7)
        #expect(one.count == 7)
        #expect(one == three)
        let other = try await take(fixture.examples, batchSize: 3, seed: 43, count: 7)
        #expect(other.map(\.exampleIndices) != one.map(\.exampleIndices))
        #expect(other.map(\.crops) != one.map(\.crops))
    }

    @Test("starting at batch k yields batch k, k+1, ... of a fresh pipeline")
    func resume() async throws {
        let fixture = try Fixture()
        let fresh = try await take(fixture.examples, batchSize: 3, count: 9)
        for k in [1, 4, 5] {
            let resumed = try await take(fixture.examples, batchSize: 3, start: k, count: 3)
            #expect(resumed == Array(fresh[k..<(k + 3)]), "start \(k)")
        }
    }

    @Test("epochs: a fresh shuffle each epoch, full batches, leftovers unused in that epoch")
    func epochs() async throws {
        let fixture = try Fixture()
        let batches = try await take(fixture.examples, batchSize: 3, count: 8)
        // 7 examples, batch 3: 2 batches per epoch, 1 example left over each epoch.
        #expect(batches.map(\.epoch) == [0, 0, 1, 1, 2, 2, 3, 3])
        #expect(batches.map(\.index) == Array(0..<8))
        var orders: [[Int]] = []
        for epoch in 0..<4 {
            let indices = batches[2 * epoch].exampleIndices + batches[2 * epoch + 1].exampleIndices
            #expect(Set(indices).count == 6, "epoch \(epoch) repeats an example")
            orders.append(indices)
            for b in batches[(2 * epoch)...(2 * epoch + 1)] {
                #expect(b.count == 3 && b.labels == b.exampleIndices.map { Int32($0) })
                #expect(b.images.count == 3 * 3 * 227 * 227)
            }
        }
        #expect(Set(orders).count == 4, "epochs repeat an order")
        // The order is the documented permutation of (seed, epoch).
        let expected = SeededShuffle.permutation(count: 7, seed: SeededShuffle.mix(42, 1))
        #expect(orders[1] == Array(expected.prefix(6)))
        // A dataset smaller than the batch gives batches of all its examples.
        let small = try await take(Array(fixture.examples.prefix(2)), batchSize: 5, count: 3)
        #expect(small.map(\.count) == [2, 2, 2] && small.map(\.epoch) == [0, 1, 2])
    }

    @Test("training crops: offsets in 0...29, both flips, and pixels exactly the crop of the resized image")
    func trainingGeometry() async throws {
        let tree = try TempTree()
        // A 256 × 256 gradient (R ≈ x, G ≈ y): the resize is the identity and the content shows the crop.
        let gradient = DataTestSupport.image(width: 256, height: 256) { x, y in (UInt8(x), UInt8(y), 128) }
        let jpeg = try DataTestSupport.jpeg(gradient)
        let path = try tree.write("g.jpg", jpeg)
        let decoded = try JPEGDecoder.decode(jpeg).image
        let raw = Normalization(mean: [0, 0, 0], scale: 1)
        let examples = (0..<16).map { _ in LabeledExample(path: path, label: 0) }
        let batches = try await take(examples, batchSize: 16, count: 2, normalization: raw)
        var crops: Set<CropParameters> = []
        let plane = 227 * 227
        for batch in batches {
            for slot in 0..<batch.count {
                let crop = batch.crops[slot]
                crops.insert(crop)
                #expect((0...29).contains(crop.x) && (0...29).contains(crop.y))
                #expect(crop == Augmentation.training(seed: 42, batch: batch.index, slot: slot))
                let sample = Array(batch.images[(slot * 3 * plane)..<((slot + 1) * 3 * plane)])
                var mismatches = 0
                for y in 0..<227 {
                    for x in 0..<227 {
                        let sx = crop.x + (crop.flip ? 226 - x : x), sy = crop.y + y
                        for c in 0..<3 where sample[c * plane + y * 227 + x] != Float(decoded.pixels[3 * (sy * 256 + sx) + c]) {
                            mismatches += 1
                        }
                    }
                }
                #expect(mismatches == 0)
                // The content agrees with the reported crop: R at the left edge ≈ the source column, G at the top ≈ row.
                let left = sample[113 * 227], top = sample[plane + 113]
                #expect(abs(left - Float(crop.flip ? crop.x + 226 : crop.x)) <= 2)
                #expect(abs(top - Float(crop.y)) <= 2)
            }
        }
        #expect(crops.contains { $0.flip } && crops.contains { !$0.flip })
        #expect(Set(crops.map(\.x)).count > 5 && Set(crops.map(\.y)).count > 5)
    }

    @Test("evaluation: centre crop at (14, 14) of the 256 × 256 resize, no flip, in order, one pass")
    func evaluationGeometry() async throws {
        let fixture = try Fixture()
        let raw = Normalization(mean: [0, 0, 0], scale: 1)
        let batches = try await take(fixture.examples, batchSize: 3, mode: .evaluation, count: 10, normalization: raw)
        #expect(batches.map(\.count) == [3, 3, 1])
        #expect(batches.flatMap(\.exampleIndices) == Array(0..<7))
        #expect(batches.flatMap(\.crops).allSatisfy { $0 == CropParameters(x: 14, y: 14, flip: false) })
        let plane = 227 * 227
        for (i, example) in fixture.examples.enumerated() {
            let decoded = try JPEGDecoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: example.path)))).image
            #expect(decoded.width == 40 && decoded.height == 30)
            let resized = ImageOps.resizeBilinear(decoded, width: 256, height: 256)
            let batch = batches[i / 3], slot = i % 3
            var mismatches = 0
            for c in 0..<3 {
                for y in 0..<227 {
                    for x in 0..<227
                    where batch.images[slot * 3 * plane + c * plane + y * 227 + x] != Float(resized.pixels[3 * ((y + 14) * 256 + x + 14) + c]) {
                        mismatches += 1
                    }
                }
            }
            #expect(mismatches == 0, "example \(i)")
        }
        // Resuming an evaluation pass skips batches; past the end there is nothing.
        let tail = try await take(fixture.examples, batchSize: 3, mode: .evaluation, start: 2, count: 5)
        #expect(tail.map(\.exampleIndices) == [[6]])
        let none = try await take(fixture.examples, batchSize: 3, mode: .evaluation, start: 3, count: 5)
        #expect(none.isEmpty)
    }

    @Test("normalisation: (byte − mean) · scale per channel, planar RGB")
    func normalisation() async throws {
        let tree = try TempTree()
        let flat = DataTestSupport.image(width: 64, height: 64) { _, _ in (200, 100, 10) }
        let jpeg = try DataTestSupport.jpeg(flat)
        let decoded = try JPEGDecoder.decode(jpeg).image
        let path = try tree.write("flat.jpg", jpeg)
        let batches = try await take([LabeledExample(path: path, label: 1)], batchSize: 1, mode: .evaluation, count: 1)
        let n = Normalization.leviHassner
        let plane = 227 * 227
        // A flat JPEG decodes to (nearly) one colour; check every value against a Double reference of its source byte.
        let resized = ImageOps.resizeBilinear(decoded, width: 256, height: 256)
        var worst = 0.0
        for c in 0..<3 {
            for y in 0..<227 {
                for x in 0..<227 {
                    let byte = Double(resized.pixels[3 * ((y + 14) * 256 + x + 14) + c])
                    let reference = (byte - Double(n.mean[c])) * Double(n.scale)
                    worst = max(worst, abs(Double(batches[0].images[c * plane + y * 227 + x]) - reference))
                }
            }
        }
        #expect(worst < 1e-6)
        // The exact values for the pretrained models' constants.
        let table = Augmentation.lookupTable(n)
        #expect(abs(Double(table[0]) - (0 - 122.781998) / 256) < 1e-7)
        #expect(abs(Double(table[256 + 255]) - (255 - 117.000999) / 256) < 1e-7)
        #expect(abs(Double(table[512 + 104]) - (104 - 104.297997) / 256) < 1e-7)
        #expect(batches[0].labels == [1])
    }

    @Test("a grayscale JPEG gives three equal channels")
    func grayscale() async throws {
        let tree = try TempTree()
        let bytes = [UInt8](try Data(contentsOf: DataTestSupport.grayFixture))
        #expect(try JPEGDecoder.decode(bytes).colorSpace == .gray)
        let path = try tree.write("gray.jpg", bytes)
        let raw = Normalization(mean: [0, 0, 0], scale: 1)
        let batches = try await take([LabeledExample(path: path, label: 0)], batchSize: 1, mode: .evaluation, count: 1,
                                     normalization: raw)
        let plane = 227 * 227
        let r = batches[0].images[0..<plane], g = batches[0].images[plane..<(2 * plane)], b = batches[0].images[(2 * plane)...]
        #expect(Array(r) == Array(g) && Array(g) == Array(b))
        #expect(Set(r).count > 1)
    }

    @Test("a corrupt JPEG is an error from next() naming the file; earlier batches arrive first")
    func corruptImage() async throws {
        let fixture = try Fixture()
        let good = try Data(contentsOf: URL(fileURLWithPath: fixture.examples[0].path))
        let truncated = try fixture.tree.write("imgs/truncated.jpg", Array(good.prefix(good.count / 2)))
        let png = try fixture.tree.write("imgs/picture.jpg", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let root = fixture.root
        for bad in [truncated, png] {
            let examples = [fixture.examples[0], fixture.examples[1], LabeledExample(path: bad, label: 0), fixture.examples[2]]
            let outcome = try await offPool { () -> (Int, TrainingDataError?, TrainingDataError?) in
                let pipeline = try BatchPipeline(examples: examples, batchSize: 1, normalization: .leviHassner, mode: .evaluation,
                                                 seed: 1, workers: 3, root: root)
                var delivered = 0
                while true {
                    do {
                        guard try pipeline.next() != nil else { return (delivered, nil, nil) }
                        delivered += 1
                    } catch {
                        let first = error as? TrainingDataError
                        let again = dataError { _ = try pipeline.next() }
                        return (delivered, first, again)
                    }
                }
            }
            #expect(outcome.0 == 2)
            let relative = root.relativePath(of: bad)
            guard case .badImage(let path, let reason) = outcome.1 else {
                Issue.record("no bad-image error for \(relative)")
                continue
            }
            #expect(path == relative)
            #expect(reason.contains(bad == png ? "not a JPEG" : "corrupt or truncated"))
            #expect(outcome.2 == outcome.1)
            #expect(outcome.1!.description.hasPrefix("image '\(relative)' cannot be used"))
        }
        // A file removed after loading is named too.
        let gone = try fixture.tree.write("imgs/gone.jpg", Array(good))
        try FileManager.default.removeItem(atPath: gone)
        let missing = try await offPool {
            let pipeline = try BatchPipeline(examples: [LabeledExample(path: gone, label: 0)], batchSize: 1,
                                             normalization: .leviHassner, mode: .training, seed: 1, root: root)
            return dataError { _ = try pipeline.next() }
        }
        #expect(missing == .notFound("imgs/gone.jpg"))
    }

    @Test("close() while workers are blocked on a full queue returns promptly; next() then throws")
    func closeWhileBlocked() async throws {
        let fixture = try Fixture()
        let outcome = try await offPool { () -> (Double, TrainingDataError?) in
            let pipeline = try BatchPipeline(examples: fixture.examples, batchSize: 2, normalization: .leviHassner,
                                             mode: .training, seed: 3, workers: 3, prefetch: 1)
            _ = try pipeline.next()
            Thread.sleep(forTimeInterval: 0.2)  // the queue refills and the workers wait for room
            let start = DispatchTime.now().uptimeNanoseconds
            pipeline.close()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            pipeline.close()  // idempotent
            return (seconds, dataError { _ = try pipeline.next() })
        }
        #expect(outcome.0 < 1.0)
        #expect(outcome.1 == .pipelineClosed)
    }

    @Test("close() from another thread wakes a blocked next()")
    func closeWakesConsumer() async throws {
        let fixture = try Fixture()
        let result = try await offPool { () -> (timeouts: Int, otherErrors: Int, closedErrors: Int) in
            var timeouts = 0, otherErrors = 0, closedErrors = 0
            for round in 0..<20 {
                let pipeline = try BatchPipeline(examples: fixture.examples, batchSize: 7, normalization: .leviHassner,
                                                 mode: .training, seed: UInt64(round), workers: 1, prefetch: 1)
                let done = DispatchSemaphore(value: 0)
                let box = ErrorBox()
                let consumer = Thread {
                    do { for _ in 0..<100 { _ = try pipeline.next() } } catch { box.set(error) }
                    done.signal()
                }
                consumer.start()
                if round % 2 == 1 { Thread.sleep(forTimeInterval: 0.005) }
                pipeline.close()
                guard done.wait(timeout: .now() + 5) == .success else {
                    timeouts += 1
                    continue
                }
                if box.error as? TrainingDataError == .pipelineClosed { closedErrors += 1 } else { otherErrors += 1 }
            }
            return (timeouts, otherErrors, closedErrors)
        }
        #expect(result.timeouts == 0, "a consumer stayed blocked after close()")
        #expect(result.otherErrors == 0)
        #expect(result.closedErrors == 20)
    }

    @Test("creating and closing many pipelines leaks no threads", .enabled(if: threadCount() != nil, "needs /proc/self/task"))
    func noThreadLeak() async throws {
        let fixture = try Fixture()
        let counts = try await offPool { () -> (Int, Int) in
            let before = threadCount()!
            for round in 0..<40 {
                let pipeline = try BatchPipeline(examples: fixture.examples, batchSize: 2, normalization: .leviHassner,
                                                 mode: round % 2 == 0 ? .training : .evaluation, seed: UInt64(round),
                                                 workers: 3, prefetch: 2)
                if round % 3 != 0 { _ = try pipeline.next() }
                if round % 4 != 0 { pipeline.close() }  // the others are closed by deinit
            }
            return (before, threadCount()!)
        }
        // 120 worker threads were started; other suites running in parallel may start some of their own meanwhile.
        #expect(counts.1 - counts.0 < 60, "threads before \(counts.0), after \(counts.1)")
    }

    @Test("invalid parameters are refused")
    func invalidParameters() throws {
        let example = [LabeledExample(path: "/nonexistent.jpg", label: 0)]
        func make(_ examples: [LabeledExample] = example, batch: Int = 1, workers: Int = 1, prefetch: Int = 1, start: Int = 0,
                  normalization: Normalization = .leviHassner) -> TrainingDataError? {
            dataError {
                _ = try BatchPipeline(examples: examples, batchSize: batch, normalization: normalization, mode: .training,
                                      seed: 0, startBatch: start, workers: workers, prefetch: prefetch)
            }
        }
        guard case .emptyDataset = make([]) else { Issue.record("no examples accepted"); return }
        for error in [make(batch: 0), make(batch: BatchPipeline.Limits.maxBatchSize + 1), make(workers: 0),
                      make(workers: BatchPipeline.Limits.maxWorkers + 1), make(prefetch: 0), make(start: -1),
                      make(normalization: Normalization(mean: [1, 2], scale: 1)),
                      make(normalization: Normalization(mean: [1, 2, 3], scale: .nan))] {
            guard case .invalidArgument = error else { Issue.record("accepted: \(String(describing: error))"); continue }
        }
        // The memory bound: 1024 images × 65 batches is far over 4 GiB.
        let many = Array(repeating: example[0], count: 1024)
        guard case .invalidArgument(let message) = make(many, batch: 1024, prefetch: 64) else {
            Issue.record("a pipeline over the memory bound was accepted")
            return
        }
        #expect(message.contains("the limit is"))
    }
}

/// The error a consumer thread saw.
private final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    func set(_ error: any Error) { lock.lock(); stored = error; lock.unlock() }
    var error: (any Error)? { lock.lock(); defer { lock.unlock() }; return stored }
}
