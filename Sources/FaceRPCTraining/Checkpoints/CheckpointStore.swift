import FaceRPCCore
import Foundation

/// The checkpoints of one job: `DIR/step-000001000.ckpt`, newest last, at most
/// ``keep`` of them.
public struct CheckpointStore: Sendable {
    public let directory: String
    /// How many checkpoints survive a save (the newest ones); at least 1.
    public let keep: Int

    public init(directory: String, keep: Int = 3) {
        self.directory = directory
        self.keep = max(1, keep)
    }

    /// The file name for a step; zero-padded so names sort by step.
    public static func fileName(step: Int) -> String {
        let digits = String(step)
        return "step-" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits + ".ckpt"
    }

    /// Writes atomically, then removes the oldest files beyond ``keep``. A
    /// failed write leaves every earlier checkpoint as it was.
    /// - Returns: the path written.
    @discardableResult
    public func save(_ checkpoint: Checkpoint) throws(CheckpointError) -> String {
        do { try AtomicFile.makeDirectories(directory) } catch let error as FileIOError { throw .io(error) } catch {
            throw .io(FileIOError(path: directory, reason: "\(error)", code: 0))
        }
        let path = directory + "/" + Self.fileName(step: checkpoint.header.step)
        try CheckpointFile.write(checkpoint, to: path)
        for (_, old) in steps().dropLast(keep) { unlink(old) }
        return path
    }

    /// `(step, path)` of every checkpoint file, oldest first (not verified).
    public func steps() -> [(step: Int, path: String)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("step-"), name.hasSuffix(".ckpt") else { return nil }
            guard let step = Int(name.dropFirst(5).dropLast(5)) else { return nil }
            return (step, directory + "/" + name)
        }.sorted { $0.0 < $1.0 }
    }

    /// The newest checkpoint that reads and verifies, and the ones skipped on
    /// the way (newer but torn or corrupt), each with why.
    public func latestValid() -> (checkpoint: Checkpoint, path: String)?  {
        latestValidReportingSkipped().latest
    }

    public func latestValidReportingSkipped() -> (latest: (checkpoint: Checkpoint, path: String)?, skipped: [CheckpointError]) {
        var skipped: [CheckpointError] = []
        for (_, path) in steps().reversed() {
            do {
                return ((try CheckpointFile.read(path: path), path), skipped)
            } catch {
                skipped.append(error)
            }
        }
        return (nil, skipped)
    }
}
