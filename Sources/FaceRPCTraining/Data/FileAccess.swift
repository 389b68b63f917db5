#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// The POSIX calls the data layer needs, with the data root's confinement in
/// mind: listings and reads are bounded before memory is committed, and reads
/// refuse a final symbolic link (`O_NOFOLLOW`) so a file swapped for a link
/// after the dataset was checked is not followed out of the root.
enum FileAccess {
    enum Kind: Equatable { case regular, directory, symlink, other, missing }

    // st_mode type bits; the same values on Linux and Darwin.
    private static let typeMask: UInt32 = 0o170000
    private static let regularBits: UInt32 = 0o100000
    private static let directoryBits: UInt32 = 0o040000
    private static let symlinkBits: UInt32 = 0o120000

    private static func kind(mode: UInt32) -> Kind {
        switch mode & typeMask {
        case regularBits: return .regular
        case directoryBits: return .directory
        case symlinkBits: return .symlink
        default: return .other
        }
    }

    /// The type of `path` itself (a symbolic link is reported as `.symlink`).
    static func linkKind(_ path: String) -> Kind {
        var st = stat()
        guard lstat(path, &st) == 0 else { return .missing }
        return kind(mode: UInt32(st.st_mode))
    }

    /// The type of what `path` finally names (links followed).
    static func targetKind(_ path: String) -> Kind {
        var st = stat()
        guard stat(path, &st) == 0 else { return .missing }
        return kind(mode: UInt32(st.st_mode))
    }

    /// `realpath(3)`: the absolute path with every link, `.` and `..` resolved, or the errno.
    static func realPath(_ path: String) -> Result<String, Errno> {
        guard let resolved = realpath(path, nil) else { return .failure(Errno(errno)) }
        defer { free(resolved) }
        return .success(String(cString: resolved))
    }

    struct Errno: Error, Equatable {
        var code: Int32
        init(_ code: Int32) { self.code = code }
        var message: String { String(cString: strerror(code)) }
        var isMissing: Bool { code == ENOENT || code == ENOTDIR }
    }

    /// Reads a whole regular file of at most `maxBytes` bytes. The size is
    /// checked with `fstat` on the open descriptor before the buffer is allocated.
    static func readFile(_ path: String, maxBytes: Int, display: String) throws -> [UInt8] {
        // O_NONBLOCK: a FIFO swapped in for an image must not hang a worker in open();
        // fstat then refuses it as not a regular file.
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let e = Errno(errno)
            if e.isMissing { throw TrainingDataError.notFound(display) }
            if e.code == ELOOP { throw TrainingDataError.unreadable(path: display, reason: "it became a symbolic link") }
            throw TrainingDataError.unreadable(path: display, reason: e.message)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TrainingDataError.unreadable(path: display, reason: Errno(errno).message) }
        guard kind(mode: UInt32(st.st_mode)) == .regular else {
            throw TrainingDataError.unreadable(path: display, reason: "not a regular file")
        }
        let size = Int(st.st_size)
        guard size <= maxBytes else {
            throw TrainingDataError.limitExceeded(path: display, reason: "the file has \(size) bytes; the limit is \(maxBytes)")
        }
        var total = 0
        var failure: Errno?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            while total < size {
                let n = read(fd, buffer.baseAddress! + total, size - total)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = Errno(errno)
                    break
                }
                if n == 0 { break }  // the file shrank while being read
                total += n
            }
            initialized = total
        }
        if let failure { throw TrainingDataError.unreadable(path: display, reason: failure.message) }
        return bytes
    }

    /// The names in directory `path` (without `.` and `..`), sorted by their
    /// UTF-8 bytes so that the order never depends on the file system. Reading
    /// stops with ``TrainingDataError/limitExceeded(path:reason:)`` past
    /// `maxEntries`. Names that are not valid UTF-8 are left out and counted.
    static func listDirectory(_ path: String, maxEntries: Int, display: String) throws -> (names: [String], invalid: Int) {
        guard let dir = opendir(path) else {
            let e = Errno(errno)
            if e.isMissing { throw TrainingDataError.notFound(display) }
            throw TrainingDataError.unreadable(path: display, reason: e.message)
        }
        defer { closedir(dir) }
        var names: [String] = []
        var invalid = 0
        var seen = 0
        while let entry = readdir(dir) {
            let name: String? = withUnsafePointer(to: &entry.pointee.d_name) { raw in
                raw.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(validatingCString: $0)
                }
            }
            if name == "." || name == ".." { continue }
            seen += 1
            guard seen <= maxEntries else {
                throw TrainingDataError.limitExceeded(path: display, reason: "the folder has more than \(maxEntries) entries")
            }
            if let name { names.append(name) } else { invalid += 1 }
        }
        names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return (names, invalid)
    }
}
