import FaceRPCCore
import NIOCore

/// Appends final-response frames straight into an outgoing buffer, without
/// building a ``ResponseEnvelope`` and going through protobuf-c.
///
/// The server answers every call with one of these; writing them directly
/// saves, per call, the envelope value, a C message, an encoded `[UInt8]` and a
/// `ByteBuffer` of its own, and lets the answers to one read leave in one
/// buffer. The bytes are exactly protobuf-c's encoding of
/// ``EnvelopeCodec/finalResponse(callID:code:message:payload:)`` (the tests
/// compare them): fields in number order, proto3 defaults omitted, `status`
/// always present.
public enum ResponseFrameWriter {
    /// Appends `[length][ResponseEnvelope{call_id, status{code, message}, payload, end_of_stream: true}]`.
    public static func writeFinal(callID: UInt64, code: StatusCode, message: String = "", payload: [UInt8] = [],
                                  to buffer: inout ByteBuffer) {
        var message = message
        let messageBytes = message.withUTF8 { $0.count }
        var statusBytes = 0
        if code.rawValue != 0 { statusBytes += 1 + varintSize(UInt64(code.rawValue)) }
        if messageBytes > 0 { statusBytes += 1 + varintSize(UInt64(messageBytes)) + messageBytes }
        var body = 1 + varintSize(UInt64(statusBytes)) + statusBytes + 2   // status field, end_of_stream
        if callID != 0 { body += 1 + varintSize(callID) }
        if !payload.isEmpty { body += 1 + varintSize(UInt64(payload.count)) + payload.count }

        buffer.reserveCapacity(minimumWritableBytes: FrameDecoder.headerBytes + body)
        buffer.writeInteger(UInt32(body), endianness: .big)
        if callID != 0 {
            buffer.writeInteger(UInt8(0x08))                   // 1: call_id, varint
            writeVarint(callID, to: &buffer)
        }
        buffer.writeInteger(UInt8(0x12))                       // 2: status, length-delimited
        writeVarint(UInt64(statusBytes), to: &buffer)
        if code.rawValue != 0 {
            buffer.writeInteger(UInt8(0x08))                   //   1: code
            writeVarint(UInt64(code.rawValue), to: &buffer)
        }
        if messageBytes > 0 {
            buffer.writeInteger(UInt8(0x12))                   //   2: message
            writeVarint(UInt64(messageBytes), to: &buffer)
            message.withUTF8 { _ = buffer.writeBytes($0) }
        }
        if !payload.isEmpty {
            buffer.writeInteger(UInt8(0x1a))                   // 3: payload
            writeVarint(UInt64(payload.count), to: &buffer)
            buffer.writeBytes(payload)
        }
        buffer.writeInteger(UInt16(0x2001), endianness: .big) // 4: end_of_stream = true
    }

    /// A final response encoded once, all but its call id: the answers that
    /// do not depend on the request (a health check of the whole server) are
    /// then a length, a call id and a copy.
    public struct PreencodedFinal: Sendable, Equatable {
        /// Fields 2 to 4 exactly as ``writeFinal(callID:code:message:payload:to:)``
        /// writes them; `call_id` (field 1) comes first on the wire, so it is
        /// all of the body when the call id is 0.
        public let fieldsAfterCallID: [UInt8]

        /// The answer `writeFinal(callID:code:message:payload:to:)` gives for these arguments.
        public init(code: StatusCode, message: String = "", payload: [UInt8] = []) {
            var frame = ByteBufferAllocator().buffer(capacity: 64)
            ResponseFrameWriter.writeFinal(callID: 0, code: code, message: message, payload: payload, to: &frame)
            frame.moveReaderIndex(forwardBy: FrameDecoder.headerBytes)
            fieldsAfterCallID = frame.readBytes(length: frame.readableBytes)!
        }
    }

    /// Appends the frame of `answer` for `callID`: the same bytes as
    /// ``writeFinal(callID:code:message:payload:to:)`` with the answer's arguments.
    public static func writeFinal(callID: UInt64, _ answer: PreencodedFinal, to buffer: inout ByteBuffer) {
        let callIDBytes = callID == 0 ? 0 : 1 + varintSize(callID)
        let body = callIDBytes + answer.fieldsAfterCallID.count
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: FrameDecoder.headerBytes + body) { out in
            out.storeBytes(of: UInt32(body).bigEndian, toByteOffset: 0, as: UInt32.self)
            var position = FrameDecoder.headerBytes
            if callID != 0 {
                out[position] = 0x08                       // 1: call_id, varint
                position += 1
                var value = callID
                while value >= 0x80 {
                    out[position] = UInt8(truncatingIfNeeded: value) | 0x80
                    position += 1
                    value >>= 7
                }
                out[position] = UInt8(value)
                position += 1
            }
            answer.fieldsAfterCallID.withUnsafeBytes { fields in
                UnsafeMutableRawBufferPointer(rebasing: out[position...]).copyMemory(from: fields)
            }
            return position + answer.fieldsAfterCallID.count
        }
    }

    static func varintSize(_ value: UInt64) -> Int {
        // 7 bits per byte; 0 still takes one byte.
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }

    static func writeVarint(_ value: UInt64, to buffer: inout ByteBuffer) {
        var value = value
        while value >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.writeInteger(UInt8(value))
    }
}
