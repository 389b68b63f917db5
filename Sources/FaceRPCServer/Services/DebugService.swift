import FaceRPCCore
import FaceRPCProtos

/// `/facerpc.v1.Debug/Sleep`: holds a call in flight for a given time. Only
/// registered with `--enable-debug-service`; the drain, deadline and
/// out-of-order tests rely on it.
struct DebugService: RPCService {
    static let maxSleepMillis: UInt32 = 60_000

    func register(into router: inout Router) {
        router.register(Methods.debugSleep, .unary { context, payload throws(RPCError) in
            let request = try decode(SleepRequest.self, payload)
            guard request.millis <= DebugService.maxSleepMillis else {
                throw .invalidArgument("millis \(request.millis) exceeds the limit of \(DebugService.maxSleepMillis)")
            }
            do { try await Task.sleep(for: .milliseconds(Int(request.millis))) } catch {
                throw RPCError(code: .cancelled, message: "sleep cancelled")
            }
            try context.checkAlive()
            var response = SleepResponse()
            response.echo = request.echo
            return response.serializedBytes()
        })
    }
}
