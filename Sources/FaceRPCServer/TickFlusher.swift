import NIOCore

/// Flushes, at the end of an event-loop tick, the answers of every connection
/// of that loop that read something during the tick.
///
/// Flushing after all readable connections were read lets the answers leave
/// in a burst (see ``ServerConnectionHandler``); one task per tick instead of
/// one per connection keeps that burst cheap when many connections are busy.
/// One per event loop, used only on it.
final class TickFlusher {
    private let eventLoop: any EventLoop
    /// Connections to flush at the end of this tick, in the order they asked.
    private var waiting: [ServerConnectionHandler] = []
    /// The previous tick's list, kept for its capacity.
    private var spare: [ServerConnectionHandler] = []

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Queues `handler`'s flush behind this tick's reads (once per tick per handler: the handler tracks that).
    func flushAtEndOfTick(_ handler: ServerConnectionHandler) {
        waiting.append(handler)
        if waiting.count == 1 {
            let this = NIOLoopBound(self, eventLoop: eventLoop)
            eventLoop.execute { this.value.flushWaiting() }
        }
    }

    private func flushWaiting() {
        // Swapped out first: a flush can close a channel, and whatever that
        // queues belongs to the next tick.
        swap(&waiting, &spare)
        for handler in spare { handler.flushQueuedAnswers() }
        spare.removeAll(keepingCapacity: true)
    }
}
