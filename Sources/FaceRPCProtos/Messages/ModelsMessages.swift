// facerpc/v1/models.proto: the model registry as seen by callers.

/// Asks for every registered model. Has no fields.
public struct ListModelsRequest: ProtoMessage, Hashable {
    public init() {}
}

/// Where a model is in its life cycle (`facerpc.v1.ModelState`).
public enum ModelState: Sendable, Hashable, CaseIterable {
    case unspecified
    case loading
    case serving
    /// Failed to load, or no weights installed: the reason is in `ModelInfo.error`.
    case unavailable
    /// A number this version of the protocol does not know.
    case unrecognized(Int32)

    /// The named cases (not `unrecognized`).
    public static let allCases: [ModelState] = [.unspecified, .loading, .serving, .unavailable]

    /// The case for a wire number; unknown numbers give `.unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .loading
        case 2: self = .serving
        case 3: self = .unavailable
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .loading: 1
        case .serving: 2
        case .unavailable: 3
        case .unrecognized(let value): value
        }
    }
}

/// One registered model.
public struct ModelInfo: ProtoMessage, Hashable {
    /// e.g. `"age"`, `"gender"`, `"lh-age"`.
    public var name: String = ""
    /// `"age"` or `"gender"`.
    public var task: String = ""
    /// e.g. `"dlib-resnet-age81"`, `"levi-hassner"`.
    public var architecture: String = ""
    public var version: String = ""
    public var state: ModelState = .unspecified
    /// Why it is not serving, if it is not.
    public var error: String = ""
    /// Chip size in pixels.
    public var inputWidth: UInt32 = 0
    public var inputHeight: UInt32 = 0
    public var inputChannels: UInt32 = 0
    public var labels: [String] = []
    /// Where the weights came from.
    public var source: String = ""
    /// Number of weights.
    public var parameters: UInt64 = 0
    /// SHA-256 of the weights file, hex.
    public var sha256: String = ""
    /// Per-channel mean subtracted from input bytes.
    public var mean: [Float] = []
    /// Inputs are `(byte - mean) * scale`.
    public var scale: Float = 0

    public init() {}
}

/// Every registered model.
public struct ListModelsResponse: ProtoMessage, Hashable {
    public var models: [ModelInfo] = []

    public init() {}

    public init(models: [ModelInfo]) {
        self.models = models
    }
}
