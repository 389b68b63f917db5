internal import CFaceRPCProtos

// MARK: - TrainRequest

extension TrainRequest: CArenaBuildable {
    typealias CMessage = Facerpc__V1__TrainRequest
    static let protoName = "facerpc.v1.TrainRequest"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__train_request__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        task = TrainTask(rawValue: cEnumValue(m.task))
        data = try decodeString(m.data, field: "facerpc.v1.TrainRequest.data")
        validationData = try decodeString(m.validation_data, field: "facerpc.v1.TrainRequest.validation_data")
        validationFraction = m.validation_fraction
        optimizer = Optimizer(rawValue: cEnumValue(m.optimizer))
        steps = m.steps
        epochs = m.epochs
        batchSize = m.batch_size
        learningRate = m.learning_rate
        lrDecayRate = m.lr_decay_rate
        lrDecaySteps = m.lr_decay_steps
        momentum = m.momentum
        weightDecay = m.weight_decay
        clipNorm = m.clip_norm
        dropout = m.dropout
        checkpointEvery = m.checkpoint_every
        modelName = try decodeString(m.model_name, field: "facerpc.v1.TrainRequest.model_name")
        promote = m.promote != 0
        seed = m.seed
        threads = m.threads
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__train_request__init(c)
        c.pointee.task = cEnum(task.rawValue)
        c.pointee.data = arena.cString(data)
        c.pointee.validation_data = arena.cString(validationData)
        c.pointee.validation_fraction = validationFraction
        c.pointee.optimizer = cEnum(optimizer.rawValue)
        c.pointee.steps = steps
        c.pointee.epochs = epochs
        c.pointee.batch_size = batchSize
        c.pointee.learning_rate = learningRate
        c.pointee.lr_decay_rate = lrDecayRate
        c.pointee.lr_decay_steps = lrDecaySteps
        c.pointee.momentum = momentum
        c.pointee.weight_decay = weightDecay
        c.pointee.clip_norm = clipNorm
        c.pointee.dropout = dropout
        c.pointee.checkpoint_every = checkpointEvery
        c.pointee.model_name = arena.cString(modelName)
        c.pointee.promote = cBool(promote)
        c.pointee.seed = seed
        c.pointee.threads = threads
        return c
    }
}

// MARK: - TrainJobRequest

extension TrainJobRequest: CArenaBuildable {
    typealias CMessage = Facerpc__V1__TrainJobRequest
    static let protoName = "facerpc.v1.TrainJobRequest"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__train_job_request__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        jobID = try decodeString(c.pointee.job_id, field: "facerpc.v1.TrainJobRequest.job_id")
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__train_job_request__init(c)
        c.pointee.job_id = arena.cString(jobID)
        return c
    }
}

// MARK: - TrainStatus

extension TrainStatus: CArenaBuildable {
    typealias CMessage = Facerpc__V1__TrainStatus
    static let protoName = "facerpc.v1.TrainStatus"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__train_status__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        jobID = try decodeString(m.job_id, field: "facerpc.v1.TrainStatus.job_id")
        model = try decodeString(m.model, field: "facerpc.v1.TrainStatus.model")
        state = TrainState(rawValue: cEnumValue(m.state))
        step = m.step
        totalSteps = m.total_steps
        epoch = m.epoch
        loss = m.loss
        lossAvg = m.loss_avg
        trainAccuracy = m.train_accuracy
        valAccuracy = m.val_accuracy
        learningRate = m.learning_rate
        examplesPerSecond = m.examples_per_second
        etaSeconds = m.eta_seconds
        checkpoint = try decodeString(m.checkpoint, field: "facerpc.v1.TrainStatus.checkpoint")
        error = try decodeString(m.error, field: "facerpc.v1.TrainStatus.error")
        version = try decodeString(m.version, field: "facerpc.v1.TrainStatus.version")
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__train_status__init(c)
        c.pointee.job_id = arena.cString(jobID)
        c.pointee.model = arena.cString(model)
        c.pointee.state = cEnum(state.rawValue)
        c.pointee.step = step
        c.pointee.total_steps = totalSteps
        c.pointee.epoch = epoch
        c.pointee.loss = loss
        c.pointee.loss_avg = lossAvg
        c.pointee.train_accuracy = trainAccuracy
        c.pointee.val_accuracy = valAccuracy
        c.pointee.learning_rate = learningRate
        c.pointee.examples_per_second = examplesPerSecond
        c.pointee.eta_seconds = etaSeconds
        c.pointee.checkpoint = arena.cString(checkpoint)
        c.pointee.error = arena.cString(error)
        c.pointee.version = arena.cString(version)
        return c
    }
}
