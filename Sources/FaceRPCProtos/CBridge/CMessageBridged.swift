internal import CFaceRPCProtos

/// A Swift message backed by one protobuf-c message type.
///
/// Each conformer says how to unpack its C type and how to copy between the
/// C struct and itself; ``decodeMessage(_:)`` and ``encodeMessage(_:)`` do the
/// rest with protobuf-c's generic entry points.
protocol CMessageBridged {
    /// The protobuf-c struct, e.g. `Facerpc__V1__RequestEnvelope`.
    associatedtype CMessage

    /// The full proto name, e.g. `facerpc.v1.RequestEnvelope`, for errors.
    static var protoName: String { get }

    /// The message with every field at its default.
    init()

    /// `facerpc__v1__…__unpack(NULL, count, data)`: a tree allocated with
    /// protobuf-c's default allocator, or `nil` when the bytes are malformed.
    static func cUnpack(count: Int, data: UnsafePointer<UInt8>) -> UnsafeMutablePointer<CMessage>?

    /// Copies everything out of an unpacked C message. The pointer is only
    /// valid during the call.
    init(cMessage: UnsafePointer<CMessage>) throws(ProtoDecodingError)

    /// Builds the C struct for this value and passes it to `body`. The struct
    /// and everything it points to stay valid until `body` returns: strings,
    /// arrays and sub-messages live in `arena`, bytes fields point straight
    /// into the Swift arrays.
    func withCMessage<R>(in arena: CArena, _ body: (UnsafePointer<CMessage>) -> R) -> R
}

/// A bridged message without bytes fields: its whole C tree can live in an
/// arena, so it can sit in repeated fields and be built without closures.
protocol CArenaBuildable: CMessageBridged {
    /// Allocates and fills the C struct in `arena`; valid as long as `arena`.
    func build(in arena: CArena) -> UnsafeMutablePointer<CMessage>
}

extension CArenaBuildable {
    func withCMessage<R>(in arena: CArena, _ body: (UnsafePointer<CMessage>) -> R) -> R {
        body(build(in: arena))
    }
}

/// Every protobuf-c message struct starts with `ProtobufCMessage base`, so
/// the generic packer, sizer and destructor take a pointer to it.
@inline(__always)
private func basePointer<C>(_ message: UnsafePointer<C>) -> UnsafePointer<ProtobufCMessage> {
    UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self)
}

/// Decodes `bytes` as `M` through protobuf-c, freeing the C tree before returning.
func decodeMessage<M: CMessageBridged>(
    _ bytes: UnsafeRawBufferPointer, as type: M.Type = M.self
) throws(ProtoDecodingError) -> M {
    // protobuf-c never reads `data` when the length is 0, but it must not be
    // NULL; a static byte serves for empty input.
    let unpacked: UnsafeMutablePointer<M.CMessage>?
    if let base = bytes.baseAddress, bytes.count > 0 {
        unpacked = M.cUnpack(count: bytes.count, data: base.assumingMemoryBound(to: UInt8.self))
    } else {
        var empty: UInt8 = 0
        unpacked = withUnsafePointer(to: &empty) { M.cUnpack(count: 0, data: $0) }
    }
    guard let unpacked else { throw .malformed(M.protoName) }
    defer {
        protobuf_c_message_free_unpacked(
            UnsafeMutableRawPointer(unpacked).assumingMemoryBound(to: ProtobufCMessage.self), nil)
    }
    return try M(cMessage: unpacked)
}

/// Encodes `message` through protobuf-c into a new array (the only copy of
/// any bytes field).
func encodeMessage<M: CMessageBridged>(_ message: M) -> [UInt8] {
    let arena = CArena()
    return message.withCMessage(in: arena) { c in
        let base = basePointer(c)
        let size = protobuf_c_message_get_packed_size(base)
        guard size > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = protobuf_c_message_pack(base, buffer.baseAddress!)
            precondition(initialized == size, "protobuf-c packed \(initialized) bytes, sized \(size)")
        }
    }
}
