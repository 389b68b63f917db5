// facerpc/v1/debug.proto: the debug service (off unless --enable-debug-service).

/// Holds a call in flight for `millis` milliseconds.
public struct SleepRequest: ProtoMessage, Hashable {
    /// How long the call takes, in milliseconds; the server allows at most 60000.
    public var millis: UInt32 = 0
    /// Returned unchanged in ``SleepResponse/echo``.
    public var echo: [UInt8] = []

    public init() {}

    public init(millis: UInt32, echo: [UInt8] = []) {
        self.millis = millis
        self.echo = echo
    }
}

/// The answer to ``SleepRequest``.
public struct SleepResponse: ProtoMessage, Hashable {
    public var echo: [UInt8] = []

    public init() {}
}
