import dev.streamrelay.textSeed
import dev.streamrelay.uniffi.*

fun main() {
    val config = peerConfig(createId(textSeed("alice"))).copy(
        clusterId = createClusterId(textSeed("my app")),
        introducers = listOf(Introducer(createId(textSeed("introducer")), Remote.Udp("127.0.0.1", 9777u))),
    )
    Peer(config, 0uL, ByteArray(32) { 7 }).use { peer -> // seed: 32 bytes from SecureRandom
        peer.handleTimeout(0uL) // time is an input; the first tick is due at once
        while (true) {
            val t = peer.pollTransmit(0uL) ?: break // the host sends t.bytes from t.socket
            val type = decodePacket(t.bytes).packetType
            println("libstreamrelay ${libraryVersion()}: send type $type (${t.bytes.size} bytes) to ${t.remote}")
        }
    }
}
