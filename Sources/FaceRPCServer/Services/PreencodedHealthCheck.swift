import Atomics
import FaceRPCCore
import FaceRPCProtos
import FaceRPCWire
import NIOCore

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
    /// `Methods.healthCheck`, compared in place with the request's method
    /// bytes; a static string, so the comparison touches no reference count.
    static let method: StaticString = "/facerpc.v1.Health/Check"
    private let draining: ManagedAtomic<Bool>
    private let serving: ResponseFrameWriter.PreencodedFinal
    private let notServing: ResponseFrameWriter.PreencodedFinal

    init(health: HealthService) {
        precondition(Self.method.description == Methods.healthCheck)
        draining = health.draining
        serving = .init(code: .ok, payload: HealthService.encodedCheckResponse(.serving))
        notServing = .init(code: .ok, payload: HealthService.encodedCheckResponse(.notServing))
    }

    /// Appends the answer to a check of service "" right now for `callID`:
    /// ``HealthService/serverStatus(draining:)``, pre-encoded.
    func writeAnswer(callID: UInt64, to buffer: inout ByteBuffer) {
        switch HealthService.serverStatus(draining: draining.load(ordering: .acquiring)) {
        case .notServing: ResponseFrameWriter.writeFinal(callID: callID, notServing, to: &buffer)
        default: ResponseFrameWriter.writeFinal(callID: callID, serving, to: &buffer)
        }
    }
}
