import Atomics
import FaceRPCCore
import FaceRPCProtos

/// grpc.health.v1 semantics over facerpc: service "" is the whole server
/// (SERVING until it starts draining), a model's name is that model.
/// Check answers NOT_FOUND for an unknown service; Watch streams SERVICE_UNKNOWN
/// instead and keeps watching, as grpc.health.v1 specifies.
struct HealthService: RPCService {
    let draining: ManagedAtomic<Bool>
    let catalog: (any ModelCatalog)?
    /// How often Watch looks for a change.
    static let watchInterval: Duration = .milliseconds(100)

    /// The status of service "", the whole server: SERVING until the drain begins.
    static func serverStatus(draining: Bool) -> HealthCheckResponse.ServingStatus {
        draining ? .notServing : .serving
    }

    func status(of service: String) -> HealthCheckResponse.ServingStatus {
        let draining = draining.load(ordering: .acquiring)
        if service.isEmpty { return Self.serverStatus(draining: draining) }
        guard let model = catalog?.servingStatus(ofModel: service) else { return .serviceUnknown }
        return draining ? .notServing : model
    }

    /// The encoded HealthCheckResponse carrying `status` (Check's answer,
    /// Watch's messages, and ``PreencodedHealthCheck``'s frames).
    static func encodedCheckResponse(_ status: HealthCheckResponse.ServingStatus) -> [UInt8] {
        var response = HealthCheckResponse()
        response.status = status
        return response.serializedBytes()
    }

    func register(into router: inout Router) {
        router.register(Methods.healthCheck, .inlineUnary { _, payload throws(RPCError) in
            let request = try decode(HealthCheckRequest.self, payload)
            let status = self.status(of: request.service)
            if status == .serviceUnknown { throw .notFound("unknown service '\(request.service)'") }
            return Self.encodedCheckResponse(status)
        })
        router.register(Methods.healthWatch, .serverStreaming { context, payload, writer throws(RPCError) in
            let request = try decode(HealthCheckRequest.self, payload)
            var last: HealthCheckResponse.ServingStatus? = nil
            while true {
                let now = self.status(of: request.service)
                if now != last {
                    try await writer.send(Self.encodedCheckResponse(now))
                    last = now
                }
                try context.checkAlive()
                do { try await Task.sleep(for: HealthService.watchInterval) } catch {
                    throw RPCError(code: .cancelled, message: "watch cancelled")
                }
            }
        })
    }
}

/// Decodes a request payload, turning a decoding failure into INVALID_ARGUMENT.
func decode<M: ProtoMessage>(_ type: M.Type, _ payload: [UInt8]) throws(RPCError) -> M {
    do {
        return try M(serializedBytes: payload)
    } catch {
        throw .invalidArgument("undecodable \(M.self): \(error.message)", cause: error)
    }
}
