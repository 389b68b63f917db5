internal import CFaceRPCProtos

// MARK: - HealthCheckRequest

extension HealthCheckRequest: CArenaBuildable {
    typealias CMessage = Facerpc__V1__HealthCheckRequest
    static let protoName = "facerpc.v1.HealthCheckRequest"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__health_check_request__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        service = try decodeString(c.pointee.service, field: "facerpc.v1.HealthCheckRequest.service")
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__health_check_request__init(c)
        c.pointee.service = arena.cString(service)
        return c
    }
}

// MARK: - HealthCheckResponse

extension HealthCheckResponse: CArenaBuildable {
    typealias CMessage = Facerpc__V1__HealthCheckResponse
    static let protoName = "facerpc.v1.HealthCheckResponse"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__health_check_response__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        status = ServingStatus(rawValue: cEnumValue(c.pointee.status))
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__health_check_response__init(c)
        c.pointee.status = cEnum(status.rawValue)
        return c
    }
}
