/// The failure of one call: a status code, a message for the caller, and an
/// optional underlying cause that is logged but never sent on the wire.
///
/// Everything that goes wrong inside a call ends as an `RPCError`; errors that
/// stop the server from starting are ``ConfigurationError`` instead.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    public var cause: (any Error)?

    public init(code: StatusCode, message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(code.name): \(message) (cause: \(cause))" }
        return "\(code.name): \(message)"
    }

    public static func invalidArgument(_ message: String, cause: (any Error)? = nil) -> RPCError {
        RPCError(code: .invalidArgument, message: message, cause: cause)
    }
    public static func resourceExhausted(_ message: String) -> RPCError {
        RPCError(code: .resourceExhausted, message: message)
    }
    public static func unimplemented(_ message: String) -> RPCError {
        RPCError(code: .unimplemented, message: message)
    }
    public static func unavailable(_ message: String) -> RPCError {
        RPCError(code: .unavailable, message: message)
    }
    public static func deadlineExceeded(_ message: String = "deadline exceeded") -> RPCError {
        RPCError(code: .deadlineExceeded, message: message)
    }
    public static func notFound(_ message: String) -> RPCError {
        RPCError(code: .notFound, message: message)
    }
    public static func internalError(_ message: String, cause: (any Error)? = nil) -> RPCError {
        RPCError(code: .internalError, message: message, cause: cause)
    }
}

/// An error that stops the server or a command from starting: a bad flag, an
/// address already in use, a socket path that is too long. Never sent on the wire.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
