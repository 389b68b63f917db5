internal import CFaceRPCProtos

// MARK: - ListModelsRequest

extension ListModelsRequest: CArenaBuildable {
    typealias CMessage = Facerpc__V1__ListModelsRequest
    static let protoName = "facerpc.v1.ListModelsRequest"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__list_models_request__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__list_models_request__init(c)
        return c
    }
}

// MARK: - ModelInfo

extension ModelInfo: CArenaBuildable {
    typealias CMessage = Facerpc__V1__ModelInfo
    static let protoName = "facerpc.v1.ModelInfo"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__model_info__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        name = try decodeString(m.name, field: "facerpc.v1.ModelInfo.name")
        task = try decodeString(m.task, field: "facerpc.v1.ModelInfo.task")
        architecture = try decodeString(m.architecture, field: "facerpc.v1.ModelInfo.architecture")
        version = try decodeString(m.version, field: "facerpc.v1.ModelInfo.version")
        state = ModelState(rawValue: cEnumValue(m.state))
        error = try decodeString(m.error, field: "facerpc.v1.ModelInfo.error")
        inputWidth = m.input_width
        inputHeight = m.input_height
        inputChannels = m.input_channels
        labels = try decodeStrings(m.labels, count: m.n_labels, field: "facerpc.v1.ModelInfo.labels")
        source = try decodeString(m.source, field: "facerpc.v1.ModelInfo.source")
        parameters = m.parameters
        sha256 = try decodeString(m.sha256, field: "facerpc.v1.ModelInfo.sha256")
        mean = decodeArray(m.mean, count: m.n_mean)
        scale = m.scale
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__model_info__init(c)
        c.pointee.name = arena.cString(name)
        c.pointee.task = arena.cString(task)
        c.pointee.architecture = arena.cString(architecture)
        c.pointee.version = arena.cString(version)
        c.pointee.state = cEnum(state.rawValue)
        c.pointee.error = arena.cString(error)
        c.pointee.input_width = inputWidth
        c.pointee.input_height = inputHeight
        c.pointee.input_channels = inputChannels
        c.pointee.n_labels = labels.count
        c.pointee.labels = arena.cStrings(labels)
        c.pointee.source = arena.cString(source)
        c.pointee.parameters = parameters
        c.pointee.sha256 = arena.cString(sha256)
        c.pointee.n_mean = mean.count
        c.pointee.mean = arena.array(mean)
        c.pointee.scale = scale
        return c
    }
}

// MARK: - ListModelsResponse

extension ListModelsResponse: CArenaBuildable {
    typealias CMessage = Facerpc__V1__ListModelsResponse
    static let protoName = "facerpc.v1.ListModelsResponse"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__list_models_response__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        models = try decodeMessages(c.pointee.models, count: c.pointee.n_models)
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__list_models_response__init(c)
        c.pointee.n_models = models.count
        c.pointee.models = arena.messages(models)
        return c
    }
}
