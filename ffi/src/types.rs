//! Plain C types shared by the functions (remotes, sockets, byte views),
//! and the helpers that turn C pointers into Rust references.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use streamrelay::nat::{NatType, Strategy};
use streamrelay::peer::{DisconnectReason, PeerId, Remote, SocketId};

use crate::status::SrStatus;

/// Values of `SrRemote::kind`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrRemoteKind {
    /// No remote / no address (only ever written by the library, e.g. an
    /// unknown public address).
    None = 0,
    /// An IPv4 UDP endpoint: `addr[0..4]` (network order) and `port`.
    Ipv4 = 1,
    /// An IPv6 UDP endpoint: `addr[0..16]`, `port`, `flowinfo`, `scope_id`.
    Ipv6 = 2,
    /// A host-defined link with no IP address (a Bluetooth channel, say):
    /// `link_id`, whose meaning is the host's.
    Link = 3,
}

/// Where a datagram comes from or goes to: a UDP endpoint (IPv4 or IPv6) or
/// a host-defined link. A tagged struct: `kind` says which fields mean
/// something; the others are zero when the library writes one and ignored
/// when it reads one.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrRemote {
    /// One of `SR_REMOTE_KIND_*`.
    pub kind: u32,
    /// UDP port, host byte order.
    pub port: u16,
    /// Zero.
    pub reserved0: u16,
    /// IPv6 flow information (host byte order).
    pub flowinfo: u32,
    /// IPv6 scope id (interface index of a link-local address).
    pub scope_id: u32,
    /// The IP address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    pub addr: [u8; 16],
    /// The link id (`SR_REMOTE_KIND_LINK`).
    pub link_id: u64,
}

impl SrRemote {
    /// All zero (`SR_REMOTE_KIND_NONE`).
    pub(crate) const NONE: SrRemote = SrRemote {
        kind: SrRemoteKind::None as u32,
        port: 0,
        reserved0: 0,
        flowinfo: 0,
        scope_id: 0,
        addr: [0; 16],
        link_id: 0,
    };

    pub(crate) fn from_remote(r: &Remote) -> SrRemote {
        match r {
            Remote::Udp(a) => Self::from_socket_addr(a),
            Remote::Link(n) => SrRemote {
                kind: SrRemoteKind::Link as u32,
                link_id: *n,
                ..Self::NONE
            },
        }
    }

    pub(crate) fn from_socket_addr(a: &SocketAddr) -> SrRemote {
        let mut r = Self::from_ip(Some(a.ip()));
        r.port = a.port();
        if let SocketAddr::V6(v6) = a {
            r.flowinfo = v6.flowinfo();
            r.scope_id = v6.scope_id();
        }
        r
    }

    /// An address without a port (`None`: `SR_REMOTE_KIND_NONE`).
    pub(crate) fn from_ip(ip: Option<IpAddr>) -> SrRemote {
        let mut r = Self::NONE;
        match ip {
            None => {}
            Some(IpAddr::V4(v4)) => {
                r.kind = SrRemoteKind::Ipv4 as u32;
                r.addr[..4].copy_from_slice(&v4.octets());
            }
            Some(IpAddr::V6(v6)) => {
                r.kind = SrRemoteKind::Ipv6 as u32;
                r.addr = v6.octets();
            }
        }
        r
    }

    /// A UDP endpoint, or `InvalidArgument` (a link, or an unknown kind).
    pub(crate) fn to_socket_addr(self) -> Result<SocketAddr, SrStatus> {
        match self.to_remote()? {
            Remote::Udp(a) => Ok(a),
            Remote::Link(_) => Err(SrStatus::InvalidArgument),
        }
    }

    pub(crate) fn to_remote(self) -> Result<Remote, SrStatus> {
        Ok(match self.kind {
            k if k == SrRemoteKind::Ipv4 as u32 => {
                let a: [u8; 4] = self.addr[..4].try_into().expect("4 of 16 bytes");
                Remote::Udp(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(a),
                    self.port,
                )))
            }
            k if k == SrRemoteKind::Ipv6 as u32 => Remote::Udp(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(self.addr),
                self.port,
                self.flowinfo,
                self.scope_id,
            ))),
            k if k == SrRemoteKind::Link as u32 => Remote::Link(self.link_id),
            _ => return Err(SrStatus::InvalidArgument),
        })
    }
}

/// Values of `SrSocketId::kind`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrSocketKind {
    /// The main socket: all normal traffic.
    Main = 0,
    /// The probe socket: NAT discovery only.
    Probe = 1,
    /// A pool socket the peer asked for with
    /// `SR_EVENT_KIND_OPEN_POOL_SOCKETS`; `id` names it.
    Pool = 2,
}

/// One of the host's local UDP sockets: every transmit names the one to
/// send from, and the host says which one a datagram arrived on.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrSocketId {
    /// One of `SR_SOCKET_KIND_*`.
    pub kind: u32,
    /// The pool socket's id (`SR_SOCKET_KIND_POOL`, 0..=65535); else 0.
    pub id: u32,
}

impl SrSocketId {
    pub(crate) fn from_socket(s: SocketId) -> SrSocketId {
        match s {
            SocketId::Main => SrSocketId {
                kind: SrSocketKind::Main as u32,
                id: 0,
            },
            SocketId::Probe => SrSocketId {
                kind: SrSocketKind::Probe as u32,
                id: 0,
            },
            SocketId::Pool(n) => SrSocketId {
                kind: SrSocketKind::Pool as u32,
                id: u32::from(n),
            },
        }
    }

    pub(crate) fn to_socket(self) -> Result<SocketId, SrStatus> {
        match self.kind {
            k if k == SrSocketKind::Main as u32 => Ok(SocketId::Main),
            k if k == SrSocketKind::Probe as u32 => Ok(SocketId::Probe),
            k if k == SrSocketKind::Pool as u32 => u16::try_from(self.id)
                .map(SocketId::Pool)
                .map_err(|_| SrStatus::InvalidArgument),
            _ => Err(SrStatus::InvalidArgument),
        }
    }
}

/// A borrowed byte string: `len` bytes at `ptr` (`ptr` may be NULL when
/// `len` is 0). Who owns the bytes and how long they live is said where the
/// struct is used.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrBytes {
    /// The first byte.
    pub ptr: *const u8,
    /// The number of bytes.
    pub len: usize,
}

impl SrBytes {
    pub(crate) fn of(b: &[u8]) -> SrBytes {
        SrBytes {
            ptr: b.as_ptr(),
            len: b.len(),
        }
    }
}

/// NAT types (the 5-bit numbers of the protocol; 0 means not known). Any
/// byte is carried; these are the named ones.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrNatType {
    /// Not known yet.
    Unknown = 0,
    /// Symmetric (endpoint-dependent mapping).
    EndpointRestricted = 5,
    /// Port-restricted cone.
    PortRestricted = 7,
    /// Address-restricted cone.
    AddrRestricted = 15,
    /// Full cone.
    Unrestricted = 31,
}

pub(crate) fn nat_byte(n: Option<NatType>) -> u8 {
    n.map_or(0, |n| n.0)
}

/// How a peer reaches another, given both NAT types.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrStrategy {
    /// Let the other side start.
    Defer = 0,
    /// Ping it.
    DirectConnect = 1,
    /// Spray the remote's IP to open local mappings.
    TraversalOpen = 2,
    /// Birthday-paradox punch from a socket pool.
    TraversalConnect = 3,
    /// Go through the introducer.
    Proxy = 4,
}

impl From<Strategy> for SrStrategy {
    fn from(s: Strategy) -> Self {
        match s {
            Strategy::Defer => SrStrategy::Defer,
            Strategy::DirectConnect => SrStrategy::DirectConnect,
            Strategy::TraversalOpen => SrStrategy::TraversalOpen,
            Strategy::TraversalConnect => SrStrategy::TraversalConnect,
            Strategy::Proxy => SrStrategy::Proxy,
        }
    }
}

/// Why a peer left the table or stopped counting as connected.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrDisconnectReason {
    /// Silent for `expiry.missing` keepalives; still in the table.
    Missing = 0,
    /// Silent for `expiry.forgotten` keepalives; removed.
    Forgotten = 1,
    /// Evicted to make room in a full table.
    Evicted = 2,
}

impl From<DisconnectReason> for SrDisconnectReason {
    fn from(r: DisconnectReason) -> Self {
        match r {
            DisconnectReason::Missing => SrDisconnectReason::Missing,
            DisconnectReason::Forgotten => SrDisconnectReason::Forgotten,
            DisconnectReason::Evicted => SrDisconnectReason::Evicted,
        }
    }
}

// ---------------------------------------------------------------------
// Pointer helpers. Each is `unsafe` with the contract C promises in the
// header: a non-NULL pointer is valid for what its length says.
// ---------------------------------------------------------------------

/// `len` bytes at `ptr` (NULL allowed when `len` is 0).
///
/// # Safety
/// A non-NULL `ptr` must be valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn bytes_in<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], SrStatus> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(SrStatus::NullArgument);
    }
    if len > isize::MAX as usize {
        return Err(SrStatus::InvalidArgument);
    }
    // SAFETY: non-NULL, `len` fits `isize`, and the caller guarantees the
    // bytes are readable for `'a`; `u8` has no alignment requirement.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// The caller's output buffer (NULL allowed when `len` is 0).
///
/// # Safety
/// A non-NULL `ptr` must be valid for writes of `len` bytes for `'a`, and
/// not overlap anything else in use.
pub(crate) unsafe fn bytes_out<'a>(ptr: *mut u8, len: usize) -> Result<&'a mut [u8], SrStatus> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(SrStatus::NullArgument);
    }
    if len > isize::MAX as usize {
        return Err(SrStatus::InvalidArgument);
    }
    // SAFETY: non-NULL, `len` fits `isize`; the caller guarantees the
    // buffer is writable, exclusive, for `'a`. Any byte pattern is a `u8`.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

/// Exactly 32 bytes (ids and keys).
///
/// # Safety
/// As `bytes_in`.
pub(crate) unsafe fn array32(ptr: *const u8, len: usize) -> Result<[u8; 32], SrStatus> {
    if ptr.is_null() {
        return Err(SrStatus::NullArgument);
    }
    if len != 32 {
        return Err(SrStatus::InvalidArgument);
    }
    // SAFETY: forwarded contract.
    let b = unsafe { bytes_in(ptr, len) }?;
    Ok(b.try_into().expect("32 bytes"))
}

/// Copies `src` into the caller's buffer `ptr`/`len` (at least `src.len()`
/// bytes, else `BufferTooSmall`).
///
/// # Safety
/// As `bytes_out`.
pub(crate) unsafe fn copy_out(ptr: *mut u8, len: usize, src: &[u8]) -> Result<(), SrStatus> {
    if ptr.is_null() {
        return Err(SrStatus::NullArgument);
    }
    if len < src.len() {
        return Err(SrStatus::BufferTooSmall);
    }
    // SAFETY: forwarded contract.
    let out = unsafe { bytes_out(ptr, len) }?;
    out[..src.len()].copy_from_slice(src);
    Ok(())
}

/// Checks an out-pointer: non-NULL and aligned.
pub(crate) fn check_out<T>(ptr: *mut T) -> Result<(), SrStatus> {
    if ptr.is_null() {
        return Err(SrStatus::NullArgument);
    }
    if !ptr.is_aligned() {
        return Err(SrStatus::InvalidArgument);
    }
    Ok(())
}

/// Writes `v` through an out-pointer (checked first with `check_out`).
///
/// # Safety
/// A non-NULL `ptr` must be valid for a write of a `T`.
pub(crate) unsafe fn put<T>(ptr: *mut T, v: T) -> Result<(), SrStatus> {
    check_out(ptr)?;
    // SAFETY: non-NULL and aligned (checked), valid for writes (caller).
    // `write` does not read or drop the old value, which may be garbage.
    unsafe { ptr.write(v) };
    Ok(())
}

/// Reads an input struct (checked for NULL and alignment).
///
/// # Safety
/// A non-NULL `ptr` must be valid for a read of a `T`, and every bit pattern
/// C may leave in it must be a valid `T` (plain integers and arrays only).
pub(crate) unsafe fn get<T: Copy>(ptr: *const T) -> Result<T, SrStatus> {
    check_out(ptr.cast_mut())?;
    // SAFETY: non-NULL and aligned (checked), readable and valid (caller).
    Ok(unsafe { ptr.read() })
}

/// The `struct_size` a caller put in an extensible struct, checked against
/// the size this library knows (`BufferTooSmall` if it is smaller: an
/// extensible struct may only grow).
///
/// # Safety
/// A non-NULL `ptr` must be valid for a read of a `u32` (the struct's first
/// field).
pub(crate) unsafe fn struct_size<T>(ptr: *const T) -> Result<u32, SrStatus> {
    let size_ptr = ptr.cast::<u32>();
    check_out(size_ptr.cast_mut())?;
    if !ptr.is_aligned() {
        return Err(SrStatus::InvalidArgument);
    }
    // SAFETY: non-NULL, aligned for `T` (and so for its first field, a
    // `u32` at offset 0 of a `repr(C)` struct), readable (caller).
    let size = unsafe { size_ptr.read() };
    if (size as usize) < core::mem::size_of::<T>() {
        return Err(SrStatus::InvalidArgument);
    }
    Ok(size)
}

/// Writes an extensible struct whose `struct_size` the caller set (checked
/// with `struct_size`); `v` must carry the same `struct_size`.
///
/// # Safety
/// A non-NULL `ptr` must be valid for reads and writes of a `T`.
pub(crate) unsafe fn put_sized<T>(ptr: *mut T, v: impl FnOnce(u32) -> T) -> Result<(), SrStatus> {
    // SAFETY: forwarded contract.
    let size = unsafe { struct_size(ptr.cast_const()) }?;
    // SAFETY: forwarded contract; checked non-NULL and aligned.
    unsafe { put(ptr, v(size)) }
}

/// A peer id from 32 bytes.
///
/// # Safety
/// As `bytes_in`.
pub(crate) unsafe fn peer_id_in(ptr: *const u8, len: usize) -> Result<PeerId, SrStatus> {
    // SAFETY: forwarded contract.
    Ok(PeerId(unsafe { array32(ptr, len) }?))
}

/// UTF-8 text of `len` bytes (not NUL-terminated).
///
/// # Safety
/// As `bytes_in`.
pub(crate) unsafe fn text_in<'a>(ptr: *const u8, len: usize) -> Result<&'a str, SrStatus> {
    // SAFETY: forwarded contract.
    let b = unsafe { bytes_in(ptr, len) }?;
    core::str::from_utf8(b).map_err(|_| SrStatus::InvalidUtf8)
}
