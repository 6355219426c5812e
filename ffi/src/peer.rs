//! The peer: lifecycle, inputs, outputs, commands, snapshot/restore.

use core::ffi::c_void;

use streamrelay::crypto::identity::SharedKey;
use streamrelay::peer::{BufferTooSmall, Event, Firewall, Instant, Peer, Remote, SocketId};
use streamrelay::wire::packet::PacketId;
use streamrelay::wire::PacketRef;

use crate::handle::{free, guard, register, with, SrConfig, SrPeer};
use crate::packet::SrPacketView;
use crate::status::SrStatus;
use crate::types::{
    array32, bytes_in, bytes_out, check_out, copy_out, get, peer_id_in, put, SrBytes, SrRemote,
    SrSocketId,
};

/// What a peer handle holds: the core's state machine and what the C side
/// borrows from it.
pub(crate) struct PeerState {
    pub(crate) peer: Peer,
    /// The last event polled: `SrEvent`'s borrowed fields point into it.
    pub(crate) event: Option<Event>,
    /// The socket list of the last pool-socket event, as C structs.
    pub(crate) sockets: Vec<SrSocketId>,
    /// The last id list lent to C (`SrIdList`), and its views.
    pub(crate) ids: Vec<PacketId>,
    pub(crate) id_views: Vec<SrBytes>,
}

impl PeerState {
    fn new(peer: Peer) -> Self {
        PeerState {
            peer,
            event: None,
            sockets: Vec::new(),
            ids: Vec::new(),
            id_views: Vec::new(),
        }
    }
}

/// Runs `f` on the peer behind `peer`; `Ok(())` is `SR_STATUS_OK`.
pub(crate) fn on_peer(
    peer: *mut SrPeer,
    f: impl FnOnce(&mut PeerState) -> Result<SrStatus, SrStatus>,
) -> SrStatus {
    guard(|| with(peer, f))
}

fn seed32(seed: *const u8, seed_len: usize) -> Result<[u8; 32], SrStatus> {
    // SAFETY: the caller's contract for `seed` (every caller forwards it).
    unsafe { array32(seed, seed_len) }
}

/// Makes a peer from `config` (copied; the config stays the caller's),
/// at `now_ms` on the host's monotonic clock in milliseconds, with a 32-byte
/// `seed` from the host's CSPRNG (every random choice of the peer derives
/// from it, so equal inputs replay exactly). Nothing is sent until the first
/// `sr_peer_handle_timeout`, which is due at `now_ms`. Free it with
/// `sr_peer_free`.
///
/// Returns `SR_STATUS_INVALID_CONFIG` for a config the core refuses.
///
/// # Safety
/// `config` must be NULL or a handle from `sr_config_new`; `seed` must
/// point to `seed_len` readable bytes; `out_peer` must be valid for writing
/// a pointer.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_new(
    config: *const SrConfig,
    now_ms: u64,
    seed: *const u8,
    seed_len: usize,
    out_peer: *mut *mut SrPeer,
) -> SrStatus {
    guard(|| {
        let config = with(config, |c| Ok(c.clone()))?;
        check_out(out_peer)?;
        let seed = seed32(seed, seed_len)?;
        let peer = Peer::new(config, Instant(now_ms), seed)?;
        let ptr = register::<SrPeer>(PeerState::new(peer));
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_peer, ptr) }?;
        Ok(SrStatus::Ok)
    })
}

/// Makes a peer from a snapshot (`sr_peer_snapshot`) and its config, which
/// must name the same peer id. Arguments as `sr_peer_new`.
///
/// Returns `SR_STATUS_SNAPSHOT_MALFORMED`, `SR_STATUS_SNAPSHOT_VERSION`,
/// `SR_STATUS_SNAPSHOT_IDENTITY` or `SR_STATUS_INVALID_CONFIG` when it
/// cannot.
///
/// # Safety
/// As `sr_peer_new`; `snapshot` must point to `snapshot_len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_restore(
    config: *const SrConfig,
    now_ms: u64,
    seed: *const u8,
    seed_len: usize,
    snapshot: *const u8,
    snapshot_len: usize,
    out_peer: *mut *mut SrPeer,
) -> SrStatus {
    guard(|| {
        let config = with(config, |c| Ok(c.clone()))?;
        check_out(out_peer)?;
        let seed = seed32(seed, seed_len)?;
        // SAFETY: the caller's contract for `snapshot`.
        let bytes = unsafe { bytes_in(snapshot, snapshot_len) }?;
        let peer = Peer::restore(config, Instant(now_ms), seed, bytes)?;
        let ptr = register::<SrPeer>(PeerState::new(peer));
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_peer, ptr) }?;
        Ok(SrStatus::Ok)
    })
}

/// Releases a peer and everything it holds (events and byte fields it lent
/// become invalid). NULL is a no-op. A poisoned peer can be freed.
/// Returns `SR_STATUS_INVALID_HANDLE` for a pointer that is not a live
/// peer (a double free is refused, not performed), `SR_STATUS_BUSY` when
/// another call on it is running (e.g. from inside the firewall callback).
///
/// # Safety
/// `peer` must be NULL or a pointer obtained from `sr_peer_new` or
/// `sr_peer_restore` (a stale or garbage pointer is detected and refused,
/// not dereferenced).
#[no_mangle]
pub unsafe extern "C" fn sr_peer_free(peer: *mut SrPeer) -> SrStatus {
    guard(|| free(peer))
}

/// A datagram arrived on the host's `socket` from `remote`. Anything that is
/// not a packet the peer can use (malformed, wrong version, over a rate
/// limit, refused by the firewall, a duplicate, ...) is dropped and counted
/// in `sr_peer_get_metrics`: that is still `SR_STATUS_OK`, because bad input
/// is data, not an error of the call. `bytes` may be NULL when `bytes_len`
/// is 0.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `remote` valid for reading an
/// `SrRemote`; `bytes` must point to `bytes_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_handle_datagram(
    peer: *mut SrPeer,
    now_ms: u64,
    socket: SrSocketId,
    remote: *const SrRemote,
    bytes: *const u8,
    bytes_len: usize,
) -> SrStatus {
    on_peer(peer, |s| {
        let socket = socket.to_socket()?;
        // SAFETY: the caller's contract for `remote`; plain integers.
        let remote = unsafe { get(remote) }?.to_remote()?;
        // SAFETY: the caller's contract for `bytes`.
        let bytes = unsafe { bytes_in(bytes, bytes_len) }?;
        s.peer
            .handle_datagram(Instant(now_ms), socket, remote, bytes);
        Ok(SrStatus::Ok)
    })
}

/// Fires the timers that are due at `now_ms`. Call it when
/// `sr_peer_poll_timeout` says (earlier or later is harmless).
///
/// # Safety
/// `peer` must be NULL or a peer handle.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_handle_timeout(peer: *mut SrPeer, now_ms: u64) -> SrStatus {
    on_peer(peer, |s| {
        s.peer.handle_timeout(Instant(now_ms));
        Ok(SrStatus::Ok)
    })
}

/// When `sr_peer_handle_timeout` is due next, in ms on the host's clock.
/// `SR_STATUS_EMPTY` (and `*out_ms` untouched) when no timer is pending
/// (after `sr_peer_close`).
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_ms` valid for writing a
/// `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_poll_timeout(peer: *mut SrPeer, out_ms: *mut u64) -> SrStatus {
    on_peer(peer, |s| {
        check_out(out_ms)?;
        match s.peer.poll_timeout() {
            // SAFETY: checked non-NULL and aligned; writable (caller).
            Some(t) => unsafe { put(out_ms, t.as_millis()) }.map(|()| SrStatus::Ok),
            None => Ok(SrStatus::Empty),
        }
    })
}

/// The next datagram to send, oldest first: the local socket to send it
/// from, the destination, and the bytes copied into `buf`. `*out_len`
/// receives the datagram's length. `SR_STATUS_EMPTY` when nothing is
/// queued. `SR_STATUS_BUFFER_TOO_SMALL` when `buf_len` is less than
/// `*out_len`: the datagram stays queued for the next call (`buf` may be
/// NULL with `buf_len` 0 to ask for the length). A buffer of
/// `SR_MAX_DATAGRAM_LEN` bytes always fits.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_socket`, `out_remote` and
/// `out_len` valid for writing their types; `buf` must point to `buf_len`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_poll_transmit(
    peer: *mut SrPeer,
    now_ms: u64,
    out_socket: *mut SrSocketId,
    out_remote: *mut SrRemote,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> SrStatus {
    on_peer(peer, |s| {
        check_out(out_socket)?;
        check_out(out_remote)?;
        check_out(out_len)?;
        if buf.is_null() && buf_len != 0 {
            return Err(SrStatus::NullArgument);
        }
        // SAFETY: the caller's contract for `buf` (non-NULL unless empty).
        let out = unsafe { bytes_out(buf, buf_len) }?;
        // The core keeps a datagram that does not fit and says its size.
        let (socket, remote, n) = match s.peer.poll_transmit_into(Instant(now_ms), out) {
            Ok(Some(t)) => t,
            Ok(None) => return Ok(SrStatus::Empty),
            Err(BufferTooSmall { needed }) => {
                // SAFETY: checked non-NULL and aligned; writable (caller).
                unsafe { put(out_len, needed) }?;
                return Err(SrStatus::BufferTooSmall);
            }
        };
        // SAFETY: all three checked non-NULL and aligned; writable (caller).
        unsafe {
            put(out_len, n)?;
            put(out_socket, SrSocketId::from_socket(socket))?;
            put(out_remote, SrRemote::from_remote(&remote))?;
        }
        Ok(SrStatus::Ok)
    })
}

/// The largest datagram a peer asks the host to send (a full frame), so a
/// buffer of this size never gets `SR_STATUS_BUFFER_TOO_SMALL` from
/// `sr_peer_poll_transmit`.
pub const SR_MAX_DATAGRAM_LEN: usize = 1421;

/// Joins the subcluster of the 32-byte `shared_key` in the configured
/// cluster; `out_subcluster_id` receives its id (32 bytes). The Join goes
/// out when the NAT type is known and is repeated every tick.
///
/// Returns `SR_STATUS_NO_CLUSTER`, `SR_STATUS_TOO_MANY_SUBCLUSTERS` or
/// `SR_STATUS_CLOSED` when refused.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `shared_key` must point to
/// `shared_key_len` readable bytes; `out_subcluster_id` to
/// `out_subcluster_id_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_join(
    peer: *mut SrPeer,
    now_ms: u64,
    shared_key: *const u8,
    shared_key_len: usize,
    out_subcluster_id: *mut u8,
    out_subcluster_id_len: usize,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `shared_key`.
        let key = SharedKey::from_bytes(unsafe { array32(shared_key, shared_key_len) }?);
        if out_subcluster_id.is_null() {
            return Err(SrStatus::NullArgument);
        }
        if out_subcluster_id_len < 32 {
            return Err(SrStatus::BufferTooSmall);
        }
        let scid = s.peer.join(Instant(now_ms), &key)?;
        // SAFETY: the caller's contract for `out_subcluster_id`.
        unsafe { copy_out(out_subcluster_id, out_subcluster_id_len, &scid) }?;
        Ok(SrStatus::Ok)
    })
}

/// `sr_peer_join` in another cluster (32-byte `cluster_id`).
///
/// # Safety
/// As `sr_peer_join`; `cluster_id` must point to `cluster_id_len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_join_in(
    peer: *mut SrPeer,
    now_ms: u64,
    cluster_id: *const u8,
    cluster_id_len: usize,
    shared_key: *const u8,
    shared_key_len: usize,
    out_subcluster_id: *mut u8,
    out_subcluster_id_len: usize,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `cluster_id`.
        let cid = unsafe { array32(cluster_id, cluster_id_len) }?;
        // SAFETY: the caller's contract for `shared_key`.
        let key = SharedKey::from_bytes(unsafe { array32(shared_key, shared_key_len) }?);
        if out_subcluster_id.is_null() {
            return Err(SrStatus::NullArgument);
        }
        if out_subcluster_id_len < 32 {
            return Err(SrStatus::BufferTooSmall);
        }
        let scid = s.peer.join_in(Instant(now_ms), cid, &key)?;
        // SAFETY: the caller's contract for `out_subcluster_id`.
        unsafe { copy_out(out_subcluster_id, out_subcluster_id_len, &scid) }?;
        Ok(SrStatus::Ok)
    })
}

/// Stops re-joining a subcluster; `*out_was_member` says whether the peer
/// was in it.
///
/// # Safety
/// `peer` must be NULL or a peer handle; the ids must point to their
/// lengths of readable bytes; `out_was_member` valid for writing a `bool`.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_leave(
    peer: *mut SrPeer,
    cluster_id: *const u8,
    cluster_id_len: usize,
    subcluster_id: *const u8,
    subcluster_id_len: usize,
    out_was_member: *mut bool,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `cluster_id`.
        let cid = unsafe { array32(cluster_id, cluster_id_len) }?;
        // SAFETY: the caller's contract for `subcluster_id`.
        let scid = unsafe { array32(subcluster_id, subcluster_id_len) }?;
        check_out(out_was_member)?;
        let was = s.peer.leave(cid, scid);
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_was_member, was) }?;
        Ok(SrStatus::Ok)
    })
}

/// Adds an introducer (32-byte id, where it listens). An existing entry
/// with that id becomes an introducer at `remote`.
///
/// Returns `SR_STATUS_OWN_ID`, `SR_STATUS_TABLE_FULL` or `SR_STATUS_CLOSED`
/// when refused.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `peer_id` must point to
/// `peer_id_len` readable bytes; `remote` valid for reading an `SrRemote`.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_add_introducer(
    peer: *mut SrPeer,
    peer_id: *const u8,
    peer_id_len: usize,
    remote: *const SrRemote,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `peer_id`.
        let id = unsafe { peer_id_in(peer_id, peer_id_len) }?;
        // SAFETY: the caller's contract for `remote`; plain integers.
        let remote = unsafe { get(remote) }?.to_remote()?;
        s.peer.add_introducer(id, remote)?;
        Ok(SrStatus::Ok)
    })
}

/// Sends a Join for every subcluster now (`reconnect`).
///
/// # Safety
/// `peer` must be NULL or a peer handle.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_reconnect(peer: *mut SrPeer, now_ms: u64) -> SrStatus {
    on_peer(peer, |s| {
        s.peer.reconnect(Instant(now_ms));
        Ok(SrStatus::Ok)
    })
}

/// Forgets the NAT type and starts discovery again at the next tick
/// (`disconnect`). A static NAT type stays.
///
/// # Safety
/// `peer` must be NULL or a peer handle.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_disconnect(peer: *mut SrPeer, now_ms: u64) -> SrStatus {
    on_peer(peer, |s| {
        s.peer.disconnect(Instant(now_ms));
        Ok(SrStatus::Ok)
    })
}

/// Stops the peer: timers are cancelled, queued datagrams discarded, pool
/// sockets released (`SR_EVENT_KIND_CLOSE_POOL_SOCKETS`), and
/// `SR_EVENT_KIND_CLOSED` is queued. Closing twice is harmless. The handle
/// still needs `sr_peer_free`.
///
/// # Safety
/// `peer` must be NULL or a peer handle.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_close(peer: *mut SrPeer, now_ms: u64) -> SrStatus {
    on_peer(peer, |s| {
        s.peer.close(Instant(now_ms));
        Ok(SrStatus::Ok)
    })
}

/// Updates the offset from the monotonic clock to the wall clock (Unix ms)
/// used for the timestamps that go on the wire.
///
/// # Safety
/// `peer` must be NULL or a peer handle.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_set_wall_clock_offset(
    peer: *mut SrPeer,
    offset_ms: i64,
) -> SrStatus {
    on_peer(peer, |s| {
        s.peer.set_wall_clock_offset(offset_ms);
        Ok(SrStatus::Ok)
    })
}

/// The host's veto over inbound packets: called for every packet that
/// decoded and passed its rate limit (not for the probe socket), with the
/// packet (its bytes live for the call only), where it came from and the
/// socket it arrived on. Return `true` to handle it, `false` to drop it
/// (counted as `SR_DROP_REASON_FIREWALL`).
///
/// It runs inside `sr_peer_handle_datagram`, on that thread. It must not
/// unwind (no C++ exception, no `longjmp`) out of itself. Calling back into
/// the same peer from it returns `SR_STATUS_BUSY`.
pub type SrFirewallFn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        packet: *const SrPacketView,
        remote: *const SrRemote,
        socket: SrSocketId,
    ) -> bool,
>;

/// A C callback as the core's `Firewall`.
struct CFirewall {
    f: unsafe extern "C" fn(*mut c_void, *const SrPacketView, *const SrRemote, SrSocketId) -> bool,
    user_data: *mut c_void,
}

// SAFETY: `Firewall` must be `Send` because a peer may move between
// threads. The header makes the host responsible: the callback and its
// `user_data` must be usable from whichever thread calls into the peer.
unsafe impl Send for CFirewall {}

impl Firewall for CFirewall {
    fn allow(&mut self, packet: &PacketRef<'_>, remote: &Remote, socket: SocketId) -> bool {
        let view = SrPacketView::of(packet, core::mem::size_of::<SrPacketView>() as u32);
        let remote = SrRemote::from_remote(remote);
        // SAFETY: the host registered `f` with this `user_data` through
        // `sr_peer_set_firewall`; the pointers passed live for the call.
        unsafe {
            (self.f)(
                self.user_data,
                &view,
                &remote,
                SrSocketId::from_socket(socket),
            )
        }
    }
}

/// Installs a firewall callback (`callback` NULL removes it). `user_data`
/// is passed to every call, untouched.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `callback` must be safe to call
/// with `user_data` until it is replaced or the peer is freed.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_set_firewall(
    peer: *mut SrPeer,
    callback: SrFirewallFn,
    user_data: *mut c_void,
) -> SrStatus {
    on_peer(peer, |s| {
        let fw = callback.map(|f| Box::new(CFirewall { f, user_data }) as Box<dyn Firewall>);
        s.peer.set_firewall(fw);
        Ok(SrStatus::Ok)
    })
}

/// The peer as bytes (identity, NAT type and endpoint, clock, peer table,
/// subclusters with their shared keys: **store it as a secret**), for
/// `sr_peer_restore`. `*out_len` receives the snapshot's length;
/// `SR_STATUS_BUFFER_TOO_SMALL` when `buf_len` is less (`buf` may be NULL
/// with `buf_len` 0 to ask).
///
/// # Safety
/// `peer` must be NULL or a peer handle; `buf` must point to `buf_len`
/// writable bytes; `out_len` valid for writing a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_snapshot(
    peer: *mut SrPeer,
    now_ms: u64,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> SrStatus {
    on_peer(peer, |s| {
        check_out(out_len)?;
        if buf.is_null() && buf_len != 0 {
            return Err(SrStatus::NullArgument);
        }
        let bytes = s.peer.snapshot(Instant(now_ms));
        // SAFETY: checked non-NULL and aligned; writable (caller).
        unsafe { put(out_len, bytes.len()) }?;
        if buf_len < bytes.len() {
            return Err(SrStatus::BufferTooSmall);
        }
        // SAFETY: the caller's contract for `buf`.
        unsafe { copy_out(buf, buf_len, &bytes) }?;
        Ok(SrStatus::Ok)
    })
}

/// Test hook: panics inside the library while holding `peer` (or with no
/// handle when `peer` is NULL), to show that a panic comes back as
/// `SR_STATUS_PANIC` and leaves the handle `SR_STATUS_POISONED`. Never call
/// it outside tests.
///
/// # Safety
/// `peer` must be NULL or a peer handle.
#[no_mangle]
pub unsafe extern "C" fn sr_test_panic(peer: *mut SrPeer) -> SrStatus {
    if peer.is_null() {
        return guard(|| panic!("sr_test_panic"));
    }
    on_peer(peer, |_| panic!("sr_test_panic"))
}
