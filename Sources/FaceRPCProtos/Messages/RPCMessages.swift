// facerpc/v1/rpc.proto: the call envelope. Every frame on the wire carries
// exactly one envelope: RequestEnvelope from client to server,
// ResponseEnvelope back.

/// One key/value pair of call metadata (like a gRPC header).
///
/// Keys are lower-case ASCII; a call carries at most 64 entries, 8 KiB in all
/// (enforced by the wire layer, not by this codec).
public struct MetadataEntry: ProtoMessage, Hashable {
    public var key: String = ""
    public var value: String = ""

    public init() {}

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A call from client to server (`facerpc.v1.RequestEnvelope`).
public struct RequestEnvelope: ProtoMessage, Hashable {
    /// Chosen by the client, unique among its calls in flight on this
    /// connection; responses echo it. Must be > 0.
    public var callID: UInt64 = 0
    /// Full method path, e.g. `"/facerpc.v1.Health/Check"`.
    public var method: String = ""
    /// Relative deadline in microseconds from when the server reads the
    /// frame; 0 means no deadline (the server's default applies).
    public var timeoutMicros: UInt64 = 0
    public var metadata: [MetadataEntry] = []
    /// The encoded request message of the method.
    public var payload: [UInt8] = []
    /// When true, this frame cancels the call `callID` already in flight;
    /// `method` and `payload` are ignored.
    public var cancel: Bool = false

    public init() {}
}

/// The status of a finished call: a gRPC status code and a message.
public struct Status: ProtoMessage, Hashable {
    /// gRPC status code: 0 OK ... 16 UNAUTHENTICATED.
    public var code: UInt32 = 0
    public var message: String = ""

    public init() {}

    public init(code: UInt32, message: String = "") {
        self.code = code
        self.message = message
    }
}

/// A response (or one message of a server stream) from server to client
/// (`facerpc.v1.ResponseEnvelope`).
public struct ResponseEnvelope: ProtoMessage, Hashable {
    public var callID: UInt64 = 0
    /// Set on the last frame of a call (`endOfStream == true`); `nil` before.
    public var status: Status?
    /// The encoded response message; empty on a final frame that only
    /// carries status for a stream, or on an error.
    public var payload: [UInt8] = []
    /// True on the last frame of the call. Unary calls send exactly one frame.
    public var endOfStream: Bool = false
    public var trailers: [MetadataEntry] = []

    public init() {}
}
