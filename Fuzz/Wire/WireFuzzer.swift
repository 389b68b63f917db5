// Fuzz target: bytes from a socket, through the frame decoder, the envelope
// codec (the in-place reader checked against protobuf-c) and every request
// and response payload type.
import FaceRPCCore
import FaceRPCProtos
import FaceRPCWire
import NIOCore
import FuzzSupport

func fuzzWire(_ bytes: UnsafeRawBufferPointer) {
    var buffer = ByteBufferAllocator().buffer(bytes: bytes)
    // A small frame limit so the fuzzer reaches the limit paths too.
    var decoder = FrameDecoder(maxFrameBytes: 1 << 16)
    let limits = ServerLimits()
    while true {
        let frame: ByteBuffer?
        do { frame = try decoder.nextFrame(from: &buffer) } catch { return }
        guard let frame else { return }
        checkInPlaceReader(frame)
        if let envelope = try? EnvelopeCodec.decodeRequest(frame) {
            _ = try? EnvelopeCodec.validate(envelope, limits: limits)
            decodePayloads(envelope.payload)
        }
        if let response = try? EnvelopeCodec.decodeResponse(frame) {
            decodePayloads(response.payload)
        }
    }
}

/// The in-place envelope reader must agree with protobuf-c wherever it
/// accepts: a disagreement would change a server answer, so it is a crash.
func checkInPlaceReader(_ frame: ByteBuffer) {
    guard let view = RequestEnvelopeView(frame: frame) else { return }
    let reference = try? EnvelopeCodec.decodeRequestThroughProtobufC(frame)
    precondition(reference == view.envelope(), "RequestEnvelopeView disagrees with protobuf-c")
    precondition(view.methodEquals(Array(view.method.utf8)) && view.payloadByteCount == view.payload.count)
}

/// Every message type a method can carry; a payload is decoded as each.
func decodePayloads(_ payload: [UInt8]) {
    _ = try? PredictRequest(serializedBytes: payload)
    _ = try? PredictResponse(serializedBytes: payload)
    _ = try? TrainRequest(serializedBytes: payload)
    _ = try? TrainJobRequest(serializedBytes: payload)
    _ = try? TrainStatus(serializedBytes: payload)
    _ = try? TrainReport(serializedBytes: payload)
    _ = try? HealthCheckRequest(serializedBytes: payload)
    _ = try? HealthCheckResponse(serializedBytes: payload)
    _ = try? ListModelsRequest(serializedBytes: payload)
    _ = try? ListModelsResponse(serializedBytes: payload)
}

// libFuzzer drives `fuzzWire` through SwiftPM's entry point; without it, the files named are replayed.
#if FUZZING
@_cdecl("fuzz_wire_main") public func fuzzMain(_ c: CInt, _ v: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc: c, argv: v) { fuzzWire(UnsafeRawBufferPointer(start: $0, count: $1)); return 0 }
}
#else
@main struct WireReplay { static func main() { FuzzReplay.main("fuzz-wire", fuzzWire) } }
#endif
