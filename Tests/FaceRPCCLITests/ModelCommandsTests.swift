import FaceRPCTestSupport
import Foundation
import Testing

/// `facerpc run-model` and `bench-model` as a user or a benchmark script runs
/// them: their own process, files in, files or one JSON line out.
@Suite struct ModelCommandsTests {
    /// The package root (this file is Tests/FaceRPCCLITests/ModelCommandsTests.swift).
    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The installed pretrained models (`make test` sets it).
    static let modelsDir = ProcessInfo.processInfo.environment["FACERPC_MODELS_DIR"]

    /// A python3 on `PATH` with what the reference side needs (`make test` puts `.venv` first).
    static let referenceAvailable: Bool = modelsDir != nil
        && (try? runChildProcess("/usr/bin/env", ["python3", "-c", "import numpy, onnxruntime, PIL"]))?.status == 0

    /// Two UTKFace photos from `../shared` (beside the package root) for the real-chip inputs.
    static let photos = ["10_0_0_20161220222308131.jpg.chip.jpg", "10_0_0_20170103200522151.jpg.chip.jpg"]
        .map { repoRoot + "/../shared/data/utkface/images/" + $0 }
    static let photosAvailable = photos.allSatisfy { FileManager.default.fileExists(atPath: $0) }

    @Test("run-model matches onnxruntime within 1e-4 on seeded random inputs and on real face chips",
          .enabled(if: referenceAvailable && photosAvailable,
                   "needs FACERPC_MODELS_DIR, python3 with numpy, onnxruntime and Pillow, and ../shared"),
          arguments: ["age", "gender"])
    func runModelMatchesOnnxruntime(_ name: String) throws {
        let models = try #require(Self.modelsDir)
        let dir = NSTemporaryDirectory() + "facerpc-run-model-\(name)-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let size = name == "age" ? 64 : 32
        let reference = Self.repoRoot + "/scripts/onnx_reference.py"
        // Three seeded random samples (odd batch), and two UTKFace photos made into chips the
        // way the manifest says (RGB, (byte - mean) * scale), as one batch of two.
        try runPython(["-c", "import numpy as np; np.save('\(dir)/random.npy', np.random.default_rng(11)"
                    + ".uniform(-0.5, 0.5, (3, 3, \(size), \(size))).astype(np.float32))"])
        for (i, photo) in Self.photos.enumerated() {
            try runPython([reference, "chip", photo, "\(dir)/chip\(i).npy",
                        "--size", "\(size)", "--model-json", "\(models)/\(name)/model.json"])
        }
        try runPython(["-c", "import numpy as np; np.save('\(dir)/chips.npy', np.concatenate("
                    + "[np.load('\(dir)/chip0.npy'), np.load('\(dir)/chip1.npy')]))"])
        for (input, batch) in [("random", 3), ("chips", 2)] {
            let run = try runChildProcess(ServeProcessTests.binary, [
                "run-model", "--model", name, "--input", "\(dir)/\(input).npy", "--output", "\(dir)/\(input).out.npy",
                "--models", models, "--threads", "2"])
            #expect(run.status == 0, "\(run.stderr)")
            try runPython([reference, "run", "\(models)/\(name)/\(name)-v1.onnx", "\(dir)/\(input).npy", "\(dir)/\(input).ref.npy"])
            let report = try runPython(["-c", "import numpy as np; a = np.load('\(dir)/\(input).out.npy'); "
                                     + "b = np.load('\(dir)/\(input).ref.npy'); print(a.shape, b.shape, float(np.abs(a - b).max()))"])
            // "(3, 81) (3, 81) 1.2e-07"
            let classes = name == "age" ? 81 : 2
            #expect(report.hasPrefix("(\(batch), \(classes)) (\(batch), \(classes)) "), "\(report)")
            let error = try #require(Double(report.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
            #expect(error <= 1e-4, "\(name) \(input): max abs error \(error)")
        }
    }

    @Test("run-model refuses a tensor of the wrong shape with a message naming both shapes",
          .enabled(if: referenceAvailable, "needs FACERPC_MODELS_DIR and python3 with numpy"))
    func runModelRefusesWrongShape() throws {
        let models = try #require(Self.modelsDir)
        let dir = NSTemporaryDirectory() + "facerpc-run-model-shape-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try runPython(["-c", "import numpy as np; np.save('\(dir)/in.npy', np.zeros((1, 3, 10, 10), np.float32))"])
        let run = try runChildProcess(ServeProcessTests.binary, [
            "run-model", "--model", "gender", "--input", "\(dir)/in.npy", "--output", "\(dir)/out.npy", "--models", models])
        #expect(run.status != 0)
        #expect(run.stderr.contains("[1, 3, 10, 10]") && run.stderr.contains("[3, 32, 32]"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/out.npy"))
    }

    @Test("bench-model --json prints one JSON line; --profile times every step of the network on standard error")
    func benchModelProfile() throws {
        // lh-gender needs no installed files: untrained, it runs its seeded initial weights.
        let empty = NSTemporaryDirectory() + "facerpc-bench-\(getpid())"
        let result = try runChildProcess(ServeProcessTests.binary, ["bench-model", "--model", "lh-gender", "--batch", "2", "--threads", "2", "--seconds", "0.2",
                              "--profile", "--json", "--models", empty])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
        #expect(object["model"] as? String == "lh-gender")
        #expect(object["batch"] as? Int == 2)
        #expect(object["threads"] as? Int == 2)
        #expect((object["images_per_second"] as? Double ?? 0) > 0)
        #expect((object["gflops"] as? Double ?? 0) > 0)
        // Levi-Hassner's plan: conv1, pool1, norm1, conv2, pool2, norm2, conv3, pool3, fc6, fc7, fc8, prob.
        let steps = result.stderr.split(separator: "\n").filter { $0.hasPrefix("step ") }
        #expect(steps.map { $0.split(separator: " ")[1] } == ["conv1", "pool1", "norm1", "conv2", "pool2", "norm2", "conv3",
                                                               "pool3", "fc6", "fc7", "fc8", "prob"])
        for step in steps {
            // "step NAME KIND: M us/img (fastest F)", with 0 < F <= M.
            let numbers = step.split(whereSeparator: { $0 == " " || $0 == ")" || $0 == "(" }).compactMap { Double($0) }
            #expect(numbers.count == 2 && numbers[1] > 0 && numbers[1] <= numbers[0], "\(step)")
        }
    }

    @Test("without --json the profile and the summary share standard output")
    func benchModelText() throws {
        let empty = NSTemporaryDirectory() + "facerpc-bench-\(getpid())"
        let result = try runChildProcess(ServeProcessTests.binary, ["bench-model", "--model", "lh-age", "--seconds", "0.1", "--profile", "--models", empty])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("step ") }.count == 12)
        #expect(lines.last?.hasPrefix("lh-age: batch 1, 1 threads: ") == true)
    }
}
