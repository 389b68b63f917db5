#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared secret that callers present as `authorization: Bearer <token>`
/// metadata (gRPC's convention), checked in constant time.
///
/// The server reads it from a file (`facerpc serve --auth-token-file`), so it
/// never appears in a process listing; clients read the same file
/// (`--token-file`).
public struct AuthToken: Sendable {
    public enum Limits {
        /// Shorter secrets are guessable; refuse them at start-up.
        public static let minBytes = 16
        /// A token file is a line, not a blob.
        public static let maxBytes = 4096
    }

    /// The metadata key carrying the token.
    public static let metadataKey = "authorization"
    static let scheme = "Bearer "

    private let secret: [UInt8]

    /// - Parameter text: the token; surrounding white space (a trailing newline) is dropped.
    /// - Throws: ``ConfigurationError`` when it is shorter than ``Limits/minBytes``,
    ///   longer than ``Limits/maxBytes``, or holds non-printable bytes.
    public init(_ text: String) throws(ConfigurationError) {
        let bytes = Array(text.utf8.drop { $0 <= 0x20 }.reversed().drop { $0 <= 0x20 }.reversed())
        guard bytes.count >= Limits.minBytes else {
            throw ConfigurationError("auth token is \(bytes.count) bytes; at least \(Limits.minBytes) are required")
        }
        guard bytes.count <= Limits.maxBytes else {
            throw ConfigurationError("auth token is longer than \(Limits.maxBytes) bytes")
        }
        guard bytes.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            throw ConfigurationError("auth token must be printable ASCII without spaces")
        }
        secret = bytes
    }

    /// Reads a token file, refusing files over ``Limits/maxBytes`` before reading them.
    public init(contentsOfFile path: String) throws(ConfigurationError) {
        guard let file = fopen(path, "r") else {
            throw ConfigurationError("cannot read auth token file \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: Limits.maxBytes + 2)
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        guard count <= Limits.maxBytes + 1 else { throw ConfigurationError("auth token file \(path) is larger than \(Limits.maxBytes) bytes") }
        try self.init(String(decoding: buffer[..<count], as: UTF8.self))
    }

    /// The metadata a client sends.
    public var metadata: MetadataItem { .bearer(String(decoding: secret, as: UTF8.self)) }

    /// True when an `authorization` value is `Bearer <this token>`. Takes the
    /// same time for every wrong token of a given length, so timing does not
    /// reveal how many leading bytes were right.
    public func accepts(authorization value: String?) -> Bool {
        guard let value else { return false }
        let presented = Array(value.utf8)
        let prefix = Array(Self.scheme.utf8)
        guard presented.count == prefix.count + secret.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<prefix.count { difference |= presented[i] ^ prefix[i] }
        for i in 0..<secret.count { difference |= presented[prefix.count + i] ^ secret[i] }
        return difference == 0
    }
}

extension MetadataItem {
    /// `authorization: Bearer <token>`.
    public static func bearer(_ token: String) -> MetadataItem {
        MetadataItem(key: AuthToken.metadataKey, value: AuthToken.scheme + token)
    }
}
