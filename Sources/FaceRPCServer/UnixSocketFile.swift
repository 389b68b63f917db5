#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FaceRPCCore

/// The socket file's life: making room for it without clobbering a live
/// server, and giving it the right owner and mode.
enum UnixSocketFile {
    /// Creates the default folder (mode 0700) and removes a stale socket file.
    /// A live server on `path`, or a file that is not a socket, is an error.
    static func prepare(path: String, isDefault: Bool) throws(ConfigurationError) {
        if isDefault, let slash = path.lastIndex(of: "/") {
            let folder = String(path[..<slash])
            if mkdir(folder, 0o700) != 0 && errno != EEXIST {
                throw ConfigurationError("cannot create \(folder): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // nothing there
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw ConfigurationError("\(path) exists and is not a socket; refusing to replace it")
        }
        if isListening(path: path) {
            throw ConfigurationError("another server is already listening on unix:\(path)")
        }
        guard unlink(path) == 0 else {
            throw ConfigurationError("cannot remove stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Mode 0600, or 0660 with the socket's group set to `group`.
    static func setPermissions(path: String, group: String?) throws(ConfigurationError) {
        var mode: mode_t = 0o600
        if let group {
            guard let entry = getgrnam(group) else { throw ConfigurationError("unknown group '\(group)'") }
            guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else {
                throw ConfigurationError("cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
            }
            mode = 0o660
        }
        guard chmod(path, mode) == 0 else {
            throw ConfigurationError("cannot chmod \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether something accepts connections on the socket at `path`.
    static func isListening(path: String) -> Bool {
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
