internal import CFaceRPCProtos

// MARK: - SleepRequest

extension SleepRequest: CMessageBridged {
    typealias CMessage = Facerpc__V1__SleepRequest
    static let protoName = "facerpc.v1.SleepRequest"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__sleep_request__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        millis = c.pointee.millis
        echo = decodeBytes(c.pointee.echo)
    }

    func withCMessage<R>(in arena: CArena, _ body: (UnsafePointer<CMessage>) -> R) -> R {
        var c = CMessage()
        facerpc__v1__sleep_request__init(&c)
        c.millis = millis
        return withBinaryData(echo) { echo in
            c.echo = echo
            return withUnsafePointer(to: &c, body)
        }
    }
}

// MARK: - SleepResponse

extension SleepResponse: CMessageBridged {
    typealias CMessage = Facerpc__V1__SleepResponse
    static let protoName = "facerpc.v1.SleepResponse"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__sleep_response__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        echo = decodeBytes(c.pointee.echo)
    }

    func withCMessage<R>(in arena: CArena, _ body: (UnsafePointer<CMessage>) -> R) -> R {
        var c = CMessage()
        facerpc__v1__sleep_response__init(&c)
        return withBinaryData(echo) { echo in
            c.echo = echo
            return withUnsafePointer(to: &c, body)
        }
    }
}
