import dev.streamrelay.FastPath
import dev.streamrelay.textSeed
import dev.streamrelay.uniffi.*
import java.io.File
import java.nio.ByteBuffer

/**
 * package.sh runs this after GettingStarted, from the JAR alone (no
 * library path set): the UniFFI object (JNA) and the JNI fast path both work
 * with the library packed in the JAR, share one peer, and one copy of the
 * library is loaded.
 */
object JarCheck {
    @JvmStatic
    fun main(args: Array<String>) {
        val config = peerConfig(createId(textSeed("alice"))).copy(
            clusterId = createClusterId(textSeed("my app")),
            introducers = listOf(Introducer(createId(textSeed("introducer")), Remote.Udp("127.0.0.1", 9777u))),
        )
        val peer = Peer(config, 0uL, ByteArray(32) { 7 })
        peer.handleTimeout(0uL) // queued through JNA ...
        var sent = 0
        FastPath(peer).use { fast -> // ... drained through JNI
            val buf = ByteBuffer.allocateDirect(FastPath.MAX_DATAGRAM_LEN)
            while (fast.pollTransmit(0, buf) >= 0) {
                check(fast.port == 9777) { "unexpected destination port ${fast.port}" }
                sent++
            }
        }
        check(sent == 2) { "the fast path drained $sent datagrams of the UniFFI peer, expected 2" }
        check(peer.pollTransmit(0uL) == null) { "the UniFFI peer still has a datagram" }
        peer.close()

        // Loaded copies of the library: mapped files named libstreamrelay*
        // or JNA's extraction of it (jna<digits>.tmp, deleted once loaded,
        // so /proc shows " (deleted)"). Exactly one: JNI did not load a
        // second copy beside JNA's.
        val copies = File("/proc/self/maps").readLines()
            .mapNotNull { line -> line.split(Regex("\\s+"), 6).getOrNull(5)?.removeSuffix(" (deleted)") }
            .filter { it.startsWith("/") }
            .distinct()
            .filter { path ->
                val name = path.substringAfterLast('/')
                name.startsWith("libstreamrelay") || Regex("jna-?[0-9]+(\\.tmp)?").matches(name)
            }
        check(copies.size == 1) { "expected one loaded libstreamrelay, found ${copies.size}: $copies" }
        println("jar check: UniFFI and the JNI fast path share one peer and one library (${copies[0]})")
    }
}
