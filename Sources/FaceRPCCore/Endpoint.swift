#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a server listens or a client connects: `unix:PATH` or `tcp:HOST:PORT`.
public enum Endpoint: Hashable, Sendable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    /// Longest Unix socket path: `sun_path` holds 108 bytes including the NUL on Linux.
    public static let maxUnixPathBytes = 107

    /// The TCP port used when `--tcp` is given without one and for the default listener.
    public static let defaultTCPPort = 7730

    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port):
            return host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
        }
    }

    /// Parses `HOST:PORT`, `[V6]:PORT` or a bare `HOST` (default port).
    public static func parseTCP(_ text: String) throws(ConfigurationError) -> Endpoint {
        var host = text
        var port = defaultTCPPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ConfigurationError("bad TCP address '\(text)': missing ']'") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let p = Int(rest.dropFirst()) else { throw ConfigurationError("bad TCP port in '\(text)'") }
                port = p
            } else if !rest.isEmpty {
                throw ConfigurationError("bad TCP address '\(text)'")
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]) else { throw ConfigurationError("bad TCP port in '\(text)'") }
            port = p
        }
        guard !host.isEmpty else { throw ConfigurationError("bad TCP address '\(text)': empty host") }
        guard (0...65535).contains(port) else { throw ConfigurationError("TCP port \(port) out of range 0...65535") }
        return .tcp(host: host, port: port)
    }

    /// Validates a Unix socket path against `sun_path`'s size.
    public static func unixPath(_ path: String) throws(ConfigurationError) -> Endpoint {
        guard !path.isEmpty else { throw ConfigurationError("empty Unix socket path") }
        guard path.utf8.count <= maxUnixPathBytes else {
            throw ConfigurationError("Unix socket path is \(path.utf8.count) bytes; the limit is \(maxUnixPathBytes)")
        }
        return .unix(path: path)
    }

    /// True for 127.0.0.0/8, ::1 and `localhost`: addresses only this machine can reach.
    public var isLoopback: Bool {
        switch self {
        case .unix: return true
        case .tcp(let host, _):
            if host == "localhost" || host == "::1" { return true }
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
        }
    }

    /// The Unix socket the server uses when no address is given:
    /// `$XDG_RUNTIME_DIR/facerpc/facerpc.sock` when XDG_RUNTIME_DIR is set,
    /// otherwise `/tmp/facerpc-<uid>/facerpc.sock`. The folder is created mode 0700.
    public static var defaultUnixPath: String {
        if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty {
            return runtime + "/facerpc/facerpc.sock"
        }
        return "/tmp/facerpc-\(getuid())/facerpc.sock"
    }
}
