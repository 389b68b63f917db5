import FaceRPCCore

/// Everything a training job was asked to do, with every default resolved:
/// what a `TrainRequest` becomes once validated, and what `job.json` keeps so
/// that a restarted server resumes the same job.
public struct TrainingJobSpec: Codable, Sendable, Equatable {
    /// Named limits on what a request may ask for.
    public enum Limits {
        public static let maxBatchSize = 512
        public static let maxSteps = 10_000_000
        public static let maxEpochs = 100_000
        public static let maxThreads = 256
        public static let maxCheckpointsKept = 100
        /// A dataset path is a path under the data root, not a blob.
        public static let maxPathBytes = 4096
    }

    /// The seed trainer's defaults for the fields a request may leave at zero.
    public enum Defaults {
        public static let batchSize = 128
        /// rude-carnie's `max_steps`.
        public static let steps = 40_000
        public static let checkpointEvery = 1000
        public static let validationFraction = 0.2
        public static let checkpointsKept = 3
    }

    public var task: TrainingTask
    /// Dataset path relative to the data root.
    public var data: String
    /// Validation CSV relative to the data root; nil = hold out ``validationFraction``.
    public var validationData: String?
    public var validationFraction: Double
    public var hyperparameters: Hyperparameters
    /// Optimizer steps to take; when nil, ``epochs`` decides.
    public var steps: Int?
    public var epochs: Int?
    public var batchSize: Int
    public var checkpointEvery: Int
    public var checkpointsKept: Int
    /// Registry name of the trained model.
    public var modelName: String
    /// Make the trained version the serving one.
    public var promote: Bool
    public var seed: UInt64
    /// Kernel threads for the trainer.
    public var threads: Int

    public init(task: TrainingTask, data: String, validationData: String? = nil,
                validationFraction: Double = Defaults.validationFraction, hyperparameters: Hyperparameters = Hyperparameters(),
                steps: Int? = nil, epochs: Int? = nil, batchSize: Int = Defaults.batchSize,
                checkpointEvery: Int = Defaults.checkpointEvery, checkpointsKept: Int = Defaults.checkpointsKept,
                modelName: String? = nil, promote: Bool = false, seed: UInt64 = 0, threads: Int = 1) {
        self.task = task; self.data = data; self.validationData = validationData
        self.validationFraction = validationFraction; self.hyperparameters = hyperparameters
        self.steps = steps ?? (epochs == nil ? Defaults.steps : nil); self.epochs = epochs
        self.batchSize = batchSize; self.checkpointEvery = checkpointEvery; self.checkpointsKept = checkpointsKept
        self.modelName = modelName ?? Self.defaultModelName(for: task)
        self.promote = promote; self.seed = seed; self.threads = threads
    }

    public static func defaultModelName(for task: TrainingTask) -> String { task == .age ? "lh-age" : "lh-gender" }

    /// Checks every field against ``Limits`` and sane numeric ranges.
    /// - Throws: ``TrainingJobError/invalidArgument(_:)`` naming the field.
    public func validate() throws(TrainingJobError) {
        func bad(_ message: String) -> TrainingJobError { .invalidArgument(message) }
        guard !data.isEmpty else { throw bad("data: a dataset path under the data root is required") }
        guard data.utf8.count <= Limits.maxPathBytes, (validationData?.utf8.count ?? 0) <= Limits.maxPathBytes else {
            throw bad("data: paths are limited to \(Limits.maxPathBytes) bytes")
        }
        guard validationFraction.isFinite, validationFraction >= 0, validationFraction < 1 else {
            throw bad("validation_fraction must be in [0, 1), got \(validationFraction)")
        }
        if let steps { guard (1...Limits.maxSteps).contains(steps) else { throw bad("steps must be in 1...\(Limits.maxSteps), got \(steps)") } }
        if let epochs { guard (1...Limits.maxEpochs).contains(epochs) else { throw bad("epochs must be in 1...\(Limits.maxEpochs), got \(epochs)") } }
        guard steps != nil || epochs != nil else { throw bad("steps or epochs is required") }
        guard (1...Limits.maxBatchSize).contains(batchSize) else { throw bad("batch_size must be in 1...\(Limits.maxBatchSize), got \(batchSize)") }
        guard checkpointEvery >= 1, checkpointEvery <= Limits.maxSteps else { throw bad("checkpoint_every must be in 1...\(Limits.maxSteps)") }
        guard (1...Limits.maxCheckpointsKept).contains(checkpointsKept) else { throw bad("checkpoints kept must be in 1...\(Limits.maxCheckpointsKept)") }
        guard (1...Limits.maxThreads).contains(threads) else { throw bad("threads must be in 1...\(Limits.maxThreads), got \(threads)") }
        guard FolderNames.isModelName(modelName) else {
            throw bad("model_name '\(modelName)' must be 1...64 characters of a-z, 0-9, '-', '_', '.', starting with a letter or digit")
        }
        let h = hyperparameters
        func positive(_ name: String, _ value: Float, max: Float) throws(TrainingJobError) {
            guard value.isFinite, value > 0, value <= max else { throw bad("\(name) must be in (0, \(max)], got \(value)") }
        }
        try positive("learning_rate", h.learningRate, max: 100)
        try positive("lr_decay_rate", h.lrDecayRate, max: 1)
        guard h.lrDecaySteps >= 1, h.lrDecaySteps <= Limits.maxSteps else { throw bad("lr_decay_steps must be in 1...\(Limits.maxSteps)") }
        guard h.momentum.isFinite, h.momentum >= 0, h.momentum < 1 else { throw bad("momentum must be in [0, 1), got \(h.momentum)") }
        guard h.weightDecay.isFinite, h.weightDecay >= 0, h.weightDecay <= 1 else { throw bad("weight_decay must be in [0, 1], got \(h.weightDecay)") }
        guard h.clipNorm.isFinite, h.clipNorm >= 0, h.clipNorm <= 1e6 else { throw bad("clip_norm must be in [0, 1e6], got \(h.clipNorm)") }
        guard h.dropout.isFinite, h.dropout >= 0, h.dropout < 1 else { throw bad("dropout must be in [0, 1), got \(h.dropout)") }
    }

}

/// Where a job is.
public enum TrainingJobState: String, Codable, Sendable, CaseIterable {
    case queued, running, succeeded, failed, cancelled

    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// A job's progress, as TrainStatus carries it.
public struct TrainingProgress: Codable, Sendable, Equatable {
    public var jobID: String
    public var model: String
    public var state: TrainingJobState
    public var step: Int = 0
    public var totalSteps: Int = 0
    public var epoch: Int = 0
    /// Loss of the last step (cross-entropy plus the weight-decay term).
    public var loss: Float = 0
    /// Exponential moving average of the loss (decay 0.95, bias-corrected).
    public var lossAverage: Float = 0
    /// Moving average of the training batches' accuracy (dropout on).
    public var trainAccuracy: Float = 0
    /// Accuracy on the validation sample at the last checkpoint, then on the whole validation set at the end.
    public var valAccuracy: Float = 0
    public var learningRate: Float = 0
    public var examplesPerSecond: Float = 0
    public var etaSeconds: Float = 0
    /// Path of the last checkpoint written, relative to the state directory.
    public var checkpoint: String = ""
    public var error: String = ""
    /// Registered model version, once succeeded.
    public var version: String = ""

    public init(jobID: String, model: String, state: TrainingJobState) {
        self.jobID = jobID; self.model = model; self.state = state
    }
}

/// Why a training call was refused.
public enum TrainingJobError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A field of the request is out of range (INVALID_ARGUMENT).
    case invalidArgument(String)
    /// Another job is running and only one may (FAILED_PRECONDITION).
    case busy(runningJob: String)
    /// No such job (NOT_FOUND).
    case notFound(String)
    /// The job has no report yet (FAILED_PRECONDITION).
    case notFinished(String)
    /// The server runs without a data root or state directory (FAILED_PRECONDITION).
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidArgument(let m): m
        case .busy(let job): "a training job is already running (\(job)); one runs at a time"
        case .notFound(let job): job.isEmpty ? "no training job has been started" : "no training job '\(job)'"
        case .notFinished(let job): "training job '\(job)' has not finished its evaluation yet"
        case .unavailable(let m): m
        }
    }
}
