internal import CFaceRPCProtos

// MARK: - MetadataEntry

extension MetadataEntry: CArenaBuildable {
    typealias CMessage = Facerpc__V1__MetadataEntry
    static let protoName = "facerpc.v1.MetadataEntry"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__metadata_entry__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        key = try decodeString(c.pointee.key, field: "facerpc.v1.MetadataEntry.key")
        value = try decodeString(c.pointee.value, field: "facerpc.v1.MetadataEntry.value")
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__metadata_entry__init(c)
        c.pointee.key = arena.cString(key)
        c.pointee.value = arena.cString(value)
        return c
    }
}

// MARK: - RequestEnvelope

extension RequestEnvelope: CMessageBridged {
    typealias CMessage = Facerpc__V1__RequestEnvelope
    static let protoName = "facerpc.v1.RequestEnvelope"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__request_envelope__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        callID = m.call_id
        method = try decodeString(m.method, field: "facerpc.v1.RequestEnvelope.method")
        timeoutMicros = m.timeout_micros
        metadata = try decodeMessages(m.metadata, count: m.n_metadata)
        payload = decodeBytes(m.payload)
        cancel = m.cancel != 0
    }

    func withCMessage<R>(in arena: CArena, _ body: (UnsafePointer<CMessage>) -> R) -> R {
        var c = CMessage()
        facerpc__v1__request_envelope__init(&c)
        c.call_id = callID
        c.method = arena.cString(method)
        c.timeout_micros = timeoutMicros
        c.n_metadata = metadata.count
        c.metadata = arena.messages(metadata)
        c.cancel = cBool(cancel)
        return withBinaryData(payload) { payload in
            c.payload = payload
            return withUnsafePointer(to: &c, body)
        }
    }
}

// MARK: - Status

extension Status: CArenaBuildable {
    typealias CMessage = Facerpc__V1__Status
    static let protoName = "facerpc.v1.Status"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__status__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        code = c.pointee.code
        message = try decodeString(c.pointee.message, field: "facerpc.v1.Status.message")
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__status__init(c)
        c.pointee.code = code
        c.pointee.message = arena.cString(message)
        return c
    }
}

// MARK: - ResponseEnvelope

extension ResponseEnvelope: CMessageBridged {
    typealias CMessage = Facerpc__V1__ResponseEnvelope
    static let protoName = "facerpc.v1.ResponseEnvelope"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__response_envelope__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        callID = m.call_id
        status = try decodeSubmessage(m.status)
        payload = decodeBytes(m.payload)
        endOfStream = m.end_of_stream != 0
        trailers = try decodeMessages(m.trailers, count: m.n_trailers)
    }

    func withCMessage<R>(in arena: CArena, _ body: (UnsafePointer<CMessage>) -> R) -> R {
        var c = CMessage()
        facerpc__v1__response_envelope__init(&c)
        c.call_id = callID
        c.status = status?.build(in: arena)
        c.end_of_stream = cBool(endOfStream)
        c.n_trailers = trailers.count
        c.trailers = arena.messages(trailers)
        return withBinaryData(payload) { payload in
            c.payload = payload
            return withUnsafePointer(to: &c, body)
        }
    }
}
