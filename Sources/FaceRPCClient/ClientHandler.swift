import FaceRPCCore
import FaceRPCProtos
import FaceRPCWire
import NIOCore

/// Matches response frames to calls by call id. Lives on the channel's event loop.
final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum PendingCall {
        case unary(EventLoopPromise<ResponseEnvelope>, Scheduled<Void>?)
        case stream(AsyncThrowingStream<[UInt8], any Error>.Continuation)
    }

    private var pending: [UInt64: PendingCall] = [:]
    private var context: ChannelHandlerContext?
    /// Set when the connection is gone; new calls fail at once with it.
    private var failure: RPCError?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func startUnary(callID: UInt64, envelope: RequestEnvelope, promise: EventLoopPromise<ResponseEnvelope>, localLimit: Duration) {
        guard let context, failure == nil, context.channel.isActive else {
            promise.fail(failure ?? RPCError(code: .unavailable, message: "connection closed"))
            return
        }
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timer = context.eventLoop.scheduleTask(in: TimeAmount(localLimit)) {
            this.value.localDeadline(callID: callID)
        }
        pending[callID] = .unary(promise, timer)
        send(envelope, context: context)
    }

    func startStream(callID: UInt64, envelope: RequestEnvelope, continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation) {
        guard let context, failure == nil, context.channel.isActive else {
            continuation.finish(throwing: failure ?? RPCError(code: .unavailable, message: "connection closed"))
            return
        }
        pending[callID] = .stream(continuation)
        send(envelope, context: context)
    }

    func cancel(callID: UInt64) {
        guard let context, pending.removeValue(forKey: callID) != nil else { return }
        var envelope = RequestEnvelope()
        envelope.callID = callID
        envelope.cancel = true
        send(envelope, context: context)
    }

    private func localDeadline(callID: UInt64) {
        guard case .unary(let promise, _)? = pending.removeValue(forKey: callID) else { return }
        promise.fail(RPCError(code: .deadlineExceeded, message: "no answer from the server within the deadline"))
    }

    private func send(_ envelope: RequestEnvelope, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(EnvelopeCodec.frame(envelope, allocator: context.channel.allocator)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let response: ResponseEnvelope
        do { response = try EnvelopeCodec.decodeResponse(frame) } catch {
            failAll(error)
            context.close(promise: nil)
            return
        }
        if response.callID == 0 {
            // A connection-level message: the server is about to close, or it
            // could not attribute something we sent. Calls fail when it closes.
            if let status = response.status {
                failure = RPCError(code: StatusCode(rawValue: status.code), message: status.message)
            }
            return
        }
        guard let call = pending[response.callID] else { return }
        switch call {
        case .unary(let promise, let timer):
            pending.removeValue(forKey: response.callID)
            timer?.cancel()
            promise.succeed(response)
        case .stream(let continuation):
            if !response.endOfStream {
                continuation.yield(response.payload)
                return
            }
            pending.removeValue(forKey: response.callID)
            let code = StatusCode(rawValue: response.status?.code ?? StatusCode.unknown.rawValue)
            if code == .ok {
                if !response.payload.isEmpty { continuation.yield(response.payload) }
                continuation.finish()
            } else {
                continuation.finish(throwing: RPCError(code: code, message: response.status?.message ?? ""))
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(failure ?? RPCError(code: .unavailable, message: "connection closed by the server"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let rpcError: RPCError
        if let framing = error as? FramingError {
            rpcError = RPCError(code: .resourceExhausted, message: framing.description, cause: framing)
        } else {
            rpcError = RPCError(code: .unavailable, message: "connection error: \(error)", cause: error)
        }
        failAll(rpcError)
        context.close(promise: nil)
    }

    private func failAll(_ error: RPCError) {
        if failure == nil { failure = error }
        let calls = pending
        pending.removeAll()
        for (_, call) in calls {
            switch call {
            case .unary(let promise, let timer):
                timer?.cancel()
                promise.fail(error)
            case .stream(let continuation):
                continuation.finish(throwing: error)
            }
        }
    }
}
