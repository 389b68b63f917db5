import FaceRPCCore
import FaceRPCMetrics
import FaceRPCProtos
import FaceRPCWire
import Logging
import NIOCore

/// Sent down a connection's pipeline when the server has drained: finish
/// what is left with UNAVAILABLE and close.
struct ServerShutdownEvent: Sendable {}

/// One client connection: splits frames, dispatches calls, enforces the
/// per-connection limits and timers, and writes responses.
///
/// Runs entirely on the channel's event loop. Work that can take time runs in
/// tasks; their results come back through `eventLoop.execute`, so the call
/// table is only ever touched on the loop. Each call carries a token so that a
/// late result can never answer a newer call that reused its id.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct InFlightCall {
        var token: UInt64
        var task: Task<Void, Never>?
        var deadlineTimer: Scheduled<Void>?
        var isUnary: Bool
        /// For the metrics: the method path and when its request frame was read.
        var method: String
        var started: NIODeadline
    }

    private let state: ServerState
    /// `state.preencodedHealthCheck`, nil on TCP connections that need a
    /// token (the routed path checks it); set when the connection becomes active.
    private var preencodedHealthCheck: PreencodedHealthCheck?
    private var decoder: FrameDecoder
    private var cumulation: ByteBuffer?
    private var calls: [UInt64: InFlightCall] = [:]
    private var nextToken: UInt64 = 0
    private var frameTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    /// When bytes last arrived. The idle timer checks it when it fires instead
    /// of being rescheduled on every read (a cancel and a heap insert per read).
    private var lastRead = NIODeadline.now()
    /// Answers written since the last flush, in one buffer: the answers to one
    /// read leave in one write instead of one buffer per call.
    private var pendingOut: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var peer = "unknown"
    /// Calls must carry the server's token: a TCP connection to a server started with one.
    private var requiresToken = false
    /// Over the connection limit: everything it sends is ignored until it is closed.
    private var refused = false
    private var closing = false
    private var counted = false
    /// A frame has started arriving; the frame timer, not the idle timer, watches it.
    private var midFrame = false
    /// Health checks answered in place during the current read, counted in
    /// the metrics once the read's frames are done (see `recordInPlaceAnswers`).
    private var inPlaceAnswers = 0
    /// Their metrics series (Health/Check, OK), resolved on the first such call.
    private var inPlaceSeries: RPCMetrics.CallSeries?
    /// A flush of the answers to this tick's reads is queued on the event loop.
    private var flushQueued = false
    /// Runs those flushes; set when the handler is added (on its loop).
    private var tickFlusher: TickFlusher?
    /// Request frames read since the last flush: more than one means a
    /// pipelining client, whose flush waits for the end of the tick.
    private var framesSinceFlush = 0

    init(state: ServerState) {
        self.state = state
        self.decoder = FrameDecoder(maxFrameBytes: state.limits.maxFrameBytes)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        // Added by the child channel initializer, before channelActive: the
        // connection is counted and admitted there, once the pipeline is complete.
        self.context = context
        tickFlusher = state.tickFlusher(for: context.eventLoop)
        pendingOut = context.channel.allocator.buffer(capacity: 0)
    }

    func channelActive(context: ChannelHandlerContext) {
        becameActive(context: context)
        context.fireChannelActive()
    }

    private func becameActive(context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        peer = context.channel.remoteAddress.map { "\($0)" } ?? "unix"
        if state.authToken != nil, let local = context.channel.localAddress {
            if case .unixDomainSocket = local {} else { requiresToken = true }
        }
        preencodedHealthCheck = requiresToken ? nil : state.preencodedHealthCheck
        state.channels.withLockedValue { $0[ObjectIdentifier(context.channel)] = context.channel }
        let open = state.connections.wrappingIncrementThenLoad(ordering: .acquiringAndReleasing)
        state.metrics.connectionOpened()
        if open > state.limits.maxConnections {
            refused = true
            state.logger.warning("connection refused", metadata: ["peer": "\(peer)", "limit": "\(state.limits.maxConnections)"])
            finishConnection(context: context, code: .resourceExhausted,
                             message: "too many connections: the server allows \(state.limits.maxConnections)")
            return
        }
        resetIdleTimer(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted {
            state.connections.wrappingDecrement(ordering: .acquiringAndReleasing)
            state.metrics.connectionClosed()
            counted = false
        }
        state.channels.withLockedValue { _ = $0.removeValue(forKey: ObjectIdentifier(context.channel)) }
        frameTimer?.cancel(); frameTimer = nil
        idleTimer?.cancel(); idleTimer = nil
        for (_, call) in calls {
            abandon(call)
            recordFinished(call.method, started: call.started, code: .cancelled)
        }
        calls.removeAll()
        cumulation = nil
        pendingOut = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard !refused, !closing else { return }
        // One clock read per read: it is both the idle clock and the start of
        // every call in this read.
        let now = NIODeadline.now()
        lastRead = now

        var buffer: ByteBuffer
        if var existing = cumulation.take() {
            existing.writeBuffer(&incoming)
            buffer = existing
        } else {
            buffer = incoming
        }
        do {
            // Runs of bare health checks are answered where they lie; each
            // other frame goes through the router, then the next run.
            while !closing {
                answerBareHealthChecks(in: &buffer, context: context)
                guard let frame = try decoder.nextFrame(from: &buffer) else { break }
                framesSinceFlush += 1
                handleFrame(frame, received: now, context: context)
            }
        } catch {
            recordInPlaceAnswers(received: now)
            state.logger.info("closing connection", metadata: ["peer": "\(peer)", "reason": "\(error)"])
            finishConnection(context: context, code: .resourceExhausted, message: error.description)
            return
        }
        recordInPlaceAnswers(received: now)
        if buffer.readableBytes == 0 {
            cumulation = nil
        } else {
            if buffer.readerIndex > 64 * 1024 { buffer.discardReadBytes() }
            cumulation = buffer
        }
        updateFrameTimer(context: context, midFrame: decoder.isMidFrame(buffered: buffer))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // A pipelining client's answers wait for the end of this event-loop
        // tick, after the other connections that were readable have been
        // read: they then leave in a burst, and a client on several
        // connections is more often still awake for the later ones (waking a
        // sleeping client costs the server more CPU than answering a health
        // check). Only this tick's other reads run in between. A client that
        // sent one call gets its answer at once, as it waits for nothing else.
        if flushQueued {
            // The queued flush takes these answers too.
        } else if framesSinceFlush > 1, let tickFlusher {
            flushQueued = true
            tickFlusher.flushAtEndOfTick(self)
        } else {
            flushPending(context: context)
        }
        context.fireChannelReadComplete()
    }

    /// The flush `channelReadComplete` queued (``TickFlusher`` calls it).
    func flushQueuedAnswers() {
        flushQueued = false
        guard let context else { return }
        flushPending(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A client that does not read its responses stops being read from,
        // so its unread answers cannot pile up in our memory.
        let writable = context.channel.isWritable
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: writable)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdownEvent {
            for (callID, call) in calls {
                abandon(call)
                finish(callID: callID, method: call.method, started: call.started, code: .unavailable,
                       message: "server shut down before the call finished", context: context)
            }
            calls.removeAll()
            closing = true
            flushPending(context: context)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                channel.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        state.logger.debug("connection error", metadata: ["peer": "\(peer)", "error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Calls

    private func handleFrame(_ frame: ByteBuffer, received started: NIODeadline, context: ChannelHandlerContext) {
        let request: RequestEnvelope
        if let view = RequestEnvelopeView(frame: frame) {
            request = view.envelope()
        } else {
            do {
                request = try EnvelopeCodec.decodeRequestThroughProtobufC(frame)
            } catch {
                // Call id 0: the envelope could not be read, so it cannot be
                // attributed; the framing is intact, so the connection stays usable.
                finish(callID: 0, method: "", started: started, code: error.code, message: error.message, context: context)
                return
            }
        }
        do {
            try EnvelopeCodec.validate(request, limits: state.limits)
        } catch {
            finish(callID: request.callID, method: "", started: started, code: error.code, message: error.message, context: context)
            return
        }
        handleRequest(request, received: started, context: context)
    }

    /// Answers the run of Health/Checks of the whole server at the front of
    /// `buffer` from the pre-encoded frame, reading each frame where it lies
    /// (no slice, view or frame-loop trip per call), up to the first frame
    /// that is anything else, which is left for the routed path.
    ///
    /// Exactly the calls whose routed answer would be that frame: the routed
    /// path's checks, in its order, all pass for them — the envelope is valid
    /// (a non-zero call id, no metadata; the limits on the method and
    /// metadata admit it, which `ServerState` checked once), it is no cancel,
    /// its id is not in flight, no token is required (else there is no
    /// pre-encoded frame), draining lets health through, the connection is
    /// under its call limit — and the empty payload is
    /// HealthCheckRequest{service: ""}.
    private func answerBareHealthChecks(in buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        guard let health = preencodedHealthCheck else { return }
        if pendingOut == nil { pendingOut = context.channel.allocator.buffer(capacity: 0) }
        let callLimit = state.limits.maxConcurrentCallsPerConnection
        let taken = decoder.takeFrames(from: &buffer) { envelope in
            guard let callID = RequestEnvelopeView.bareCallID(envelope, method: PreencodedHealthCheck.method),
                  calls.isEmpty || (calls[callID] == nil && calls.count < callLimit)
            else { return false }
            health.writeAnswer(callID: callID, to: &pendingOut!)
            return true
        }
        inPlaceAnswers += taken
        framesSinceFlush += taken
    }

    /// Counts the calls `answerBareHealthChecks` answered during this read: one
    /// counter update and, per call, one latency observation of the time
    /// from the read to now (when the last of them was written), instead of
    /// a look-up, a lock and a clock read per call.
    private func recordInPlaceAnswers(received: NIODeadline) {
        guard inPlaceAnswers > 0 else { return }
        let series = inPlaceSeries ?? state.metrics.series(method: Methods.healthCheck, code: .ok)
        inPlaceSeries = series
        state.metrics.callsFinished(series, count: inPlaceAnswers, nanoseconds: (NIODeadline.now() - received).nanoseconds)
        inPlaceAnswers = 0
    }

    private func handleRequest(_ request: RequestEnvelope, received started: NIODeadline, context: ChannelHandlerContext) {
        let callID = request.callID

        if request.cancel {
            if let call = calls.removeValue(forKey: callID) {
                abandon(call)
                finish(callID: callID, method: call.method, started: call.started, code: .cancelled,
                       message: "cancelled by the client", context: context)
            }
            return
        }
        let method = request.method
        guard calls[callID] == nil else {
            finish(callID: 0, method: method, started: started, code: .invalidArgument,
                   message: "call_id \(callID) reused while that call is in flight; the new call was dropped", context: context)
            return
        }
        if requiresToken, let token = state.authToken,
           !token.accepts(authorization: request.metadata.last { $0.key.lowercased() == AuthToken.metadataKey }?.value) {
            finish(callID: callID, method: method, started: started, code: .unauthenticated,
                   message: "missing or wrong token: send metadata 'authorization: Bearer <token>'", context: context)
            return
        }
        guard let handler = state.router.handler(for: method) else {
            finish(callID: callID, method: method, started: started, code: .unimplemented, message: "unknown method '\(method)'", context: context)
            return
        }
        if state.isDraining, method != Methods.healthCheck, method != Methods.healthWatch {
            finish(callID: callID, method: method, started: started, code: .unavailable,
                   message: "server is draining; retry on another replica", context: context)
            return
        }
        guard calls.count < state.limits.maxConcurrentCallsPerConnection else {
            finish(callID: callID, method: method, started: started, code: .resourceExhausted,
                   message: "too many calls in flight on this connection (limit \(state.limits.maxConcurrentCallsPerConnection))",
                   context: context)
            return
        }

        let isStream: Bool
        if case .serverStreaming = handler { isStream = true } else { isStream = false }
        let timeout = effectiveTimeout(micros: request.timeoutMicros, streaming: isStream)
        let callContext = CallContext(
            method: request.method, callID: callID,
            metadata: request.metadata.map { MetadataItem(key: $0.key, value: $0.value) },
            deadline: .now + timeout, peer: peer)

        switch handler {
        case .inlineUnary(let body):
            do {
                let response = try body(callContext, request.payload)
                finish(callID: callID, method: method, started: started, code: .ok, payload: response, context: context)
            } catch {
                finish(callID: callID, method: method, started: started, code: error.code, message: error.message, context: context)
            }

        case .unary(let body):
            guard state.tryAcquireQueueSlot() else {
                finish(callID: callID, method: method, started: started, code: .resourceExhausted,
                       message: "server overloaded: \(state.limits.maxQueuedCalls) calls already queued", context: context)
                return
            }
            state.unaryInFlight.wrappingIncrement(ordering: .acquiringAndReleasing)
            let token = takeToken()
            let loop = context.eventLoop
            let this = NIOLoopBound(self, eventLoop: loop)
            let state = self.state
            let payload = request.payload
            let task = Task {
                let result: Result<[UInt8], RPCError>
                do throws(RPCError) { result = .success(try await body(callContext, payload)) } catch { result = .failure(error) }
                state.releaseQueueSlot()
                loop.execute { this.value.complete(callID: callID, token: token, result: result) }
            }
            calls[callID] = InFlightCall(token: token, task: task, deadlineTimer: scheduleDeadline(callID: callID, token: token, timeout: timeout, context: context), isUnary: true,
                                         method: method, started: started)

        case .serverStreaming(let body):
            let token = takeToken()
            let loop = context.eventLoop
            let this = NIOLoopBound(self, eventLoop: loop)
            let writer = StreamWriter(handler: this, eventLoop: loop, callID: callID, token: token)
            let payload = request.payload
            let task = Task {
                let result: Result<[UInt8], RPCError>
                do throws(RPCError) { try await body(callContext, payload, writer); result = .success([]) } catch { result = .failure(error) }
                loop.execute { this.value.complete(callID: callID, token: token, result: result) }
            }
            calls[callID] = InFlightCall(token: token, task: task, deadlineTimer: scheduleDeadline(callID: callID, token: token, timeout: timeout, context: context), isUnary: false,
                                         method: method, started: started)
        }
    }

    /// Final answer of a task-run call, unless the deadline or a cancel got there first.
    fileprivate func complete(callID: UInt64, token: UInt64, result: Result<[UInt8], RPCError>) {
        guard let context, let call = calls[callID], call.token == token else { return }
        calls.removeValue(forKey: callID)
        call.deadlineTimer?.cancel()
        if call.isUnary { state.unaryInFlight.wrappingDecrement(ordering: .acquiringAndReleasing) }
        switch result {
        case .success(let payload):
            finish(callID: callID, method: call.method, started: call.started, code: .ok, payload: payload, context: context)
        case .failure(let error):
            if error.code == .internalError || error.code == .unknown {
                state.logger.error("call failed", metadata: ["method": "\(call.method)", "call_id": "\(callID)", "error": "\(error)"])
            }
            finish(callID: callID, method: call.method, started: call.started, code: error.code, message: error.message, context: context)
        }
        flushPending(context: context)
    }

    /// One message of a stream; false once the call is over.
    fileprivate func sendStreamMessage(callID: UInt64, token: UInt64, payload: [UInt8]) -> Bool {
        guard let context, !closing, let call = calls[callID], call.token == token else { return false }
        write(EnvelopeCodec.streamMessage(callID: callID, payload: payload), context: context)
        flushPending(context: context)
        return true
    }

    private func deadlineExpired(callID: UInt64, token: UInt64) {
        guard let context, let call = calls[callID], call.token == token else { return }
        calls.removeValue(forKey: callID)
        abandon(call)
        finish(callID: callID, method: call.method, started: call.started, code: .deadlineExceeded,
               message: "deadline exceeded before the call finished", context: context)
        flushPending(context: context)
    }

    /// Stops caring about a call: cancels its task and timer and its drain accounting.
    private func abandon(_ call: InFlightCall) {
        call.task?.cancel()
        call.deadlineTimer?.cancel()
        if call.isUnary { state.unaryInFlight.wrappingDecrement(ordering: .acquiringAndReleasing) }
    }

    // MARK: Helpers

    private func takeToken() -> UInt64 {
        nextToken &+= 1
        return nextToken
    }

    private func effectiveTimeout(micros: UInt64, streaming: Bool) -> Duration {
        let limits = state.limits
        if micros == 0 { return streaming ? limits.maxTimeout : limits.defaultUnaryTimeout }
        let maxMicros = limits.maxTimeout.components.seconds * 1_000_000
        return .microseconds(Int64(min(micros, UInt64(maxMicros))))
    }

    private func scheduleDeadline(callID: UInt64, token: UInt64, timeout: Duration, context: ChannelHandlerContext) -> Scheduled<Void> {
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        return context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            this.value.deadlineExpired(callID: callID, token: token)
        }
    }

    /// Writes a call's final status and counts the call in the metrics.
    private func finish(callID: UInt64, method: String, started: NIODeadline, code: StatusCode, message: String = "",
                        payload: [UInt8] = [], context: ChannelHandlerContext) {
        if pendingOut == nil { pendingOut = context.channel.allocator.buffer(capacity: 0) }
        ResponseFrameWriter.writeFinal(callID: callID, code: code, message: message, payload: payload, to: &pendingOut!)
        recordFinished(method, started: started, code: code)
    }

    private func recordFinished(_ method: String, started: NIODeadline, code: StatusCode) {
        state.metrics.callFinished(method: method, code: code, nanoseconds: (NIODeadline.now() - started).nanoseconds)
    }

    /// Queues a frame behind the answers already pending (order is kept).
    private func write(_ envelope: ResponseEnvelope, context: ChannelHandlerContext) {
        if pendingOut == nil { pendingOut = context.channel.allocator.buffer(capacity: 0) }
        FrameEncoder.writeFrame(envelope.serializedBytes(), to: &pendingOut!)
    }

    /// Hands the pending answers to the channel and flushes.
    private func flushPending(context: ChannelHandlerContext) {
        framesSinceFlush = 0
        guard var out = pendingOut.take() else {
            context.flush()
            return
        }
        guard out.readableBytes > 0 else {
            pendingOut = out
            context.flush()
            return
        }
        context.write(wrapOutboundOut(out), promise: nil)
        context.flush()
        // Usually the socket took it all during the flush and the channel has
        // let go of the buffer: its storage is ours alone again and `clear`
        // reuses it (no allocation per read). While the channel still holds
        // it, `clear` gives new storage instead of touching the queued bytes.
        if out.capacity > 64 * 1024 {
            out = context.channel.allocator.buffer(capacity: 64 * 1024)
        } else {
            out.clear()
        }
        pendingOut = out
    }

    /// Sends a connection-level status on call id 0, then closes.
    private func finishConnection(context: ChannelHandlerContext, code: StatusCode, message: String) {
        guard !closing else { return }
        closing = true
        flushPending(context: context)
        let frame = EnvelopeCodec.frame(EnvelopeCodec.finalResponse(callID: 0, code: code, message: message), allocator: context.channel.allocator)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func resetIdleTimer(context: ChannelHandlerContext) {
        lastRead = .now()
        scheduleIdleCheck(at: lastRead + TimeAmount(state.limits.idleTimeout), context: context)
    }

    private func scheduleIdleCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        idleTimer?.cancel()
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            this.value.idleTimerFired()
        }
    }

    private func idleTimerFired() {
        guard let context else { return }
        let idleUntil = lastRead + TimeAmount(state.limits.idleTimeout)
        if idleUntil > .now() {
            // Bytes arrived since the timer was set: check again when they would go stale.
            scheduleIdleCheck(at: idleUntil, context: context)
            return
        }
        if calls.isEmpty && !midFrame {
            state.logger.debug("closing idle connection", metadata: ["peer": "\(peer)"])
            finishConnection(context: context, code: .unavailable, message: "connection idle for longer than \(state.limits.idleTimeout)")
        } else {
            resetIdleTimer(context: context)
        }
    }

    private func updateFrameTimer(context: ChannelHandlerContext, midFrame: Bool) {
        self.midFrame = midFrame
        if !midFrame {
            // Runs on every read; almost always there is no timer to drop.
            if let timer = frameTimer {
                timer.cancel()
                frameTimer = nil
            }
        } else if frameTimer == nil {
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            frameTimer = context.eventLoop.scheduleTask(in: TimeAmount(state.limits.frameReadTimeout)) {
                this.value.frameTimerFired()
            }
        }
    }

    private func frameTimerFired() {
        guard let context else { return }
        frameTimer = nil
        state.logger.info("closing connection with an incomplete frame", metadata: ["peer": "\(peer)"])
        finishConnection(context: context, code: .deadlineExceeded,
                         message: "frame not completed within \(state.limits.frameReadTimeout)")
    }
}

/// Writes stream messages by hopping onto the connection's event loop.
private struct StreamWriter: ResponseStreamWriter {
    let handler: NIOLoopBound<ServerConnectionHandler>
    let eventLoop: any EventLoop
    let callID: UInt64
    let token: UInt64

    func send(_ payload: [UInt8]) async throws(RPCError) {
        let handler = self.handler
        let callID = self.callID, token = self.token
        let alive: Bool
        do {
            alive = try await eventLoop.submit {
                handler.value.sendStreamMessage(callID: callID, token: token, payload: payload)
            }.get()
        } catch {
            alive = false
        }
        if !alive { throw RPCError(code: .cancelled, message: "the call has ended") }
    }
}
