package dev.streamrelay

import dev.streamrelay.uniffi.Introducer
import dev.streamrelay.uniffi.Peer
import dev.streamrelay.uniffi.PeerEvent
import dev.streamrelay.uniffi.Remote
import dev.streamrelay.uniffi.createClusterId
import dev.streamrelay.uniffi.createId
import dev.streamrelay.uniffi.createKeyPair
import dev.streamrelay.uniffi.createSharedKey
import dev.streamrelay.uniffi.natTypes
import dev.streamrelay.uniffi.peerConfig
import java.security.SecureRandom
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/**
 * Two peers and an introducer on 127.0.0.1, each on its own
 * DatagramChannel, one Selector loop ([SelectorHost]): alice and bob join a
 * subcluster, get introduced, connect, and each publishes a message the
 * other must receive. Bounded by a deadline; only loopback addresses.
 */
class LoopbackTest {
    @Test fun subclusterMessageOverJna() = exchange(fastPath = false)

    @Test fun subclusterMessageOverTheJniFastPath() = exchange(fastPath = true)

    private fun exchange(fastPath: Boolean) {
        val deadline = (System.getenv("STREAMRELAY_TEST_DEADLINE_MS") ?: "30000").toLong()
        val rng = SecureRandom()
        fun seed() = ByteArray(32).also(rng::nextBytes)
        val cluster = createClusterId(textSeed("streamrelay kotlin loopback"))
        val key = createSharedKey(textSeed("kotlin loopback room"))
        val unrestricted = natTypes().unrestricted

        SelectorHost(fastPath = fastPath).use { host ->
            val received = HashMap<String, String>()
            val connected = HashSet<String>()
            val ids = HashMap<String, ByteArray>()

            fun onEvent(n: SelectorHost.Node, e: PeerEvent) {
                when (e) {
                    is PeerEvent.Connection -> {
                        val other = if (n.name == "alice") "bob" else "alice"
                        if (n.name != "introducer" && e.peerId.contentEquals(ids[other])) connected += n.name
                    }
                    is PeerEvent.Packet -> received[n.name] = String(e.payload)
                    else -> {}
                }
            }

            val introCh = SelectorHost.loopbackChannel()
            val introPort = (introCh.localAddress as java.net.InetSocketAddress).port
            ids["introducer"] = createId(textSeed("introducer"))
            val introducer = Peer(
                peerConfig(ids["introducer"]!!).copy(
                    indexed = true, natType = unrestricted, keepaliveMs = 1000u,
                    publicAddress = Remote.Udp("127.0.0.1", introPort.toUShort()),
                ),
                host.now().toULong(), seed(),
            )
            host.add("introducer", introducer, introCh, ::onEvent)

            val members = listOf("alice", "bob").associateWith { name ->
                val ch = SelectorHost.loopbackChannel()
                val port = (ch.localAddress as java.net.InetSocketAddress).port
                ids[name] = createId(textSeed(name))
                val cfg = peerConfig(ids[name]!!).copy(
                    clusterId = cluster, natType = unrestricted, keepaliveMs = 1000u,
                    publicAddress = Remote.Udp("127.0.0.1", port.toUShort()),
                    introducers = listOf(Introducer(ids["introducer"]!!, Remote.Udp("127.0.0.1", introPort.toUShort()))),
                    signingSecretKey = createKeyPair(textSeed("$name's signing key")).secretKey,
                )
                val p = Peer(cfg, host.now().toULong(), seed())
                p.join(host.now().toULong(), key)
                host.add(name, p, ch, ::onEvent)
                p
            }

            val messages = mapOf("alice" to "hello bob, this is alice", "bob" to "hi alice, bob here")
            val published = HashSet<String>()
            val ok = host.runUntil(deadline) {
                for ((name, p) in members) {
                    if (name in connected && published.add(name)) {
                        p.publish(host.now().toULong(), key, "chat", messages.getValue(name).toByteArray())
                    }
                }
                received["alice"] == messages["bob"] && received["bob"] == messages["alice"]
            }
            println("loopback (${if (fastPath) "JNI fast path" else "JNA"}): ${if (ok) "exchanged" else "timed out"} in ${host.now()} ms")
            assertTrue("the messages did not arrive within $deadline ms: $received", ok)
            assertEquals(messages["bob"], received["alice"])
            for (p in members.values + introducer) {
                p.close(host.now().toULong())
                p.drainEvents()
            }
            (members.values + introducer).forEach { it.destroy() }
        }
    }
}
