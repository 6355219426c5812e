//! Inspection: identity, NAT type, endpoint, peer table, subclusters,
//! counters and occupancy.

use streamrelay::nat::NatType;
use streamrelay::peer::Instant;

use crate::handle::SrPeer;
use crate::peer::on_peer;
use crate::status::SrStatus;
use crate::types::{
    check_out, copy_out, nat_byte, put, put_sized, SrRemote, SrSocketId, SrStrategy,
};

/// Indexes of `SrMetrics::drops`: why an input or output was dropped.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrDropReason {
    /// Not a packet (bad magic, truncated, invalid control message).
    Malformed = 0,
    /// A version other than 6.
    Version = 1,
    /// Over the sender's quota.
    RateLimited = 2,
    /// The host's firewall said no.
    Firewall = 3,
    /// Types 3-8 before our NAT type is known.
    NotReady = 4,
    /// Seen before.
    Duplicate = 5,
    /// Our own packet, or about ourselves.
    Own = 6,
    /// Past its time, or over the hop limit.
    Stale = 7,
    /// Decodes, but a field we must use is unusable.
    Invalid = 8,
    /// A datagram on a socket we do not know.
    UnknownSocket = 9,
    /// The transmit queue was full.
    TransmitQueueFull = 10,
    /// The event queue was full.
    EventQueueFull = 11,
    /// A probe-socket datagram that is not the answer we wait for.
    Probe = 12,
    /// No longer produced (kept so indexes stay stable).
    DataPlaneUnhandled = 13,
    /// After `sr_peer_close`.
    Closed = 14,
    /// A Pong that answers nothing we asked; an answer to a query we
    /// neither asked nor route.
    Unsolicited = 15,
    /// Content that does not match its id.
    Forged = 16,
    /// A Stream in a subcluster we are not in, or from a peer not in our
    /// table.
    NotMember = 17,
    /// A Stream for a peer we do not know.
    Unroutable = 18,
    /// A Sync answer cut at `max_sync_sends`.
    SyncBudget = 19,
    /// An event of our subcluster that did not open or verify.
    Unauthentic = 20,
}

/// Every variant of a core counter table (`streamrelay::drop_reasons_table!`,
/// `streamrelay::evictions_table!`) is a variant of the C enum with the same
/// value: checked when this crate compiles, so a new reason or eviction in
/// the core does not build until the C enum (written out for cbindgen) has
/// it too.
macro_rules! same_indexes {
    ([$core:ident => $c:ident, $max:ident] $( $(#[doc = $d:tt])* $v:ident = $n:tt, )*) => {
        const _: () = {
            use streamrelay::peer::$core;
            assert!($core::COUNT <= $max);
            $( assert!($core::$v as u32 == $c::$v as u32 && $n == $c::$v as u32); )*
        };
    };
}

streamrelay::drop_reasons_table!(same_indexes DropReason => SrDropReason, SR_MAX_DROP_REASONS);
streamrelay::evictions_table!(same_indexes Eviction => SrEviction, SR_MAX_EVICTIONS);

/// Indexes of `SrMetrics::evictions`: what a bounded table let go of.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrEviction {
    /// A peer-table entry.
    Peer = 0,
    /// A peer could not be added: the table is full of introducers.
    PeerRefused = 1,
    /// A pending ping retransmission.
    PendingPing = 2,
    /// A duplicate-suppression entry.
    Gate = 3,
    /// A rate-limit entry.
    Rate = 4,
    /// A return route.
    ReturnRoute = 5,
    /// An introduction could not be started.
    IntroRefused = 6,
    /// A traversal round found no free pool socket.
    PoolExhausted = 7,
    /// A remembered subcluster of a remote peer.
    PeerCluster = 8,
    /// A cached packet, to make room.
    Cache = 9,
    /// An unpublished record.
    Unpublished = 10,
    /// One of our pending questions.
    PendingQuery = 11,
    /// An incomplete chain, or a stream-buffer chain.
    Chain = 12,
    /// A remembered delivered id.
    Delivered = 13,
    /// A remembered last-sync time of an address.
    SyncPeer = 14,
    /// A link could not be opened: `max_links` are open.
    LinkRefused = 15,
}

/// Room in `SrMetrics::drops` (the core has fewer reasons today).
pub const SR_MAX_DROP_REASONS: usize = 32;
/// Room in `SrMetrics::evictions`.
pub const SR_MAX_EVICTIONS: usize = 32;

/// Traffic and drop counters. Extensible: set `struct_size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrMetrics {
    /// `sizeof(SrMetrics)`, set by the caller.
    pub struct_size: u32,
    /// Zero.
    pub reserved0: u32,
    /// Datagrams handed to `sr_peer_handle_datagram` (any socket).
    pub datagrams_in: u64,
    /// Packets accepted for handling, by type byte (1..=8).
    pub received_by_type: [u64; 16],
    /// Datagrams queued for sending, by type byte (0: not a packet).
    pub sent_by_type: [u64; 16],
    /// Drops, indexed by `SR_DROP_REASON_*`.
    pub drops: [u64; SR_MAX_DROP_REASONS],
    /// Evictions, indexed by `SR_EVICTION_*`.
    pub evictions: [u64; SR_MAX_EVICTIONS],
    /// Hard-NAT traversals that connected.
    pub traversals_succeeded: u64,
    /// Hard-NAT traversals that ran out of rounds.
    pub traversals_exhausted: u64,
    /// Introductions that fell back to the introducer as proxy.
    pub proxy_fallbacks: u64,
    /// Packets of our own publishes.
    pub published: u64,
    /// Publish packets received and cached (first copies).
    pub cached: u64,
    /// Publish packets multicast on behalf of others.
    pub relayed: u64,
    /// Cached packets that reached their TTL.
    pub expired: u64,
    /// Expired packets multicast once more before they were dropped.
    pub rebroadcast: u64,
    /// `SR_EVENT_KIND_PACKET` events delivered.
    pub delivered: u64,
    /// `SR_EVENT_KIND_UNVERIFIED` events.
    pub unverified: u64,
    /// `SR_EVENT_KIND_UNOPENABLE` events.
    pub unopenable: u64,
    /// Chains reassembled (publish and stream).
    pub chains_completed: u64,
    /// Questions sent for a missing chain link.
    pub link_queries: u64,
    /// Questions we answered from the cache.
    pub queries_answered: u64,
    /// Answers passed on along a return route.
    pub answers_forwarded: u64,
    /// Sync exchanges we started.
    pub syncs_started: u64,
    /// Cached packets sent in answer to a Sync.
    pub sync_packets_sent: u64,
    /// Stream packets relayed towards their destination.
    pub streams_relayed: u64,
    /// Zero: room to grow.
    pub reserved: [u64; 16],
}

/// How full each bounded structure is. Extensible: set `struct_size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrOccupancy {
    /// `sizeof(SrOccupancy)`, set by the caller.
    pub struct_size: u32,
    /// Zero.
    pub reserved0: u32,
    /// Peer-table entries.
    pub peers: usize,
    /// Scheduled ping retransmissions.
    pub pending_pings: usize,
    /// Duplicate-suppression entries.
    pub gate: usize,
    /// Rate-limit entries.
    pub rates: usize,
    /// Return routes.
    pub return_routes: usize,
    /// Introductions in progress.
    pub intros: usize,
    /// Open pool sockets.
    pub pool_sockets: usize,
    /// Queued events.
    pub events: usize,
    /// Queued transmits.
    pub transmits: usize,
    /// Pending timers.
    pub timers: usize,
    /// Cached packets.
    pub cache_packets: usize,
    /// Bytes the cache is charged.
    pub cache_bytes: usize,
    /// Own packets not yet sent to anyone.
    pub unpublished: usize,
    /// Our questions waiting for answers.
    pub pending_queries: usize,
    /// Chains of our subclusters being reassembled.
    pub pending_chains: usize,
    /// Chains in the stream buffer.
    pub stream_chains: usize,
    /// Fragment bytes in the stream buffer.
    pub stream_bytes: usize,
    /// Remembered delivered ids.
    pub delivered: usize,
    /// Zero: room to grow.
    pub reserved: [u64; 8],
}

/// One entry of the peer table. Extensible: set `struct_size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrPeerInfo {
    /// `sizeof(SrPeerInfo)`, set by the caller.
    pub struct_size: u32,
    /// Its NAT type (0: not known).
    pub nat: u8,
    /// An introducer.
    pub indexed: bool,
    /// Connected.
    pub connected: bool,
    /// Whether `proxy` is set.
    pub has_proxy: bool,
    /// Its id.
    pub peer_id: [u8; 32],
    /// The introducer relaying for it.
    pub proxy: [u8; 32],
    /// Where it was last seen.
    pub remote: SrRemote,
    /// The local socket that reaches it.
    pub socket: SrSocketId,
    /// Highest Intro clock seen for it.
    pub clock: u32,
    /// Whether `last_update_ms` is set.
    pub has_last_update: bool,
    /// Zero.
    pub reserved1: [u8; 7],
    /// Last packet from it (host clock, ms).
    pub last_update_ms: u64,
    /// Subclusters it was seen in.
    pub clusters_len: usize,
    /// Zero: room to grow.
    pub reserved: [u64; 4],
}

/// Copies this peer's id (32 bytes) into `out_id`.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_id` must point to
/// `out_id_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_get_id(
    peer: *mut SrPeer,
    out_id: *mut u8,
    out_id_len: usize,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `out_id`.
        unsafe { copy_out(out_id, out_id_len, &s.peer.peer_id().0) }?;
        Ok(SrStatus::Ok)
    })
}

/// Our NAT type (`SR_NAT_TYPE_*`; 0 while not known).
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_nat` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_get_nat_type(peer: *mut SrPeer, out_nat: *mut u8) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `out_nat`.
        unsafe { put(out_nat, nat_byte(s.peer.nat_type())) }?;
        Ok(SrStatus::Ok)
    })
}

/// Our public endpoint as reflection (or the config) says: `kind`
/// `SR_REMOTE_KIND_NONE` while the address is not known, `port` 0 while
/// the port is not known.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_endpoint` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_get_public_endpoint(
    peer: *mut SrPeer,
    out_endpoint: *mut SrRemote,
) -> SrStatus {
    on_peer(peer, |s| {
        let (ip, port) = s.peer.public_endpoint();
        let mut r = SrRemote::from_ip(ip);
        r.port = port.unwrap_or(0);
        // SAFETY: the caller's contract for `out_endpoint`.
        unsafe { put(out_endpoint, r) }?;
        Ok(SrStatus::Ok)
    })
}

/// The Join clock.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_clock` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_get_clock(peer: *mut SrPeer, out_clock: *mut u32) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `out_clock`.
        unsafe { put(out_clock, s.peer.clock()) }?;
        Ok(SrStatus::Ok)
    })
}

/// Uptime as the protocol counts it (keepalive per tick), in ms.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_uptime_ms` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_get_uptime(
    peer: *mut SrPeer,
    out_uptime_ms: *mut u64,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `out_uptime_ms`.
        unsafe { put(out_uptime_ms, s.peer.uptime()) }?;
        Ok(SrStatus::Ok)
    })
}

/// The number of peer-table entries (for `sr_peer_get_peer`).
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_count` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_peer_count(peer: *mut SrPeer, out_count: *mut usize) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `out_count`.
        unsafe { put(out_count, s.peer.peers().len()) }?;
        Ok(SrStatus::Ok)
    })
}

/// Peer-table entry `index` (0-based) into `out_info` (`struct_size` set
/// by the caller). `SR_STATUS_EMPTY` when `index` is past the end.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_info` valid for reading and
/// writing an `SrPeerInfo`.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_get_peer(
    peer: *mut SrPeer,
    index: usize,
    out_info: *mut SrPeerInfo,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `out_info`.
        unsafe { crate::types::struct_size(out_info) }?;
        let Some(p) = s.peer.peers().get(index) else {
            return Ok(SrStatus::Empty);
        };
        let info = |struct_size| SrPeerInfo {
            struct_size,
            nat: nat_byte(p.nat),
            indexed: p.indexed,
            connected: p.connected,
            has_proxy: p.proxy.is_some(),
            peer_id: p.peer_id.0,
            proxy: p.proxy.map_or([0; 32], |x| x.0),
            remote: SrRemote::from_remote(&p.remote),
            socket: SrSocketId::from_socket(p.socket),
            clock: p.clock,
            has_last_update: p.last_update.is_some(),
            reserved1: [0; 7],
            last_update_ms: p.last_update.map_or(0, Instant::as_millis),
            clusters_len: p.clusters.len(),
            reserved: [0; 4],
        };
        // SAFETY: the caller's contract for `out_info`.
        unsafe { put_sized(out_info, info) }?;
        Ok(SrStatus::Ok)
    })
}

/// The number of subclusters this peer is in.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_count` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_subcluster_count(
    peer: *mut SrPeer,
    out_count: *mut usize,
) -> SrStatus {
    on_peer(peer, |s| {
        // SAFETY: the caller's contract for `out_count`.
        unsafe { put(out_count, s.peer.subclusters().count()) }?;
        Ok(SrStatus::Ok)
    })
}

/// Subcluster `index` (0-based, ordered by ids): its cluster id and
/// subcluster id (32 bytes each). `SR_STATUS_EMPTY` past the end.
///
/// # Safety
/// `peer` must be NULL or a peer handle; each out buffer must point to its
/// length of writable bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_get_subcluster(
    peer: *mut SrPeer,
    index: usize,
    out_cluster_id: *mut u8,
    out_cluster_id_len: usize,
    out_subcluster_id: *mut u8,
    out_subcluster_id_len: usize,
) -> SrStatus {
    on_peer(peer, |s| {
        if out_cluster_id.is_null() || out_subcluster_id.is_null() {
            return Err(SrStatus::NullArgument);
        }
        if out_cluster_id_len < 32 || out_subcluster_id_len < 32 {
            return Err(SrStatus::BufferTooSmall);
        }
        let Some((cid, scid)) = s.peer.subclusters().nth(index) else {
            return Ok(SrStatus::Empty);
        };
        // SAFETY: the caller's contracts for both buffers.
        unsafe {
            copy_out(out_cluster_id, out_cluster_id_len, &cid)?;
            copy_out(out_subcluster_id, out_subcluster_id_len, &scid)?;
        }
        Ok(SrStatus::Ok)
    })
}

/// The counters (`struct_size` set by the caller).
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_metrics` valid for reading
/// and writing an `SrMetrics`.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_get_metrics(
    peer: *mut SrPeer,
    out_metrics: *mut SrMetrics,
) -> SrStatus {
    on_peer(peer, |s| {
        let m = s.peer.metrics();
        let mut out = SrMetrics {
            struct_size: 0,
            reserved0: 0,
            datagrams_in: m.datagrams_in,
            received_by_type: [0; 16],
            sent_by_type: [0; 16],
            drops: [0; SR_MAX_DROP_REASONS],
            evictions: [0; SR_MAX_EVICTIONS],
            traversals_succeeded: m.traversals_succeeded,
            traversals_exhausted: m.traversals_exhausted,
            proxy_fallbacks: m.proxy_fallbacks,
            published: m.published,
            cached: m.cached,
            relayed: m.relayed,
            expired: m.expired,
            rebroadcast: m.rebroadcast,
            delivered: m.delivered,
            unverified: m.unverified,
            unopenable: m.unopenable,
            chains_completed: m.chains_completed,
            link_queries: m.link_queries,
            queries_answered: m.queries_answered,
            answers_forwarded: m.answers_forwarded,
            syncs_started: m.syncs_started,
            sync_packets_sent: m.sync_packets_sent,
            streams_relayed: m.streams_relayed,
            reserved: [0; 16],
        };
        fill(&mut out.received_by_type, &m.received_by_type);
        fill(&mut out.sent_by_type, &m.sent_by_type);
        fill(&mut out.drops, &m.drops);
        fill(&mut out.evictions, &m.evictions);
        // SAFETY: the caller's contract for `out_metrics`.
        unsafe {
            put_sized(out_metrics, |struct_size| {
                out.struct_size = struct_size;
                out
            })
        }?;
        Ok(SrStatus::Ok)
    })
}

/// Copies counters into a C array with room to spare.
fn fill(dst: &mut [u64], src: &[u64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// How full each bounded structure is (`struct_size` set by the caller).
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_occupancy` valid for reading
/// and writing an `SrOccupancy`.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_get_occupancy(
    peer: *mut SrPeer,
    out_occupancy: *mut SrOccupancy,
) -> SrStatus {
    on_peer(peer, |s| {
        let o = s.peer.occupancy();
        let out = |struct_size| SrOccupancy {
            struct_size,
            reserved0: 0,
            peers: o.peers,
            pending_pings: o.pending_pings,
            gate: o.gate,
            rates: o.rates,
            return_routes: o.return_routes,
            intros: o.intros,
            pool_sockets: o.pool_sockets,
            events: o.events,
            transmits: o.transmits,
            timers: o.timers,
            cache_packets: o.cache_packets,
            cache_bytes: o.cache_bytes,
            unpublished: o.unpublished,
            pending_queries: o.pending_queries,
            pending_chains: o.pending_chains,
            stream_chains: o.stream_chains,
            stream_bytes: o.stream_bytes,
            delivered: o.delivered,
            reserved: [0; 8],
        };
        // SAFETY: the caller's contract for `out_occupancy`.
        unsafe { put_sized(out_occupancy, out) }?;
        Ok(SrStatus::Ok)
    })
}

/// The strategy this peer uses towards a remote of NAT type `remote_nat`
/// (0: not known), as the Intro flow decides it.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_strategy` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_strategy_towards(
    peer: *mut SrPeer,
    remote_nat: u8,
    out_strategy: *mut SrStrategy,
) -> SrStatus {
    on_peer(peer, |s| {
        check_out(out_strategy)?;
        let remote = (remote_nat != 0).then_some(NatType(remote_nat));
        let st = SrStrategy::from(s.peer.strategy_towards(remote));
        // SAFETY: the caller's contract for `out_strategy`.
        unsafe { put(out_strategy, st) }?;
        Ok(SrStatus::Ok)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn max_datagram_is_the_max_frame() {
        assert_eq!(
            crate::SR_MAX_DATAGRAM_LEN,
            streamrelay::wire::packet::MAX_FRAME_BYTES
        );
    }
}
