package dev.streamrelay

import dev.streamrelay.uniffi.LinkWriter
import dev.streamrelay.uniffi.Node
import dev.streamrelay.uniffi.NodeEvent
import dev.streamrelay.uniffi.NodeOptions
import dev.streamrelay.uniffi.PeerEvent
import dev.streamrelay.uniffi.StreamRelayException
import dev.streamrelay.uniffi.createClusterId
import dev.streamrelay.uniffi.createSharedKey
import dev.streamrelay.uniffi.natTypes
import dev.streamrelay.uniffi.peerConfig
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

/**
 * Links from Kotlin: two [Node]s with no UDP path between them reach each
 * other over a pair of in-process pipes, the shape of an Android
 * `BluetoothSocket` (its input stream read by the app and pushed with
 * `linkInput`, its output stream written by a [LinkWriter]); a subcluster
 * message crosses; garbage on the link is skipped and counted. A bridge
 * node on both a link and UDP carries messages between a link-only phone
 * and a node on the Internet, both ways.
 */
class LinkTest {
    private val waitMs = (System.getenv("STREAMRELAY_TEST_DEADLINE_MS") ?: "20000").toLong()
    private val cluster = createClusterId(textSeed("kotlin link tests"))
    private val room = createSharedKey(textSeed("kotlin link room"))

    private fun lonely(): Node = Node.start(
        NodeOptions(
            config = peerConfig(ByteArray(32)).copy(
                clusterId = cluster, natType = natTypes().unrestricted, keepaliveMs = 1000u,
            ),
            bindIp = "127.0.0.1",
        ),
    )

    /** The output stream: the node writes here (it must not call a node). */
    private class Pipe : LinkWriter {
        val queue = LinkedBlockingQueue<ByteArray>()
        override fun write(bytes: ByteArray): ULong {
            queue.put(bytes)
            return bytes.size.toULong()
        }
    }

    /** The other side's input stream: a thread pushes what the pipe holds. */
    private fun pump(from: Pipe, to: Node, link: ULong): Thread = Thread {
        try {
            while (true) {
                val bytes = from.queue.poll(100, TimeUnit.MILLISECONDS) ?: continue
                to.linkInput(link, bytes)
            }
        } catch (_: InterruptedException) {
        } catch (_: StreamRelayException) {
        }
    }.apply { isDaemon = true; start() }

    private fun eventually(f: () -> Boolean): Boolean {
        val end = System.currentTimeMillis() + waitMs
        while (System.currentTimeMillis() < end) {
            if (f()) return true
            Thread.sleep(20)
        }
        return f()
    }

    /** Reads [node]'s events until one matches [f] (or the deadline). */
    private fun nextUntil(node: Node, f: (NodeEvent) -> Boolean): NodeEvent? {
        val end = System.currentTimeMillis() + waitMs
        while (System.currentTimeMillis() < end) {
            val e = node.nextEvent(200u) ?: continue
            if (f(e)) return e
        }
        return null
    }

    @Test fun twoNodesOverAPushedLink() = runBlocking {
        val a = lonely()
        val b = lonely()
        val toB = Pipe()
        val toA = Pipe()
        a.join(room)
        b.join(room)
        // Both links first: what a node writes waits in its pipe meanwhile.
        val lb = b.addLinkWriter(toA)
        val la = a.addLinkWriter(toB)
        val pumps = listOf(pump(toB, b, lb), pump(toA, a, la))
        try {
            assertTrue(
                "a hears b over the link",
                eventually { a.status().peers.any { it.peerId == b.peerId().toHex() && it.connected } },
            )
            b.publish(room, "island", "hello over bluetooth".toByteArray())
            assertTrue(
                "a gets b's message",
                nextUntil(a) {
                    val e = (it as? NodeEvent.Peer)?.event
                    e is PeerEvent.Packet && String(e.payload) == "hello over bluetooth"
                } != null,
            )
            val s = a.status()
            assertEquals(0uL, s.datagramsOut)
            val link = s.links.single()
            assertEquals(la, link.id)
            assertEquals("pushed", link.kind)
            assertTrue(link.framesIn > 0u && link.framesOut > 0u)
            assertEquals(0uL, link.skippedBytes)

            // Hostile bytes: skipped and counted, the node carries on.
            a.linkInput(la, ByteArray(1000) { 'x'.code.toByte() })
            assertEquals(1000uL, a.status().links.single().skippedBytes)

            assertTrue(a.removeLink(la))
            val closed = nextUntil(a) { it is NodeEvent.LinkClosed } as NodeEvent.LinkClosed
            assertEquals(la, closed.link)
            try {
                a.linkInput(la, byteArrayOf(1))
                fail("input to a removed link")
            } catch (e: StreamRelayException.UnknownLink) {
                assertEquals(la, e.link)
            }
        } finally {
            pumps.forEach { it.interrupt() }
            a.shutdown()
            b.shutdown()
        }
    }

    @Test fun aBridgeCarriesMessagesBetweenALinkAndUdp() = runBlocking {
        val intro = testIntroducer()
        val bridge = testMember(intro, cluster)
        val far = testMember(intro, cluster)
        val phone = lonely()
        val toBridge = Pipe()
        val toPhone = Pipe()
        listOf(phone, bridge, far).forEach { it.join(room) }
        val lb = bridge.addLinkWriter(toPhone)
        val lp = phone.addLinkWriter(toBridge)
        val pumps = listOf(pump(toBridge, bridge, lb), pump(toPhone, phone, lp))
        fun got(node: Node, text: String) = nextUntil(node) {
            val e = (it as? NodeEvent.Peer)?.event
            e is PeerEvent.Packet && String(e.payload) == text
        } != null
        try {
            assertTrue(
                "the bridge hears the phone over the link",
                eventually { bridge.status().peers.any { it.peerId == phone.peerId().toHex() && it.connected } },
            )
            far.publish(room, "news", "from the internet".toByteArray())
            assertTrue("the phone gets the Internet's message", got(phone, "from the internet"))
            phone.publish(room, "news", "from the island".toByteArray())
            assertTrue("the Internet gets the phone's message", got(far, "from the island"))
            assertEquals("the phone sent nothing over UDP", 0uL, phone.status().datagramsOut)
        } finally {
            pumps.forEach { it.interrupt() }
            listOf(phone, far, bridge, intro).forEach { it.shutdown() }
        }
    }
}
