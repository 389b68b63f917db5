internal import CFaceRPCProtos

// MARK: - RawImage

extension RawImage: CMessageBridged {
    typealias CMessage = Facerpc__V1__RawImage
    static let protoName = "facerpc.v1.RawImage"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__raw_image__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        width = c.pointee.width
        height = c.pointee.height
        stride = c.pointee.stride
        rgb = decodeBytes(c.pointee.rgb)
    }

    func withCMessage<R>(in arena: CArena, _ body: (UnsafePointer<CMessage>) -> R) -> R {
        var c = CMessage()
        facerpc__v1__raw_image__init(&c)
        c.width = width
        c.height = height
        c.stride = stride
        return withBinaryData(rgb) { rgb in
            c.rgb = rgb
            return withUnsafePointer(to: &c, body)
        }
    }
}

// MARK: - PredictOptions

extension PredictOptions: CArenaBuildable {
    typealias CMessage = Facerpc__V1__PredictOptions
    static let protoName = "facerpc.v1.PredictOptions"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__predict_options__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        ageModel = try decodeString(m.age_model, field: "facerpc.v1.PredictOptions.age_model")
        genderModel = try decodeString(m.gender_model, field: "facerpc.v1.PredictOptions.gender_model")
        faceCrop = m.face_crop != 0
        minFaceSize = m.min_face_size
        scoreThreshold = m.score_threshold
        includeDistributions = m.include_distributions != 0
        maxFaces = m.max_faces
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__predict_options__init(c)
        c.pointee.age_model = arena.cString(ageModel)
        c.pointee.gender_model = arena.cString(genderModel)
        c.pointee.face_crop = cBool(faceCrop)
        c.pointee.min_face_size = minFaceSize
        c.pointee.score_threshold = scoreThreshold
        c.pointee.include_distributions = cBool(includeDistributions)
        c.pointee.max_faces = maxFaces
        return c
    }
}

// MARK: - PredictRequest

extension PredictRequest: CMessageBridged {
    typealias CMessage = Facerpc__V1__PredictRequest
    static let protoName = "facerpc.v1.PredictRequest"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__predict_request__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        switch m.image_case {
        case FACERPC__V1__PREDICT_REQUEST__IMAGE_JPEG:
            image = .jpeg(decodeBytes(m.jpeg))
        case FACERPC__V1__PREDICT_REQUEST__IMAGE_RAW:
            // protobuf-c sets the case only with the sub-message present.
            image = .raw(try decodeSubmessage(m.raw) ?? RawImage())
        default:
            image = nil
        }
        options = try decodeSubmessage(m.options)
    }

    func withCMessage<R>(in arena: CArena, _ body: (UnsafePointer<CMessage>) -> R) -> R {
        var c = CMessage()
        facerpc__v1__predict_request__init(&c)
        c.options = options?.build(in: arena)
        switch image {
        case nil:
            return withUnsafePointer(to: &c, body)
        case .jpeg(let jpeg):
            return withBinaryData(jpeg) { jpeg in
                c.image_case = FACERPC__V1__PREDICT_REQUEST__IMAGE_JPEG
                c.jpeg = jpeg
                return withUnsafePointer(to: &c, body)
            }
        case .raw(let raw):
            return raw.withCMessage(in: arena) { raw in
                c.image_case = FACERPC__V1__PREDICT_REQUEST__IMAGE_RAW
                c.raw = UnsafeMutablePointer(mutating: raw)
                return withUnsafePointer(to: &c, body)
            }
        }
    }
}

// MARK: - Box

extension Box: CArenaBuildable {
    typealias CMessage = Facerpc__V1__Box
    static let protoName = "facerpc.v1.Box"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__box__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init(x: c.pointee.x, y: c.pointee.y, width: c.pointee.width, height: c.pointee.height)
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__box__init(c)
        c.pointee.x = x
        c.pointee.y = y
        c.pointee.width = width
        c.pointee.height = height
        return c
    }
}

// MARK: - Point

extension Point: CArenaBuildable {
    typealias CMessage = Facerpc__V1__Point
    static let protoName = "facerpc.v1.Point"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__point__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init(x: c.pointee.x, y: c.pointee.y)
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__point__init(c)
        c.pointee.x = x
        c.pointee.y = y
        return c
    }
}

// MARK: - AgeEstimate

extension AgeEstimate: CArenaBuildable {
    typealias CMessage = Facerpc__V1__AgeEstimate
    static let protoName = "facerpc.v1.AgeEstimate"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__age_estimate__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        years = m.years
        bucket = AgeBucket(rawValue: cEnumValue(m.bucket))
        confidence = m.confidence
        distribution = decodeArray(m.distribution, count: m.n_distribution)
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__age_estimate__init(c)
        c.pointee.years = years
        c.pointee.bucket = cEnum(bucket.rawValue)
        c.pointee.confidence = confidence
        c.pointee.n_distribution = distribution.count
        c.pointee.distribution = arena.array(distribution)
        return c
    }
}

// MARK: - GenderEstimate

extension GenderEstimate: CArenaBuildable {
    typealias CMessage = Facerpc__V1__GenderEstimate
    static let protoName = "facerpc.v1.GenderEstimate"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__gender_estimate__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        label = Gender(rawValue: cEnumValue(m.label))
        confidence = m.confidence
        distribution = decodeArray(m.distribution, count: m.n_distribution)
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__gender_estimate__init(c)
        c.pointee.label = cEnum(label.rawValue)
        c.pointee.confidence = confidence
        c.pointee.n_distribution = distribution.count
        c.pointee.distribution = arena.array(distribution)
        return c
    }
}

// MARK: - Face

extension Face: CArenaBuildable {
    typealias CMessage = Facerpc__V1__Face
    static let protoName = "facerpc.v1.Face"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__face__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        box = try decodeSubmessage(m.box)
        score = m.score
        landmarks = try decodeMessages(m.landmarks, count: m.n_landmarks)
        age = try decodeSubmessage(m.age)
        gender = try decodeSubmessage(m.gender)
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__face__init(c)
        c.pointee.box = box?.build(in: arena)
        c.pointee.score = score
        c.pointee.n_landmarks = landmarks.count
        c.pointee.landmarks = arena.messages(landmarks)
        c.pointee.age = age?.build(in: arena)
        c.pointee.gender = gender?.build(in: arena)
        return c
    }
}

// MARK: - Timings

extension Timings: CArenaBuildable {
    typealias CMessage = Facerpc__V1__Timings
    static let protoName = "facerpc.v1.Timings"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__timings__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        decodeMs = m.decode_ms
        detectMs = m.detect_ms
        alignMs = m.align_ms
        queueMs = m.queue_ms
        ageMs = m.age_ms
        genderMs = m.gender_ms
        totalMs = m.total_ms
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__timings__init(c)
        c.pointee.decode_ms = decodeMs
        c.pointee.detect_ms = detectMs
        c.pointee.align_ms = alignMs
        c.pointee.queue_ms = queueMs
        c.pointee.age_ms = ageMs
        c.pointee.gender_ms = genderMs
        c.pointee.total_ms = totalMs
        return c
    }
}

// MARK: - PredictResponse

extension PredictResponse: CArenaBuildable {
    typealias CMessage = Facerpc__V1__PredictResponse
    static let protoName = "facerpc.v1.PredictResponse"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__predict_response__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        faces = try decodeMessages(m.faces, count: m.n_faces)
        isHuman = m.is_human != 0
        timings = try decodeSubmessage(m.timings)
        imageWidth = m.image_width
        imageHeight = m.image_height
        ageModel = try decodeString(m.age_model, field: "facerpc.v1.PredictResponse.age_model")
        genderModel = try decodeString(m.gender_model, field: "facerpc.v1.PredictResponse.gender_model")
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__predict_response__init(c)
        c.pointee.n_faces = faces.count
        c.pointee.faces = arena.messages(faces)
        c.pointee.is_human = cBool(isHuman)
        c.pointee.timings = timings?.build(in: arena)
        c.pointee.image_width = imageWidth
        c.pointee.image_height = imageHeight
        c.pointee.age_model = arena.cString(ageModel)
        c.pointee.gender_model = arena.cString(genderModel)
        return c
    }
}
