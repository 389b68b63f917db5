import Foundation
import Testing
import FaceRPCImage
@testable import FaceRPCTraining

private let benchEnabled = ProcessInfo.processInfo.environment["FACERPC_DATA_BENCH"] == "1"

/// The UTKFace chips in ../shared/data/utkface (see shared/README.md for the counts checked here).
@Suite("UTKFace data", .enabled(if: DataTestSupport.utkfaceAvailable, "../shared/data/utkface not found"))
struct UTKFaceDataTests {
    static let ageCounts = [1871, 680, 779, 1212, 1740, 814, 1017, 1665]

    @Test("labels.csv: 9,778 faces, 5,406 female and 4,372 male, the README's bucket counts")
    func labelsCSV() async throws {
        let (gender, age) = try await offPool {
            let root = try DataRoot(path: DataTestSupport.utkface.path)
            return (try Dataset.load("labels.csv", root: root, task: .gender), try Dataset.load("labels.csv", root: root, task: .age))
        }
        #expect(gender.layout == "csv" && gender.examples.count == 9778 && gender.skipped == 0)
        #expect(gender.classCounts == [5406, 4372])
        #expect(age.examples.count == 9778 && age.skipped == 0)
        #expect(age.classCounts == Self.ageCounts)
    }

    @Test("the images folder by UTKFace names gives the same labels as labels.csv; the 2 malformed names are counted")
    func imagesFolder() async throws {
        let results = try await offPool { () -> [(DatasetSummary, DatasetSummary)] in
            let root = try DataRoot(path: DataTestSupport.utkface.path)
            return try [TrainingTask.gender, .age].map {
                (try Dataset.load("images", root: root, task: $0), try Dataset.load("labels.csv", root: root, task: $0))
            }
        }
        for (folder, csv) in results {
            #expect(folder.layout == "utkface-names")
            #expect(folder.rows == 9780 && folder.bad == 2 && folder.examples.count == 9778)
            #expect(folder.problems.sorted() == [
                "'61_1_20170109142408075.jpg.chip.jpg' is not named AGE_GENDER_RACE_DATE.jpg",
                "'61_3_20170109150557335.jpg.chip.jpg' is not named AGE_GENDER_RACE_DATE.jpg",
            ])
            let byPath = Dictionary(uniqueKeysWithValues: csv.examples.map { ($0.path, $0.label) })
            let disagreements = folder.examples.filter { byPath[$0.path] != $0.label }.count
            #expect(disagreements == 0)
        }
    }

    @Test("labels_train.csv and labels_eval.csv: 8,753 + 1,025 disjoint faces")
    func fixedSplit() async throws {
        let (train, eval) = try await offPool {
            let root = try DataRoot(path: DataTestSupport.utkface.path)
            return (try Dataset.load("labels_train.csv", root: root, task: .gender),
                    try Dataset.load("labels_eval.csv", root: root, task: .gender))
        }
        #expect(train.examples.count == 8753 && eval.examples.count == 1025)
        #expect(Set(train.examples.map(\.path)).isDisjoint(with: eval.examples.map(\.path)))
    }

    @Test("an evaluation pass over 40 chips matches a decode + resize + centre-crop reference")
    func evaluationPass() async throws {
        let (examples, batches) = try await offPool { () -> ([LabeledExample], [TrainingBatch]) in
            let root = try DataRoot(path: DataTestSupport.utkface.path)
            let examples = Array(try Dataset.load("labels_eval.csv", root: root, task: .age).examples.prefix(40))
            let pipeline = try BatchPipeline(examples: examples, batchSize: 16, normalization: .leviHassner,
                                             mode: .evaluation, seed: 0, workers: 2, root: root)
            var batches: [TrainingBatch] = []
            while let batch = try pipeline.next() { batches.append(batch) }
            return (examples, batches)
        }
        #expect(batches.map(\.count) == [16, 16, 8])
        #expect(batches.flatMap(\.labels) == examples.map(\.label))
        let n = Normalization.leviHassner
        let plane = 227 * 227
        var worst = 0.0
        for (i, example) in examples.enumerated() {
            let image = try JPEGDecoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: example.path)))).image
            #expect(image.width == 200 && image.height == 200)
            let resized = ImageOps.resizeBilinear(image, width: 256, height: 256)
            let batch = batches[i / 16], base = (i % 16) * 3 * plane
            for c in 0..<3 {
                for y in stride(from: 0, to: 227, by: 3) {
                    for x in 0..<227 {
                        let byte = Double(resized.pixels[3 * ((y + 14) * 256 + x + 14) + c])
                        let reference = (byte - Double(n.mean[c])) * Double(n.scale)
                        worst = max(worst, abs(Double(batch.images[base + c * plane + y * 227 + x]) - reference))
                    }
                }
            }
        }
        #expect(worst < 1e-6)
    }

    /// Decode + augment throughput: `FACERPC_DATA_BENCH=1 swift test ... --filter UTKFaceDataTests/throughput`.
    @Test("decode + augment throughput (prints images/s)", .enabled(if: benchEnabled, "set FACERPC_DATA_BENCH=1"))
    func throughput() async throws {
        let rates = try await offPool { () -> [(workers: Int, images: Int, seconds: Double)] in
            let root = try DataRoot(path: DataTestSupport.utkface.path)
            let examples = try Dataset.load("labels_train.csv", root: root, task: .age).examples
            var rates: [(Int, Int, Double)] = []
            for workers in [1, 2] {
                let pipeline = try BatchPipeline(examples: examples, batchSize: 64, normalization: .leviHassner,
                                                 mode: .training, seed: 1, workers: workers, prefetch: 4)
                _ = try pipeline.next()  // warm-up
                let start = DispatchTime.now().uptimeNanoseconds
                var images = 0
                for _ in 0..<24 { images += try pipeline.next()!.count }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                pipeline.close()
                rates.append((workers, images, seconds))
            }
            return rates
        }
        for rate in rates {
            print("data pipeline: \(rate.workers) worker(s): \(rate.images) UTKFace chips in \(String(format: "%.2f", rate.seconds)) s = "
                  + "\(String(format: "%.0f", Double(rate.images) / rate.seconds)) images/s "
                  + "(\(String(format: "%.0f", Double(rate.images) / rate.seconds / Double(rate.workers))) per worker)")
            #expect(rate.images == 24 * 64)
        }
    }
}
