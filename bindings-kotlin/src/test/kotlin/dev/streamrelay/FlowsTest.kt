package dev.streamrelay

import dev.streamrelay.uniffi.Introducer
import dev.streamrelay.uniffi.Peer
import dev.streamrelay.uniffi.PeerConfig
import dev.streamrelay.uniffi.PeerEvent
import dev.streamrelay.uniffi.Profile
import dev.streamrelay.uniffi.PublishOptions
import dev.streamrelay.uniffi.Remote
import dev.streamrelay.uniffi.Seed
import dev.streamrelay.uniffi.SocketId
import dev.streamrelay.uniffi.StreamRelayException
import dev.streamrelay.uniffi.createKeyPair
import dev.streamrelay.uniffi.createSharedKey
import dev.streamrelay.uniffi.defaultLimits
import dev.streamrelay.uniffi.defaultTimings
import java.io.File
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/**
 * The flow vectors (vectors/flows.json, format streamrelay-flows/1) replayed
 * through the Kotlin `Peer` itself: config, seed, then every input at its
 * time, and the transmits, events, deadline and command results compared
 * with the recorded ones. Every flow: a flow's behaviour switches are those
 * of one profile (`PeerConfig.profile`; a switch set the profile does not
 * give would show as a different transmit), and the config fields the flows
 * change from the defaults (`limits.poolSize`, `timings.sprayPorts`) are
 * set. A command that fails must fail here too; its error text is the
 * binding's own.
 */
class FlowsTest {
    private val file = File(System.getProperty("streamrelay.vectors.dir") ?: "../vectors", "flows.json")

    private fun remoteOf(s: String): Remote {
        if (s.startsWith("link:")) return Remote.Link(s.removePrefix("link:").toULong())
        val cut = s.lastIndexOf(':')
        return Remote.Udp(s.substring(0, cut).removePrefix("[").removeSuffix("]"), s.substring(cut + 1).toUShort())
    }

    private fun text(r: Remote): String = when (r) {
        is Remote.Udp -> if (r.ip.contains(':')) "[${r.ip}]:${r.port}" else "${r.ip}:${r.port}"
        is Remote.Link -> "link:${r.id}"
    }

    private fun socketOf(s: String): SocketId = when {
        s == "main" -> SocketId.Main
        s == "probe" -> SocketId.Probe
        else -> SocketId.Pool(s.removePrefix("pool:").toUShort())
    }

    private fun text(s: SocketId): String = when (s) {
        is SocketId.Main -> "main"
        is SocketId.Probe -> "probe"
        is SocketId.Pool -> "pool:${s.id}"
    }

    private fun hex(b: ByteArray?): String? = b?.toHex()

    private fun num(n: Number?): Double? = n?.toDouble()

    /** An enum constant's name as the core spells the variant (`BAD_SIGNATURE` -> `BadSignature`). */
    private fun variant(e: Enum<*>): String =
        e.name.split('_').joinToString("") { it.lowercase().replaceFirstChar { c -> c.uppercase() } }

    /** An event in the flow format (vectors/README.md). */
    private fun json(e: PeerEvent): Map<String, Any?> = when (e) {
        is PeerEvent.Ready -> mapOf("type" to "Ready", "nat" to num(e.nat?.toInt()), "address" to e.address, "port" to num(e.port?.toInt()))
        is PeerEvent.NatChange -> mapOf("type" to "NatChange", "old" to num(e.old?.toInt()), "new" to num(e.new?.toInt()))
        is PeerEvent.Connection -> mapOf(
            "type" to "Connection", "peerId" to hex(e.peerId), "remote" to text(e.remote), "nat" to num(e.nat.toInt()),
            "proxy" to hex(e.proxy), "socket" to text(e.socket),
        )
        is PeerEvent.Disconnection -> mapOf(
            "type" to "Disconnection", "peerId" to hex(e.peerId),
            "reason" to variant(e.reason),
        )
        is PeerEvent.Join -> mapOf("type" to "Join", "clusterId" to hex(e.clusterId), "subclusterId" to hex(e.subclusterId), "peerId" to hex(e.peerId))
        is PeerEvent.Intro -> mapOf(
            "type" to "Intro", "peerId" to hex(e.peerId), "remote" to text(e.remote), "nat" to num(e.nat.toInt()),
            "introducer" to hex(e.introducer), "strategy" to num(e.strategy.toInt()), "rendezvous" to e.rendezvous,
        )
        is PeerEvent.OpenPoolSockets -> mapOf("type" to "OpenPoolSockets", "sockets" to e.sockets.map { text(it) })
        is PeerEvent.ClosePoolSockets -> mapOf("type" to "ClosePoolSockets", "sockets" to e.sockets.map { text(it) })
        is PeerEvent.Closed -> mapOf("type" to "Closed")
        is PeerEvent.Packet -> mapOf(
            "type" to "Packet", "clusterId" to hex(e.clusterId), "subclusterId" to hex(e.subclusterId),
            "eventHash" to hex(e.eventHash), "packetId" to hex(e.packetId), "from" to text(e.from),
            "streamFrom" to hex(e.streamFrom), "payload" to hex(e.payload), "headId" to hex(e.headId),
            "publisher" to hex(e.publisher), "hops" to num(e.hops.toLong()),
        )
        is PeerEvent.Answer -> mapOf(
            "type" to "Answer", "queryId" to hex(e.queryId), "packetId" to hex(e.packetId), "index" to num(e.index),
            "message" to hex(e.message), "from" to text(e.from),
        )
        is PeerEvent.SyncFinished -> mapOf("type" to "SyncFinished", "remote" to text(e.remote), "prefix" to e.prefix)
        is PeerEvent.Unverified -> mapOf(
            "type" to "Unverified", "clusterId" to hex(e.clusterId), "subclusterId" to hex(e.subclusterId),
            "eventHash" to hex(e.eventHash), "packetId" to hex(e.packetId), "from" to text(e.from),
            "streamFrom" to hex(e.streamFrom), "payload" to hex(e.payload), "publisher" to hex(e.publisher),
            "reason" to variant(e.reason),
        )
        is PeerEvent.Unopenable -> mapOf(
            "type" to "Unopenable", "clusterId" to hex(e.clusterId), "subclusterId" to hex(e.subclusterId),
            "eventHash" to hex(e.eventHash), "packetId" to hex(e.packetId), "from" to text(e.from),
            "streamFrom" to hex(e.streamFrom), "error" to e.error,
        )
        else -> mapOf("type" to "not in any flow yet: $e")
    }

    private fun config(c: Map<*, *>): PeerConfig {
        fun hexOrNull(k: String) = (c[k] as? String)?.hexToBytes()
        val pub = c["publicAddress"] as? String
        return PeerConfig(
            peerId = (c["peerId"] as String).hexToBytes(),
            clusterId = hexOrNull("clusterId"),
            indexed = c["indexed"] as Boolean,
            natType = (c["natType"] as? Double)?.toInt()?.toUByte(),
            publicAddress = pub?.let { remoteOf(it) },
            keepaliveMs = (c["keepaliveMs"] as Double).toLong().toULong(),
            wallClockOffsetMs = (c["wallClockOffsetMs"] as Double).toLong(),
            introducers = (c["introducers"] as List<*>).map {
                val m = it as Map<*, *>
                Introducer((m["peerId"] as String).hexToBytes(), remoteOf(m["remote"] as String))
            },
            limitExempt = c["limitExempt"] as Boolean,
            signingSecretKey = (c["signingSeed"] as? String)?.let { createKeyPair(Seed.Text(it)).secretKey },
            autoSync = c["autoSync"] as Boolean,
            limits = defaultLimits().copy(poolSize = ((c["limits"] as Map<*, *>)["poolSize"] as Double).toInt().toUShort()),
            timings = defaultTimings().copy(sprayPorts = ((c["timings"] as Map<*, *>)["sprayPorts"] as Double).toInt().toUShort()),
            // The reference floods a Join 16 hops; the improved profile 1.
            profile = if ((c["behaviour"] as Map<*, *>)["joinRelayHops"] == 16.0) Profile.REFERENCE else Profile.IMPROVED,
        )
    }

    private fun key(input: Map<*, *>) = createSharedKey(Seed.Text(input["sharedKeySeed"] as String))

    @Test
    fun everyFlowThroughThePeerApi() {
        val doc = Json.parse(file.readText()) as Map<*, *>
        assertEquals("streamrelay-flows/1", doc["format"])
        val flows = (doc["flows"] as List<*>).map { it as Map<*, *> }
        assertTrue("no flows in $file", flows.size >= 20)
        var steps = 0
        for (flow in flows) {
            val name = flow["name"] as String
            val cfg = config(flow["config"] as Map<*, *>)
            var peer = Peer(cfg, (flow["start"] as Double).toLong().toULong(), (flow["seed"] as String).hexToBytes())
            for ((i, st) in (flow["steps"] as List<*>).withIndex()) {
                val step = st as Map<*, *>
                val at = (step["at"] as Double).toLong().toULong()
                val input = step["input"] as Map<*, *>
                val expect = step["expect"] as Map<*, *>
                val result: Map<String, Any?>? = try {
                    when (input["kind"]) {
                        "datagram" -> { peer.handleDatagram(at, socketOf(input["socket"] as String), remoteOf(input["remote"] as String), (input["hex"] as String).hexToBytes()); null }
                        "timeout" -> { peer.handleTimeout(at); null }
                        "join" -> mapOf("subclusterId" to peer.join(at, key(input)).toHex())
                        "publish" -> mapOf("packetIds" to peer.publish(
                            at, key(input), input["eventName"] as String, (input["payload"] as String).hexToBytes(),
                            PublishOptions(ttlMs = (input["ttl"] as? Double)?.toLong()?.toUInt()),
                        ).map { it.toHex() })
                        "stream" -> mapOf("packetIds" to peer.stream(
                            at, (input["peerId"] as String).hexToBytes(), key(input), input["eventName"] as String,
                            (input["payload"] as String).hexToBytes(), null,
                        ).map { it.toHex() })
                        "query" -> mapOf("queryId" to peer.query(at, "{\"packetId\":\"${input["packetId"]}\"}").toHex())
                        "sync" -> { peer.sync(at, (input["peerId"] as String).hexToBytes()); mapOf() }
                        "snapshot" -> mapOf("snapshot" to peer.snapshot(at).toHex())
                        "restore" -> {
                            val next = Peer.restore(cfg, at, (input["seed"] as String).hexToBytes(), (input["snapshot"] as String).hexToBytes())
                            peer.close()
                            peer = next
                            mapOf()
                        }
                        "disconnect" -> { peer.disconnect(at); null }
                        "reconnect" -> { peer.reconnect(at); null }
                        "close" -> { peer.close(at); null }
                        else -> error("$name steps[$i]: unknown input ${input["kind"]}")
                    }
                } catch (e: StreamRelayException) {
                    mapOf("error" to e.toString())
                }
                val transmits = generateSequence { peer.pollTransmit(at) }
                    .map { mapOf("socket" to text(it.socket), "remote" to text(it.remote), "hex" to it.bytes.toHex()) }.toList()
                val events = generateSequence { peer.pollEvent() }.map { json(it) }.toList()
                val where = "$name steps[$i] (at $at, ${input["kind"]})"
                val want = expect["result"] as? Map<*, *>
                if (want != null && want.containsKey("error")) {
                    assertTrue("$where: expected an error, got $result", result?.containsKey("error") == true)
                } else {
                    assertEquals("$where: result", want, result)
                }
                assertEquals("$where: transmits", expect["transmits"], transmits)
                assertEquals("$where: events", expect["events"], events)
                assertEquals("$where: timeout", expect["timeout"], peer.pollTimeout()?.toDouble())
                steps++
            }
            peer.close()
        }
        println("flows.json through the Kotlin Peer: ${flows.size} flows, $steps steps replayed")
    }
}
