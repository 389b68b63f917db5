#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file-system call failed; `reason` carries the call and strerror text.
public struct FileIOError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    /// `errno` when the failure came from a system call (ENOSPC tells a full disk).
    public var code: Int32

    public init(path: String, reason: String, code: Int32 = errno) {
        self.path = path; self.reason = reason; self.code = code
    }

    public var description: String { "\(path): \(reason)" }
}

/// Crash-safe whole-file replacement: readers see either the old file or the
/// new one, never a half-written one, and after return the new file survives
/// a power cut.
///
/// Foundation's `.atomic` write renames but does not fsync, so a crash right
/// after it can leave an empty file under the final name; hence this helper.
public enum AtomicFile {
    /// Writes `bytes` to a temporary file next to `path` (same directory, so
    /// the rename cannot cross file systems), fsyncs it, renames it over
    /// `path`, then fsyncs the directory so the rename itself is durable.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t = 0o644) throws {
        let directory = parentDirectory(of: path)
        let baseName = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        let temporary = "\(directory)/.\(baseName).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileIOError(path: temporary, reason: "cannot create: \(errnoString())") }
        var renamed = false
        defer {
            if !renamed { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            var offset = 0
            while offset < bytes.count {
                let n = systemWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileIOError(path: temporary, reason: "write failed: \(errnoString())")
                }
                offset += n
            }
            guard fsync(fd) == 0 else { throw FileIOError(path: temporary, reason: "fsync failed: \(errnoString())") }
        }
        guard rename(temporary, path) == 0 else {
            throw FileIOError(path: path, reason: "rename failed: \(errnoString())")
        }
        renamed = true
        syncDirectory(directory)
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write($0, to: path) }
    }

    /// Creates `path` and its missing parents (mode 0755).
    public static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw FileIOError(path: current, reason: "cannot create directory: \(errnoString())")
            }
        }
    }

    /// Best effort: some file systems refuse fsync on directories.
    public static func syncDirectory(_ directory: String) {
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func errnoString() -> String {
        let code = errno
        return "\(String(cString: strerror(code))) (errno \(code))"
    }
}

/// `write(2)`, named apart from the `write` methods above.
@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.write(fd, buffer, count)
    #elseif canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Musl.write(fd, buffer, count)
    #endif
}
