/// A message of the `facerpc.v1` protocol as a Swift value.
///
/// Every conforming type mirrors one protobuf message: `init()` gives the
/// proto3 defaults (zero, empty, `nil`), and the codec converts to and from the
/// protobuf wire format through the generated protobuf-c code. No C memory
/// outlives a call into the codec.
///
/// Wire-format notes that callers may observe:
/// - Fields at their default value are not written, so `Self()` encodes to
///   zero bytes and decoding zero bytes gives `Self()`.
/// - Unknown fields are skipped when decoding and not kept.
/// - protobuf-c carries strings as NUL-terminated C strings, so a string field
///   is encoded only up to its first U+0000, and a received string is cut at
///   its first NUL byte. The protocol uses no such strings.
public protocol ProtoMessage: Sendable, Equatable {
    /// A message with every field at its proto3 default.
    init()

    /// Decodes protobuf wire-format bytes (via protobuf-c).
    ///
    /// The bytes are only read during the call; the result owns copies of all
    /// strings and bytes.
    ///
    /// - Throws: ``ProtoDecodingError`` when the bytes are not a valid encoding
    ///   of this message (truncated, bad tags or wire types, overlong
    ///   varints), a string field is not valid UTF-8 (proto3 requires it), or
    ///   the message would need more than
    ///   `bytes.count + ProtoLimits.maxDecodeOverheadBytes` of memory to decode
    ///   (dense runs of tiny or empty sub-messages and unknown fields).
    init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError)

    /// Encodes to protobuf wire format (via protobuf-c).
    ///
    /// Bytes fields are read in place; the result is the only copy made.
    func serializedBytes() -> [UInt8]
}

extension ProtoMessage {
    /// Decodes protobuf wire-format bytes; see ``init(serializedBytes:)-(UnsafeRawBufferPointer)``.
    ///
    /// - Throws: ``ProtoDecodingError`` when the bytes are malformed.
    @inlinable
    public init(serializedBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ProtoDecodingError) -> Self in try Self(serializedBytes: raw) }
        }
        self = try result.get()
    }
}

/// Bytes that are not a valid encoding of the expected `facerpc.v1` message.
public struct ProtoDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong, naming the message (and field, when known), e.g.
    /// `"malformed facerpc.v1.PredictRequest"`.
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }

    /// The bytes do not parse as the message `protoName` (a full proto name).
    static func malformed(_ protoName: String) -> ProtoDecodingError {
        ProtoDecodingError(message: "malformed \(protoName)")
    }

    /// Decoding `protoName` needed more memory than `limit` bytes.
    static func tooLarge(_ protoName: String, limit: Int) -> ProtoDecodingError {
        ProtoDecodingError(
            message: "\(protoName) too large to decode: needs more than \(limit) bytes of memory "
                + "(input size + ProtoLimits.maxDecodeOverheadBytes)")
    }

    /// The string field `fieldPath` (e.g. `facerpc.v1.Status.message`) is not UTF-8.
    static func invalidUTF8(_ fieldPath: String) -> ProtoDecodingError {
        ProtoDecodingError(message: "invalid UTF-8 in string field \(fieldPath)")
    }
}

/// Limits that keep decoding untrusted bytes bounded in memory.
public enum ProtoLimits {
    /// The most memory protobuf-c may allocate while decoding one message,
    /// beyond the size of the input itself: 8 MiB.
    ///
    /// Bytes and string fields cost about their own size, but every field
    /// occurrence also costs a scan record and every sub-message a struct and
    /// a pointer, so a frame of empty repeated entries could otherwise ask
    /// for ~50 times its size. Real messages of this protocol need well under
    /// 1 MiB of such overhead; the Swift value built afterwards is of the
    /// same order as the C tree.
    public static let maxDecodeOverheadBytes = 8 << 20
}
