import FaceRPCCore
import FaceRPCDetection
import FaceRPCImage
@testable import FaceRPCPredict
import FaceRPCProtos
import FaceRPCRegistry
import Foundation
import Logging
import Testing

/// Mirror averaging: each face goes through the networks as its chip and as
/// the chip mirrored, and the answer is the mean of the two distributions.
@Suite(.enabled(if: modelsInstalled, "models not installed: run scripts/setup.sh"),
       .enabled(if: sharedAvailable, "../shared/data not found"))
struct MirrorAverageTests {
    static let registry: ModelRegistry = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let registry = ModelRegistry.engine(modelsDirectory: modelsDirectory, threads: 2, logger: logger)
        registry.loadAll()
        return registry
    }()

    static let mirroring: PredictService = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var configuration = PredictConfiguration()
        configuration.mirrorAverage = true
        return PredictService(registry: registry, modelsDirectory: modelsDirectory, configuration: configuration,
                              networkThreads: 2, logger: logger)
    }()

    func crops(_ count: Int) throws -> [String] {
        let folder = sharedData + "/utkface/images"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        return names.enumerated().filter { $0.offset % 97 == 5 }.prefix(count).map { folder + "/" + $0.element }
    }

    @Test func mirrorsChipsColumnForColumn() {
        // Odd width, so the middle column maps onto itself.
        let width = 5, height = 3
        let pixels = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let chip = RGBImage(width: width, height: height, pixels: pixels)
        let mirrored = FaceChip.mirrored(chip)
        #expect(mirrored.width == width && mirrored.height == height)
        var mismatches = 0
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 where mirrored.pixels[3 * (y * width + x) + c] != pixels[3 * (y * width + width - 1 - x) + c] {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0)
        #expect(FaceChip.mirrored(mirrored).pixels == pixels)
    }

    @Test func meanRowAveragesEachFacesViews() {
        // Two faces, two views each, three outputs per row.
        let values: [Float] = [0.1, 0.2, 0.7, 0.3, 0.4, 0.3, 0.5, 0.5, 0, 0, 1, 0]
        let output = DynamicBatcher.Output(values: values, outputSize: 3, version: "1", queueSeconds: 0, runSeconds: 0, batchSize: 4)
        let first = PredictService.meanRow(output, face: 0, views: 2)
        let second = PredictService.meanRow(output, face: 1, views: 2)
        let expected: [[Float]] = [[0.2, 0.3, 0.5], [0.25, 0.75, 0]]
        #expect(zip(first, expected[0]).allSatisfy { abs($0 - $1) < 1e-7 })
        #expect(zip(second, expected[1]).allSatisfy { abs($0 - $1) < 1e-7 })
        #expect(PredictService.meanRow(output, face: 1, views: 1) == [0.3, 0.4, 0.3])
    }

    /// The prepared tensor holds each chip then its mirror, and the mirroring
    /// service answers with the mean of the network's rows for the two, while
    /// the plain service answers with the first alone.
    @Test func answersAreTheMeanOfChipAndMirror() async throws {
        let age = try #require(Self.registry.servingModel(named: "age"))
        let gender = try #require(Self.registry.servingModel(named: "gender"))
        let shapes = try ShapePredictor(path: modelsDirectory + "/shape-predictor/shape_predictor_5_face_landmarks.dat")
        for path in try crops(3) {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let job = FaceJob(image: .jpeg(bytes), faceCrop: true, maxFaces: 1, minFaceSize: .fixed(20), thresholds: (0.6, 0.7, 0.7),
                              limits: ImageLimits(), chipPadding: 0.2, mirror: true, models: [age, gender],
                              detector: nil, detectorError: nil, shapes: shapes, shapesError: nil)
            let prepared = try job.run()
            #expect(prepared.viewsPerFace == 2)
            for (tensor, model) in zip(prepared.tensors, [age, gender]) {
                let shape = model.model.inputShape   // [3, size, size]
                let (channels, rows, columns) = (shape[0], shape[1], shape[2])
                let sample = channels * rows * columns
                try #require(tensor.count == 2 * sample)
                var mismatches = 0
                for c in 0..<channels {
                    for y in 0..<rows {
                        for x in 0..<columns {
                            let plain = tensor[(c * rows + y) * columns + x]
                            let mirror = tensor[sample + (c * rows + y) * columns + (columns - 1 - x)]
                            if plain != mirror { mismatches += 1 }
                        }
                    }
                }
                #expect(mismatches == 0, "\(path)")
            }

            let ageRows = try age.model.run(prepared.tensors[0], batch: 2)
            let genderRows = try gender.model.run(prepared.tensors[1], batch: 2)
            let request = try jpegRequest(path, faceCrop: true) { $0.includeDistributions = true }
            let mirrored = try #require(try await Self.mirroring.predict(request, context: context()).faces.first)
            let plain = try #require(try await sharedService!.predict(request, context: context()).faces.first)

            func maxError(_ answer: [Float], _ rows: [Float], views: [Int]) -> Float {
                let size = answer.count
                var worst: Float = 0
                for k in 0..<size {
                    let expected = views.map { rows[$0 * size + k] }.reduce(0, +) / Float(views.count)
                    worst = max(worst, abs(answer[k] - expected))
                }
                return worst
            }
            let ageAnswer = try #require(mirrored.age?.distribution)
            let genderAnswer = try #require(mirrored.gender?.distribution)
            try #require(ageAnswer.count == 81 && genderAnswer.count == 2)
            #expect(maxError(ageAnswer, ageRows, views: [0, 1]) < 1e-5, "\(path)")
            #expect(maxError(genderAnswer, genderRows, views: [0, 1]) < 1e-5, "\(path)")
            #expect(maxError(plain.age?.distribution ?? [], ageRows, views: [0]) < 1e-5, "\(path)")
            // The two views really differ, so the test can tell averaging from not.
            #expect(maxError(ageAnswer, ageRows, views: [0]) > 1e-4, "\(path)")
            let years = zip(ageAnswer, age.descriptor.ageWeights).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(abs((mirrored.age?.years ?? -1) - years) < 1e-3)
        }
    }
}
