import FaceRPCCore
import FaceRPCProtos
import FaceRPCWire
import NIOCore
import Testing

@Suite struct EnvelopeCodecTests {
    let allocator = ByteBufferAllocator()

    /// Strips the 4-byte length of a frame, checking it matches the body.
    func body(of frame: ByteBuffer) -> ByteBuffer {
        var frame = frame
        let length = frame.readInteger(endianness: .big, as: UInt32.self)
        #expect(Int(length ?? 0) == frame.readableBytes)
        return frame
    }

    @Test func requestRoundTrip() throws {
        var request = RequestEnvelope()
        request.callID = 0xFFFF_FFFF_FFFF
        request.method = Methods.predict
        request.timeoutMicros = 1_500_000
        request.payload = Array(0...255)
        var entry = MetadataEntry()
        entry.key = "authorization"
        entry.value = "Bearer ünïcode"
        request.metadata = [entry]
        let decoded = try EnvelopeCodec.decodeRequest(body(of: EnvelopeCodec.frame(request, allocator: allocator)))
        #expect(decoded == request)
    }

    @Test func responseRoundTrip() throws {
        for response in [
            EnvelopeCodec.finalResponse(callID: 7, code: .ok, payload: [1, 2, 3]),
            EnvelopeCodec.finalResponse(callID: 8, code: .deadlineExceeded, message: "too slow"),
            EnvelopeCodec.streamMessage(callID: 9, payload: [4]),
        ] {
            let decoded = try EnvelopeCodec.decodeResponse(body(of: EnvelopeCodec.frame(response, allocator: allocator)))
            #expect(decoded == response)
        }
        let final = EnvelopeCodec.finalResponse(callID: 8, code: .deadlineExceeded, message: "too slow")
        #expect(final.endOfStream)
        #expect(final.status?.code == 4)
    }

    @Test func garbageIsInvalidArgument() {
        var garbage = allocator.buffer(capacity: 0)
        garbage.writeBytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x12])
        #expect(throws: RPCError.self) { try EnvelopeCodec.decodeRequest(garbage) }
        do {
            _ = try EnvelopeCodec.decodeRequest(garbage)
        } catch {
            #expect(error.code == .invalidArgument)
        }
    }

    @Test func validationLimits() {
        let limits = ServerLimits()
        var request = RequestEnvelope()
        request.method = Methods.healthCheck
        #expect(throws: RPCError.self) { try EnvelopeCodec.validate(request, limits: limits) } // call id 0
        request.callID = 1
        #expect(throws: Never.self) { try EnvelopeCodec.validate(request, limits: limits) }
        request.method = String(repeating: "m", count: limits.maxMethodBytes + 1)
        #expect(throws: RPCError.self) { try EnvelopeCodec.validate(request, limits: limits) }
        request.method = Methods.healthCheck
        request.metadata = (0...limits.maxMetadataEntries).map { _ in MetadataEntry() }
        #expect(throws: RPCError.self) { try EnvelopeCodec.validate(request, limits: limits) }
        var big = MetadataEntry()
        big.key = "k"
        big.value = String(repeating: "v", count: limits.maxMetadataBytes)
        request.metadata = [big]
        #expect(throws: RPCError.self) { try EnvelopeCodec.validate(request, limits: limits) }
    }

    /// The worked example in docs/PROTOCOL.md, byte for byte.
    @Test func protocolDocumentExample() throws {
        var request = RequestEnvelope()
        request.callID = 1
        request.method = Methods.healthCheck
        request.timeoutMicros = 2_000_000
        request.payload = HealthCheckRequest().serializedBytes()
        let frame = EnvelopeCodec.frame(request, allocator: allocator)
        let expected: [UInt8] = [
            0x00, 0x00, 0x00, 0x20, 0x08, 0x01, 0x12, 0x18, 0x2f, 0x66, 0x61, 0x63, 0x65, 0x72, 0x70, 0x63, 0x2e, 0x76, 0x31, 0x2e,
            0x48, 0x65, 0x61, 0x6c, 0x74, 0x68, 0x2f, 0x43, 0x68, 0x65, 0x63, 0x6b, 0x18, 0x80, 0x89, 0x7a,
        ]
        #expect(Array(frame.readableBytesView) == expected)

        var health = HealthCheckResponse()
        health.status = .serving
        let response = EnvelopeCodec.finalResponse(callID: 1, code: .ok, payload: health.serializedBytes())
        let responseFrame = EnvelopeCodec.frame(response, allocator: allocator)
        #expect(Array(responseFrame.readableBytesView) == [0x00, 0x00, 0x00, 0x0a, 0x08, 0x01, 0x12, 0x00, 0x1a, 0x02, 0x08, 0x01, 0x20, 0x01])
    }
}
