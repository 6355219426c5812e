//! Events as a tagged C struct: `sr_peer_poll_event`.

use streamrelay::crypto::{BoxError, OpenError};
use streamrelay::peer::{Event, UnverifiedReason};

use crate::handle::SrPeer;
use crate::peer::on_peer;
use crate::status::SrStatus;
use crate::types::{
    nat_byte, put_sized, SrBytes, SrDisconnectReason, SrRemote, SrSocketId, SrStrategy,
};

/// Every event of the core's table (`streamrelay::events_table!`) has an
/// `SrEventKind` of the same name: checked when this crate compiles, so a
/// new core event does not build until the C face (the kind, its member of
/// `SrEvent`'s union and its arm in `sr_peer_poll_event`) has it too.
macro_rules! every_event_has_a_kind {
    (
        []
        $( $(#[doc = $vdoc:tt])* $variant:ident $({
            $( $(#[doc = $fdoc:tt])* $field:ident : $ty:ty, )*
        })?, )*
    ) => {
        const _: () = {
            $( let _ = SrEventKind::$variant; )*
        };
    };
}

streamrelay::events_table!(every_event_has_a_kind);

/// Values of `SrEvent::kind`: which member of `SrEvent::data` is set.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrEventKind {
    /// An event this version of the C ABI cannot describe (a newer core):
    /// skip it. No member is set.
    Unknown = 0,
    /// `data.ready`: the peer knows how it is reached (after reflection when
    /// the NAT type or public endpoint changed, and the first time; at once
    /// for an introducer or a static NAT type).
    Ready = 1,
    /// `data.nat_change`: our NAT type changed.
    NatChange = 2,
    /// `data.connection`: a peer became connected.
    Connection = 3,
    /// `data.disconnection`: a peer went quiet or was removed.
    Disconnection = 4,
    /// `data.join`: a peer is in one of our subclusters.
    Join = 5,
    /// `data.intro`: an introducer told us about a peer and we started
    /// connecting.
    Intro = 6,
    /// `data.pool_sockets`: open these local UDP sockets (ephemeral ports)
    /// and report their datagrams with these ids.
    OpenPoolSockets = 7,
    /// `data.pool_sockets`: close these pool sockets.
    ClosePoolSockets = 8,
    /// `sr_peer_close` finished: nothing more will be sent. No member.
    Closed = 9,
    /// `data.packet`: an event of one of our subclusters, opened and
    /// verified (a Publish, or a Stream addressed to us). Delivered at most
    /// once; our own publishes are not echoed.
    Packet = 10,
    /// `data.unverified`: an event of one of our subclusters that opened
    /// but whose signature does not verify (never delivered as a packet).
    Unverified = 11,
    /// `data.unopenable`: an event of one of our subclusters that does not
    /// open with the subcluster key (forged or corrupt).
    Unopenable = 12,
    /// `data.query`: a question we cannot answer from the cache; answer it
    /// with `sr_peer_answer` while its return route lives.
    Query = 13,
    /// `data.answer`: an answer to a question we asked with `sr_peer_query`.
    Answer = 14,
    /// `data.sync_finished`: a Sync exchange reached a level where both
    /// caches agree.
    SyncFinished = 15,
}

/// Why an opened event is not verified (`SrEventUnverified::reason`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrUnverifiedReason {
    /// `sig` is not a valid signature of the plaintext by `usr2` (or not 64
    /// bytes).
    BadSignature = 0,
    /// `usr2` is not a 32-byte public key.
    BadPublisherKey = 1,
}

/// Why a sealed event does not open (`SrEventUnopenable::error`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrOpenError {
    /// A sealed box is shorter than its overhead.
    BoxTooShort = 0,
    /// A sealed box names a small-order key.
    BoxWeakKey = 1,
    /// A sealed box does not open with the subcluster key.
    BoxForged = 2,
    /// The outer box holds 64 bytes or less.
    Malformed = 3,
    /// The inner signature does not verify.
    NotVerified = 4,
}

/// `SR_EVENT_KIND_READY`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventReady {
    /// Our NAT type (`SR_NAT_TYPE_*`; 0 for an introducer without one).
    pub nat: u8,
    /// Our public endpoint: `kind` is `SR_REMOTE_KIND_NONE` while the
    /// address is not known, `port` is 0 while the port is not known.
    pub endpoint: SrRemote,
}

/// `SR_EVENT_KIND_NAT_CHANGE`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventNatChange {
    /// Before (0: not known).
    pub old_nat: u8,
    /// After (0: not known).
    pub new_nat: u8,
}

/// `SR_EVENT_KIND_CONNECTION`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventConnection {
    /// Who.
    pub peer_id: [u8; 32],
    /// Where we reach it (for a proxied peer: what the introducer said).
    pub remote: SrRemote,
    /// The local socket that reaches it.
    pub socket: SrSocketId,
    /// Its NAT type.
    pub nat: u8,
    /// Whether `proxy` is set.
    pub has_proxy: bool,
    /// The introducer that relays for it, when there is no direct path.
    pub proxy: [u8; 32],
}

/// `SR_EVENT_KIND_DISCONNECTION`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventDisconnection {
    /// Who.
    pub peer_id: [u8; 32],
    /// Why.
    pub reason: SrDisconnectReason,
}

/// `SR_EVENT_KIND_JOIN`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventJoin {
    /// The cluster.
    pub cluster_id: [u8; 32],
    /// The subcluster (its public key).
    pub subcluster_id: [u8; 32],
    /// The member.
    pub peer_id: [u8; 32],
}

/// `SR_EVENT_KIND_INTRO`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventIntro {
    /// The peer we try to reach.
    pub peer_id: [u8; 32],
    /// Where the introducer says it is.
    pub remote: SrRemote,
    /// What we do about it.
    pub strategy: SrStrategy,
    /// Its NAT type.
    pub nat: u8,
    /// The Intro came from a rendezvous.
    pub rendezvous: bool,
    /// The introducer.
    pub introducer: [u8; 32],
}

/// `SR_EVENT_KIND_OPEN_POOL_SOCKETS` and `SR_EVENT_KIND_CLOSE_POOL_SOCKETS`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventPoolSockets {
    /// The socket ids (all `SR_SOCKET_KIND_POOL`). Borrowed from the peer:
    /// valid until the next call on the peer handle.
    pub sockets: *const SrSocketId,
    /// How many.
    pub sockets_len: usize,
}

/// `SR_EVENT_KIND_PACKET`. Byte fields borrow from the peer handle (valid
/// until the next call on it).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventPacket {
    /// The cluster.
    pub cluster_id: [u8; 32],
    /// The subcluster.
    pub subcluster_id: [u8; 32],
    /// `usr1`: SHA-256 of the event name.
    pub event_hash: SrBytes,
    /// The opened plaintext.
    pub payload: SrBytes,
    /// The reference's id for it (a lone packet's packetId; for a chain, a
    /// hash of what completed it).
    pub packet_id: SrBytes,
    /// For a chain, its head's packetId; empty for a lone packet.
    pub head_id: SrBytes,
    /// `usr2`: the publisher's public key, which signed the plaintext.
    pub publisher: SrBytes,
    /// Where the packet that completed it came from.
    pub from: SrRemote,
    /// Hops of that packet.
    pub hops: u32,
    /// Whether `stream_from` is set (a Stream).
    pub has_stream_from: bool,
    /// For a Stream: the sender it names.
    pub stream_from: [u8; 32],
}

/// `SR_EVENT_KIND_UNVERIFIED`. Byte fields borrow from the peer handle.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventUnverified {
    /// The cluster.
    pub cluster_id: [u8; 32],
    /// The subcluster.
    pub subcluster_id: [u8; 32],
    /// `usr1`.
    pub event_hash: SrBytes,
    /// The opened plaintext (its publisher is not authenticated).
    pub payload: SrBytes,
    /// As in `SrEventPacket`.
    pub packet_id: SrBytes,
    /// The key it claims (`usr2`).
    pub publisher: SrBytes,
    /// Where the completing packet came from.
    pub from: SrRemote,
    /// One of `SR_UNVERIFIED_REASON_*`.
    pub reason: SrUnverifiedReason,
    /// Whether `stream_from` is set.
    pub has_stream_from: bool,
    /// For a Stream: the sender it names.
    pub stream_from: [u8; 32],
}

/// `SR_EVENT_KIND_UNOPENABLE`. Byte fields borrow from the peer handle.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventUnopenable {
    /// The cluster.
    pub cluster_id: [u8; 32],
    /// The subcluster.
    pub subcluster_id: [u8; 32],
    /// `usr1`.
    pub event_hash: SrBytes,
    /// As in `SrEventPacket`.
    pub packet_id: SrBytes,
    /// Where the completing packet came from.
    pub from: SrRemote,
    /// One of `SR_OPEN_ERROR_*`.
    pub error: SrOpenError,
    /// Whether `stream_from` is set.
    pub has_stream_from: bool,
    /// For a Stream: the sender it names.
    pub stream_from: [u8; 32],
}

/// `SR_EVENT_KIND_QUERY`. Byte fields borrow from the peer handle.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventQuery {
    /// The query id (`usr3`): pass it to `sr_peer_answer`.
    pub query_id: SrBytes,
    /// The question (JSON text, as sent).
    pub question: SrBytes,
    /// Who sent it to us.
    pub from: SrRemote,
}

/// `SR_EVENT_KIND_ANSWER`. Byte fields borrow from the peer handle.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventAnswer {
    /// The query id `sr_peer_query` returned.
    pub query_id: SrBytes,
    /// The answer's packetId.
    pub packet_id: SrBytes,
    /// Its message, as sent (sealed for a cached Publish).
    pub message: SrBytes,
    /// Who sent it to us.
    pub from: SrRemote,
    /// Its index (-1 alone; answers in several packets are not
    /// reassembled).
    pub index: i32,
}

/// `SR_EVENT_KIND_SYNC_FINISHED`. Byte fields borrow from the peer handle.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SrEventSyncFinished {
    /// The peer we synced with.
    pub remote: SrRemote,
    /// The hex prefix that matched (ASCII, not NUL-terminated; empty for
    /// the whole cache).
    pub prefix: SrBytes,
}

/// The members of `SrEvent`; `SrEvent::kind` says which one is set.
#[repr(C)]
#[derive(Clone, Copy)]
pub union SrEventData {
    /// `SR_EVENT_KIND_READY`.
    pub ready: SrEventReady,
    /// `SR_EVENT_KIND_NAT_CHANGE`.
    pub nat_change: SrEventNatChange,
    /// `SR_EVENT_KIND_CONNECTION`.
    pub connection: SrEventConnection,
    /// `SR_EVENT_KIND_DISCONNECTION`.
    pub disconnection: SrEventDisconnection,
    /// `SR_EVENT_KIND_JOIN`.
    pub join: SrEventJoin,
    /// `SR_EVENT_KIND_INTRO`.
    pub intro: SrEventIntro,
    /// `SR_EVENT_KIND_OPEN_POOL_SOCKETS`, `SR_EVENT_KIND_CLOSE_POOL_SOCKETS`.
    pub pool_sockets: SrEventPoolSockets,
    /// `SR_EVENT_KIND_PACKET`.
    pub packet: SrEventPacket,
    /// `SR_EVENT_KIND_UNVERIFIED`.
    pub unverified: SrEventUnverified,
    /// `SR_EVENT_KIND_UNOPENABLE`.
    pub unopenable: SrEventUnopenable,
    /// `SR_EVENT_KIND_QUERY`.
    pub query: SrEventQuery,
    /// `SR_EVENT_KIND_ANSWER`.
    pub answer: SrEventAnswer,
    /// `SR_EVENT_KIND_SYNC_FINISHED`.
    pub sync_finished: SrEventSyncFinished,
    /// Fixes the size, with room for members to come.
    pub reserved: [u64; 48],
}

/// One event. Set `struct_size` to `sizeof(SrEvent)` before
/// `sr_peer_poll_event`. Pointer fields borrow from the peer handle and
/// stay valid until the next call on that handle (any `sr_peer_*`
/// function); copy what you keep.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SrEvent {
    /// `sizeof(SrEvent)`, set by the caller.
    pub struct_size: u32,
    /// Which member of `data` is set.
    pub kind: SrEventKind,
    /// The event's fields.
    pub data: SrEventData,
}

/// The next event for the host, oldest first, into `out_event` (whose
/// `struct_size` the caller set). `SR_STATUS_EMPTY` when none is queued.
///
/// # Safety
/// `peer` must be NULL or a peer handle; `out_event` must be valid for
/// reading and writing an `SrEvent`.
#[no_mangle]
pub unsafe extern "C" fn sr_peer_poll_event(
    peer: *mut SrPeer,
    out_event: *mut SrEvent,
) -> SrStatus {
    on_peer(peer, |s| {
        // Validate before taking the event off the queue, so a bad
        // out-pointer does not lose it.
        // SAFETY: the caller's contract for `out_event`.
        unsafe { crate::types::struct_size(out_event) }?;
        let Some(ev) = s.peer.poll_event() else {
            return Ok(SrStatus::Empty);
        };
        // Keep the event: the borrowed fields point into it.
        let ev: &Event = s.event.insert(ev);
        let (kind, data) = describe(ev, &mut s.sockets);
        // SAFETY: checked by `struct_size` above; writable (caller).
        unsafe {
            put_sized(out_event, |struct_size| SrEvent {
                struct_size,
                kind,
                data,
            })
        }?;
        Ok(SrStatus::Ok)
    })
}

/// The C view of `ev`: its kind and the member of `SrEventData` that goes
/// with it. Byte fields borrow from `ev`; a pool-socket list is put in
/// `sockets` (cleared first) and borrowed from there.
pub(crate) fn describe(ev: &Event, sockets: &mut Vec<SrSocketId>) -> (SrEventKind, SrEventData) {
    sockets.clear();
    let mut data = SrEventData { reserved: [0; 48] };
    let kind = match ev {
        Event::Ready { nat, address, port } => {
            let mut endpoint = SrRemote::from_ip(*address);
            endpoint.port = port.unwrap_or(0);
            data.ready = SrEventReady {
                nat: nat_byte(*nat),
                endpoint,
            };
            SrEventKind::Ready
        }
        Event::NatChange { old, new } => {
            data.nat_change = SrEventNatChange {
                old_nat: nat_byte(*old),
                new_nat: nat_byte(*new),
            };
            SrEventKind::NatChange
        }
        Event::Connection {
            peer_id,
            remote,
            nat,
            proxy,
            socket,
        } => {
            data.connection = SrEventConnection {
                peer_id: peer_id.0,
                remote: SrRemote::from_remote(remote),
                socket: SrSocketId::from_socket(*socket),
                nat: nat.0,
                has_proxy: proxy.is_some(),
                proxy: proxy.map_or([0; 32], |p| p.0),
            };
            SrEventKind::Connection
        }
        Event::Disconnection { peer_id, reason } => {
            data.disconnection = SrEventDisconnection {
                peer_id: peer_id.0,
                reason: (*reason).into(),
            };
            SrEventKind::Disconnection
        }
        Event::Join {
            cluster_id,
            subcluster_id,
            peer_id,
        } => {
            data.join = SrEventJoin {
                cluster_id: *cluster_id,
                subcluster_id: *subcluster_id,
                peer_id: peer_id.0,
            };
            SrEventKind::Join
        }
        Event::Intro {
            peer_id,
            remote,
            nat,
            introducer,
            strategy,
            rendezvous,
        } => {
            data.intro = SrEventIntro {
                peer_id: peer_id.0,
                remote: SrRemote::from_remote(remote),
                strategy: (*strategy).into(),
                nat: nat.0,
                rendezvous: *rendezvous,
                introducer: introducer.0,
            };
            SrEventKind::Intro
        }
        Event::OpenPoolSockets { sockets: ids } | Event::ClosePoolSockets { sockets: ids } => {
            sockets.extend(ids.iter().map(|x| SrSocketId::from_socket(*x)));
            data.pool_sockets = SrEventPoolSockets {
                sockets: sockets.as_ptr(),
                sockets_len: sockets.len(),
            };
            if matches!(ev, Event::OpenPoolSockets { .. }) {
                SrEventKind::OpenPoolSockets
            } else {
                SrEventKind::ClosePoolSockets
            }
        }
        Event::Closed => SrEventKind::Closed,
        Event::Packet {
            cluster_id,
            subcluster_id,
            event_hash,
            payload,
            packet_id,
            head_id,
            publisher,
            hops,
            from,
            stream_from,
        } => {
            data.packet = SrEventPacket {
                cluster_id: *cluster_id,
                subcluster_id: *subcluster_id,
                event_hash: SrBytes::of(event_hash),
                payload: SrBytes::of(payload),
                packet_id: SrBytes::of(packet_id),
                head_id: SrBytes::of(head_id.as_deref().unwrap_or_default()),
                publisher: SrBytes::of(publisher),
                from: SrRemote::from_remote(from),
                hops: *hops,
                has_stream_from: stream_from.is_some(),
                stream_from: stream_from.map_or([0; 32], |p| p.0),
            };
            SrEventKind::Packet
        }
        Event::Unverified {
            cluster_id,
            subcluster_id,
            event_hash,
            payload,
            packet_id,
            publisher,
            reason,
            from,
            stream_from,
        } => {
            data.unverified = SrEventUnverified {
                cluster_id: *cluster_id,
                subcluster_id: *subcluster_id,
                event_hash: SrBytes::of(event_hash),
                payload: SrBytes::of(payload),
                packet_id: SrBytes::of(packet_id),
                publisher: SrBytes::of(publisher),
                from: SrRemote::from_remote(from),
                reason: match reason {
                    UnverifiedReason::BadSignature => SrUnverifiedReason::BadSignature,
                    UnverifiedReason::BadPublisherKey => SrUnverifiedReason::BadPublisherKey,
                },
                has_stream_from: stream_from.is_some(),
                stream_from: stream_from.map_or([0; 32], |p| p.0),
            };
            SrEventKind::Unverified
        }
        Event::Unopenable {
            cluster_id,
            subcluster_id,
            event_hash,
            packet_id,
            error,
            from,
            stream_from,
        } => {
            data.unopenable = SrEventUnopenable {
                cluster_id: *cluster_id,
                subcluster_id: *subcluster_id,
                event_hash: SrBytes::of(event_hash),
                packet_id: SrBytes::of(packet_id),
                from: SrRemote::from_remote(from),
                error: match error {
                    OpenError::Box(BoxError::TooShort(_)) => SrOpenError::BoxTooShort,
                    OpenError::Box(BoxError::WeakKey) => SrOpenError::BoxWeakKey,
                    OpenError::Box(BoxError::Forged) => SrOpenError::BoxForged,
                    OpenError::Malformed => SrOpenError::Malformed,
                    OpenError::NotVerified => SrOpenError::NotVerified,
                },
                has_stream_from: stream_from.is_some(),
                stream_from: stream_from.map_or([0; 32], |p| p.0),
            };
            SrEventKind::Unopenable
        }
        Event::Query {
            query_id,
            question,
            from,
        } => {
            data.query = SrEventQuery {
                query_id: SrBytes::of(query_id),
                question: SrBytes::of(question),
                from: SrRemote::from_remote(from),
            };
            SrEventKind::Query
        }
        Event::Answer {
            query_id,
            packet_id,
            index,
            message,
            from,
        } => {
            data.answer = SrEventAnswer {
                query_id: SrBytes::of(query_id),
                packet_id: SrBytes::of(packet_id),
                message: SrBytes::of(message),
                from: SrRemote::from_remote(from),
                index: *index,
            };
            SrEventKind::Answer
        }
        Event::SyncFinished { remote, prefix } => {
            data.sync_finished = SrEventSyncFinished {
                remote: SrRemote::from_remote(remote),
                prefix: SrBytes::of(prefix.as_bytes()),
            };
            SrEventKind::SyncFinished
        }
        _ => SrEventKind::Unknown,
    };
    (kind, data)
}
