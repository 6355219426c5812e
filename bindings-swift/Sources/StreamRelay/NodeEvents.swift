// A Node's events as an AsyncStream (hand-written, beside the generated
// StreamRelay.swift): a NodeListener that yields each event into the
// stream's continuation and finishes it after `.closed`, the last event.

import Foundation

/// Feeds a node's events into an `AsyncStream`; called on the node's event
/// thread, one event at a time.
final class AsyncStreamNodeListener: NodeListener, @unchecked Sendable {
    // @unchecked: a Continuation is Sendable, and `dropped` is only touched
    // by the node's single event thread.
    private let continuation: AsyncStream<NodeEvent>.Continuation
    /// Events the stream's buffer refused (its policy said so).
    private(set) var dropped = 0

    init(_ continuation: AsyncStream<NodeEvent>.Continuation) {
        self.continuation = continuation
    }

    func onEvent(event: NodeEvent) {
        if case .dropped = continuation.yield(event) {
            dropped += 1
        }
        if case .peer(event: .closed) = event {
            continuation.finish()
        }
    }
}

extension Node {
    /// Every event of this node, in order, as an `AsyncStream` that
    /// finishes after `.peer(event: .closed)` (after `shutdown()`).
    ///
    /// Buffering policy (explicit): `.bufferingOldest(capacity)` by
    /// default, the node's own overflow policy: when the consumer falls
    /// `capacity` events behind, newer events are dropped and what is
    /// buffered is kept (a dropped `.packet` stays in the cache; a later
    /// `sync` or `query` can bring it back). Pass another policy if you
    /// prefer the newest events.
    ///
    /// One stream per node: a second call throws
    /// `StreamRelayError.InvalidArgument`.
    public func events(
        bufferingPolicy: AsyncStream<NodeEvent>.Continuation.BufferingPolicy = .bufferingOldest(1024)
    ) throws -> AsyncStream<NodeEvent> {
        let (stream, continuation) = AsyncStream<NodeEvent>.makeStream(bufferingPolicy: bufferingPolicy)
        try subscribe(listener: AsyncStreamNodeListener(continuation))
        return stream
    }
}
