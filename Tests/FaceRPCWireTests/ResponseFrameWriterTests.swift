import FaceRPCCore
import FaceRPCKernels  // SplitMix64: seeded envelopes, so failures reproduce
import FaceRPCProtos
import FaceRPCWire
import NIOCore
import Testing

/// The hand-written final-response encoder against protobuf-c's encoding of
/// the same envelope, byte for byte.
@Suite struct ResponseFrameWriterTests {

    private func reference(_ callID: UInt64, _ code: StatusCode, _ message: String, _ payload: [UInt8]) -> [UInt8] {
        var frame = EnvelopeCodec.frame(EnvelopeCodec.finalResponse(callID: callID, code: code, message: message, payload: payload),
                                        allocator: ByteBufferAllocator())
        return frame.readBytes(length: frame.readableBytes) ?? []
    }

    @Test func matchesProtobufCForEdgeValues() {
        let callIDs: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, 1 << 35, UInt64.max]
        let codes: [StatusCode] = [.ok, .cancelled, .notFound, .unavailable, .unauthenticated, StatusCode(rawValue: 300)]
        let messages = ["", "x", "unknown service 'é—ü'", String(repeating: "m", count: 127), String(repeating: "m", count: 128)]
        let payloads: [[UInt8]] = [[], [0x08, 0x01], [UInt8](repeating: 7, count: 127), [UInt8](repeating: 9, count: 300)]
        for callID in callIDs {
            for code in codes {
                for message in messages {
                    for payload in payloads {
                        var buffer = ByteBufferAllocator().buffer(capacity: 0)
                        ResponseFrameWriter.writeFinal(callID: callID, code: code, message: message, payload: payload, to: &buffer)
                        let ours = buffer.readBytes(length: buffer.readableBytes) ?? []
                        #expect(ours == reference(callID, code, message, payload),
                                "call \(callID) code \(code) message \(message.utf8.count) B payload \(payload.count) B")
                    }
                }
            }
        }
    }

    @Test func matchesProtobufCForRandomValuesAndAppends() throws {
        var random = SplitMix64(seed: 0x5EED)
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        var expected: [UInt8] = []
        for _ in 0..<500 {
            let callID = random.next() >> UInt64.random(in: 0...63, using: &random)
            let code = StatusCode(rawValue: UInt32.random(in: 0...16, using: &random))
            let message = String((0..<Int.random(in: 0...40, using: &random)).map { _ in "aé€😀".randomElement(using: &random)! })
            let payload = (0..<Int.random(in: 0...600, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            ResponseFrameWriter.writeFinal(callID: callID, code: code, message: message, payload: payload, to: &buffer)
            expected += reference(callID, code, message, payload)
        }
        #expect(buffer.readableBytes == expected.count)
        #expect(buffer.readBytes(length: buffer.readableBytes) == expected)

        // And the frames decode back to what was written.
        var frames = ByteBufferAllocator().buffer(capacity: 0)
        ResponseFrameWriter.writeFinal(callID: 42, code: .notFound, message: "nope", payload: [1, 2, 3], to: &frames)
        var decoder = FrameDecoder(maxFrameBytes: 1 << 20)
        let body = try #require(try decoder.nextFrame(from: &frames))
        let envelope = try EnvelopeCodec.decodeResponse(body)
        #expect(envelope.callID == 42 && envelope.endOfStream && envelope.payload == [1, 2, 3])
        #expect(envelope.status?.code == StatusCode.notFound.rawValue && envelope.status?.message == "nope")
    }

    /// A pre-encoded answer gives, for every call id, the bytes of the plain
    /// writer (and so of protobuf-c) for the same arguments.
    @Test func preencodedAnswersMatchTheWriter() {
        var random = SplitMix64(seed: 0xC0FFEE)
        let answers: [(StatusCode, String, [UInt8])] = [
            (.ok, "", [0x08, 0x01]), (.ok, "", [0x08, 0x02]), (.ok, "", []), (.notFound, "unknown service 'x'", []),
            (StatusCode(rawValue: 300), String(repeating: "m", count: 200), [UInt8](repeating: 5, count: 130)),
        ]
        var callIDs: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, 1 << 35, UInt64(1) << 63, UInt64.max]
        for _ in 0..<200 { callIDs.append(random.next() >> UInt64.random(in: 0...63, using: &random)) }
        for (code, message, payload) in answers {
            let answer = ResponseFrameWriter.PreencodedFinal(code: code, message: message, payload: payload)
            var ours = ByteBufferAllocator().buffer(capacity: 0)
            var plain = ByteBufferAllocator().buffer(capacity: 0)
            var expected: [UInt8] = []
            for callID in callIDs {
                ResponseFrameWriter.writeFinal(callID: callID, answer, to: &ours)
                ResponseFrameWriter.writeFinal(callID: callID, code: code, message: message, payload: payload, to: &plain)
                expected += reference(callID, code, message, payload)
            }
            let samePlain = ours.readableBytesView.elementsEqual(plain.readableBytesView)
            let sameProtobufC = ours.readableBytesView.elementsEqual(expected)
            #expect(samePlain && sameProtobufC, "code \(code) message \(message.utf8.count) B payload \(payload.count) B")
        }
    }
}
