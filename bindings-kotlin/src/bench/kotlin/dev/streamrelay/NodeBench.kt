package dev.streamrelay

import dev.streamrelay.uniffi.Introducer
import dev.streamrelay.uniffi.Node
import dev.streamrelay.uniffi.NodeEvent
import dev.streamrelay.uniffi.NodeOptions
import dev.streamrelay.uniffi.PeerConfig
import dev.streamrelay.uniffi.PeerEvent
import dev.streamrelay.uniffi.Remote
import dev.streamrelay.uniffi.createClusterId
import dev.streamrelay.uniffi.createSharedKey
import dev.streamrelay.uniffi.natTypes
import dev.streamrelay.uniffi.peerConfig
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull

/**
 * Messages per second through three Nodes on 127.0.0.1 driven from Kotlin
 * (a benchmark, not a test): a publisher and a subscriber that bootstrap
 * from one introducer; the subscriber reads its events as a Flow. Only
 * commands and events cross JNA: every datagram stays inside the library.
 *
 * `bash bindings-kotlin/bench.sh node [N]` (default 20000 messages).
 */
fun main(args: Array<String>) = runBlocking {
    val n = args.getOrNull(0)?.toInt() ?: 20000
    val unrestricted = natTypes().unrestricted
    fun cfg(): PeerConfig {
        val c = peerConfig(ByteArray(32))
        return c.copy(natType = unrestricted, limitExempt = true, limits = c.limits.copy(maxEvents = 65536u))
    }
    val intro = Node.start(NodeOptions(config = cfg().copy(indexed = true), bindIp = "127.0.0.1"))
    val at = intro.localAddress() as Remote.Udp
    val cluster = createClusterId(textSeed("kotlin node bench"))
    fun peer() = Node.start(
        NodeOptions(
            config = cfg().copy(
                clusterId = cluster,
                introducers = listOf(Introducer(intro.peerId(), Remote.Udp("127.0.0.1", at.port))),
            ),
            bindIp = "127.0.0.1",
            eventCapacity = 65536u,
        ),
    )
    val a = peer()
    val c = peer()
    val room = createSharedKey(textSeed("kotlin node bench room"))
    a.join(room)
    c.join(room)

    val got = AtomicInteger()
    val warm = kotlinx.coroutines.CompletableDeferred<Unit>()
    val reader = launch(Dispatchers.Default) {
        c.events().takeWhile { e -> !(e is NodeEvent.Peer && e.event is PeerEvent.Closed) }.collect { e ->
            if (e is NodeEvent.Peer && e.event is PeerEvent.Packet) {
                if (String(e.event.payload) == "warm-up") warm.complete(Unit) else got.incrementAndGet()
            }
        }
    }
    a.publish(room, "m", "warm-up".toByteArray())
    if (withTimeoutOrNull(30_000) { warm.await() } == null) {
        println("node bench: no path from the publisher to the subscriber in 30 s")
    }
    val t0 = System.nanoTime()
    var refused = 0
    for (k in 0 until n) {
        try {
            a.publish(room, "m", k.toString().toByteArray())
        } catch (e: Exception) {
            refused++
        }
    }
    val published = (System.nanoTime() - t0) / 1e9
    withTimeoutOrNull(60_000) {
        while (got.get() < n - refused) kotlinx.coroutines.delay(5)
    }
    val t = (System.nanoTime() - t0) / 1e9
    val s = c.status()
    println(
        "node bench (Kotlin): %d published in %.2f s (%d refused), %d delivered in %.2f s: %.0f messages/s end to end; subscriber: %d datagrams in, %d events dropped; path: %s"
            .format(
                n, published, refused, got.get(), t, got.get() / t, s.datagramsIn.toLong(), s.eventsDropped.toLong(),
                s.peers.firstOrNull { it.peerId == a.peerId().toHex() }?.let { if (it.proxy == null) "direct" else "through the introducer" } ?: "?",
            ),
    )
    for (x in listOf(a, c, intro)) x.shutdown()
    reader.join()
}
