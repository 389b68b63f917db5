// facerpc/v1/health.proto: health checking, following grpc.health.v1 semantics.

/// Asks whether the server, or one model, is serving.
public struct HealthCheckRequest: ProtoMessage, Hashable {
    /// `""` asks about the whole server; a model name asks about that model.
    public var service: String = ""

    public init() {}

    public init(service: String) {
        self.service = service
    }
}

/// The answer to a health check, or one update of a Watch stream.
public struct HealthCheckResponse: ProtoMessage, Hashable {
    /// `facerpc.v1.HealthCheckResponse.ServingStatus`.
    public enum ServingStatus: Sendable, Hashable, CaseIterable {
        case unknown
        case serving
        case notServing
        /// Only sent by Watch; Check answers NOT_FOUND for an unknown service.
        case serviceUnknown
        /// A number this version of the protocol does not know.
        case unrecognized(Int32)

        /// The named cases (not `unrecognized`).
        public static let allCases: [ServingStatus] = [.unknown, .serving, .notServing, .serviceUnknown]

        /// The case for a wire number; unknown numbers give `.unrecognized`.
        public init(rawValue: Int32) {
            switch rawValue {
            case 0: self = .unknown
            case 1: self = .serving
            case 2: self = .notServing
            case 3: self = .serviceUnknown
            default: self = .unrecognized(rawValue)
            }
        }

        /// The wire number.
        public var rawValue: Int32 {
            switch self {
            case .unknown: 0
            case .serving: 1
            case .notServing: 2
            case .serviceUnknown: 3
            case .unrecognized(let value): value
            }
        }
    }

    public var status: ServingStatus = .unknown

    public init() {}

    public init(status: ServingStatus) {
        self.status = status
    }
}
