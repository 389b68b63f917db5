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

// MARK: - ClassMetrics

extension ClassMetrics: CArenaBuildable {
    typealias CMessage = Facerpc__V1__ClassMetrics
    static let protoName = "facerpc.v1.ClassMetrics"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__class_metrics__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        label = try decodeString(m.label, field: "facerpc.v1.ClassMetrics.label")
        precision = m.precision
        recall = m.recall
        f1 = m.f1
        support = m.support
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__class_metrics__init(c)
        c.pointee.label = arena.cString(label)
        c.pointee.precision = precision
        c.pointee.recall = recall
        c.pointee.f1 = f1
        c.pointee.support = support
        return c
    }
}

// MARK: - TrainCurvePoint

extension TrainCurvePoint: CArenaBuildable {
    typealias CMessage = Facerpc__V1__TrainCurvePoint
    static let protoName = "facerpc.v1.TrainCurvePoint"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__train_curve_point__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        step = m.step
        loss = m.loss
        lossAvg = m.loss_avg
        trainAccuracy = m.train_accuracy
        valAccuracy = m.val_accuracy
        learningRate = m.learning_rate
        epoch = m.epoch
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__train_curve_point__init(c)
        c.pointee.step = step
        c.pointee.loss = loss
        c.pointee.loss_avg = lossAvg
        c.pointee.train_accuracy = trainAccuracy
        c.pointee.val_accuracy = valAccuracy
        c.pointee.learning_rate = learningRate
        c.pointee.epoch = epoch
        return c
    }
}

// MARK: - TrainReport

extension TrainReport: CArenaBuildable {
    typealias CMessage = Facerpc__V1__TrainReport
    static let protoName = "facerpc.v1.TrainReport"

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) {
        self = try decodeMessage(bytes)
    }

    public func serializedBytes() -> [UInt8] { encodeMessage(self) }

    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        facerpc__v1__train_report__unpack(allocator, count, data)
    }

    init(cMessage c: UnsafePointer<CMessage>) throws(ProtoDecodingError) {
        self.init()
        let m = c.pointee
        status = try decodeSubmessage(m.status)
        task = TrainTask(rawValue: cEnumValue(m.task))
        examples = m.examples
        accuracy = m.accuracy
        oneOffAccuracy = m.one_off_accuracy
        labels = try decodeStrings(m.labels, count: m.n_labels, field: "facerpc.v1.TrainReport.labels")
        confusion = decodeArray(m.confusion, count: m.n_confusion)
        classes = try decodeMessages(m.classes, count: m.n_classes)
        macroF1 = m.macro_f1
        baselineAccuracy = m.baseline_accuracy
        curve = try decodeMessages(m.curve, count: m.n_curve)
    }

    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage> {
        let c = arena.new(CMessage.self)
        facerpc__v1__train_report__init(c)
        c.pointee.status = status?.build(in: arena)
        c.pointee.task = cEnum(task.rawValue)
        c.pointee.examples = examples
        c.pointee.accuracy = accuracy
        c.pointee.one_off_accuracy = oneOffAccuracy
        c.pointee.n_labels = labels.count
        c.pointee.labels = arena.cStrings(labels)
        c.pointee.n_confusion = confusion.count
        c.pointee.confusion = arena.array(confusion)
        c.pointee.n_classes = classes.count
        c.pointee.classes = arena.messages(classes)
        c.pointee.macro_f1 = macroF1
        c.pointee.baseline_accuracy = baselineAccuracy
        c.pointee.n_curve = curve.count
        c.pointee.curve = arena.messages(curve)
        return c
    }
}
