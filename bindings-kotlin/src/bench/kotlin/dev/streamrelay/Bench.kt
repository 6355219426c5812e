package dev.streamrelay

import dev.streamrelay.uniffi.Introducer
import dev.streamrelay.uniffi.Peer
import dev.streamrelay.uniffi.Remote
import dev.streamrelay.uniffi.SocketId
import dev.streamrelay.uniffi.createClusterId
import dev.streamrelay.uniffi.createId
import dev.streamrelay.uniffi.natTypes
import dev.streamrelay.uniffi.peerConfig
import java.net.InetSocketAddress
import java.nio.ByteBuffer

/**
 * Datagrams per second through the UniFFI object (JNA) and through the JNI
 * fast path, in one JVM, on one peer. One datagram = one handleDatagram of
 * a SIZE-byte datagram plus one pollTransmit (the receive/transmit hot
 * loop). The datagram is not a packet the peer accepts (dropped after
 * decoding), so the numbers measure the crossing, not the protocol.
 *
 * Args: [seconds per run (default 3)] [datagram size (default 1200)]
 */
fun main(args: Array<String>) {
    val seconds = args.getOrNull(0)?.toDouble() ?: 3.0
    val size = args.getOrNull(1)?.toInt() ?: 1200
    val cfg = peerConfig(createId(textSeed("bench"))).copy(
        clusterId = createClusterId(textSeed("bench")),
        natType = natTypes().unrestricted,
        publicAddress = Remote.Udp("127.0.0.1", 40000u),
        introducers = listOf(Introducer(createId(textSeed("intro")), Remote.Udp("127.0.0.1", 40001u))),
    )
    val peer = Peer(cfg, 0u, ByteArray(32))
    val from = InetSocketAddress("127.0.0.1", 40002)
    val remote = from.toRemote()
    val heap = ByteArray(size) { (it * 7).toByte() }
    val rx = ByteBuffer.allocateDirect(size).also { it.put(heap).flip() }
    val tx = ByteBuffer.allocateDirect(FastPath.MAX_DATAGRAM_LEN)
    val fast = FastPath(peer)

    fun rate(name: String, batch: Int = 1000, body: () -> Unit): Double {
        val end = System.nanoTime() + (seconds * 1e9).toLong()
        var n = 0L
        val t0 = System.nanoTime()
        while (System.nanoTime() < end) {
            repeat(batch) { body() }
            n += batch
        }
        val r = n / ((System.nanoTime() - t0) / 1e9)
        println("  %-28s %,12.0f datagrams/s  (%.0f ns each)".format(name, r, 1e9 / r))
        return r
    }

    val jna = { peer.handleDatagram(0u, SocketId.Main, remote, heap); peer.pollTransmit(0u); Unit }
    val jni = { fast.handleDatagram(0, SocketRef.MAIN, from, rx); fast.pollTransmit(0, tx); Unit }
    println("warm-up")
    rate("JNA (UniFFI)", body = jna)
    rate("JNI fast path", body = jni)
    println("measured ($size-byte datagrams, ${seconds}s each, best of 3)")
    var bestJna = 0.0
    var bestJni = 0.0
    repeat(3) {
        bestJna = maxOf(bestJna, rate("JNA (UniFFI)", body = jna))
        bestJni = maxOf(bestJni, rate("JNI fast path", body = jni))
    }
    println("bench: JNA %.0f datagrams/s, JNI fast path %.0f datagrams/s, JNI/JNA %.1fx".format(bestJna, bestJni, bestJni / bestJna))
    fast.close()
    peer.destroy()
}
