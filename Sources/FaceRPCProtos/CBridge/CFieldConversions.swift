internal import CFaceRPCProtos

// Copies single fields out of unpacked protobuf-c structs and into C structs
// being built. protobuf-c's conventions for proto3: scalars are plain fields;
// strings are `char *` (never NULL after unpack, but tolerated); bytes are
// `ProtobufCBinaryData`; repeated fields are `n_x` + `x`; sub-messages are
// pointers, NULL when absent; enums are C enums holding any int32.

/// A string field as Swift text.
///
/// - Throws: ``ProtoDecodingError`` when the bytes are not UTF-8; `field` is
///   only built then.
@inline(__always)
func decodeString(
    _ pointer: UnsafePointer<CChar>?, field: @autoclosure () -> String
) throws(ProtoDecodingError) -> String {
    guard let pointer, pointer.pointee != 0 else { return "" }
    guard let string = String(validatingCString: pointer) else {
        throw .invalidUTF8(field())
    }
    return string
}

/// A repeated string field.
func decodeStrings(
    _ pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, count: Int, field: @autoclosure () -> String
) throws(ProtoDecodingError) -> [String] {
    guard let pointers, count > 0 else { return [] }
    var strings: [String] = []
    strings.reserveCapacity(count)
    for index in 0..<count {
        strings.append(try decodeString(pointers[index], field: field()))
    }
    return strings
}

/// A bytes field, copied.
@inline(__always)
func decodeBytes(_ data: ProtobufCBinaryData) -> [UInt8] {
    guard let base = data.data, data.len > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: base, count: data.len))
}

/// A repeated scalar field, copied.
@inline(__always)
func decodeArray<T>(_ pointer: UnsafeMutablePointer<T>?, count: Int) -> [T] {
    guard let pointer, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: pointer, count: count))
}

/// A repeated message field.
func decodeMessages<M: CMessageBridged>(
    _ pointers: UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?, count: Int, as type: M.Type = M.self
) throws(ProtoDecodingError) -> [M] {
    guard let pointers, count > 0 else { return [] }
    var messages: [M] = []
    messages.reserveCapacity(count)
    for index in 0..<count {
        // protobuf-c fills every slot; a NULL would be a protobuf-c bug, so it
        // reads as a default message rather than a crash.
        if let element = pointers[index] {
            messages.append(try M(cMessage: element))
        } else {
            messages.append(M())
        }
    }
    return messages
}

/// An optional sub-message field.
@inline(__always)
func decodeSubmessage<M: CMessageBridged>(
    _ pointer: UnsafeMutablePointer<M.CMessage>?, as type: M.Type = M.self
) throws(ProtoDecodingError) -> M? {
    guard let pointer else { return nil }
    return try M(cMessage: pointer)
}

/// Runs `body` with `bytes` viewed as `ProtobufCBinaryData`, without copying.
/// protobuf-c only reads through the (formally mutable) data pointer when packing.
@inline(__always)
func withBinaryData<R>(_ bytes: [UInt8], _ body: (ProtobufCBinaryData) -> R) -> R {
    bytes.withUnsafeBufferPointer { buffer in
        body(ProtobufCBinaryData(len: buffer.count, data: UnsafeMutablePointer(mutating: buffer.baseAddress)))
    }
}

// MARK: - Enums

/// A C enum field's value as the int32 on the wire (protobuf-c stores the
/// raw number, known or not).
@inline(__always)
func cEnumValue<E: RawRepresentable>(_ value: E) -> Int32 where E.RawValue: FixedWidthInteger {
    Int32(truncatingIfNeeded: value.rawValue)
}

/// A C enum holding the wire number `value`.
@inline(__always)
func cEnum<E: RawRepresentable>(_ value: Int32, as type: E.Type = E.self) -> E where E.RawValue: FixedWidthInteger {
    // Imported C enums accept every raw value.
    E(rawValue: E.RawValue(truncatingIfNeeded: value))!
}

/// `protobuf_c_boolean` (a C int).
@inline(__always)
func cBool(_ value: Bool) -> protobuf_c_boolean { value ? 1 : 0 }
