import FaceRPCProtos
import Testing

@Suite("rpc.proto messages")
struct RPCMessagesTests {
    static func fullRequest(payload: [UInt8]) -> RequestEnvelope {
        var request = RequestEnvelope()
        request.callID = .max
        request.method = "/facerpc.v1.Predict/Predict"
        request.timeoutMicros = 1_500_000
        request.metadata = [
            MetadataEntry(key: "x-trace", value: unicodeSamples[1]),
            MetadataEntry(key: "empty", value: ""),
            MetadataEntry(key: "emoji", value: unicodeSamples[2]),
        ]
        request.payload = payload
        request.cancel = true
        return request
    }

    @Test("RequestEnvelope round-trips every field")
    func requestRoundTrip() throws {
        let request = Self.fullRequest(payload: patternBytes(count: 1000))
        let (copy, bytes) = try roundTrip(request)
        #expect(copy == request)
        #expect(copy.metadata.count == 3)
        #expect(copy.metadata[1].value.isEmpty)
        #expect(bytes.count > 1000)
    }

    @Test("RequestEnvelope carries a 4 MiB payload intact")
    func largePayload() throws {
        let payload = patternBytes(count: 4 << 20)
        let request = Self.fullRequest(payload: payload)
        let (copy, bytes) = try roundTrip(request)
        #expect(copy.payload == payload)
        #expect(bytes.count > payload.count && bytes.count < payload.count + 256)
    }

    @Test("RequestEnvelope with an empty payload and no metadata")
    func emptyPayload() throws {
        var request = RequestEnvelope()
        request.callID = 7
        request.method = "/facerpc.v1.Models/List"
        let (copy, _) = try roundTrip(request)
        #expect(copy == request)
        #expect(copy.payload.isEmpty && copy.metadata.isEmpty && !copy.cancel)
    }

    @Test("ResponseEnvelope round-trips every field")
    func responseRoundTrip() throws {
        var response = ResponseEnvelope()
        response.callID = 42
        response.status = Status(code: 3, message: "bad image: \(unicodeSamples[0])")
        response.payload = patternBytes(count: 333)
        response.endOfStream = true
        response.trailers = [MetadataEntry(key: "x-elapsed-ms", value: "12.5")]
        let (copy, _) = try roundTrip(response)
        #expect(copy == response)
        #expect(copy.status?.code == 3)
    }

    @Test("An OK status with default fields is still present after decoding")
    func presentDefaultStatus() throws {
        var response = ResponseEnvelope()
        response.callID = 1
        response.status = Status()
        response.endOfStream = true
        let (copy, bytes) = try roundTrip(response)
        #expect(copy.status == Status())
        // call_id, an empty status sub-message (tag 0x12 length 0), end_of_stream.
        #expect(bytes == [0x08, 0x01, 0x12, 0x00, 0x20, 0x01])

        response.status = nil
        #expect(try roundTrip(response).copy.status == nil)
    }

    @Test("MetadataEntry and Status round-trip alone")
    func smallMessages() throws {
        let entry = MetadataEntry(key: "k", value: unicodeSamples[3])
        #expect(try roundTrip(entry).copy == entry)
        let status = Status(code: 16, message: unicodeSamples[2])
        #expect(try roundTrip(status).copy == status)
    }
}
