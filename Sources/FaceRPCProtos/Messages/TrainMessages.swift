// facerpc/v1/train.proto: training jobs run inside the server.

/// What a training job learns (`facerpc.v1.TrainTask`).
public enum TrainTask: Sendable, Hashable, CaseIterable {
    case unspecified
    case age
    case gender
    /// A number this version of the protocol does not know.
    case unrecognized(Int32)

    /// The named cases (not `unrecognized`).
    public static let allCases: [TrainTask] = [.unspecified, .age, .gender]

    /// The case for a wire number; unknown numbers give `.unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .age
        case 2: self = .gender
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .age: 1
        case .gender: 2
        case .unrecognized(let value): value
        }
    }
}

/// The training optimizer (`facerpc.v1.Optimizer`).
public enum Optimizer: Sendable, Hashable, CaseIterable {
    /// Means momentum.
    case unspecified
    case momentum
    case adadelta
    case adam
    /// A number this version of the protocol does not know.
    case unrecognized(Int32)

    /// The named cases (not `unrecognized`).
    public static let allCases: [Optimizer] = [.unspecified, .momentum, .adadelta, .adam]

    /// The case for a wire number; unknown numbers give `.unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .momentum
        case 2: self = .adadelta
        case 3: self = .adam
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .momentum: 1
        case .adadelta: 2
        case .adam: 3
        case .unrecognized(let value): value
        }
    }
}

/// Starts a training job. Zero-valued fields take the seed trainer's defaults.
public struct TrainRequest: ProtoMessage, Hashable {
    public var task: TrainTask = .unspecified
    /// Dataset path relative to the server's `--data-root`: a CSV
    /// (path,age,gender), a folder of UTKFace-style files, or class folders.
    public var data: String = ""
    /// Optional validation CSV; else `validationFraction` is held out.
    public var validationData: String = ""
    /// Default 0.2.
    public var validationFraction: Float = 0
    public var optimizer: Optimizer = .unspecified
    /// Maximum steps; 0 = use `epochs`.
    public var steps: UInt32 = 0
    public var epochs: UInt32 = 0
    /// Default 128.
    public var batchSize: UInt32 = 0
    /// Default 0.01.
    public var learningRate: Float = 0
    /// Default 0.1.
    public var lrDecayRate: Float = 0
    /// Default 10000.
    public var lrDecaySteps: UInt32 = 0
    /// Default 0.9.
    public var momentum: Float = 0
    /// Default 0.0005.
    public var weightDecay: Float = 0
    /// Default 4.
    public var clipNorm: Float = 0
    /// Dropout probability, default 0.5.
    public var dropout: Float = 0
    /// Default 1000.
    public var checkpointEvery: UInt32 = 0
    /// Default `"lh-age"` / `"lh-gender"`.
    public var modelName: String = ""
    /// Serve the result when done.
    public var promote: Bool = false
    public var seed: UInt64 = 0
    public var threads: UInt32 = 0

    public init() {}
}

/// Names a training job.
public struct TrainJobRequest: ProtoMessage, Hashable {
    /// `""` in GetStatus means the newest job.
    public var jobID: String = ""

    public init() {}

    public init(jobID: String) {
        self.jobID = jobID
    }
}

/// Where a training job is (`facerpc.v1.TrainState`).
public enum TrainState: Sendable, Hashable, CaseIterable {
    case unspecified
    case queued
    case running
    case succeeded
    case failed
    case cancelled
    /// A number this version of the protocol does not know.
    case unrecognized(Int32)

    /// The named cases (not `unrecognized`).
    public static let allCases: [TrainState] = [.unspecified, .queued, .running, .succeeded, .failed, .cancelled]

    /// The case for a wire number; unknown numbers give `.unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .queued
        case 2: self = .running
        case 3: self = .succeeded
        case 4: self = .failed
        case 5: self = .cancelled
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .queued: 1
        case .running: 2
        case .succeeded: 3
        case .failed: 4
        case .cancelled: 5
        case .unrecognized(let value): value
        }
    }
}

/// The progress of one training job.
public struct TrainStatus: ProtoMessage, Hashable {
    public var jobID: String = ""
    public var model: String = ""
    public var state: TrainState = .unspecified
    public var step: UInt64 = 0
    public var totalSteps: UInt64 = 0
    public var epoch: UInt32 = 0
    public var loss: Float = 0
    public var lossAvg: Float = 0
    public var trainAccuracy: Float = 0
    public var valAccuracy: Float = 0
    public var learningRate: Float = 0
    public var examplesPerSecond: Float = 0
    public var etaSeconds: Float = 0
    public var checkpoint: String = ""
    public var error: String = ""
    /// The registered model version, when succeeded.
    public var version: String = ""

    public init() {}
}

/// Per-class figures of an evaluation, as in scikit-learn's `classification_report`.
public struct ClassMetrics: ProtoMessage, Hashable {
    public var label: String = ""
    public var precision: Float = 0
    public var recall: Float = 0
    public var f1: Float = 0
    /// Validation examples whose true class this is.
    public var support: UInt32 = 0

    public init() {}
}

/// One point of a job's training curves.
public struct TrainCurvePoint: ProtoMessage, Hashable {
    public var step: UInt64 = 0
    public var loss: Float = 0
    public var lossAvg: Float = 0
    public var trainAccuracy: Float = 0
    /// 0 where no validation ran at this step.
    public var valAccuracy: Float = 0
    public var learningRate: Float = 0
    public var epoch: UInt32 = 0

    public init() {}
}

/// The evaluation of a finished job on its validation set (`Training/GetReport`).
public struct TrainReport: ProtoMessage, Hashable {
    public var status: TrainStatus?
    public var task: TrainTask = .unspecified
    /// Validation examples evaluated.
    public var examples: UInt32 = 0
    /// Exact accuracy, 0...1.
    public var accuracy: Float = 0
    /// Age: the predicted bucket is the true one or next to it.
    public var oneOffAccuracy: Float = 0
    /// Class order of `confusion` and `classes`.
    public var labels: [String] = []
    /// Row-major `[true][predicted]`, `labels.count²` values.
    public var confusion: [UInt32] = []
    public var classes: [ClassMetrics] = []
    public var macroF1: Float = 0
    /// Accuracy of always answering the most frequent class.
    public var baselineAccuracy: Float = 0
    public var curve: [TrainCurvePoint] = []

    public init() {}
}
