import Foundation
import FaceRPCImage

/// Paths and helpers shared by the FaceRPCImage tests.
enum TestSupport {
    /// The repository root (this file is Tests/FaceRPCImageTests/TestSupport.swift).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repoRoot.appendingPathComponent("Tests/FaceRPCImageTests/Fixtures")
    static let sharedData = repoRoot.appendingPathComponent("../shared/data").standardizedFileURL

    static func fixture(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    static func read(_ url: URL) -> [UInt8]? {
        (try? Data(contentsOf: url)).map { [UInt8]($0) }
    }

    /// Up to `count` UTKFace images (sorted by name), or [] when ../shared is absent.
    static func utkfaceImages(_ count: Int) -> [URL] {
        let dir = sharedData.appendingPathComponent("utkface/images")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return names.filter { $0.hasSuffix(".jpg") }.sorted().prefix(count).map { dir.appendingPathComponent($0) }
    }

    static func detectionImage(_ relative: String) -> URL? {
        let url = sharedData.appendingPathComponent("detection").appendingPathComponent(relative)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Runs `python3 args...`; returns the exit status and combined output.
    @discardableResult
    static func python(_ args: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + args
        // A log file, not a Pipe: corelibs' FileHandle.readDataToEndOfFile traps on
        // EINTR, which concurrent tests spawning processes can trigger.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("facerpc-python-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        guard let handle = try? FileHandle(forWritingTo: log) else { return (-1, "cannot create \(log.path)") }
        process.standardOutput = handle
        process.standardError = handle
        do { try process.run() } catch { return (-1, "\(error)") }
        process.waitUntilExit()
        try? handle.close()
        let data = (try? Data(contentsOf: log)) ?? Data()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Whether `python3 -c "import dlib"` works (dlib-bin installed).
    static let hasDlib: Bool = python(["-c", "import dlib, numpy, PIL"]).status == 0
    static let hasPIL: Bool = python(["-c", "import numpy, PIL"]).status == 0

    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("facerpc-image-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs scripts/image-dlib-reference.py and parses its reference.json.
    static func dlibReference(_ args: [String]) throws -> (json: [String: Any], dir: URL) {
        let dir = temporaryDirectory()
        let script = repoRoot.appendingPathComponent("scripts/image-dlib-reference.py").path
        let mode = args[0]
        let result = python([script, mode, args[1], dir.path] + args.dropFirst(2))
        guard result.status == 0 else { throw ReferenceError.scriptFailed(result.output) }
        let data = try Data(contentsOf: dir.appendingPathComponent("reference.json"))
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ReferenceError.scriptFailed("reference.json is not an object")
        }
        return (json, dir)
    }

    enum ReferenceError: Error { case scriptFailed(String) }

    /// Largest per-byte difference and the count of differing bytes.
    static func compare(_ a: [UInt8], _ b: [UInt8]) -> (maxDiff: Int, differing: Int) {
        precondition(a.count == b.count)
        var maxDiff = 0, differing = 0
        for i in 0..<a.count {
            let d = abs(Int(a[i]) - Int(b[i]))
            if d > 0 { differing += 1; maxDiff = max(maxDiff, d) }
        }
        return (maxDiff, differing)
    }

    static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        var se = 0.0
        for i in 0..<a.count { let d = Double(a[i]) - Double(b[i]); se += d * d }
        let mse = se / Double(a.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }
}
