package dev.streamrelay

import com.sun.jna.JNIEnv
import com.sun.jna.Library
import com.sun.jna.Native
import com.sun.jna.NativeLibrary
import dev.streamrelay.uniffi.Peer
import java.net.Inet4Address
import java.net.InetAddress
import java.net.InetSocketAddress
import java.nio.ByteBuffer

/**
 * The JNI natives of the fast path (ffi/src/jni_api.rs). Private to this
 * package: [FastPath] owns the handle and is the only caller.
 */
internal object FastPathNative {
    init {
        // The natives must run in the very copy of libstreamrelay that JNA
        // loaded for the UniFFI object (the fast path shares its peers).
        // JNA finds it through jna.library.path, the system paths or the
        // classpath (a JAR from package.sh carries it, and JNA extracts it to
        // a temporary file that it deletes at once, so there is no file to
        // System.load). So the library binds these natives itself
        // (streamrelay_jni_register, called through JNA on JNA's instance;
        // the name and options are the generated code's, so JNA returns its
        // cached instance). A library without that function (older builds)
        // falls back to System.loadLibrary and java.library.path.
        val registered = try {
            val name = System.getProperty("uniffi.component.streamrelay.libraryOverride") ?: "streamrelay"
            val options = mapOf(Library.OPTION_CLASSLOADER to FastPathNative::class.java.classLoader)
            Native.register(JniRegistrar::class.java, NativeLibrary.getInstance(name, options))
            JniRegistrar.streamrelay_jni_register(JNIEnv.CURRENT) == 1
        } catch (e: UnsatisfiedLinkError) {
            false
        }
        if (!registered) System.loadLibrary("streamrelay")
    }

    @JvmStatic external fun handleDatagram(
        handle: Long, nowMs: Long, socket: Int, family: Int, addrHi: Long, addrLo: Long, port: Int,
        buf: ByteBuffer, off: Int, len: Int,
    )

    @JvmStatic external fun pollTransmit(
        handle: Long, nowMs: Long, buf: ByteBuffer, off: Int, cap: Int, meta: ByteBuffer,
    ): Int

    @JvmStatic external fun release(handle: Long)

    @JvmStatic external fun debugPanic()
}

/** The library's JNI registration, called through JNA (direct mapping). */
@Suppress("FunctionName")
private object JniRegistrar {
    @JvmStatic external fun streamrelay_jni_register(env: JNIEnv): Int
}

/**
 * The datagram hot loop of a UniFFI [Peer] through JNI, with **direct
 * [ByteBuffer]s and no copy**: [handleDatagram] lets the library read the
 * datagram where the JVM keeps it; [pollTransmit] writes the next datagram
 * straight into the caller's buffer and its destination into [destination]
 * (no object allocated per datagram).
 *
 * It drives the same state machine as the [Peer] it was made from (one
 * lock serializes both), so events, timers, joins and publishes keep going
 * through the UniFFI object. Close it before (or with) the peer.
 */
class FastPath(peer: Peer) : AutoCloseable {
    private var handle: Long = peer.nativeHandle().toLong()

    /** Where the destination of the last [pollTransmit] is decoded. */
    private val meta: ByteBuffer = ByteBuffer.allocateDirect(META_LEN)

    /** The socket of the last datagram [pollTransmit] returned. */
    var socket: SocketRef = SocketRef.MAIN
        private set

    /** Its destination, as raw fields (no allocation): see [destination]. */
    var family: Int = 0
        private set
    var port: Int = 0
        private set

    /**
     * A datagram arrived on [socket] from [from]: the [len] bytes at [off] of
     * the direct buffer [buf] (by default its position..limit; the position
     * is not moved).
     */
    @Synchronized
    fun handleDatagram(
        nowMs: Long, socket: SocketRef, from: InetSocketAddress, buf: ByteBuffer,
        off: Int = buf.position(), len: Int = buf.remaining(),
    ) {
        require(buf.isDirect) { "the fast path needs a direct ByteBuffer" }
        val a = from.address
        if (a is Inet4Address) {
            // Inet4Address.hashCode() is its address as an int: no allocation.
            FastPathNative.handleDatagram(
                live(), nowMs, socket.code, 4, 0, a.hashCode().toLong() and 0xffffffffL, from.port, buf, off, len,
            )
        } else {
            val b = a.address
            val bb = ByteBuffer.wrap(b)
            FastPathNative.handleDatagram(live(), nowMs, socket.code, 6, bb.getLong(0), bb.getLong(8), from.port, buf, off, len)
        }
    }

    /**
     * Writes the next datagram at [buf]'s position (at most its remaining
     * bytes) and returns its length, or -1 when none is queued. The buffer's
     * position and limit are not moved. [socket], [family], [port] and
     * [destination] then describe where it goes. A buffer of
     * [MAX_DATAGRAM_LEN] bytes always fits; a smaller one that does not fit
     * throws and the datagram stays queued.
     */
    @Synchronized
    fun pollTransmit(nowMs: Long, buf: ByteBuffer): Int {
        require(buf.isDirect) { "the fast path needs a direct ByteBuffer" }
        val n = FastPathNative.pollTransmit(live(), nowMs, buf, buf.position(), buf.remaining(), meta)
        if (n < -1) throw IllegalArgumentException("buffer too small: ${-n} bytes needed")
        if (n >= 0) {
            socket = when (meta.get(0).toInt()) {
                0 -> SocketRef.MAIN
                1 -> SocketRef.PROBE
                else -> SocketRef.pool(meta.getShort(2).toInt() and 0xffff)
            }
            family = meta.get(1).toInt()
            port = meta.getShort(4).toInt() and 0xffff
        }
        return n
    }

    /** The IPv4 destination of the last datagram as an int (family 4). */
    val ipv4: Int
        @Synchronized get() = meta.getInt(8)

    /** The destination of the last datagram (allocates; see [ipv4]). */
    val destination: InetSocketAddress
        @Synchronized get() {
            val b = ByteArray(if (family == 6) 16 else 4)
            meta.get(8, b)
            return InetSocketAddress(InetAddress.getByAddress(b), port)
        }

    @Synchronized
    override fun close() {
        val h = handle
        handle = 0
        FastPathNative.release(h)
    }

    private fun live(): Long {
        check(handle != 0L) { "FastPath is closed" }
        return handle
    }

    companion object {
        /** The largest datagram a peer sends. */
        const val MAX_DATAGRAM_LEN = 1421
        private const val META_LEN = 24

        /** Test hook: a panic inside the library comes back as a RuntimeException. */
        fun debugPanic() = FastPathNative.debugPanic()
    }
}

/** A local socket (the fast path's allocation-free form of [dev.streamrelay.uniffi.SocketId]). */
@JvmInline
value class SocketRef(val code: Int) {
    companion object {
        val MAIN = SocketRef(-1)
        val PROBE = SocketRef(-2)
        fun pool(id: Int) = SocketRef(id)
    }
}
