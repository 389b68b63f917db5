import FaceRPCTestSupport
import Foundation
@testable import FaceRPCONNX

/// Paths and tools the ONNX tests look for; tests needing one skip without it.
enum TestSupport {
    /// The package root (this file is Tests/FaceRPCONNXTests/TestSupport.swift).
    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `$FACERPC_MODELS_DIR`, else `models/` in the package root (scripts/fetch-models.sh installs there).
    static let modelsDir: String = ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"] ?? repoRoot + "/models"

    static func modelPath(_ name: String) -> String { "\(modelsDir)/\(name)/\(name)-v1.onnx" }

    static let modelsAvailable = ["age", "gender"].allSatisfy { FileManager.default.fileExists(atPath: modelPath($0)) }

    static let sharedDir = repoRoot + "/../shared"

    /// True when `python3` can import numpy and onnxruntime.
    static let onnxruntimeAvailable: Bool = (try? runPython(["-c", "import numpy, onnxruntime"])) != nil

    /// True when Pillow is available as well, for face chips.
    static let pillowAvailable: Bool = (try? runPython(["-c", "import PIL"])) != nil


    static let referenceScript = repoRoot + "/scripts/onnx_reference.py"

    /// onnxruntime's output for `model` on `input` (shape `[batch] + sampleShape`).
    static func reference(modelPath: String, input: [Float], shape: [Int]) throws -> (shape: [Int], data: [Float]) {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try NPY.write(path: dir + "/in.npy", shape: shape, data: input)
        try runPython([referenceScript, "run", modelPath, dir + "/in.npy", dir + "/out.npy"])
        return try NPY.read(path: dir + "/out.npy")
    }

    static func reference(model: [UInt8], input: [Float], shape: [Int]) throws -> (shape: [Int], data: [Float]) {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(model).write(to: URL(fileURLWithPath: dir + "/model.onnx"))
        return try reference(modelPath: dir + "/model.onnx", input: input, shape: shape)
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "facerpc-onnx-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func floats(_ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &self) }
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
