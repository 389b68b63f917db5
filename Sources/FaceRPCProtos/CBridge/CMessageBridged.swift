internal import CFaceRPCProtos

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A Swift message backed by one protobuf-c message type.
///
/// Each conformer says how to unpack its C type and how to copy between the
/// C struct and itself; `decodeMessage(_:as:)` and `encodeMessage(_:)` do the
/// rest with protobuf-c's generic entry points.
protocol CMessageBridged {
    /// The protobuf-c struct, e.g. `Facerpc__V1__RequestEnvelope`.
    associatedtype CMessage

    /// The full proto name, e.g. `facerpc.v1.RequestEnvelope`, for errors.
    static var protoName: String { get }

    /// The message with every field at its default.
    init()

    /// `facerpc__v1__…__unpack(allocator, count, data)`: a tree allocated
    /// from `allocator`, or `nil` when the bytes are malformed or an
    /// allocation failed.
    static func cUnpack(
        allocator: UnsafeMutablePointer<ProtobufCAllocator>, count: Int, data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>?

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
///
/// protobuf-c allocates a struct, a pointer and a scan record for every
/// field it meets, so a few input bytes can cost a hundred bytes of memory
/// (an empty repeated sub-message is 2 bytes on the wire). Its allocations go
/// through a `DecodeBudget` that refuses to pass
/// `bytes.count + ProtoLimits.maxDecodeOverheadBytes` in total, which makes
/// protobuf-c fail cleanly instead.
func decodeMessage<M: CMessageBridged>(
    _ bytes: UnsafeRawBufferPointer, as type: M.Type = M.self
) throws(ProtoDecodingError) -> M {
    var budget = DecodeBudget(limit: bytes.count + ProtoLimits.maxDecodeOverheadBytes)
    let result = withUnsafeMutablePointer(to: &budget) { budget in
        var allocator = ProtobufCAllocator(
            alloc: decodeBudgetAlloc, free: decodeBudgetFree, allocator_data: UnsafeMutableRawPointer(budget))
        return withUnsafeMutablePointer(to: &allocator) { allocator in
            Result { () throws(ProtoDecodingError) -> M in
                try unpackAndConvert(bytes, allocator: allocator, budget: budget, as: M.self)
            }
        }
    }
    return try result.get()
}

private func unpackAndConvert<M: CMessageBridged>(
    _ bytes: UnsafeRawBufferPointer,
    allocator: UnsafeMutablePointer<ProtobufCAllocator>,
    budget: UnsafeMutablePointer<DecodeBudget>,
    as type: M.Type
) throws(ProtoDecodingError) -> M {
    let unpacked: UnsafeMutablePointer<M.CMessage>?
    if let base = bytes.baseAddress, bytes.count > 0 {
        unpacked = M.cUnpack(allocator: allocator, count: bytes.count, data: base.assumingMemoryBound(to: UInt8.self))
    } else {
        // protobuf-c never reads `data` when the length is 0, but it must not be NULL.
        var empty: UInt8 = 0
        unpacked = withUnsafePointer(to: &empty) { M.cUnpack(allocator: allocator, count: 0, data: $0) }
    }
    guard let unpacked else {
        if budget.pointee.exceeded {
            throw .tooLarge(M.protoName, limit: budget.pointee.limit)
        }
        throw .malformed(M.protoName)
    }
    defer {
        protobuf_c_message_free_unpacked(
            UnsafeMutableRawPointer(unpacked).assumingMemoryBound(to: ProtobufCMessage.self), allocator)
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

// MARK: - Decode budget

/// The memory one decode may still take from protobuf-c's allocator. Lives on
/// the stack of `decodeMessage(_:as:)`; the allocator reaches it through
/// `allocator_data`.
struct DecodeBudget {
    /// Total bytes allowed.
    let limit: Int
    /// Bytes not yet allocated. Frees are not credited back: protobuf-c
    /// frees little before the end, and the bound stays simple.
    var remaining: Int
    /// Set when an allocation was refused, to tell a too-large message from a malformed one.
    var exceeded = false

    init(limit: Int) {
        self.limit = limit
        self.remaining = limit
    }
}

private func decodeBudgetAlloc(_ data: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    let budget = data!.assumingMemoryBound(to: DecodeBudget.self)
    guard size <= budget.pointee.remaining else {
        budget.pointee.exceeded = true
        return nil
    }
    budget.pointee.remaining -= size
    return malloc(size)
}

private func decodeBudgetFree(_ data: UnsafeMutableRawPointer?, _ pointer: UnsafeMutableRawPointer?) {
    free(pointer)
}
