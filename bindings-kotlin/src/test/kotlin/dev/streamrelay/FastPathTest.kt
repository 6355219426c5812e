package dev.streamrelay

import dev.streamrelay.uniffi.InternalException
import dev.streamrelay.uniffi.Peer
import dev.streamrelay.uniffi.Remote
import dev.streamrelay.uniffi.SocketId
import dev.streamrelay.uniffi.StreamRelayException
import dev.streamrelay.uniffi.createClusterId
import dev.streamrelay.uniffi.createId
import dev.streamrelay.uniffi.debugPanic
import dev.streamrelay.uniffi.decodePacket
import dev.streamrelay.uniffi.natTypes
import dev.streamrelay.uniffi.peerConfig
import java.lang.management.ManagementFactory
import java.net.InetSocketAddress
import java.nio.ByteBuffer
import org.junit.Assert.assertEquals
import org.junit.Assert.assertSame
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

/** The JNI fast path: shared handle, in-place buffers, no per-datagram allocation, errors. */
class FastPathTest {
    private fun peerWithIntroducer(): Peer {
        val cfg = peerConfig(createId(textSeed("fast"))).copy(
            clusterId = createClusterId(textSeed("fast path test")),
            natType = natTypes().unrestricted,
            publicAddress = Remote.Udp("127.0.0.1", 40000u),
            introducers = listOf(dev.streamrelay.uniffi.Introducer(createId(textSeed("intro")), Remote.Udp("127.0.0.1", 40001u))),
            limitExempt = true,
        )
        return Peer(cfg, 0u, ByteArray(32))
    }

    @Test
    fun sharesTheStateMachineWithTheUniffiObject() {
        val p = peerWithIntroducer()
        FastPath(p).use { f ->
            p.handleTimeout(0u) // through JNA: the first tick pings the introducer
            val buf = ByteBuffer.allocateDirect(FastPath.MAX_DATAGRAM_LEN)
            val n = f.pollTransmit(0, buf) // through JNI: the same queue
            assertTrue("a datagram was queued", n > 0)
            assertEquals(0, buf.position()) // written in place, buffer not moved
            val bytes = ByteArray(n).also { buf.duplicate().get(it) }
            assertEquals(1, decodePacket(bytes).packetType.toInt()) // a Ping
            assertEquals(SocketRef.MAIN, f.socket)
            assertEquals(InetSocketAddress("127.0.0.1", 40001), f.destination)
            assertEquals(0x7f000001, f.ipv4)
        }
        p.destroy()
    }

    @Test
    fun tooSmallKeepsTheDatagramQueued() {
        val p = peerWithIntroducer()
        FastPath(p).use { f ->
            p.handleTimeout(0u)
            try {
                f.pollTransmit(0, ByteBuffer.allocateDirect(4))
                fail("expected IllegalArgumentException")
            } catch (e: IllegalArgumentException) {
                assertTrue(e.message!!, e.message!!.contains("bytes needed"))
            }
            assertTrue(f.pollTransmit(0, ByteBuffer.allocateDirect(FastPath.MAX_DATAGRAM_LEN)) > 0)
        }
        p.destroy()
    }

    /**
     * No copy and no allocation per datagram on the JVM side: the JNI loop
     * allocates nothing on the Java heap, the JNA loop at least the
     * datagram's size (the ByteArray it lowers and the RustBuffer
     * round trip).
     */
    @Test
    fun theFastPathAllocatesNothingPerDatagram() {
        val mx = ManagementFactory.getThreadMXBean() as com.sun.management.ThreadMXBean
        val tid = Thread.currentThread().id
        val p = peerWithIntroducer()
        val from = InetSocketAddress("127.0.0.1", 40002)
        val rx = ByteBuffer.allocateDirect(1200)
        val tx = ByteBuffer.allocateDirect(FastPath.MAX_DATAGRAM_LEN)
        val heap = ByteArray(1200)
        val remote = from.toRemote()
        val rounds = 20_000
        FastPath(p).use { f ->
            repeat(2_000) { f.handleDatagram(0, SocketRef.MAIN, from, rx); f.pollTransmit(0, tx) } // warm up
            val a0 = mx.getThreadAllocatedBytes(tid)
            repeat(rounds) { f.handleDatagram(0, SocketRef.MAIN, from, rx); f.pollTransmit(0, tx) }
            val jni = (mx.getThreadAllocatedBytes(tid) - a0).toDouble() / rounds
            repeat(2_000) { p.handleDatagram(0u, SocketId.Main, remote, heap); p.pollTransmit(0u) }
            val b0 = mx.getThreadAllocatedBytes(tid)
            repeat(rounds) { p.handleDatagram(0u, SocketId.Main, remote, heap); p.pollTransmit(0u) }
            val jna = (mx.getThreadAllocatedBytes(tid) - b0).toDouble() / rounds
            println("Java heap bytes allocated per 1200-byte datagram: JNI fast path %.1f, JNA %.1f".format(jni, jna))
            assertTrue("the fast path allocates $jni bytes per datagram", jni < 16.0)
            assertTrue("JNA was expected to allocate (measurement sanity): $jna", jna > 1200.0)
        }
        p.destroy()
    }

    @Test
    fun heapBuffersAreRefused() {
        val p = peerWithIntroducer()
        FastPath(p).use { f ->
            try {
                f.handleDatagram(0, SocketRef.MAIN, InetSocketAddress("127.0.0.1", 1), ByteBuffer.allocate(8))
                fail("expected IllegalArgumentException")
            } catch (_: IllegalArgumentException) {
            }
        }
        p.destroy()
    }

    @Test
    fun aClosedFastPathRefusesAndThePeerLivesOn() {
        val p = peerWithIntroducer()
        val f = FastPath(p)
        f.close()
        f.close() // twice is harmless
        try {
            f.pollTransmit(0, ByteBuffer.allocateDirect(64))
            fail("expected IllegalStateException")
        } catch (_: IllegalStateException) {
        }
        p.handleTimeout(0u)
        assertTrue(p.pollTransmit(0u) != null)
        p.destroy()
    }

    @Test
    fun panicsComeBackAsExceptions() {
        try {
            FastPath.debugPanic()
            fail("expected RuntimeException")
        } catch (e: RuntimeException) {
            assertTrue(e.message!!, e.message!!.contains("panic"))
        }
        try {
            debugPanic("from kotlin")
            fail("expected InternalException")
        } catch (e: InternalException) {
            assertTrue(e.message!!, e.message!!.contains("from kotlin"))
        }
    }

    @Test
    fun errorsAreTypedExceptions() {
        val p = Peer(peerConfig(createId(textSeed("no cluster"))).copy(indexed = true), 0u, ByteArray(32))
        try {
            p.join(0u, ByteArray(3))
            fail("expected InvalidArgument")
        } catch (e: StreamRelayException.InvalidArgument) {
            assertTrue(e.message, e.message.contains("32 bytes"))
        }
        try {
            p.join(0u, ByteArray(32))
            fail("expected NoCluster")
        } catch (e: StreamRelayException) {
            assertSame(StreamRelayException.NoCluster::class.java, e::class.java)
        }
        p.destroy()
    }
}
