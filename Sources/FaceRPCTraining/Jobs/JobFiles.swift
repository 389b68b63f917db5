import FaceRPCCore
import Foundation

/// The state directory's layout:
///
/// ```
/// STATE/jobs/<job id>/job.json          spec + last persisted progress
///                     checkpoints/      step-000001000.ckpt …
///                     curve.jsonl       one CurvePoint per step
///                     report.json       evaluation, once succeeded
/// ```
enum JobFiles {
    static func jobsDirectory(state: String) -> String { state + "/jobs" }

    static func stateRoot(ofJobDirectory directory: String) -> String {
        // STATE/jobs/<id> → STATE
        var parts = directory.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(min(2, parts.count))
        return parts.joined(separator: "/")
    }

    /// Job ids are folder names: short, and no path syntax.
    static func isValidJobID(_ id: String) -> Bool { FolderNames.isPathSafeIdentifier(id) }

    static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(value)
        data.append(0x0a)
        try AtomicFile.write(Array(data), to: path)
    }

    /// Files this server wrote; the limit only guards against a damaged disk.
    static let maxJSONBytes = 64 << 20

    static func readJSON<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileIOError(path: path, reason: "cannot stat: \(AtomicFile.errnoString())") }
        guard Int(info.st_size) <= maxJSONBytes else { throw FileIOError(path: path, reason: "larger than \(maxJSONBytes) bytes", code: 0) }
        guard let data = FileManager.default.contents(atPath: path) else { throw FileIOError(path: path, reason: "cannot read") }
        return try JSONDecoder().decode(T.self, from: data)
    }
}

/// `job.json`: what a restarted server needs to list and resume the job.
struct JobRecord: Codable, Sendable {
    var spec: TrainingJobSpec
    var progress: TrainingProgress
    /// Unix seconds; orders jobs for "the newest".
    var createdAt: Double
}
