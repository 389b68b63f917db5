import FaceRPCProtos
import NIOCore

/// A request envelope read in place from its frame, without protobuf-c and
/// without copying the method or payload, for the shape every client sends.
///
/// Decoding through protobuf-c costs, per call, a C tree of several mallocs,
/// a Swift `String` and a `[UInt8]` copy of the payload. A health check needs
/// none of that: it only compares the method bytes and looks at the payload's
/// length. This view decodes exactly the envelopes whose every field is
///
/// - one of `call_id` (1), `method` (2), `timeout_micros` (3), `payload` (5)
///   and `cancel` (6), each at most once, in any order, with a one-byte tag;
/// - a varint in its shortest form, of at most 9 bytes (below 2^63);
/// - for `method`, bytes in 0x01...0x7F (ASCII without NUL).
///
/// Anything else — metadata, unknown or repeated fields, long or padded
/// varints, other wire types, non-ASCII methods, truncation — makes
/// ``init(frame:)`` return nil, and the caller falls back to protobuf-c
/// (``EnvelopeCodec/decodeRequest(_:)`` does). On the shape it accepts the
/// result equals protobuf-c's field for field (a differential test and the
/// `wire` fuzz target compare the two), so the fallback never changes an answer.
public struct RequestEnvelopeView: Sendable {
    /// The frame body the view reads from; its readable bytes are the envelope.
    public let frame: ByteBuffer
    /// `call_id`; 0 when absent.
    public let callID: UInt64
    /// `timeout_micros`; 0 when absent.
    public let timeoutMicros: UInt64
    /// `cancel`; false when absent.
    public let cancel: Bool
    /// Offsets of the method and payload bytes from the frame's reader index.
    private let methodRange: Range<Int>
    private let payloadRange: Range<Int>

    /// Decodes `frame`'s readable bytes, or returns nil when they are outside
    /// the shape described above (protobuf-c must decide then).
    public init?(frame: ByteBuffer) {
        guard let fields = frame.withUnsafeReadableBytes({ Self.scan($0) }) else { return nil }
        self.init(frame: frame, fields: fields)
    }

    private init(frame: ByteBuffer, fields: ScannedFields) {
        self.frame = frame
        callID = fields.callID
        timeoutMicros = fields.timeoutMicros
        cancel = fields.cancel
        methodRange = fields.method
        payloadRange = fields.payload
    }

    /// Bytes in `method` (ASCII, so also its character count).
    public var methodByteCount: Int { methodRange.count }

    /// Bytes in `payload`.
    public var payloadByteCount: Int { payloadRange.count }

    /// True when the method path is exactly `utf8`, compared in place.
    public func methodEquals(_ utf8: [UInt8]) -> Bool {
        utf8.withUnsafeBytes { methodEquals($0) }
    }

    /// True when the method path is exactly `path` (UTF-8), compared in
    /// place; a static string costs no reference counting, for hot paths.
    public func methodEquals(_ path: StaticString) -> Bool {
        path.withUTF8Buffer { methodEquals(UnsafeRawBufferPointer($0)) }
    }

    private func methodEquals(_ expected: UnsafeRawBufferPointer) -> Bool {
        frame.withUnsafeReadableBytes { Self.bytes($0, in: methodRange, equal: expected) }
    }

    /// Whether `bytes[range]` is exactly `expected`.
    @inline(__always)
    private static func bytes(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>, equal expected: UnsafeRawBufferPointer) -> Bool {
        guard expected.count == range.count else { return false }
        // Eight bytes at a time: this runs once per call on the hot path.
        let start = range.lowerBound, count = expected.count
        var offset = 0
        while offset + 8 <= count {
            guard bytes.loadUnaligned(fromByteOffset: start + offset, as: UInt64.self)
                == expected.loadUnaligned(fromByteOffset: offset, as: UInt64.self) else { return false }
            offset += 8
        }
        // leftovers
        while offset < count {
            guard bytes[start + offset] == expected[offset] else { return false }
            offset += 1
        }
        return true
    }

    /// The method path as a string (a copy).
    public var method: String {
        frame.withUnsafeReadableBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[methodRange]), as: UTF8.self) }
    }

    /// The payload bytes (a copy).
    public var payload: [UInt8] {
        frame.withUnsafeReadableBytes { Array(UnsafeRawBufferPointer(rebasing: $0[payloadRange])) }
    }

    /// The envelope as a value, equal to what protobuf-c decodes from the same bytes.
    public func envelope() -> RequestEnvelope {
        var request = RequestEnvelope()
        request.callID = callID
        request.method = method
        request.timeoutMicros = timeoutMicros
        request.payload = payload
        request.cancel = cancel
        return request
    }

    /// The call id of `envelope` (an encoded envelope, read in place) when
    /// it is a bare call of `method`: in this view's shape, with a non-zero
    /// call id, an empty payload, no cancel; nil for anything else. The
    /// timeout is not looked at. For a server's fast path, which answers
    /// such calls without making a view.
    public static func bareCallID(_ envelope: UnsafeRawBufferPointer, method: StaticString) -> UInt64? {
        guard let fields = scan(envelope), fields.callID != 0, !fields.cancel, fields.payload.isEmpty,
              method.withUTF8Buffer({ bytes(envelope, in: fields.method, equal: UnsafeRawBufferPointer($0)) })
        else { return nil }
        return fields.callID
    }

    // MARK: Scanning

    private struct ScannedFields {
        var callID: UInt64 = 0
        var timeoutMicros: UInt64 = 0
        var cancel = false
        var method: Range<Int> = 0..<0
        var payload: Range<Int> = 0..<0
    }

    /// One-byte tags of the fields the view takes: field number << 3 | wire type.
    private enum Tag {
        static let callID: UInt8 = 0x08          // 1, varint
        static let method: UInt8 = 0x12          // 2, length-delimited
        static let timeoutMicros: UInt8 = 0x18   // 3, varint
        static let payload: UInt8 = 0x2a         // 5, length-delimited
        static let cancel: UInt8 = 0x30          // 6, varint
    }

    private static func scan(_ bytes: UnsafeRawBufferPointer) -> ScannedFields? {
        var fields = ScannedFields()
        var seen: UInt8 = 0
        var position = 0
        let end = bytes.count
        while position < end {
            let tag = bytes[position]
            position += 1
            // A field seen twice would be "last one wins" (or appended) in
            // protobuf-c; rare enough to leave to it.
            let bit = UInt8(truncatingIfNeeded: 1 &<< (tag >> 3))
            guard seen & bit == 0 else { return nil }
            seen |= bit
            switch tag {
            case Tag.callID:
                guard let value = varint(bytes, at: &position) else { return nil }
                fields.callID = value
            case Tag.timeoutMicros:
                guard let value = varint(bytes, at: &position) else { return nil }
                fields.timeoutMicros = value
            case Tag.cancel:
                // protobuf-c reads a bool as "any payload bit set"; for a
                // shortest-form varint that is value != 0.
                guard let value = varint(bytes, at: &position) else { return nil }
                fields.cancel = value != 0
            case Tag.method:
                guard let range = lengthDelimited(bytes, at: &position) else { return nil }
                // protobuf-c keeps strings as C strings (cut at a NUL) and the
                // Swift side validates UTF-8; plain ASCII sidesteps both.
                for index in range where bytes[index] == 0 || bytes[index] >= 0x80 { return nil }
                fields.method = range
            case Tag.payload:
                guard let range = lengthDelimited(bytes, at: &position) else { return nil }
                fields.payload = range
            default:
                return nil
            }
        }
        return fields
    }

    /// A shortest-form varint of at most 9 bytes, or nil (truncated, padded
    /// with trailing zero groups, or longer: protobuf-c decides those).
    @inline(__always)
    private static func varint(_ bytes: UnsafeRawBufferPointer, at position: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while shift < 63, position < bytes.count {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7f) &<< shift
            if byte < 0x80 {
                if byte == 0 && shift > 0 { return nil }
                return value
            }
            shift += 7
        }
        return nil
    }

    @inline(__always)
    private static func lengthDelimited(_ bytes: UnsafeRawBufferPointer, at position: inout Int) -> Range<Int>? {
        guard let length = varint(bytes, at: &position), length <= UInt64(bytes.count - position) else { return nil }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }
}
