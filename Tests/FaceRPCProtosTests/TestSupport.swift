import FaceRPCProtos
import Testing

/// Encodes `message`, decodes the bytes back, and returns the copy with the bytes.
func roundTrip<M: ProtoMessage>(_ message: M) throws -> (copy: M, bytes: [UInt8]) {
    let bytes = message.serializedBytes()
    let copy = try M(serializedBytes: bytes)
    return (copy, bytes)
}

/// Expects `bytes` to fail decoding as `M` with a ProtoDecodingError naming `M`.
func expectDecodingFails<M: ProtoMessage>(
    _ type: M.Type, _ bytes: [UInt8], mentioning fragment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        let decoded = try M(serializedBytes: bytes)
        Issue.record("decoded \(bytes) as \(decoded)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
    }
}

/// Deterministic bytes in 0...255, so large payloads are not all one value.
func patternBytes(count: Int, seed: UInt32 = 0x9E37_79B9) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}

/// Strings that exercise multi-byte UTF-8: 2-, 3- and 4-byte sequences.
let unicodeSamples = ["héllo wörld", "年齢と性別", "👩🏽‍🔬 face", "Ωμέγα"]
