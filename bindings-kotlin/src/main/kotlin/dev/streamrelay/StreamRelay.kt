package dev.streamrelay

import dev.streamrelay.uniffi.Peer
import dev.streamrelay.uniffi.PeerEvent
import dev.streamrelay.uniffi.Remote
import dev.streamrelay.uniffi.Seed
import dev.streamrelay.uniffi.SocketId
import dev.streamrelay.uniffi.Transmit
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.StandardProtocolFamily
import java.nio.ByteBuffer
import java.nio.channels.DatagramChannel
import java.nio.channels.SelectionKey
import java.nio.channels.Selector

// A thin idiomatic layer over the generated bindings (dev.streamrelay.uniffi).

/** A text seed for the key helpers (`createId(textSeed("alice"))`). */
fun textSeed(text: String): Seed = Seed.Text(text)

/** Lower-case hex. */
fun ByteArray.toHex(): String = joinToString("") { "%02x".format(it) }

/** Bytes from hex. */
fun String.hexToBytes(): ByteArray = ByteArray(length / 2) { substring(2 * it, 2 * it + 2).toInt(16).toByte() }

/** A UDP remote from a socket address (an IP literal: no DNS lookup). */
fun InetSocketAddress.toRemote(): Remote = Remote.Udp(address.hostAddress, port.toUShort())

/** The socket address of a UDP remote; null for a link. */
fun Remote.toInetSocketAddress(): InetSocketAddress? = when (this) {
    is Remote.Udp -> InetSocketAddress(InetAddress.getByName(ip), port.toInt())
    is Remote.Link -> null
}

/** Every queued event. */
fun Peer.drainEvents(): List<PeerEvent> = generateSequence { pollEvent() }.toList()

/** Every queued datagram. */
fun Peer.drainTransmits(nowMs: Long): List<Transmit> = generateSequence { pollTransmit(nowMs.toULong()) }.toList()

/**
 * A host for sans-IO peers on real UDP sockets: one [Selector] loop for any
 * number of peers, each with a main [DatagramChannel] (and the pool
 * channels it asks for), its timers driven by `pollTimeout`. Datagrams go
 * through the UniFFI object (JNA), or through the JNI [FastPath] with
 * direct buffers when [fastPath] is set.
 *
 * ```
 * SelectorHost(fastPath = true).use { host ->
 *     host.add("alice", peer, DatagramChannel.open().bind(InetSocketAddress("127.0.0.1", 0))) { ev -> ... }
 *     host.runUntil(deadlineMs = 30_000) { done }
 * }
 * ```
 */
class SelectorHost(
    private val fastPath: Boolean = false,
    private val clock: () -> Long = monotonicMs(),
) : AutoCloseable {
    private val selector: Selector = Selector.open()
    private val nodes = mutableListOf<Node>()
    private val rx: ByteBuffer = ByteBuffer.allocateDirect(2048)
    private val tx: ByteBuffer = ByteBuffer.allocateDirect(FastPath.MAX_DATAGRAM_LEN)

    /** Milliseconds on the host's monotonic clock. */
    fun now(): Long = clock()

    /** One peer and the sockets the host owns for it. */
    inner class Node(
        val name: String,
        val peer: Peer,
        val main: DatagramChannel,
        val onEvent: (Node, PeerEvent) -> Unit,
    ) {
        val pool = HashMap<Int, DatagramChannel>()
        val fast: FastPath? = if (fastPath) FastPath(peer) else null
        var datagramsIn = 0L
        var datagramsOut = 0L
        val port: Int get() = (main.localAddress as InetSocketAddress).port

        internal fun channel(s: SocketRef): DatagramChannel? = when {
            s == SocketRef.MAIN -> main
            s.code >= 0 -> pool[s.code]
            else -> null // the probe socket: unused with a static NAT type
        }
    }

    private class Reg(val node: SelectorHost.Node, val socket: SocketRef)

    /** Adds a peer with its (bound) main channel; events go to [onEvent]. */
    fun add(name: String, peer: Peer, main: DatagramChannel, onEvent: (Node, PeerEvent) -> Unit): Node {
        val n = Node(name, peer, main, onEvent)
        main.configureBlocking(false)
        main.register(selector, SelectionKey.OP_READ, Reg(n, SocketRef.MAIN))
        nodes += n
        return n
    }

    /**
     * Runs the loop until [step] (called every round, after timers, events
     * and sends) returns true — then true — or until [deadlineMs] on the
     * host clock — then false.
     */
    fun runUntil(deadlineMs: Long, step: () -> Boolean): Boolean {
        while (now() < deadlineMs) {
            var next = now() + 1000
            for (n in nodes) {
                val t = n.peer.pollTimeout()?.toLong()
                if (t != null && t <= now()) n.peer.handleTimeout(now().toULong())
                n.peer.pollTimeout()?.toLong()?.let { if (it < next) next = it }
                drainEvents(n)
                flush(n)
            }
            val done = step()
            for (n in nodes) flush(n)
            if (done) return true
            val wait = (next - now()).coerceIn(1, 1000)
            selector.select(wait)
            val keys = selector.selectedKeys().iterator()
            while (keys.hasNext()) {
                val k = keys.next()
                keys.remove()
                if (k.isValid && k.isReadable) {
                    val r = k.attachment() as Reg
                    receive(r.node, k.channel() as DatagramChannel, r.socket)
                }
            }
        }
        return false
    }

    private fun drainEvents(n: Node) {
        while (true) {
            val e = n.peer.pollEvent() ?: return
            when (e) {
                is PeerEvent.OpenPoolSockets -> for (s in e.sockets) {
                    if (s is SocketId.Pool) {
                        val c = loopbackChannel()
                        c.configureBlocking(false)
                        val id = s.id.toInt()
                        c.register(selector, SelectionKey.OP_READ, Reg(n, SocketRef.pool(id)))
                        n.pool[id] = c
                    }
                }
                is PeerEvent.ClosePoolSockets -> for (s in e.sockets) {
                    if (s is SocketId.Pool) n.pool.remove(s.id.toInt())?.close()
                }
                else -> {}
            }
            n.onEvent(n, e)
        }
    }

    /** Sends every queued datagram of [n]. */
    fun flush(n: Node) {
        val f = n.fast
        if (f != null) {
            while (true) {
                tx.clear()
                val len = f.pollTransmit(now(), tx)
                if (len < 0) return
                tx.limit(len)
                val ch = n.channel(f.socket) ?: continue
                ch.send(tx, f.destination)
                n.datagramsOut++
            }
        }
        for (t in n.peer.drainTransmits(now())) {
            val to = t.remote.toInetSocketAddress() ?: continue
            val ch = when (val s = t.socket) {
                is SocketId.Main -> n.main
                is SocketId.Pool -> n.pool[s.id.toInt()]
                is SocketId.Probe -> null
            } ?: continue
            ch.send(ByteBuffer.wrap(t.bytes), to)
            n.datagramsOut++
        }
    }

    private fun receive(n: Node, ch: DatagramChannel, socket: SocketRef) {
        while (true) {
            rx.clear()
            val from = ch.receive(rx) as InetSocketAddress? ?: return
            rx.flip()
            val f = n.fast
            if (f != null) {
                f.handleDatagram(now(), socket, from, rx)
            } else {
                val bytes = ByteArray(rx.remaining()).also { rx.get(it) }
                val sid = when {
                    socket == SocketRef.MAIN -> SocketId.Main
                    socket == SocketRef.PROBE -> SocketId.Probe
                    else -> SocketId.Pool(socket.code.toUShort())
                }
                n.peer.handleDatagram(now().toULong(), sid, from.toRemote(), bytes)
            }
            n.datagramsIn++
        }
    }

    override fun close() {
        for (n in nodes) {
            n.fast?.close()
            n.pool.values.forEach { it.close() }
            n.main.close()
        }
        selector.close()
    }

    companion object {
        /** A clock in ms since its creation (System.nanoTime). */
        fun monotonicMs(): () -> Long {
            val t0 = System.nanoTime()
            return { (System.nanoTime() - t0) / 1_000_000 }
        }

        /** A non-blocking UDP channel on 127.0.0.1 with an ephemeral port. */
        fun loopbackChannel(): DatagramChannel =
            DatagramChannel.open(StandardProtocolFamily.INET).bind(InetSocketAddress("127.0.0.1", 0))
    }
}
