package dev.streamrelay

import dev.streamrelay.uniffi.Introducer
import dev.streamrelay.uniffi.Node
import dev.streamrelay.uniffi.NodeOptions
import dev.streamrelay.uniffi.Remote
import dev.streamrelay.uniffi.natTypes
import dev.streamrelay.uniffi.peerConfig

/** An introducer [Node] on 127.0.0.1 (static NAT type: ready at once). */
fun testIntroducer(): Node = Node.start(
    NodeOptions(
        config = peerConfig(ByteArray(32)).copy(indexed = true, natType = natTypes().unrestricted),
        bindIp = "127.0.0.1",
    ),
)

/** A [Node] of [cluster] on 127.0.0.1 that knows the introducer [intro]. */
fun testMember(intro: Node, cluster: ByteArray, stateFile: String? = null): Node {
    val at = intro.localAddress() as Remote.Udp
    return Node.start(
        NodeOptions(
            config = peerConfig(ByteArray(32)).copy(
                clusterId = cluster, natType = natTypes().unrestricted, keepaliveMs = 2000u,
                introducers = listOf(Introducer(intro.peerId(), Remote.Udp("127.0.0.1", at.port))),
            ),
            bindIp = "127.0.0.1",
            stateFile = stateFile,
        ),
    )
}
