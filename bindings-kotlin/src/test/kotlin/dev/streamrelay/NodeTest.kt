package dev.streamrelay

import dev.streamrelay.uniffi.Node
import dev.streamrelay.uniffi.NodeEvent
import dev.streamrelay.uniffi.NodeOptions
import dev.streamrelay.uniffi.PeerEvent
import dev.streamrelay.uniffi.StreamRelayException
import dev.streamrelay.uniffi.createClusterId
import dev.streamrelay.uniffi.createSharedKey
import dev.streamrelay.uniffi.peerConfig
import java.nio.file.Files
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

/**
 * The ready host from Kotlin: an introducer and two [Node]s on 127.0.0.1
 * (real UDP sockets, each node's own loop thread; only events cross the
 * FFI) exchange subcluster messages, read as [kotlinx.coroutines.flow.Flow]s;
 * a node restarted from its state file keeps its identity. Every wait is
 * bounded.
 */
class NodeTest {
    private val waitMs = (System.getenv("STREAMRELAY_TEST_DEADLINE_MS") ?: "20000").toLong()
    private val cluster = createClusterId(textSeed("kotlin node tests"))
    private val room = createSharedKey(textSeed("kotlin node room"))

    private fun introducer(): Node = testIntroducer()

    private fun peer(intro: Node, stateFile: String? = null): Node = testMember(intro, cluster, stateFile)

    /** The first packet whose payload is [text] on [node]'s event flow. */
    private fun CoroutineScope.packetAsync(node: Node, text: String) = async {
        node.events().filterIsInstance<NodeEvent.Peer>().first {
            val e = it.event
            e is PeerEvent.Packet && String(e.payload) == text
        }
    }

    @Test fun twoNodesExchangeSubclusterMessagesOverUdp() = runBlocking {
        val intro = introducer()
        val alice = peer(intro)
        val bob = peer(intro)
        try {
            val aliceGot = packetAsync(alice, "hello from bob")
            val bobGot = packetAsync(bob, "hello from alice")
            alice.join(room)
            bob.join(room)
            // Published before anyone is connected: kept and sent when
            // peers come.
            bob.publish(room, "greeting", "hello from bob".toByteArray())
            alice.publish(room, "greeting", "hello from alice".toByteArray())
            withTimeout(waitMs) {
                aliceGot.await()
                bobGot.await()
            }
            val s = alice.status()
            assertTrue(s.peers.any { it.peerId == bob.peerId().toHex() })
            assertTrue(s.datagramsIn > 0u && s.datagramsOut > 0u)
            assertTrue(s.local.startsWith("127.0.0.1:"))
        } finally {
            for (n in listOf(alice, bob, intro)) n.shutdown()
        }
        // Closed: commands are refused with a typed exception.
        try {
            alice.join(room)
            fail("join after close")
        } catch (e: StreamRelayException.Closed) {
        }
    }

    @Test fun restartFromTheStateFileKeepsTheIdentity() = runBlocking {
        val dir = Files.createTempDirectory("sr-node-kt")
        val path = dir.resolve("node.state").toString()
        val intro = introducer()
        try {
            val first = peer(intro, path)
            val id = first.peerId()
            val scid = first.join(room)
            assertTrue(first.save())
            first.shutdown()
            val again = peer(intro, path)
            assertArrayEquals(id, again.peerId())
            assertEquals(null, again.status().restoreError)
            // The subcluster came back from the file.
            assertTrue(again.leave(scid))
            again.shutdown()
            // Closed once: a second close says so.
            try {
                again.shutdown()
                fail("second shutdown")
            } catch (e: StreamRelayException.Closed) {
            }
        } finally {
            intro.shutdown()
            Files.deleteIfExists(dir.resolve("node.state"))
            Files.deleteIfExists(dir)
        }
    }

    @Test fun badOptionsAreTypedErrors() {
        try {
            Node.start(NodeOptions(config = peerConfig(ByteArray(32)), bindIp = "not an ip"))
            fail("bad bind address")
        } catch (e: StreamRelayException.InvalidArgument) {
        }
        try {
            // No cluster id and not an introducer.
            Node.start(NodeOptions(config = peerConfig(ByteArray(32)), bindIp = "127.0.0.1"))
            fail("no cluster")
        } catch (e: StreamRelayException.InvalidConfig) {
        }
    }
}
