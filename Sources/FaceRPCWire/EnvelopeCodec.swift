import FaceRPCCore
import FaceRPCProtos
import NIOCore

/// Converts between frames and the v1 envelopes, and checks an incoming
/// request envelope against the server's limits.
public enum EnvelopeCodec {
    /// Decodes the body of one client frame.
    ///
    /// Envelopes of the common shape are read by ``RequestEnvelopeView``
    /// (no protobuf-c tree); every other one goes through protobuf-c. Both
    /// give the same value for the bytes the view accepts.
    public static func decodeRequest(_ frame: ByteBuffer) throws(RPCError) -> RequestEnvelope {
        if let view = RequestEnvelopeView(frame: frame) { return view.envelope() }
        return try decodeRequestThroughProtobufC(frame)
    }

    /// Decodes the body of one client frame with protobuf-c only: the
    /// reference the in-place reader is tested against, and the path for
    /// every envelope it declines.
    public static func decodeRequestThroughProtobufC(_ frame: ByteBuffer) throws(RPCError) -> RequestEnvelope {
        do {
            return try frame.withUnsafeReadableBytes { bytes throws(ProtoDecodingError) in
                try RequestEnvelope(serializedBytes: bytes)
            }
        } catch {
            throw RPCError(code: .invalidArgument, message: "undecodable request envelope: \(error.message)", cause: error)
        }
    }

    /// Decodes the body of one server frame.
    public static func decodeResponse(_ frame: ByteBuffer) throws(RPCError) -> ResponseEnvelope {
        do {
            return try frame.withUnsafeReadableBytes { bytes throws(ProtoDecodingError) in
                try ResponseEnvelope(serializedBytes: bytes)
            }
        } catch {
            throw RPCError(code: .internalError, message: "undecodable response envelope: \(error.message)", cause: error)
        }
    }

    /// Encodes an envelope as one frame (length prefix included).
    public static func frame(_ envelope: some ProtoMessage, allocator: ByteBufferAllocator) -> ByteBuffer {
        FrameEncoder.frame(envelope.serializedBytes(), allocator: allocator)
    }

    /// The final frame of a call: status and, on success, its payload.
    public static func finalResponse(callID: UInt64, code: StatusCode, message: String = "", payload: [UInt8] = []) -> ResponseEnvelope {
        var response = ResponseEnvelope()
        response.callID = callID
        var status = Status()
        status.code = code.rawValue
        status.message = message
        response.status = status
        response.payload = payload
        response.endOfStream = true
        return response
    }

    /// One message of a server stream (not the last frame).
    public static func streamMessage(callID: UInt64, payload: [UInt8]) -> ResponseEnvelope {
        var response = ResponseEnvelope()
        response.callID = callID
        response.payload = payload
        response.endOfStream = false
        return response
    }

    /// Checks an envelope's own fields against `limits`. The payload is the
    /// method's business; the frame limit already bounds it.
    public static func validate(_ request: RequestEnvelope, limits: ServerLimits) throws(RPCError) {
        guard request.callID != 0 else {
            throw .invalidArgument("call_id must be non-zero")
        }
        if request.cancel { return }
        guard !request.method.isEmpty else {
            throw .invalidArgument("missing method")
        }
        guard request.method.utf8.count <= limits.maxMethodBytes else {
            throw .invalidArgument("method name is \(request.method.utf8.count) bytes; the limit is \(limits.maxMethodBytes)")
        }
        guard request.metadata.count <= limits.maxMetadataEntries else {
            throw .invalidArgument("\(request.metadata.count) metadata entries; the limit is \(limits.maxMetadataEntries)")
        }
        var metadataBytes = 0
        for entry in request.metadata { metadataBytes += entry.key.utf8.count + entry.value.utf8.count }
        guard metadataBytes <= limits.maxMetadataBytes else {
            throw .invalidArgument("\(metadataBytes) bytes of metadata; the limit is \(limits.maxMetadataBytes)")
        }
    }
}
