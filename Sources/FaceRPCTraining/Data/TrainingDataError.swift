import FaceRPCCore

/// Why a dataset could not be loaded or an image could not be turned into a batch.
///
/// Every path in a message is relative to the data root (never the server's
/// absolute path), quoted, with control characters replaced and cut to
/// ``TrainingDataError/maxQuotedBytes`` bytes, so messages can go straight into
/// RPC error responses. ``statusCode`` says which status to send.
public enum TrainingDataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server's `--data-root` is missing, not a directory or unreadable.
    case invalidDataRoot(path: String, reason: String)
    /// A dataset path (or a path inside a CSV) is absolute; data paths are relative to the root.
    case absolutePath(String)
    /// The path leaves the data root: `..` above it, or a symbolic link whose target is outside.
    case outsideDataRoot(String)
    /// Nothing exists at the path (inside the root).
    case notFound(String)
    /// The path is malformed: empty, a NUL byte, longer than ``DataRoot/Limits/maxPathBytes``, a symlink loop, ...
    case invalidPath(path: String, reason: String)
    /// The path exists but is not a dataset (not a `.csv` file, or a folder with neither layout).
    case unsupportedLayout(path: String, reason: String)
    /// The CSV's structure is wrong (no header, missing column, over-long line); `line` is 1-based.
    case invalidCSV(path: String, line: Int, reason: String)
    /// A size limit was exceeded (CSV bytes, folder entries, examples, image bytes).
    case limitExceeded(path: String, reason: String)
    /// Too many rows or files were unusable (see ``Dataset/Limits``); `example` describes the first one.
    case tooManyBadRows(path: String, bad: Int, total: Int, example: String)
    /// The dataset has no usable example for the task.
    case emptyDataset(path: String, reason: String)
    /// The file exists but could not be read (permissions, I/O error, not a regular file).
    case unreadable(path: String, reason: String)
    /// An image could not be decoded.
    case badImage(path: String, reason: String)
    /// A parameter outside its documented range (batch size, workers, fraction, ...).
    case invalidArgument(String)
    /// ``BatchPipeline/next()`` was called on, or woken by, a closed pipeline.
    case pipelineClosed

    /// Longest path (in UTF-8 bytes) quoted in a message before it is cut with "...".
    public static let maxQuotedBytes = 256

    public var description: String {
        switch self {
        case .invalidDataRoot(let p, let r): return "data root \(Self.quote(p)) is not usable: \(r)"
        case .absolutePath(let p): return "data path \(Self.quote(p)) is absolute; give a path relative to the data root"
        case .outsideDataRoot(let p): return "data path \(Self.quote(p)) is outside the data root"
        case .notFound(let p): return "data path \(Self.quote(p)) does not exist"
        case .invalidPath(let p, let r): return "data path \(Self.quote(p)) is invalid: \(r)"
        case .unsupportedLayout(let p, let r): return "data path \(Self.quote(p)) is not a dataset: \(r)"
        case .invalidCSV(let p, let l, let r): return "CSV \(Self.quote(p)) line \(l): \(r)"
        case .limitExceeded(let p, let r): return "data path \(Self.quote(p)) exceeds a limit: \(r)"
        case .tooManyBadRows(let p, let b, let t, let e):
            return "dataset \(Self.quote(p)) has too many unusable entries (\(b) of \(t)); first: \(e)"
        case .emptyDataset(let p, let r): return "dataset \(Self.quote(p)) has no usable examples: \(r)"
        case .unreadable(let p, let r): return "cannot read \(Self.quote(p)): \(r)"
        case .badImage(let p, let r): return "image \(Self.quote(p)) cannot be used: \(r)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .pipelineClosed: return "the batch pipeline was closed"
        }
    }

    /// The RPC status for this error: the request named bad data (`INVALID_ARGUMENT`),
    /// a missing path (`NOT_FOUND`), a limit (`RESOURCE_EXHAUSTED`), a server
    /// misconfiguration (`FAILED_PRECONDITION`) or a cancelled pipeline (`CANCELLED`).
    public var statusCode: StatusCode {
        switch self {
        case .notFound: return .notFound
        case .limitExceeded: return .resourceExhausted
        case .invalidDataRoot: return .failedPrecondition
        case .pipelineClosed: return .cancelled
        case .absolutePath, .outsideDataRoot, .invalidPath, .unsupportedLayout, .invalidCSV, .tooManyBadRows,
             .emptyDataset, .unreadable, .badImage, .invalidArgument:
            return .invalidArgument
        }
    }

    /// `'path'` with control characters shown as `?` and long paths cut, so a
    /// hostile file name cannot forge log lines or bloat a response.
    static func quote(_ path: String) -> String {
        var out = ""
        var bytes = 0
        for scalar in path.unicodeScalars {
            let n = String(scalar).utf8.count
            if bytes + n > maxQuotedBytes { out += "..."; break }
            bytes += n
            out.unicodeScalars.append(scalar.properties.generalCategory == .control ? "?" : scalar)
        }
        return "'" + out + "'"
    }
}
