import FaceRPCProtos
import Testing

/// Malformed input must throw `ProtoDecodingError`, never crash, and never
/// yield a value that does not re-encode consistently.
@Suite("Decoding errors and defaults")
struct DecodingErrorTests {
    /// Every message type, for properties that hold for all of them.
    static let allTypes: [any ProtoMessage.Type] = [
        MetadataEntry.self, RequestEnvelope.self, Status.self, ResponseEnvelope.self,
        HealthCheckRequest.self, HealthCheckResponse.self,
        ListModelsRequest.self, ModelInfo.self, ListModelsResponse.self,
        RawImage.self, PredictOptions.self, PredictRequest.self, Box.self, Point.self,
        AgeEstimate.self, GenderEstimate.self, Face.self, Timings.self, PredictResponse.self,
        TrainRequest.self, TrainJobRequest.self, TrainStatus.self,
    ]

    @Test("Default messages encode to zero bytes and decode from zero bytes", arguments: allTypes)
    func defaults(_ type: any ProtoMessage.Type) throws {
        try Self.checkDefault(type)
    }

    private static func checkDefault<M: ProtoMessage>(_ type: M.Type) throws {
        #expect(M().serializedBytes().isEmpty, "\(M.self)")
        #expect(try M(serializedBytes: []) == M(), "\(M.self)")
        #expect(try M(serializedBytes: UnsafeRawBufferPointer(start: nil, count: 0)) == M(), "\(M.self)")
    }

    @Test("Structurally broken encodings throw, naming the message")
    func broken() {
        let cases: [(String, [UInt8])] = [
            ("tag without a value", [0x08]),
            ("varint longer than 10 bytes", [0x08] + [UInt8](repeating: 0xFF, count: 11) + [0x01]),
            ("length past the end", [0x12, 0x05, 0x41]),
            ("huge length", [0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x41]),
            ("wire type 7", [0x0F, 0x00]),
            ("field number 0", [0x00, 0x01]),
            ("unterminated group", [0x0B]),
            ("sub-message cut short", [0x22, 0x04, 0x0A, 0x05, 0x61, 0x62]),
        ]
        for (name, bytes) in cases {
            do {
                let decoded = try RequestEnvelope(serializedBytes: bytes)
                Issue.record("\(name): decoded \(bytes) as \(decoded)")
            } catch {
                #expect(error == ProtoDecodingError(message: "malformed facerpc.v1.RequestEnvelope"), "\(name)")
                #expect(error.description == error.message)
            }
        }
    }

    @Test("A field sent with the wrong wire type throws")
    func wrongWireType() {
        // call_id (a varint) as length-delimited; method (a string) as a varint.
        expectDecodingFails(RequestEnvelope.self, [0x0A, 0x01, 0x41], mentioning: "malformed")
        expectDecodingFails(RequestEnvelope.self, [0x10, 0x01], mentioning: "malformed")
        expectDecodingFails(PredictRequest.self, [0x08, 0x01], mentioning: "facerpc.v1.PredictRequest")
    }

    @Test("Invalid UTF-8 in any string field throws, naming the field")
    func invalidUTF8() {
        let badSequences: [[UInt8]] = [
            [0xC3, 0x28],  // bad continuation byte
            [0xC0, 0x80],  // overlong NUL
            [0xED, 0xA0, 0x80],  // UTF-16 surrogate
            [0xF4, 0x90, 0x80, 0x80],  // past U+10FFFF
            [0x61, 0xE2, 0x82],  // truncated sequence
            [0xFF],
        ]
        for bad in badSequences {
            let field = [0x12, UInt8(bad.count)] + bad
            expectDecodingFails(RequestEnvelope.self, field, mentioning: "facerpc.v1.RequestEnvelope.method")
            // Nested: a metadata entry whose value is bad.
            let entry = [0x0A, 0x01, 0x6B, 0x12, UInt8(bad.count)] + bad
            expectDecodingFails(
                RequestEnvelope.self, [0x22, UInt8(entry.count)] + entry,
                mentioning: "facerpc.v1.MetadataEntry.value")
            // Repeated: the second label.
            expectDecodingFails(
                ModelInfo.self, [0x52, 0x01, 0x61, 0x52, UInt8(bad.count)] + bad,
                mentioning: "facerpc.v1.ModelInfo.labels")
            // Two levels down in a response status.
            let status = [0x12, UInt8(bad.count)] + bad
            expectDecodingFails(
                ResponseEnvelope.self, [0x12, UInt8(status.count)] + status,
                mentioning: "facerpc.v1.Status.message")
        }
        // The same bytes are fine in a bytes field.
        #expect(throws: Never.self) { try RequestEnvelope(serializedBytes: [0x2A, 0x02, 0xC3, 0x28]) }
    }

    @Test("Every prefix of an encoding is a field boundary or throws")
    func truncation() throws {
        var request = RequestEnvelope()
        request.callID = 300
        request.method = "/facerpc.v1.Predict/Predict"
        request.timeoutMicros = 2_000_000
        request.metadata = [MetadataEntry(key: "k", value: "välue"), MetadataEntry(key: "x", value: "")]
        request.payload = patternBytes(count: 40)
        request.cancel = true
        let bytes = request.serializedBytes()
        var throwing = 0
        for length in 0..<bytes.count {
            let prefix = Array(bytes[..<length])
            do {
                let decoded = try RequestEnvelope(serializedBytes: prefix)
                // A prefix that parses ends between fields and holds exactly those fields.
                #expect(decoded.serializedBytes() == prefix, "prefix \(length)")
            } catch {
                throwing += 1
            }
        }
        #expect(throwing > bytes.count / 2)
    }

    @Test("Random bytes never crash, and what decodes re-encodes stably")
    func randomBytes() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var decodedCount = 0
        var failedCount = 0
        for round in 0..<20_000 {
            let count = Int(next() % 48)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
            // Bias half the inputs toward plausible tags so parsing gets deep.
            if round % 2 == 0, !bytes.isEmpty {
                bytes[0] = [0x08, 0x12, 0x22, 0x2A, 0x0A, 0x1A][Int(next() % 6)]
            }
            for type in [RequestEnvelope.self, ResponseEnvelope.self] as [any ProtoMessage.Type]
                + [PredictRequest.self, PredictResponse.self, ListModelsResponse.self, TrainStatus.self]
            {
                if Self.decodesStably(type, bytes) { decodedCount += 1 } else { failedCount += 1 }
            }
        }
        #expect(decodedCount > 0 && failedCount > 0)
    }

    /// Decodes `bytes`; when that works, checks that re-encoding and decoding
    /// again reaches a fixed point (compared as bytes, so NaNs compare).
    private static func decodesStably<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) -> Bool {
        guard let first = try? M(serializedBytes: bytes) else { return false }
        let encoded = first.serializedBytes()
        let second = try? M(serializedBytes: encoded)
        #expect(second?.serializedBytes() == encoded, "\(M.self) from \(bytes)")
        return true
    }

    @Test("Unknown fields are skipped")
    func unknownFields() throws {
        // Field 15 varint, field 16 length-delimited, field 17 fixed32, then call_id = 5.
        let bytes: [UInt8] = [0x78, 0x01, 0x82, 0x01, 0x02, 0xAA, 0xBB, 0x8D, 0x01, 1, 2, 3, 4, 0x08, 0x05]
        let request = try RequestEnvelope(serializedBytes: bytes)
        var expected = RequestEnvelope()
        expected.callID = 5
        #expect(request == expected)
        #expect(request.serializedBytes() == [0x08, 0x05])
    }
}

@Suite("Decoding memory limits")
struct DecodingLimitTests {
    @Test("A frame of empty repeated entries is refused, not expanded 50-fold")
    func emptyEntries() {
        // 2 MiB of empty metadata entries: one million sub-messages.
        let bytes = (0..<(2 << 20)).map { $0 % 2 == 0 ? UInt8(0x22) : 0x00 }
        expectDecodingFails(RequestEnvelope.self, bytes, mentioning: "facerpc.v1.RequestEnvelope too large to decode")
    }

    @Test("A frame of unknown fields is refused too")
    func unknownFields() {
        // Field 15, varint 0, repeated: protobuf-c keeps a copy of every unknown field.
        let bytes = (0..<(2 << 20)).map { $0 % 2 == 0 ? UInt8(0x78) : 0x00 }
        expectDecodingFails(RequestEnvelope.self, bytes, mentioning: "too large to decode")
    }

    @Test("Large but ordinary messages stay within the limit")
    func ordinaryMessages() throws {
        var request = RequestEnvelope()
        request.callID = 1
        request.metadata = (0..<64).map { MetadataEntry(key: "k\($0)", value: String(repeating: "v", count: 100)) }
        request.payload = patternBytes(count: 4 << 20)
        #expect(try roundTrip(request).copy == request)

        var model = ModelInfo()
        model.labels = (0..<101).map(String.init)
        model.mean = [104, 117, 123]
        let list = ListModelsResponse(models: Array(repeating: model, count: 1000))
        #expect(try roundTrip(list).copy == list)

        var face = Face()
        face.box = Box(x: 1, y: 2, width: 3, height: 4)
        face.landmarks = (0..<5).map { Point(x: Float($0), y: 0) }
        var age = AgeEstimate()
        age.distribution = Array(repeating: 0.01, count: 101)
        face.age = age
        var response = PredictResponse()
        response.faces = Array(repeating: face, count: 2000)
        #expect(try roundTrip(response).copy == response)
    }
}
