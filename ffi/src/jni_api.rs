//! The JNI fast path for the JVM / Android datagram loop
//! (`bindings-kotlin/src/main/kotlin/dev/streamrelay/FastPath.kt`).
//!
//! UniFFI (JNA) copies every datagram twice per crossing (into a
//! `RustBuffer`, then into a `Vec`) and allocates a `ByteArray` for every
//! datagram out. These functions take **direct `ByteBuffer`s** instead and
//! touch the bytes where the JVM keeps them (`GetDirectBufferAddress`):
//!
//! - `handleDatagram` hands the core a slice of the caller's buffer: no copy;
//! - `pollTransmit` writes the datagram into the caller's buffer (the one
//!   copy out of the core's queue, the same as the C ABI) and its
//!   destination into a small direct "meta" buffer: no Java object, no
//!   array, no JNI array copy.
//!
//! The handle is the UniFFI `Peer` itself (`Peer.nativeHandle()`, an
//! `Arc` strong reference), so both faces drive one state machine behind one
//! lock. `release` drops the reference; the Kotlin class owns the handle
//! privately and never uses it after `release`.
//!
//! No panic crosses the boundary: every body runs inside `with_env`, which
//! catches panics; errors and panics become a Java `RuntimeException`
//! ("Rust error: ..." / "Rust panic: ...").

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use jni::errors::ThrowRuntimeExAndDefault;
use jni::objects::{JByteBuffer, JClass};
use jni::sys::{jint, jlong};
use jni::{Env, EnvUnowned};
use streamrelay::peer::{BufferTooSmall, Instant, Remote, SocketId};

use crate::uniffi_api::Peer;

/// Length of the meta buffer `pollTransmit` fills.
const META_LEN: usize = 24;

/// Why a fast-path call failed (thrown as a `RuntimeException`).
#[derive(Debug)]
enum FastPathError {
    Jni(jni::errors::Error),
    Arg(&'static str),
    Peer(crate::uniffi_api::StreamRelayError),
}

impl std::fmt::Display for FastPathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FastPathError::Jni(e) => write!(f, "{e}"),
            FastPathError::Arg(s) => f.write_str(s),
            FastPathError::Peer(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FastPathError {}

impl From<jni::errors::Error> for FastPathError {
    fn from(e: jni::errors::Error) -> Self {
        FastPathError::Jni(e)
    }
}

type R<T> = Result<T, FastPathError>;

/// The peer behind a handle from `Peer.nativeHandle()`.
///
/// # Safety
/// `handle` must be 0 (refused) or a value returned by
/// `Peer::native_handle` that has not been released yet.
unsafe fn peer<'a>(handle: jlong) -> R<&'a Peer> {
    if handle == 0 {
        return Err(FastPathError::Arg("the fast path is closed (handle 0)"));
    }
    // SAFETY: the caller's contract: a live `Arc::into_raw` pointer.
    Ok(unsafe { &*(handle as usize as *const Peer) })
}

/// `len` bytes at `off` of a direct buffer, in place.
fn region<'b>(env: &Env<'_>, buf: &JByteBuffer<'_>, off: jint, len: jint) -> R<&'b mut [u8]> {
    let addr = env.get_direct_buffer_address(buf)?;
    let cap = env.get_direct_buffer_capacity(buf)?;
    let (Ok(off), Ok(len)) = (usize::try_from(off), usize::try_from(len)) else {
        return Err(FastPathError::Arg("negative offset or length"));
    };
    if off.checked_add(len).is_none_or(|end| end > cap) {
        return Err(FastPathError::Arg("offset + length is past the buffer"));
    }
    if addr.is_null() {
        return Err(FastPathError::Arg("not a direct buffer"));
    }
    // SAFETY: a direct buffer's memory stays valid while the Java object is
    // reachable, which it is for the duration of this native call (it is an
    // argument); `off + len <= capacity` was checked. The JVM does not touch
    // the buffer during the call (the Kotlin side holds its lock).
    Ok(unsafe { std::slice::from_raw_parts_mut(addr.add(off), len) })
}

fn socket_in(socket: jint) -> R<SocketId> {
    match socket {
        -1 => Ok(SocketId::Main),
        -2 => Ok(SocketId::Probe),
        0..=0xffff => Ok(SocketId::Pool(socket as u16)),
        _ => Err(FastPathError::Arg(
            "socket: -1 main, -2 probe, 0..65535 pool",
        )),
    }
}

fn remote_in(family: jint, hi: jlong, lo: jlong, port: jint) -> R<Remote> {
    let port = u16::try_from(port).map_err(|_| FastPathError::Arg("port out of range"))?;
    let ip = match family {
        4 => IpAddr::V4(Ipv4Addr::from(lo as u32)),
        6 => IpAddr::V6(Ipv6Addr::from(
            ((hi as u64 as u128) << 64) | lo as u64 as u128,
        )),
        0 => return Ok(Remote::Link(lo as u64)),
        _ => return Err(FastPathError::Arg("family: 4, 6 or 0 (link)")),
    };
    Ok(Remote::Udp(SocketAddr::new(ip, port)))
}

/// Writes a transmit's socket and destination into the meta buffer
/// (big-endian, Java's default): `[0]` socket kind (0 main, 1 probe,
/// 2 pool), `[1]` family (4, 6, 0 link), `[2..4]` pool id, `[4..6]` port,
/// `[8..24]` the address (IPv4 in `[8..12]`; a link id in `[8..16]`).
fn meta_out(meta: &mut [u8], socket: SocketId, remote: &Remote) {
    meta.fill(0);
    let (kind, pool) = match socket {
        SocketId::Main => (0, 0),
        SocketId::Probe => (1, 0),
        SocketId::Pool(n) => (2, n),
    };
    meta[0] = kind;
    meta[2..4].copy_from_slice(&pool.to_be_bytes());
    match remote {
        Remote::Udp(a) => {
            meta[4..6].copy_from_slice(&a.port().to_be_bytes());
            match a.ip() {
                IpAddr::V4(v4) => {
                    meta[1] = 4;
                    meta[8..12].copy_from_slice(&v4.octets());
                }
                IpAddr::V6(v6) => {
                    meta[1] = 6;
                    meta[8..24].copy_from_slice(&v6.octets());
                }
            }
        }
        Remote::Link(n) => {
            meta[1] = 0;
            meta[8..16].copy_from_slice(&n.to_be_bytes());
        }
    }
}

/// `FastPathNative.handleDatagram(handle, nowMs, socket, family, addrHi,
/// addrLo, port, buf, off, len)`: the `len` bytes at `off` of the direct
/// buffer `buf` arrived on `socket` from the remote. The core reads them in
/// place.
#[no_mangle]
pub extern "system" fn Java_dev_streamrelay_FastPathNative_handleDatagram<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    now_ms: jlong,
    socket: jint,
    family: jint,
    addr_hi: jlong,
    addr_lo: jlong,
    port: jint,
    buf: JByteBuffer<'l>,
    off: jint,
    len: jint,
) {
    env.with_env(|env| -> R<()> {
        // SAFETY: the Kotlin class passes only a live handle (or 0).
        let p = unsafe { peer(handle) }?;
        let socket = socket_in(socket)?;
        let remote = remote_in(family, addr_hi, addr_lo, port)?;
        let bytes = region(env, &buf, off, len)?;
        p.lock().map_err(FastPathError::Peer)?.handle_datagram(
            Instant(now_ms as u64),
            socket,
            remote,
            bytes,
        );
        Ok(())
    })
    .resolve::<ThrowRuntimeExAndDefault>()
}

/// `FastPathNative.pollTransmit(handle, nowMs, buf, off, cap, meta)`: the
/// next datagram, written at `off` of the direct buffer `buf` (at most
/// `cap` bytes), its socket and destination into the direct buffer `meta`
/// (24 bytes, see `meta_out`). Returns its length; -1 when nothing is
/// queued; `-needed` (< -1) when `cap` is too small, and the datagram stays
/// queued.
#[no_mangle]
pub extern "system" fn Java_dev_streamrelay_FastPathNative_pollTransmit<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    now_ms: jlong,
    buf: JByteBuffer<'l>,
    off: jint,
    cap: jint,
    meta: JByteBuffer<'l>,
) -> jint {
    env.with_env(|env| -> R<jint> {
        // SAFETY: the Kotlin class passes only a live handle (or 0).
        let p = unsafe { peer(handle) }?;
        let out = region(env, &buf, off, cap)?;
        let meta = region(env, &meta, 0, META_LEN as jint)?;
        let mut peer = p.lock().map_err(FastPathError::Peer)?;
        match peer.poll_transmit_into(Instant(now_ms as u64), out) {
            Ok(None) => Ok(-1),
            // Stays queued in the core: the Kotlin side grows its buffer.
            Err(BufferTooSmall { needed }) => Ok(-jint::try_from(needed).unwrap_or(jint::MAX)),
            Ok(Some((socket, remote, n))) => {
                meta_out(meta, socket, &remote);
                Ok(n as jint)
            }
        }
    })
    .resolve::<ThrowRuntimeExAndDefault>()
}

/// `FastPathNative.release(handle)`: drops the reference
/// `Peer.nativeHandle()` made. 0 is a no-op.
#[no_mangle]
pub extern "system" fn Java_dev_streamrelay_FastPathNative_release<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    env.with_env(|_env| -> R<()> {
        if handle != 0 {
            // SAFETY: a value of `Peer::native_handle` (`Arc::into_raw`),
            // released once: the Kotlin class zeroes its copy first.
            drop(unsafe { Arc::from_raw(handle as usize as *const Peer) });
        }
        Ok(())
    })
    .resolve::<ThrowRuntimeExAndDefault>()
}

/// `FastPathNative.debugPanic()`: test hook, panics inside the library to
/// show the panic comes back as a `RuntimeException`.
#[no_mangle]
pub extern "system" fn Java_dev_streamrelay_FastPathNative_debugPanic<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
) {
    env.with_env(|_env| -> R<()> { panic!("debugPanic") })
        .resolve::<ThrowRuntimeExAndDefault>()
}

/// Binds `dev.streamrelay.FastPathNative`'s native methods to the functions
/// above, in **this** copy of the library. `FastPathNative`'s initializer
/// calls it through JNA (direct mapping, `JNIEnv.CURRENT`) on the library
/// instance JNA loaded for the UniFFI object, so the fast path needs no
/// `System.load`: both faces are sure to share one copy, also when JNA took
/// the library out of a JAR (it extracts it to a temporary file and deletes
/// the file at once, so there is no path to load a second time).
///
/// Returns 1 when the methods are bound; 0 with a Java exception pending
/// (the class or a method is missing, a panic) otherwise.
///
/// cbindgen:ignore
///
/// # Safety
/// `env` must be the calling thread's `JNIEnv`, valid for this call, and
/// the caller a Java method (JNA's dispatch), so `FindClass` uses its class
/// loader.
#[no_mangle]
pub unsafe extern "C" fn streamrelay_jni_register(env: *mut jni::sys::JNIEnv) -> jint {
    use jni::jni_str;
    use jni::NativeMethod;
    use std::ffi::c_void;

    if env.is_null() {
        return 0;
    }
    // SAFETY: the caller's contract: the current thread's JNIEnv, for the
    // duration of this call (which bounds the lifetime `with_env` gives out).
    let mut unowned = unsafe { EnvUnowned::from_raw(env) };
    unowned
        .with_env(|env| -> R<jint> {
            let class = env.find_class(jni_str!("dev/streamrelay/FastPathNative"))?;
            // SAFETY: each pointer is the `extern "system"` function above
            // whose parameters match the JNI signature beside it, with the
            // class as the second parameter (all four are static methods).
            let methods = unsafe {
                [
                    NativeMethod::from_raw_parts(
                        jni_str!("handleDatagram"),
                        jni_str!("(JJIIJJILjava/nio/ByteBuffer;II)V"),
                        Java_dev_streamrelay_FastPathNative_handleDatagram as *mut c_void,
                    ),
                    NativeMethod::from_raw_parts(
                        jni_str!("pollTransmit"),
                        jni_str!("(JJLjava/nio/ByteBuffer;IILjava/nio/ByteBuffer;)I"),
                        Java_dev_streamrelay_FastPathNative_pollTransmit as *mut c_void,
                    ),
                    NativeMethod::from_raw_parts(
                        jni_str!("release"),
                        jni_str!("(J)V"),
                        Java_dev_streamrelay_FastPathNative_release as *mut c_void,
                    ),
                    NativeMethod::from_raw_parts(
                        jni_str!("debugPanic"),
                        jni_str!("()V"),
                        Java_dev_streamrelay_FastPathNative_debugPanic as *mut c_void,
                    ),
                ]
            };
            // SAFETY: as above; the methods are static, as the functions
            // expect.
            unsafe { env.register_native_methods(&class, &methods) }?;
            Ok(1)
        })
        .resolve::<ThrowRuntimeExAndDefault>()
}
