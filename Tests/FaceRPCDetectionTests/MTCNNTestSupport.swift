import FaceRPCImage
import Foundation

/// Where the MTCNN tests find models, data and the Python reference; every
/// test that needs one of them is disabled (not failed) when it is missing.
enum MTCNNFixtures {
    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `$FACERPC_MODELS_DIR` or `models/` holding converted mtcnn-* folders.
    static let modelsDirectory: String? = {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"], !env.isEmpty { candidates.append(env) }
        candidates.append(repoRoot + "/models")
        return candidates.first { dir in
            ["pnet", "rnet", "onet"].allSatisfy {
                FileManager.default.fileExists(atPath: "\(dir)/mtcnn-\($0)/detector.json")
            }
        }
    }()

    static let dataDirectory: String? = {
        let dir = repoRoot + "/../shared/data/detection"
        return FileManager.default.fileExists(atPath: dir + "/dlib_faces/testing.xml") ? dir : nil
    }()

    /// A Python with numpy, PIL, onnxruntime, joblib and lz4 (the repo's .venv first).
    static let python: String? = {
        let candidates = [repoRoot + "/.venv/bin/python", "/usr/bin/env"]
        for exe in candidates where FileManager.default.isExecutableFile(atPath: exe) {
            let args = (exe.hasSuffix("env") ? ["python3"] : []) + ["-c", "import numpy, PIL, onnxruntime, onnx, joblib, lz4"]
            if (try? run(exe, args).status) == 0 { return exe }
        }
        return nil
    }()

    /// Whether the tests were built optimised (timings are only meaningful then).
    static var optimized: Bool {
        #if DEBUG
        return false
        #else
        return true
        #endif
    }

    static var haveModels: Bool { modelsDirectory != nil }
    static var haveReference: Bool { modelsDirectory != nil && python != nil }
    static var haveData: Bool { haveReference && dataDirectory != nil }

    struct ProcessResult {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // stderr goes to a file so the child never blocks on a second full pipe.
        let errPath = NSTemporaryDirectory() + "mtcnn-stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errHandle
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? errHandle.close()
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return ProcessResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// Runs scripts/mtcnn-reference.py with `arguments`; throws on failure.
    static func reference(_ arguments: [String]) throws -> Data {
        guard let python else { throw FixtureError("no Python with the reference's modules") }
        let script = repoRoot + "/scripts/mtcnn-reference.py"
        let args = (python.hasSuffix("env") ? ["python3"] : []) + [script] + arguments
        let result = try run(python, args)
        guard result.status == 0 else {
            throw FixtureError("mtcnn-reference.py \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdout
    }

    struct ReferenceFace: Decodable {
        var box: [Double]
        var score: Double
        var landmarks: [[Double]]
    }

    struct ReferenceDetection: Decodable {
        var width: Int
        var height: Int
        var faces: [ReferenceFace]
        /// With `trace`: "pnet" and "rnet" boxes (x1, y1, x2, y2, score) after each stage.
        var stages: [String: [[Double]]]?
    }

    /// Decodes `image` with the reference's PIL (FaceRPCImage's decoder is not
    /// in this branch) and runs its numpy pipeline; returns both.
    static func referenceDetection(_ image: String, minFaceSize: Double = 20, resize: (Int, Int)? = nil,
                                   trace: Bool = false) throws -> (RGBImage, ReferenceDetection) {
        let rgbPath = NSTemporaryDirectory() + "mtcnn-\(UUID().uuidString).rgb"
        defer { try? FileManager.default.removeItem(atPath: rgbPath) }
        var args = ["detect", image, "--min-face", String(minFaceSize), "--rgb-out", rgbPath]
        if let resize { args += ["--resize", String(resize.0), String(resize.1)] }
        if trace { args.append("--trace") }
        let json = try reference(args)
        let detection = try JSONDecoder().decode(ReferenceDetection.self, from: json)
        let pixels = try [UInt8](Data(contentsOf: URL(fileURLWithPath: rgbPath)))
        guard pixels.count == detection.width * detection.height * 3 else {
            throw FixtureError("decoded \(pixels.count) bytes for \(detection.width)x\(detection.height)")
        }
        return (RGBImage(width: detection.width, height: detection.height, pixels: pixels), detection)
    }

    /// Hand-drawn boxes of dlib's face detection set, by file name.
    static func dlibBoxes(_ xmlPath: String) throws -> [String: [Rect]] {
        let text = try String(contentsOfFile: xmlPath, encoding: .isoLatin1)
        var result: [String: [Rect]] = [:]
        var current: String?
        func attribute(_ name: String, _ line: Substring) -> Double? {
            guard let r = line.range(of: name + "='") else { return nil }
            let rest = line[r.upperBound...]
            guard let end = rest.firstIndex(of: "'") else { return nil }
            return Double(rest[..<end])
        }
        for line in text.split(separator: "\n") {
            if let r = line.range(of: "<image file='") {
                let rest = line[r.upperBound...]
                current = String(rest[..<rest.firstIndex(of: "'")!])
                result[current!] = []
            } else if line.contains("<box"), let file = current,
                      let top = attribute("top", line), let left = attribute("left", line),
                      let width = attribute("width", line), let height = attribute("height", line) {
                result[file, default: []].append(Rect(x: left, y: top, width: width, height: height))
            }
        }
        return result
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func iou(_ a: Rect, _ b: Rect) -> Double {
    let w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    let h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    guard w > 0, h > 0 else { return 0 }
    let inter = w * h
    return inter / (a.width * a.height + b.width * b.height - inter)
}

/// Reads little-endian float32 values.
func readFloats(_ path: String) throws -> [Float] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return data.withUnsafeBytes { raw in
        (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}
