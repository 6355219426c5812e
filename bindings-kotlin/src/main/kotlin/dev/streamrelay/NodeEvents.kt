package dev.streamrelay

import dev.streamrelay.uniffi.Node
import dev.streamrelay.uniffi.NodeEvent
import dev.streamrelay.uniffi.NodeListener
import dev.streamrelay.uniffi.PeerEvent
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.channels.trySendBlocking
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow

// A Node's events as a Flow (hand-written, beside the generated bindings).

/**
 * Every event of this node, in order, as a cold [Flow] that completes after
 * [PeerEvent.Closed] (after `shutdown()`). Built with `callbackFlow` over a
 * [NodeListener] and closed with `awaitClose`.
 *
 * Back-pressure: the listener runs on the node's own event thread (never
 * its network loop), and waits while the flow's buffer ([capacity] events)
 * is full; the node's bounded queue then fills, and the node drops newer
 * events and counts them (`status().eventsDropped`). Nothing grows without
 * bound, and the network loop never waits for the app.
 *
 * Collect it once: a node has one listener, so a second collection throws
 * `StreamRelayException.InvalidArgument`.
 */
fun Node.events(capacity: Int = 1024): Flow<NodeEvent> = callbackFlow {
    subscribe(object : NodeListener {
        override fun onEvent(event: NodeEvent) {
            trySendBlocking(event)
            if (event is NodeEvent.Peer && event.event is PeerEvent.Closed) channel.close()
        }
    })
    awaitClose { }
}.buffer(capacity)
