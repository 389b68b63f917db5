import FaceRPCCore
import FaceRPCKernels  // SplitMix64: seeded envelopes, so failures reproduce
import FaceRPCProtos
import FaceRPCWire
import Foundation
import NIOCore
import Testing

/// The in-place envelope reader against protobuf-c, on the same bytes: where
/// the view accepts, protobuf-c must decode the same envelope; where it
/// declines, `EnvelopeCodec.decodeRequest` must still give protobuf-c's answer.
@Suite struct RequestEnvelopeViewTests {

    enum Outcome: Equatable {
        case accepted(RequestEnvelope)
        case declined
    }

    /// Compares both decoders on `bytes`; returns whether the view accepted.
    @discardableResult
    func compare(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let frame = ByteBufferAllocator().buffer(bytes: bytes)
        let reference = Result { () throws(ProtoDecodingError) -> RequestEnvelope in try RequestEnvelope(serializedBytes: bytes) }
        let viaCodec = Result { () throws(RPCError) -> RequestEnvelope in try EnvelopeCodec.decodeRequest(frame) }
        let viaProtobufC = Result { () throws(RPCError) -> RequestEnvelope in try EnvelopeCodec.decodeRequestThroughProtobufC(frame) }
        // The codec's answer (fast or not) is protobuf-c's, errors included.
        switch (viaCodec, viaProtobufC) {
        case (.success(let a), .success(let b)):
            // Compared first: a failure should print the bytes' head, not two whole envelopes.
            let same = a == b
            #expect(same, "codec and protobuf-c disagree on \(bytes.prefix(32))", sourceLocation: sourceLocation)
        case (.failure(let a), .failure(let b)):
            let same = a.code == b.code && a.message == b.message
            #expect(same, "codec and protobuf-c fail differently on \(bytes.prefix(32))", sourceLocation: sourceLocation)
        default:
            Issue.record("codec and protobuf-c disagree on success for \(bytes.count) bytes: \(bytes.prefix(32))",
                         sourceLocation: sourceLocation)
        }
        guard let view = RequestEnvelopeView(frame: frame) else { return false }
        switch reference {
        case .failure(let error):
            Issue.record("view accepted bytes protobuf-c refuses (\(error)): \(bytes.prefix(32))", sourceLocation: sourceLocation)
        case .success(let envelope):
            let sameEnvelope = view.envelope() == envelope
            #expect(sameEnvelope, "view differs from protobuf-c on \(bytes.prefix(32))", sourceLocation: sourceLocation)
            let sameFields = view.callID == envelope.callID && view.cancel == envelope.cancel
                && view.timeoutMicros == envelope.timeoutMicros
            #expect(sameFields, "view's fields differ from protobuf-c on \(bytes.prefix(32))", sourceLocation: sourceLocation)
            #expect(view.methodByteCount == envelope.method.utf8.count, sourceLocation: sourceLocation)
            #expect(view.payloadByteCount == envelope.payload.count, sourceLocation: sourceLocation)
            #expect(view.methodEquals(Array(envelope.method.utf8)), sourceLocation: sourceLocation)
            #expect(!view.methodEquals(Array(envelope.method.utf8) + [0x41]), sourceLocation: sourceLocation)
            if let last = envelope.method.utf8.last {
                var other = Array(envelope.method.utf8)
                other[other.count - 1] = last ^ 0x01
                #expect(!view.methodEquals(other), sourceLocation: sourceLocation)
            }
        }
        return true
    }

    // MARK: Byte builders

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    static func field(_ tag: UInt8, varint value: UInt64) -> [UInt8] { [tag] + varint(value) }
    static func field(_ tag: UInt8, bytes: [UInt8]) -> [UInt8] { [tag] + varint(UInt64(bytes.count)) + bytes }

    static let methods = [Methods.healthCheck, Methods.healthWatch, Methods.predict, "", "/x", "/a/b\u{7f}",
                          String(repeating: "m", count: 127), String(repeating: "m", count: 128), "/é", "/nul\u{0}x"]

    func randomValue(_ random: inout SplitMix64) -> UInt64 {
        switch Int.random(in: 0...4, using: &random) {
        case 0: return 0
        case 1: return UInt64.random(in: 1...127, using: &random)
        case 2: return random.next() >> UInt64.random(in: 0...63, using: &random)
        case 3: return [UInt64(1) << 63 - 1, UInt64(1) << 63, UInt64.max, 128, 16_384].randomElement(using: &random)!
        default: return random.next()
        }
    }

    // MARK: Tests

    @Test func healthCheckAsTheLoadGeneratorSendsIt() {
        // bench/anchors/wire_min.h's request: call_id, method, nothing else.
        let bytes = Self.field(0x08, varint: 300 << 8 | 5) + Self.field(0x12, bytes: Array(Methods.healthCheck.utf8))
        #expect(compare(bytes))
        let view = RequestEnvelopeView(frame: ByteBufferAllocator().buffer(bytes: bytes))
        #expect(view?.callID == 300 << 8 | 5)
        #expect(view?.methodEquals(Array(Methods.healthCheck.utf8)) == true)
        #expect(view?.methodEquals("/facerpc.v1.Health/Check" as StaticString) == true)
        #expect(view?.methodEquals("/facerpc.v1.Health/Chec" as StaticString) == false)
        #expect(view?.methodEquals("/facerpc.v1.Health/Watch" as StaticString) == false)
        #expect(view?.payloadByteCount == 0)
    }

    /// `bareCallID` says yes exactly for a view with a non-zero id, the
    /// method, no payload and no cancel (the timeout does not matter).
    @Test func bareCallIDMatchesTheView() {
        let method: StaticString = "/facerpc.v1.Health/Check"
        let path = Array(Methods.healthCheck.utf8)
        func bare(_ bytes: [UInt8]) -> UInt64? {
            bytes.withUnsafeBytes { RequestEnvelopeView.bareCallID($0, method: method) }
        }
        let plain = Self.field(0x08, varint: 300) + Self.field(0x12, bytes: path)
        #expect(bare(plain) == 300)
        #expect(bare(Self.field(0x12, bytes: path) + Self.field(0x18, varint: 5_000) + Self.field(0x08, varint: 7)) == 7)
        #expect(bare(Self.field(0x08, varint: 0) + Self.field(0x12, bytes: path)) == nil)          // call id 0
        #expect(bare(Self.field(0x12, bytes: path)) == nil)                                        // no call id
        #expect(bare(plain + Self.field(0x2a, bytes: [0x0a, 0x00])) == nil)                        // a payload
        #expect(bare(plain + Self.field(0x30, varint: 1)) == nil)                                  // a cancel
        #expect(bare(Self.field(0x08, varint: 9) + Self.field(0x12, bytes: Array("/facerpc.v1.Health/Watch".utf8))) == nil)
        #expect(bare(Self.field(0x08, varint: 9) + Self.field(0x12, bytes: Array("/facerpc.v1.Health/Chec".utf8))) == nil)
        #expect(bare(plain + Self.field(0x22, bytes: [1])) == nil)                                 // metadata: protobuf-c's
        #expect(bare(Array(plain.dropLast())) == nil)                                              // truncated
    }

    @Test func declinesWhatItLeavesToProtobufC() {
        let id = Self.field(0x08, varint: 7)
        let method = Self.field(0x12, bytes: Array(Methods.healthCheck.utf8))
        let metadata = Self.field(0x22, bytes: Self.field(0x0a, bytes: Array("authorization".utf8)) + Self.field(0x12, bytes: Array("Bearer x".utf8)))
        let declined: [(String, [UInt8])] = [
            ("metadata", id + method + metadata),
            ("repeated call_id", id + Self.field(0x08, varint: 8) + method),
            ("repeated method", id + method + method),
            ("padded varint", [0x08, 0x87, 0x00] + method),
            ("10-byte varint", [0x08] + Self.varint(UInt64.max) + method),
            ("unknown field", id + method + Self.field(0x3a, bytes: [1, 2])),
            ("unknown varint field", id + method + Self.field(0x78, varint: 1)),
            ("two-byte tag", [0x88, 0x00, 0x07] + method),
            ("wrong wire type", id + Self.field(0x0a, bytes: [1])),
            ("non-ASCII method", id + Self.field(0x12, bytes: Array("/é".utf8))),
            ("NUL in method", id + Self.field(0x12, bytes: [0x2f, 0x00, 0x61])),
            ("truncated length", id + [0x12, 0x20, 0x2f]),
            ("truncated varint", [0x08, 0x80]),
            ("cancel = 2 in a padded varint", id + [0x30, 0x82, 0x00]),
        ]
        for (name, bytes) in declined {
            #expect(!compare(bytes), "\(name) was accepted")
        }
    }

    @Test func acceptsTheShapeInAnyOrderAndAgrees() {
        var random = SplitMix64(seed: 0xFACE_0001)
        var accepted = 0
        let rounds = 4000
        for _ in 0..<rounds {
            var fields: [[UInt8]] = []
            if Bool.random(using: &random) { fields.append(Self.field(0x08, varint: randomValue(&random))) }
            if Bool.random(using: &random) { fields.append(Self.field(0x12, bytes: Array(Self.methods.randomElement(using: &random)!.utf8))) }
            if Bool.random(using: &random) { fields.append(Self.field(0x18, varint: randomValue(&random))) }
            if Bool.random(using: &random) {
                let count = [0, 1, 2, 127, 128, 300].randomElement(using: &random)!
                fields.append(Self.field(0x2a, bytes: (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }))
            }
            if Bool.random(using: &random) { fields.append(Self.field(0x30, varint: [0, 1, 2, 127, 128, 1 << 40].randomElement(using: &random)!)) }
            fields.shuffle(using: &random)
            if compare(fields.flatMap { $0 }) { accepted += 1 }
        }
        // Most of these are in the shape (the rest have a value >= 2^63 or a non-ASCII method).
        #expect(accepted > rounds / 2, "the view accepted only \(accepted) of \(rounds)")
    }

    @Test func agreesOnEnvelopesEncodedByProtobufC() {
        var random = SplitMix64(seed: 0xFACE_0002)
        for _ in 0..<2000 {
            var envelope = RequestEnvelope()
            envelope.callID = randomValue(&random)
            envelope.method = Self.methods.randomElement(using: &random)!
            envelope.timeoutMicros = Bool.random(using: &random) ? 0 : randomValue(&random)
            envelope.cancel = Int.random(in: 0..<5, using: &random) == 0
            envelope.payload = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            if Int.random(in: 0..<4, using: &random) == 0 {
                envelope.metadata = [MetadataEntry(key: "authorization", value: "Bearer t")]
            }
            compare(envelope.serializedBytes())
        }
    }

    @Test func agreesOnMutatedBytes() {
        var random = SplitMix64(seed: 0xFACE_0003)
        let seeds: [[UInt8]] = [
            Self.field(0x08, varint: 1) + Self.field(0x12, bytes: Array(Methods.healthCheck.utf8)),
            Self.field(0x08, varint: 1 << 40) + Self.field(0x12, bytes: Array(Methods.predict.utf8))
                + Self.field(0x18, varint: 1_500_000) + Self.field(0x2a, bytes: [0x0a, 0x03, 0x61, 0x67, 0x65]),
            Self.field(0x08, varint: 9) + Self.field(0x30, varint: 1),
        ]
        var accepted = 0
        for _ in 0..<6000 {
            var bytes = seeds.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                switch Int.random(in: 0...4, using: &random) {
                case 0 where !bytes.isEmpty: bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                case 1 where !bytes.isEmpty: bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 1 << UInt8.random(in: 0...7, using: &random)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
                case 3 where !bytes.isEmpty: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &random))
                default: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
                }
            }
            if compare(bytes) { accepted += 1 }
        }
        #expect(accepted > 100, "mutations never stayed in the shape: \(accepted)")
        // Short random strings, where every tag and wire type turns up.
        for _ in 0..<6000 {
            compare((0..<Int.random(in: 0...12, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
        }
    }

    @Test func agreesOnTheWireFuzzCorpus() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var frames = 0
        for folder in ["Fuzz/Corpus/wire", "Fuzz/Regressions/wire"] {
            let url = root.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            if folder == "Fuzz/Corpus/wire" { #expect(!names.isEmpty, "no corpus at \(url.path)") }
            for name in names.sorted() {
                let bytes = [UInt8](try Data(contentsOf: url.appendingPathComponent(name)))
                // Each file is a byte stream of frames; every frame body is compared, and so is the whole file.
                var buffer = ByteBufferAllocator().buffer(bytes: bytes)
                var decoder = FrameDecoder(maxFrameBytes: 1 << 20)
                while let frame = try? decoder.nextFrame(from: &buffer) {
                    compare(Array(frame.readableBytesView))
                    frames += 1
                }
                compare(bytes)
            }
        }
        #expect(frames > 0)
    }

    @Test func readsInPlaceFromASlice() {
        // The frame is a slice in the middle of a larger read buffer, as in the server.
        let body = Self.field(0x08, varint: 42) + Self.field(0x12, bytes: Array(Methods.healthCheck.utf8)) + Self.field(0x2a, bytes: [1, 2, 3])
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        buffer.writeBytes([0xAA, 0xBB, 0xCC])
        FrameEncoder.writeFrame(body, to: &buffer)
        buffer.writeBytes([0xDD])
        buffer.moveReaderIndex(forwardBy: 3)
        var decoder = FrameDecoder(maxFrameBytes: 1024)
        let frame = try? decoder.nextFrame(from: &buffer)
        let view = frame.flatMap { RequestEnvelopeView(frame: $0) }
        #expect(view?.callID == 42)
        #expect(view?.method == Methods.healthCheck)
        #expect(view?.payload == [1, 2, 3])
    }
}
