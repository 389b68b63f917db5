import FaceRPCCore
import FaceRPCProtos
import FaceRPCWire

/// Health/Check of the whole server (service "", an empty request payload)
/// answered by the connection handler from frames encoded at start-up.
///
/// That call is what load balancers and probes send, often many at a time;
/// its answer depends only on the drain flag. Going through the router would
/// cost a `CallContext`, a payload copy, a HealthCheckRequest and a
/// HealthCheckResponse through protobuf-c and a `[UInt8]` per call. The
/// answers are made by the same ``HealthService`` code and
/// ``ResponseFrameWriter`` as the routed call's, so the bytes are identical.
/// A class: the connection handler keeps one reference instead of copying
/// (and retaining) its fields on every call.
final class PreencodedHealthCheck: Sendable {
    let health: HealthService
    /// `Methods.healthCheck`, for comparing in place with the request's method bytes.
    let methodUTF8: [UInt8] = Array(Methods.healthCheck.utf8)
    private let serving: ResponseFrameWriter.PreencodedFinal
    private let notServing: ResponseFrameWriter.PreencodedFinal

    init(health: HealthService) {
        self.health = health
        serving = .init(code: .ok, payload: HealthService.encodedCheckResponse(.serving))
        notServing = .init(code: .ok, payload: HealthService.encodedCheckResponse(.notServing))
    }

    /// The answer to a check of service "" right now, or nil if it is not
    /// one of the pre-encoded ones (the routed handler answers then).
    func answer() -> ResponseFrameWriter.PreencodedFinal? {
        switch health.status(of: "") {
        case .serving: return serving
        case .notServing: return notServing
        default: return nil
        }
    }
}
