package dev.streamrelay

import dev.streamrelay.uniffi.DropReason
import dev.streamrelay.uniffi.PacketInfo
import dev.streamrelay.uniffi.Peer
import dev.streamrelay.uniffi.PeerConfig
import dev.streamrelay.uniffi.PeerEvent
import dev.streamrelay.uniffi.PeerExpiry
import dev.streamrelay.uniffi.PeerFanout
import dev.streamrelay.uniffi.PeerFirewall
import dev.streamrelay.uniffi.PeerLimits
import dev.streamrelay.uniffi.PeerQuotas
import dev.streamrelay.uniffi.PeerTimings
import dev.streamrelay.uniffi.PublishOptions
import dev.streamrelay.uniffi.Remote
import dev.streamrelay.uniffi.SocketId
import dev.streamrelay.uniffi.StreamRelayException
import dev.streamrelay.uniffi.createClusterId
import dev.streamrelay.uniffi.createId
import dev.streamrelay.uniffi.createKeyPair
import dev.streamrelay.uniffi.createSharedKey
import dev.streamrelay.uniffi.defaultExpiry
import dev.streamrelay.uniffi.defaultFanout
import dev.streamrelay.uniffi.defaultLimits
import dev.streamrelay.uniffi.defaultQuotas
import dev.streamrelay.uniffi.defaultTimings
import dev.streamrelay.uniffi.natTypes
import dev.streamrelay.uniffi.peerConfig
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

/** The UniFFI Peer's parity with the core: config records, firewall, data plane. No sockets. */
class ParityTest {
    private val cluster = createClusterId(textSeed("parity test"))
    private val unrestricted = natTypes().unrestricted

    private fun config(name: String, port: Int): PeerConfig = peerConfig(createId(textSeed(name))).copy(
        clusterId = cluster,
        natType = unrestricted,
        publicAddress = Remote.Udp("127.0.0.1", port.toUShort()),
        limitExempt = true,
        signingSecretKey = createKeyPair(textSeed("$name signing")).secretKey,
    )

    @Test
    fun configRecordsDefaultToTheCoreAndCustomLimitsApply() {
        assertEquals(defaultLimits(), PeerLimits())
        assertEquals(defaultQuotas(), PeerQuotas())
        assertEquals(defaultExpiry(), PeerExpiry())
        assertEquals(defaultTimings(), PeerTimings())
        assertEquals(defaultFanout(), PeerFanout())
        val base = config("limits", 41000)
        assertEquals(PeerLimits(), base.limits)
        assertTrue(base.autoSync)

        // max_peers = 1: a second introducer does not fit.
        val custom = base.copy(
            limits = PeerLimits(maxPeers = 1uL, maxSyncSendsPerWindow = 7uL),
            timings = PeerTimings(pingRetryMs = 100uL),
            quotas = PeerQuotas(replicatablePerMinute = 10u),
        )
        val p = Peer(custom, 0u, ByteArray(32))
        p.addIntroducer(createId(textSeed("i1")), Remote.Udp("127.0.0.1", 41001u))
        try {
            p.addIntroducer(createId(textSeed("i2")), Remote.Udp("127.0.0.1", 41002u))
            fail("a full table must throw")
        } catch (e: StreamRelayException.TableFull) {
        }
        assertEquals(1uL, p.occupancy().peers)
        p.destroy()

        // A zero limit is refused by the core with a typed error naming it.
        try {
            Peer(base.copy(limits = PeerLimits(maxEvents = 0uL)), 0u, ByteArray(32))
            fail("a zero limit must throw")
        } catch (e: StreamRelayException.ZeroLimit) {
            assertEquals("max_events", e.name)
        }
        try {
            Peer(base.copy(limits = defaultLimits().copy(maxSyncSendsPerWindow = 0uL)), 0u, ByteArray(32))
            fail("a zero limit must throw")
        } catch (e: StreamRelayException.ZeroLimit) {
            assertEquals("max_sync_sends_per_window", e.name)
        }
    }

    /** Bob's first datagrams (Pings to his introducer, alice), as if from [port]. */
    private fun bobPings(): List<ByteArray> {
        val bob = Peer(
            config("bob", 41011).copy(
                introducers = listOf(dev.streamrelay.uniffi.Introducer(createId(textSeed("alice")), Remote.Udp("127.0.0.1", 41010u))),
            ),
            0u, ByteArray(32) { 2 },
        )
        bob.handleTimeout(0u)
        val out = bob.drainTransmits(0).map { it.bytes }
        bob.destroy()
        assertTrue("bob sent nothing", out.isNotEmpty())
        return out
    }

    @Test
    fun firewallDropsOneRemoteFailsClosedAndRefusesReentry() {
        val alice = Peer(config("alice", 41010).copy(indexed = true), 0u, ByteArray(32) { 1 })
        alice.handleTimeout(0u)
        alice.drainEvents()
        val banned = Remote.Udp("127.0.0.1", 41011u)
        val other = Remote.Udp("127.0.0.1", 41012u)
        var seen = 0
        var reentry: Throwable? = null
        val sockets = HashSet<SocketId>()
        alice.setFirewall(object : PeerFirewall {
            override fun allow(packet: PacketInfo, remote: Remote, socket: SocketId): Boolean {
                seen++
                try {
                    alice.clock()
                } catch (e: Throwable) {
                    reentry = e
                }
                sockets += socket
                return remote != banned
            }
        })
        val pings = bobPings()
        for (d in pings) alice.handleDatagram(1u, SocketId.Main, banned, d)
        assertEquals(pings.size, seen)
        assertEquals(setOf<SocketId>(SocketId.Main), sockets)
        assertTrue("re-entry threw $reentry", reentry is StreamRelayException.Busy)
        assertEquals(pings.size.toULong(), alice.dropped(DropReason.FIREWALL))
        assertTrue(alice.peers().none { it.remote == banned })
        assertTrue(alice.drainEvents().none { it is PeerEvent.Connection })

        // The same datagrams from another address get through.
        for (d in pings) alice.handleDatagram(2u, SocketId.Main, other, d)
        assertEquals(pings.size.toULong(), alice.dropped(DropReason.FIREWALL))
        assertEquals(2 * pings.size, seen)

        // A throwing firewall drops (fails closed) without crashing.
        alice.setFirewall(object : PeerFirewall {
            override fun allow(packet: PacketInfo, remote: Remote, socket: SocketId): Boolean =
                throw IllegalStateException("host bug")
        })
        for (d in pings) alice.handleDatagram(3u, SocketId.Main, other, d)
        assertEquals(2uL * pings.size.toULong(), alice.dropped(DropReason.FIREWALL))
        val m = alice.metrics()
        assertEquals(m.drops.first { it.reason == DropReason.FIREWALL }.count, 2uL * pings.size.toULong())
        alice.setFirewall(null)
        alice.close(4u)
        alice.destroy()
    }

    @Test
    fun dataPlaneWithoutConnections() {
        val p = Peer(config("lonely", 41020), 0u, ByteArray(32) { 3 })
        val key = createSharedKey(textSeed("parity subcluster"))
        p.join(0u, key)
        p.handleTimeout(0u)
        assertEquals(1, p.subclusters().size)

        // Query: nobody to ask, but the id comes back; bad JSON is typed.
        val qid = p.query(0u, """{"packetId":"ab"}""")
        assertEquals(32, qid.size)
        try {
            p.query(0u, "not json")
            fail("bad JSON must throw")
        } catch (e: StreamRelayException.InvalidJson) {
        }
        // Answer: no return route for an unknown query.
        try {
            p.answer(0u, ByteArray(32), "x".toByteArray())
            fail("answering an unknown query must throw")
        } catch (e: StreamRelayException.UnknownQuery) {
        }
        // Stream: the peer is not in the table.
        try {
            p.stream(0u, createId(textSeed("nobody")), key, "chat", "hi".toByteArray())
            fail("streaming to an unknown peer must throw")
        } catch (e: StreamRelayException.UnknownPeer) {
        }
        // Publish with options: cached, unpublished (no peers yet).
        val ids = p.publish(0u, key, "chat", "hello".toByteArray(), PublishOptions(ttlMs = 60_000u, metaJson = """{"a":1}"""))
        assertEquals(1, ids.size)
        assertTrue(p.cachedIds().any { it.contentEquals(ids[0]) })
        assertTrue(p.unpublishedIds().any { it.contentEquals(ids[0]) })
        assertEquals(1uL, p.metrics().published)
        try {
            p.publish(0u, key, "chat", "x".toByteArray(), PublishOptions(metaJson = "{"))
            fail("bad meta must throw")
        } catch (e: StreamRelayException.InvalidJson) {
        }
        assertEquals(40, p.cacheSummaryHash().length)
        assertEquals(30_000uL, p.uptime()) // one tick of the default keepalive
        assertEquals("127.0.0.1", p.publicEndpoint().address)
        p.close(1u)
        try {
            p.query(1u, """{"packetId":"cd"}""")
            fail("a closed peer must throw")
        } catch (e: StreamRelayException.Closed) {
        }
        p.destroy()
    }
}
