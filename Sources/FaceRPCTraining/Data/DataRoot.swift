/// The server's `--data-root`: the one folder training may read. Every dataset
/// path a request names, and every image path listed in a CSV or found in a
/// folder, is resolved through it.
///
/// Confinement rules (see docs/TRAINING-DATA.md):
/// - paths are relative to the root; absolute paths are refused;
/// - a path may not contain a NUL byte or be longer than ``Limits/maxPathBytes``;
/// - `..` may not climb above the root, checked on the text before the file
///   system is touched, so nothing outside is even probed for existence;
/// - after every symbolic link is resolved (`realpath`), the result must still
///   be the root or inside it. A link inside the root that points elsewhere
///   inside the root is fine; one whose target leaves the root is refused.
/// Errors name the path in its relative form, never the root's absolute path.
public struct DataRoot: Sendable {
    public enum Limits {
        /// Longest path accepted, in UTF-8 bytes (a request's dataset path or a
        /// path inside a CSV). Far below PATH_MAX so that root + path fits.
        public static let maxPathBytes = 1024
    }

    /// The root's real path (absolute, symbolic links resolved, no trailing `/`).
    public let path: String

    /// - Throws: ``TrainingDataError/invalidDataRoot(path:reason:)`` when `path`
    ///   does not exist, is not a directory or cannot be resolved.
    public init(path: String) throws {
        guard !path.isEmpty, !path.utf8.contains(0) else {
            throw TrainingDataError.invalidDataRoot(path: path, reason: "empty path or NUL byte")
        }
        switch FileAccess.realPath(path) {
        case .failure(let e):
            throw TrainingDataError.invalidDataRoot(path: path, reason: e.message)
        case .success(let real):
            guard FileAccess.targetKind(real) == .directory else {
                throw TrainingDataError.invalidDataRoot(path: path, reason: "not a directory")
            }
            self.path = real
        }
    }

    /// Resolves `relative` (a path relative to the root) to its real absolute path.
    ///
    /// `"."` names the root itself.
    /// - Throws: ``TrainingDataError/absolutePath(_:)``, ``TrainingDataError/outsideDataRoot(_:)``,
    ///   ``TrainingDataError/notFound(_:)``, ``TrainingDataError/invalidPath(path:reason:)``,
    ///   ``TrainingDataError/unreadable(path:reason:)``; all name `relative`.
    public func resolve(_ relative: String) throws -> String {
        try Self.checkSyntax(relative, display: relative)
        guard !Self.climbsAbove(relative) else { throw TrainingDataError.outsideDataRoot(relative) }
        return try confine(path + "/" + relative, display: relative)
    }

    /// Resolves `entry`, a path found inside the dataset at `folder` (a real
    /// path inside the root, e.g. the CSV's folder), with the same rules as
    /// ``resolve(_:)``. Errors name the entry relative to the root.
    func resolve(_ entry: String, inFolder folder: String) throws -> String {
        let base = relativePath(of: folder)
        let display = base.isEmpty ? entry : base + "/" + entry
        try Self.checkSyntax(entry, display: entry.hasPrefix("/") ? entry : display)
        guard !Self.climbsAbove(display) else { throw TrainingDataError.outsideDataRoot(display) }
        return try confine(folder + "/" + entry, display: display)
    }

    /// `absolute` relative to the root (`""` for the root itself); a path
    /// outside the root comes back unchanged.
    public func relativePath(of absolute: String) -> String {
        if absolute == path { return "" }
        let prefix = path == "/" ? "/" : path + "/"
        return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : absolute
    }

    /// Whether the real path `real` is the root or below it.
    func contains(_ real: String) -> Bool {
        if path == "/" { return real.hasPrefix("/") }
        return real == path || real.hasPrefix(path + "/")
    }

    /// realpath + containment.
    func confine(_ candidate: String, display: String) throws -> String {
        switch FileAccess.realPath(candidate) {
        case .success(let real):
            guard contains(real) else { throw TrainingDataError.outsideDataRoot(display) }
            return real
        case .failure(let e):
            if e.isMissing { throw TrainingDataError.notFound(display) }
            throw TrainingDataError.invalidPath(path: display, reason: e.message)
        }
    }

    static func checkSyntax(_ path: String, display: String) throws {
        if path.isEmpty { throw TrainingDataError.invalidPath(path: display, reason: "the path is empty") }
        if path.utf8.contains(0) {
            throw TrainingDataError.invalidPath(path: display, reason: "the path contains a NUL byte")
        }
        if path.utf8.count > Limits.maxPathBytes {
            throw TrainingDataError.invalidPath(
                path: display, reason: "the path has \(path.utf8.count) bytes; the limit is \(Limits.maxPathBytes)")
        }
        if path.hasPrefix("/") { throw TrainingDataError.absolutePath(display) }
    }

    /// Whether the text of `relative` climbs above its starting folder with `..`.
    static func climbsAbove(_ relative: String) -> Bool {
        var depth = 0
        for component in relative.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                depth -= 1
                if depth < 0 { return true }
            } else {
                depth += 1
            }
        }
        return false
    }
}
